"""Directory sync: read the organisation from Microsoft Entra ID, Google Workspace or Slack."""
