"""Matching mentors and mentees: hard rules, soft scores, optimal / stable / random solves, explanations."""
