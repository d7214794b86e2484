"""A seeded simulator of whole programme terms, played through the real engine, runtime, outbox and scheduler.

``organisation`` builds the directory, ``behaviours`` (with ``behaviours.yml``) says how people act,
``people`` reacts to what each person receives as a user would, ``term`` plays the days,
``invariants`` and ``truth`` check what happened against the simulator's own log.
"""
