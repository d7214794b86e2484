"""Command handlers, one module per group of verbs. Each declares its ``HANDLERS`` (see :mod:`bot.handling`)."""
