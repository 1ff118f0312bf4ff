"""The `vendorwatch` command line: argument parsing and the two kinds of error.

Each subcommand is a handler `run(args, settings) -> int` in its own module of bot/cli/, async
for the commands that wait on I/O (classify only computes: it is a plain function); this file
only parses arguments, loads settings once and maps errors to exit statuses (0 success, 1
runtime failure, 2 usage error).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from typing import Sequence

from bot.cli import chat as chat_command
from bot.cli import classify as classify_command
from bot.cli import db as db_command
from bot.cli import demo as demo_command
from bot.cli import digest as digest_command
from bot.cli import feeds as feeds_command
from bot.cli import poll as poll_command
from bot.cli import run as run_command
from bot.cli import settings as settings_command
from bot.version import version
from watchers.errors import UsageError
from watchers.logs import configure_logging
from watchers.settings import load_settings
from watchers.storage.location import with_default_database

log = logging.getLogger("vendorwatch.cli")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2
        raise UsageError(f"{message} (see `{self.prog} --help`)")


EPILOG = """\
Settings come from environment variables or .env in the working directory; `vendorwatch settings`
lists every one with its value in effect, default and meaning.

Exit status: 0 success, 1 runtime failure, 2 usage error."""


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="vendorwatch", description="Company-news alerts for AI vendors and labs.",
                     epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}",
                        help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    run = sub.add_parser("run", help="the bot: scheduler, watchers, delivery and every configured platform",
                         description="The bot. With no Slack or Discord credentials it runs with the console "
                                     "sink and prints the alerts of console channels (see `vendorwatch chat`).")
    run.set_defaults(handler=run_command.run)

    demo = sub.add_parser("demo", help="offline end-to-end demo on the bundled sample feeds")
    demo.set_defaults(handler=demo_command.run)
    demo.add_argument("--output-dir", default="demo-output", metavar="DIR",
                      help="where the digest chart is written (default: demo-output)")
    demo.add_argument("-v", "--verbose", action="store_true",
                      help="print the bot's log lines, debug ones included, to standard error "
                           "(by default only warnings)")

    classify = sub.add_parser("classify", help="JSONL news items in, companies and events out")
    classify.set_defaults(handler=classify_command.run)
    classify.add_argument("path", nargs="?", default="-", metavar="PATH",
                          help="JSONL file, or - for standard input (the default)")
    classify.add_argument("--companies", metavar="PATH", help="a companies.toml that replaces the registry")
    classify.add_argument("--explain", action="store_true", help="print why each event was found, for a person")

    poll = sub.add_parser("poll", help="poll due feeds once",
                          description="One poll cycle, then a table of the results. Exit status 1 when every "
                                      "feed polled failed.")
    poll.set_defaults(handler=poll_command.run)
    poll.add_argument("--once", action="store_true", required=True, help="one cycle of every due feed, then exit")
    poll.add_argument("--all", action="store_true", help="poll every enabled feed, due or not")

    feeds = sub.add_parser("feeds", help="manage extra feeds stored in the database")
    feeds.set_defaults(handler=feeds_command.run)
    feeds_sub = feeds.add_subparsers(dest="feeds_command", metavar="ACTION", parser_class=_Parser)
    feeds_sub.required = True
    add = feeds_sub.add_parser("add", help="add a feed URL (checked, not fetched); due at once")
    add.add_argument("url", metavar="URL", help="http(s) URL of an RSS or Atom feed")
    add.add_argument("--name", default=None, help="a name to list it by (default: the URL)")
    add.add_argument("--company", default=None, metavar="COMPANY",
                     help="slug, name or alias of the company the feed is about")
    feeds_sub.add_parser("list", help="list feeds with their health")
    remove = feeds_sub.add_parser("remove", help="remove a feed by id")
    remove.add_argument("id", type=int, metavar="ID", help="the feed's id, as `feeds list` shows it")

    digest = sub.add_parser("digest", help="build (and post) the weekly digest of one channel")
    digest.set_defaults(handler=digest_command.run)
    digest.add_argument("--channel", required=True, metavar="PLATFORM:CHANNEL_ID",
                        help="the channel, for example slack:C0123456 or console:local")
    digest.add_argument("--dry-run", action="store_true", help="print it, post nothing")

    chat = sub.add_parser("chat", help="run one /vendorwatch command as if typed in a channel",
                          description="Runs one /vendorwatch command (watch, unwatch, list, lookup, digest, why, "
                                      "help) as if typed in a channel and prints the reply; exit status 1 when "
                                      "the command failed. `vendorwatch run` with the console sink prints the "
                                      "alerts of console channels.",
                          epilog="example: vendorwatch chat watch scale-ai funding leadership_change")
    chat.set_defaults(handler=chat_command.run)
    chat.add_argument("--channel", default=chat_command.DEFAULT_CHANNEL, metavar="PLATFORM:ID",
                      help=f"the channel it is typed in (default: {chat_command.DEFAULT_CHANNEL})")
    chat.add_argument("--user", default=None, metavar="NAME",
                      help="who types it, as recorded on subscriptions (default: your login name)")
    chat.add_argument("text", nargs="+", metavar="TEXT", help="the command, for example: watch scale-ai funding")

    settings = sub.add_parser("settings", help="every setting: value in effect (secrets masked), default, meaning")
    settings.set_defaults(handler=settings_command.run, needs_settings=False)

    db = sub.add_parser("db", help="database schema")
    db.set_defaults(handler=db_command.run)
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", parser_class=_Parser)
    db_sub.required = True
    db_sub.add_parser("upgrade", help="create or migrate the schema, and say which, and where the database is")
    return parser


def _dispatch(args: argparse.Namespace) -> int:
    settings = None
    if getattr(args, "needs_settings", True):
        settings = with_default_database(load_settings())  # unset DATABASE_URL: see storage/location.py
        configure_logging(settings.log_level)
    outcome = args.handler(args, settings)
    if hasattr(outcome, "__await__"):
        outcome = asyncio.run(outcome)
    return int(outcome or 0)


def _database_unreachable(exc: Exception) -> bool:
    """An operational database error (server down, file unwritable): a runtime failure, not a bug.

    Read through sys.modules: a command that never touched the database never imported SQLAlchemy.
    """
    sa_exc = sys.modules.get("sqlalchemy.exc")
    return sa_exc is not None and isinstance(exc, sa_exc.OperationalError)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return _dispatch(args)
    except UsageError as exc:
        print(f"vendorwatch: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # the reader stopped reading (`vendorwatch classify big.jsonl | head`): stop quietly, as Unix
        # tools do; stdout goes to /dev/null so that the interpreter's last flush does not fail again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as exc:
        if _database_unreachable(exc):
            log.debug("database unreachable", exc_info=True)
            reason = (str(exc.orig) or str(exc)).strip().splitlines()[0]
            print(f"vendorwatch: cannot use the database: {reason}", file=sys.stderr)
            return 1
        log.exception("unexpected error")
        print("vendorwatch: sorry, something unexpected went wrong; the log above has the details", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
