"""Parsing of `/vendorwatch` command text: pure functions, no storage.

The text is checked first (size, control characters), then split into tokens (double quotes
group words), then the first token names the subcommand. For `watch`/`unwatch`/`lookup` the
rest is `COMPANY [TYPES...]`: the company may be several words, so the longest leading run of
tokens that names a company wins and the trailing tokens must be event types.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Callable, Generic, TypeVar

from rapidfuzz import process

from watchers.errors import UsageError
from watchers.models import EVENT_TYPES

MAX_COMMAND_CHARS = 2000
SUBCOMMANDS = ("watch", "unwatch", "list", "lookup", "digest", "why", "help")

# friendly spellings -> event type; keys are normalized by `_type_key`
TYPE_SPELLINGS: dict[str, str] = {
    **{t.replace("_", ""): t for t in EVENT_TYPES},
    "fundraise": "funding", "fundraising": "funding", "raise": "funding", "raises": "funding",
    "investment": "funding", "investments": "funding", "round": "funding",
    "leadership": "leadership_change", "leadershipchanges": "leadership_change", "exec": "leadership_change",
    "execs": "leadership_change", "executive": "leadership_change", "executives": "leadership_change",
    "customerlosses": "customer_loss", "churn": "customer_loss", "lostcustomer": "customer_loss",
    "lostcustomers": "customer_loss",
    "acquisitions": "acquisition", "acquired": "acquisition", "m&a": "acquisition", "merger": "acquisition",
    "layoff": "layoffs", "jobcuts": "layoffs",
    "partnerships": "partnership", "partner": "partnership", "partners": "partnership", "deal": "partnership",
    "deals": "partnership", "customerwin": "partnership", "customerwins": "partnership",
    "lawsuit": "legal", "lawsuits": "legal", "regulatory": "legal",
}

_QUOTES = {'"', "\u201c", "\u201e", "\u00ab"}  # opening: straight, curly, German low, guillemet
_CLOSING = {'"', "\u201d", "\u201c", "\u00bb"}  # any of these closes (typing mixes them)
_BIDI_CONTROLS = set(range(0x202A, 0x202F)) | set(range(0x2066, 0x206A))

T = TypeVar("T")


class CommandError(UsageError):
    """A mistake in a command, answered in one sentence."""


@dataclass(frozen=True)
class Token:
    text: str
    quoted: bool = False


@dataclass(frozen=True)
class Command:
    name: str
    args: tuple[Token, ...]
    raw_args: str  # the text after the subcommand, as typed (trimmed)


@dataclass(frozen=True)
class CompanyArgs(Generic[T]):
    company: T
    types: tuple[str, ...] = ()


@dataclass(frozen=True)
class NewCompanyArgs:
    name: str
    aliases: tuple[str, ...] = field(default_factory=tuple)


def check_text(text: str) -> str:
    """The command text, trimmed; raises CommandError for empty, oversized or control-laden text."""
    if len(text) > MAX_COMMAND_CHARS:
        raise CommandError(f"That command is {len(text):,} characters long; the limit is {MAX_COMMAND_CHARS:,}.")
    for ch in text:
        if ch in "\t\n\r":
            continue
        if unicodedata.category(ch) == "Cc" or ord(ch) in _BIDI_CONTROLS:
            raise CommandError(f"The command contains a control character (U+{ord(ch):04X}); please retype it.")
    trimmed = " ".join(text.split())
    if not trimmed:
        raise CommandError("The command is empty; try /vendorwatch help.")
    return trimmed


def tokenize(text: str) -> list[Token]:
    """Split on whitespace; double quotes (straight or curly) keep words together."""
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        if text[i] in _QUOTES:
            end = next((j for j in range(i + 1, n) if text[j] in _CLOSING), -1)
            if end < 0:
                raise CommandError("A quote is not closed; put the company name between two double quotes.")
            tokens.append(Token(" ".join(text[i + 1:end].split()), quoted=True))
            i = end + 1
            continue
        start = i
        while i < n and not text[i].isspace() and text[i] not in _QUOTES:
            i += 1
        tokens.append(Token(text[start:i]))
    return tokens


def parse_command(text: str) -> Command:
    """The subcommand and its tokens; unknown subcommands get a did-you-mean."""
    trimmed = check_text(text)
    head, _, rest = trimmed.partition(" ")
    name = head.lower()
    if name in {"?", "-h", "--help"}:
        name = "help"
    if name not in SUBCOMMANDS:
        guess = process.extractOne(name, SUBCOMMANDS, score_cutoff=60)
        hint = f" Did you mean {guess[0]}?" if guess else ""
        raise CommandError(f"Unknown subcommand \u201c{_short(head)}\u201d.{hint} "
                           "Try watch, unwatch, list, lookup, digest, why or help.")
    return Command(name, tuple(tokenize(rest)), rest.strip())


def _type_key(token: str) -> str:
    return re.sub(r"[\s_\-]+", "", token.lower())


def event_type_of(token: str) -> str | None:
    """The event type a token spells (``leadership``, ``customer-loss``...), or None."""
    return TYPE_SPELLINGS.get(_type_key(token))


def parse_types(tokens: list[str]) -> tuple[str, ...]:
    """Event types from tokens that may carry commas; raises CommandError on an unknown one."""
    found: list[str] = []
    for token in tokens:
        for piece in filter(None, (p.strip() for p in token.split(","))):
            kind = event_type_of(piece)
            if kind is None:
                raise CommandError(f"Unknown event type \u201c{_short(piece)}\u201d; the types are "
                                   f"{', '.join(EVENT_TYPES)}.")
            if kind not in found:
                found.append(kind)
    return tuple(found)


def _is_type_token(token: Token) -> bool:
    pieces = [p for p in token.text.split(",") if p.strip()]
    return not token.quoted and bool(pieces) and all(event_type_of(p) for p in pieces)


def parse_company_args(args: tuple[Token, ...], resolve: Callable[[str], T | None],
                       usage: str) -> CompanyArgs[T] | str:
    """`COMPANY [TYPES...]`: the company resolved, or the unresolved company text.

    A quoted first token is the company as it is. Otherwise the longest leading run of tokens
    that resolves is the company; if none resolves, trailing type words are peeled off and the
    rest is returned as the (unknown) company text for a did-you-mean answer.
    """
    if not args:
        raise CommandError(f"Which company? Usage: {usage}")
    if args[0].quoted:
        cuts = [1]
    else:
        cuts = list(range(len(args), 0, -1))
    for cut in cuts:
        name = " ".join(t.text for t in args[:cut])
        company = resolve(name)
        if company is not None:
            types = parse_types([t.text for t in args[cut:]])
            return CompanyArgs(company, types)
    cut = len(args)
    while cut > 1 and _is_type_token(args[cut - 1]):
        cut -= 1
    if args[0].quoted:
        cut = 1
    parse_types([t.text for t in args[cut:]])
    name = " ".join(t.text for t in args[:cut]).strip(" ,")
    if not name:
        raise CommandError(f"Which company? Usage: {usage}")
    return name


def parse_new_company(args: tuple[Token, ...]) -> NewCompanyArgs:
    """`new NAME [aka ALIAS, ALIAS...]` (the tokens after `watch`, starting at `new`)."""
    rest = list(args[1:])
    words = [t.text.lower() for t in rest]
    split = words.index("aka") if "aka" in words else len(rest)
    name = " ".join(t.text for t in rest[:split]).strip(" ,")
    alias_text = ",".join(t.text if not t.quoted else t.text.replace(",", "\0") for t in rest[split + 1:])
    aliases = [a.replace("\0", ",").strip() for a in alias_text.split(",")]
    if not name:
        raise CommandError("Name the new company: /vendorwatch watch new Acme Robotics aka Acme, AcmeBot")
    check_company_name(name, "name")
    cleaned: list[str] = []
    for alias in filter(None, aliases):
        check_company_name(alias, "alias")
        if alias.lower() not in {a.lower() for a in cleaned} and alias.lower() != name.lower():
            cleaned.append(alias)
    if len(cleaned) > 10:
        raise CommandError("Give at most 10 aliases for a new company.")
    return NewCompanyArgs(name, tuple(cleaned))


def check_company_name(text: str, what: str) -> None:
    if len(text) > 100:
        raise CommandError(f"That company {what} is longer than 100 characters.")
    if len(text) < 2 or not any(ch.isalnum() for ch in text):
        raise CommandError(f"The company {what} \u201c{_short(text)}\u201d needs at least two characters "
                           "including a letter or digit.")


def slugify(name: str) -> str:
    """`Acme Robotics, Inc.` -> `acme-robotics-inc` ([a-z0-9-]+; accents folded)."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")
    return slug[:80].strip("-") or "company"


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"
