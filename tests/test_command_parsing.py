"""Parsing of `/vendorwatch` command text: tokens, multi-word companies, event types, bad input."""

from __future__ import annotations

import pytest

from bot.commands.parsing import (
    CommandError,
    CompanyArgs,
    check_text,
    event_type_of,
    parse_command,
    parse_company_args,
    parse_new_company,
    parse_types,
    slugify,
    tokenize,
)

KNOWN = {"scale ai": "scale-ai", "scale-ai": "scale-ai", "thinking machines lab": "thinking-machines",
         "openai": "openai", "meta": "meta", "legal & general": "legal-general"}


def resolve(text: str) -> str | None:
    return KNOWN.get(text.lower())


def company_args(text: str):  # noqa: ANN201
    return parse_company_args(parse_command("watch " + text).args, resolve, "usage")


@pytest.mark.parametrize("text, expected", [
    ("Scale AI", CompanyArgs("scale-ai", ())),
    ("scale ai funding", CompanyArgs("scale-ai", ("funding",))),
    ("Thinking Machines Lab leadership customer-loss", CompanyArgs("thinking-machines",
                                                                   ("leadership_change", "customer_loss"))),
    ('"Scale AI" Layoffs', CompanyArgs("scale-ai", ("layoffs",))),
    ("\u201cScale AI\u201d funding", CompanyArgs("scale-ai", ("funding",))),
    ("openai funding, layoffs", CompanyArgs("openai", ("funding", "layoffs"))),
    ("openai funding,legal,funding", CompanyArgs("openai", ("funding", "legal"))),
    ("Legal & General", CompanyArgs("legal-general", ())),
    ("Legal & General legal", CompanyArgs("legal-general", ("legal",))),
    ("META leadership_change", CompanyArgs("meta", ("leadership_change",))),
])
def test_company_and_types(text: str, expected: CompanyArgs) -> None:
    assert company_args(text) == expected


def test_unknown_company_comes_back_as_text_without_its_types() -> None:
    assert company_args("Acme Robotics funding layoffs") == "Acme Robotics"
    assert company_args('"Acme funding"') == "Acme funding"


def test_unknown_type_after_a_known_company() -> None:
    with pytest.raises(CommandError, match="Unknown event type \u201cfundng\u201d; the types are funding, "):
        company_args("Scale AI fundng")


def test_missing_company() -> None:
    with pytest.raises(CommandError, match="Which company"):
        parse_company_args((), resolve, "/vendorwatch watch COMPANY")


@pytest.mark.parametrize("spelling, kind", [
    ("leadership", "leadership_change"), ("Leadership-Change", "leadership_change"),
    ("customer-loss", "customer_loss"), ("customer loss", "customer_loss"), ("CUSTOMER_LOSS", "customer_loss"),
    ("layoff", "layoffs"), ("acquisitions", "acquisition"), ("m&a", "acquisition"),
    ("partnerships", "partnership"), ("lawsuit", "legal"), ("fundraising", "funding"),
    ("nonsense", None), ("", None),
])
def test_event_type_spellings(spelling: str, kind: str | None) -> None:
    assert event_type_of(spelling) == kind


def test_parse_types_refuses_unknown() -> None:
    assert parse_types(["funding,", "layoffs"]) == ("funding", "layoffs")
    with pytest.raises(CommandError, match="Unknown event type \u201cweather\u201d"):
        parse_types(["weather"])


def test_tokenize_quotes() -> None:
    assert [t.text for t in tokenize('watch "Scale   AI" funding')] == ["watch", "Scale AI", "funding"]
    assert tokenize('"x y"')[0].quoted
    assert [t.text for t in tokenize('\u201eScale AI\u201c \u00abOpen AI\u00bb "Meta\u201d')] == ["Scale AI", "Open AI", "Meta"]
    with pytest.raises(CommandError, match="A quote is not closed"):
        tokenize('watch "Scale AI')


@pytest.mark.parametrize("text, message", [
    ("", "The command is empty; try /vendorwatch help."),
    ("   \n\t ", "The command is empty; try /vendorwatch help."),
    ("x" * 10240, "That command is 10,240 characters long; the limit is 2,000."),
    ("watch Scale\x00AI", "The command contains a control character (U+0000); please retype it."),
    ("watch \x1b[31mScale", "The command contains a control character (U+001B); please retype it."),
    ("why \u202eevil", "The command contains a control character (U+202E); please retype it."),
])
def test_bad_text(text: str, message: str) -> None:
    with pytest.raises(CommandError) as caught:
        check_text(text)
    assert str(caught.value) == message


def test_unknown_subcommand_suggests() -> None:
    with pytest.raises(CommandError) as caught:
        parse_command("wach Scale AI")
    assert str(caught.value) == ("Unknown subcommand \u201cwach\u201d. Did you mean watch? "
                                 "Try watch, unwatch, list, lookup, digest, why or help.")
    with pytest.raises(CommandError, match="Unknown subcommand \u201cfrobnicate\u201d. Try watch"):
        parse_command("frobnicate")


def test_subcommand_is_case_insensitive_and_keeps_raw_args() -> None:
    command = parse_command("  WHY   Meta  invests in Scale AI ")
    assert command.name == "why" and command.raw_args == "Meta invests in Scale AI"
    assert parse_command("?").name == "help"


def test_new_company_syntax() -> None:
    new = parse_new_company(parse_command('watch new Acme Robotics aka Acme, AcmeBot, "Acme, Inc."').args)
    assert new.name == "Acme Robotics" and new.aliases == ("Acme", "AcmeBot", "Acme, Inc.")
    assert parse_new_company(parse_command("watch new Zeta Labs").args).aliases == ()
    with pytest.raises(CommandError, match="Name the new company"):
        parse_new_company(parse_command("watch new aka X").args)
    with pytest.raises(CommandError, match="needs at least two characters"):
        parse_new_company(parse_command("watch new Acme aka ---").args)
    with pytest.raises(CommandError, match="longer than 100 characters"):
        parse_new_company(parse_command("watch new " + "A" * 101).args)
    with pytest.raises(CommandError, match="at most 10 aliases"):
        parse_new_company(parse_command("watch new Acme aka " + ", ".join(f"a{i}x" for i in range(11))).args)


@pytest.mark.parametrize("name, slug", [
    ("Acme Robotics", "acme-robotics"), ("Acme Robotics, Inc.", "acme-robotics-inc"),
    ("Caf\u00e9 D\u00e9j\u00e0 Vu", "cafe-deja-vu"), ("\u4e2d\u6587", "company"), ("--X--", "x"),
])
def test_slugify(name: str, slug: str) -> None:
    assert slugify(name) == slug
