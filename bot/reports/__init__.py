"""Measuring a programme: health, aggregates under the anonymity threshold, charts and exports."""
