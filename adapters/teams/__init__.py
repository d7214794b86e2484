"""The Microsoft Teams adapter: Bot Framework activities in, Adaptive Cards out, at Teams' pace, exactly once.

Modules, each small and with one job:

* :mod:`~adapters.teams.service`: ``POST /api/messages`` (authenticate, keep references, commit to the
  inbox, answer; invoke responses for card actions) and ``GET /teams/files/{token}`` (signed downloads).
* :mod:`~adapters.teams.auth`: botbuilder's Bot Framework authentication (inbound JWT, outbound token).
* :mod:`~adapters.teams.translate`: activity JSON to :class:`bot.model.InboundEvent`, references, accounts.
* :mod:`~adapters.teams.directory`: the first message of an unknown user links them to the HR directory.
* :mod:`~adapters.teams.markdown`, :mod:`~adapters.teams.cards`, :mod:`~adapters.teams.inputs`: neutral
  messages as Adaptive Cards 1.5 (text, facts, images, files, buttons, questions and forms).
* :mod:`~adapters.teams.delivery`, :mod:`~adapters.teams.connector`, :mod:`~adapters.teams.pacing`: the
  outbox deliverer (proactive messages through stored references, the send journal, Teams' limits).
* :mod:`~adapters.teams.links`: signed, expiring download links for files.
* :mod:`~adapters.teams.package`, :mod:`~adapters.teams.icons`: ``rmbot teams package``.

Only :mod:`~adapters.teams.auth` imports botbuilder (archived upstream; its successor is the Microsoft 365
Agents SDK), and the tests speak the protocol only, so moving SDKs changes this folder and no test.
"""
