"""Slack: the adapter (adapter.py), Block Kit rendering (render.py) and the slash command and
button handlers on bolt's AsyncApp (commands.py). The Slack SDKs are imported only in here."""
