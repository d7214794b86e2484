"""A seeded simulator of whole programme terms, played through the real engine, runtime, outbox and scheduler.

``organisation`` builds the directory, ``behaviours`` (with ``behaviours.yml``) says how people act,
``reactions`` answers what is on a person's screen as a user would, ``questionnaires`` and ``sessions`` what
they do with a questionnaire, a time offered and a session's follow-up, ``term`` plays the days (``script``: a
term as a coordinator runs it; ``run``: consecutive terms), ``calendar`` checks the invites people receive, ``log``
keeps what the simulator saw and did, and ``invariants`` and ``truth`` check what happened against that log.
"""
