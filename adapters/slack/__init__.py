"""The Slack adapter: a slack-bolt app on the engine, Block Kit rendering and a paced outbox deliverer.

Modules, each small and with one job:

* :mod:`~adapters.slack.app`: the bolt app (HTTP ``POST /slack/events`` and Socket Mode); translate,
  commit to the inbox, acknowledge.
* :mod:`~adapters.slack.translate`: Slack payloads to :class:`bot.model.InboundEvent`.
* :mod:`~adapters.slack.directory`: ``users.info`` fills people the first time they appear.
* :mod:`~adapters.slack.mrkdwn`, :mod:`~adapters.slack.render`, :mod:`~adapters.slack.forms`:
  neutral messages to Block Kit (messages, modals), within Slack's limits.
* :mod:`~adapters.slack.delivery`, :mod:`~adapters.slack.pacing`: the outbox deliverer at Slack's pace.
* :mod:`~adapters.slack.home`: the App Home tab.
* :mod:`~adapters.slack.oauth`: installs to many workspaces, kept in our database.
* :mod:`~adapters.slack.tokens`: each tenant's bot token (org-wide installs on Enterprise Grid included),
  refreshed before it expires.
* :mod:`~adapters.slack.installs`: the app removed from a tenant (its messages held) and installed again.
* :mod:`~adapters.slack.manifest`: ``manifest.yml`` with the request URLs filled in.

Nothing outside this package imports ``slack_sdk`` or ``slack_bolt``.
"""
