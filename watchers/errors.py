"""The two kinds of error.

`UsageError` is a user's mistake: its message is one clear sentence shown as it is (on stderr
with exit status 2, or as a chat reply). Anything else is unexpected: it is logged with its
traceback and answered with a short apology.
"""


class UsageError(Exception):
    """A mistake of the user's, explained in one sentence."""


class ConfigError(UsageError):
    """A seeds file (companies, rules, feeds) that cannot be loaded: names file, line, reason."""

    def __init__(self, path: str, line: int | None, reason: str):
        self.path, self.line, self.reason = path, line, reason
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {reason}")
