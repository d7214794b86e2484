"""The Microsoft Teams adapter: Bot Framework activities in, Adaptive Cards out, at Teams' pace, exactly once.

Modules, each small and with one job:

* :mod:`~adapters.teams.service`: ``POST /api/messages`` (authenticate, keep references, commit to the
  inbox, answer; invoke responses for card actions) and ``GET /teams/files/{token}`` (signed downloads).
* :mod:`~adapters.teams.auth`, :mod:`~adapters.teams.channel_auth`, :mod:`~adapters.teams.signing_keys`,
  :mod:`~adapters.teams.tokens`, :mod:`~adapters.teams.managed_identity`: Bot Framework authentication (the
  inbound JWT checked with PyJWT against keys fetched asynchronously; the bot's own token through MSAL).
* :mod:`~adapters.teams.translate`: activity JSON to :class:`bot.model.InboundEvent`, references, accounts.
* :mod:`~adapters.teams.directory`: the first message of an unknown user links them to the HR directory.
* :mod:`~adapters.teams.markdown`, :mod:`~adapters.teams.cards`, :mod:`~adapters.teams.inputs`: neutral
  messages as Adaptive Cards 1.5 (text, facts, images, files, buttons, questions and forms).
* :mod:`~adapters.teams.delivery`, :mod:`~adapters.teams.connector`, :mod:`~adapters.teams.pacing`: the
  outbox deliverer (proactive messages through stored references, the send journal, Teams' limits), with
  :mod:`~adapters.teams.posting` (one activity posted, paced and backed off),
  :mod:`~adapters.teams.personal_chats` (a person's chat with the bot found or created) and
  :mod:`~adapters.teams.install_hold` (messages held for people without the app, and their coordinators told).
* :mod:`~adapters.teams.roster`, :mod:`~adapters.teams.graph`: reaching people who never wrote to the bot
  (team rosters read when the app is added to a team; the app installed for someone through Microsoft Graph).
* :mod:`~adapters.teams.links`: signed, expiring download links for files.
* :mod:`~adapters.teams.package`, :mod:`~adapters.teams.icons`: ``rmbot teams package``.

Only :mod:`~adapters.teams.auth` (the activity model) and :mod:`~adapters.teams.managed_identity` import
the Microsoft 365 Agents SDK (the successor of the archived botbuilder), and the tests speak the protocol
only, so moving SDKs changes this folder and no test.
"""
