"""The `vendorwatch` command line: `main` parses and dispatches, one module per subcommand.

A command module imports the machinery it drives (the database, the web server, the chat
platforms) inside its `run`, not at the top: `vendorwatch` then loads only what the command it
runs needs, and `classify`, `settings`, `--help` and `--version` start in a fraction of a second
instead of paying for the whole bot.
"""
