"""Sessions: finding a time across time zones, the series, agendas, reminders and follow-ups."""
