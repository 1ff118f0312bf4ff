"""References (watchers/rules/references.py): "the startup", "its", "it", "the chipmaker" stand for a
company the item names. Headlines of our own, each a way newsrooms refer back, with the look-alikes
that must not resolve."""

from __future__ import annotations

import pytest

from watchers.rules.classify import RulesEngine
from watchers.rules.registry import Company, Registry
from watchers.rules.match import PRODUCT, Found
from watchers.rules.references import REFERENCE, ReferenceFinder
from watchers.settings import default_seeds_dir


@pytest.fixture(scope="module")
def engine() -> RulesEngine:
    """The rules and frames alone: the learned model changes with each retraining."""
    rules_engine = RulesEngine.load(default_seeds_dir())
    rules_engine.learned = None
    return rules_engine


def events(engine: RulesEngine, title: str, summary: str = "") -> set[tuple[str, str, str | None]]:
    return {(e.type, e.subject, e.counterparty) for e in engine.classify(title, summary).events}


CASES = [
    # name, title, summary, events that must be found, events that must not
    ("a title that denies its news denies the summary's retelling",
     "Havas denies it will pull advertising from Google", "A spokeswoman said withdrawing spending from Google's "
     "platforms is not the group's policy.", set(), {("customer_loss", "google", None)}),
    ("a description in the subject's own relative clause is another company",
     "Mistral AI raises $640 million", "Microsoft, which put $16 million into the French model maker last year, did not "
     "join the round.", {("funding", "mistral", None)}, {("funding", "microsoft", None)}),
    ("description as the object, apposition before it",
     "Google, Scale AI's largest customer, plans to cut ties with the startup after Meta deal", "",
     {("customer_loss", "scale-ai", "google")}, {("customer_loss", "meta", "google")}),
    ("epithet and 'it' after a verb of saying",
     "Nvidia and OpenAI sign letter of intent",
     "The chipmaker said it will invest up to $100 billion in the ChatGPT maker as new data centers come online.",
     {("funding", "openai", "nvidia")}, set()),
    ("description in a subordinate clause is the main subject",
     "Scale AI's chief executive is leaving",
     "SAN FRANCISCO (Reuters) - Scale AI said on Thursday its chief executive would leave to join Meta, as the "
     "social media giant takes a 49% stake in the company for $14.3 billion.",
     {("funding", "scale-ai", "meta")}, {("funding", "meta", None)}),
    ("description at the start of the summary is the title's subject",
     "DeepSeek weighs first outside funding",
     "The Chinese AI start-up is raising money from investors for the first time, people familiar said.",
     {("funding", "deepseek", None)}, set()),
    ("'its' after a verb of saying",
     "Perplexity names new finance chief",
     "Perplexity said on Monday its chief financial officer would step down at the end of the year.",
     {("leadership_change", "perplexity", None)}, set()),
]

NOT_RESOLVED = [
    # name, title, summary, events that must not be found
    ("expletive 'it'", "Anthropic co-founder says it would be odd to sell Claude to OpenAI", "",
     {("acquisition", "anthropic", None), ("acquisition", "openai", None)}),
    ("'its' after another noun phrase", "Alphabet, Nvidia back Ilya Sutskever's AI startup, raising its valuation",
     "", {("funding", "google", None), ("funding", "nvidia", None)}),
    ("'its' before a relation", "Innodata loses its largest customer, stock falls 30%", "",
     {("customer_loss", "innodata", "innodata")}),
    ("a startup is never Google", "Google invests in Anthropic",
     "The deal comes as the start-up buys computing from Google's cloud division.",
     {("partnership", "google", None), ("customer_loss", "google", None)}),
    ("a company followed by a verb acts", "Anthropic co-founder tied the cut to reports that OpenAI is buying "
     "the coding startup", "", {("acquisition", "openai", None), ("acquisition", "anthropic", None)}),
]


@pytest.mark.parametrize("name,title,summary,expected,unexpected", CASES, ids=[c[0] for c in CASES])
def test_a_reference_takes_its_company_s_role(engine: RulesEngine, name: str, title: str, summary: str,
                                              expected: set, unexpected: set) -> None:
    found = events(engine, title, summary)
    assert expected <= found, found
    assert not found & unexpected, found


@pytest.mark.parametrize("name,title,summary,unexpected", NOT_RESOLVED, ids=[c[0] for c in NOT_RESOLVED])
def test_a_word_that_refers_to_nothing_tracked_stays_a_word(engine: RulesEngine, name: str, title: str,
                                                            summary: str, unexpected: set) -> None:
    assert not events(engine, title, summary) & unexpected


def test_references_are_explained_and_add_no_company(engine: RulesEngine) -> None:
    result = engine.classify("Nvidia to invest in OpenAI", "The chipmaker said it will put in $10 billion.")
    assert result.companies == ["nvidia", "openai"]
    references = [(m.alias, m.slug) for m in result.mentions if m.via == REFERENCE]
    assert references == [("The chipmaker", "nvidia"), ("it", "nvidia")]
    assert "nvidia: 'The chipmaker' (reference)" in engine.explain(result)


def test_an_untracked_subject_takes_the_pronoun() -> None:
    finder = ReferenceFinder(Registry({"openai": Company("openai", "OpenAI", "lab")}))
    engine = RulesEngine.load(default_seeds_dir())
    texts = ["FinMin directs officers not to use ChatGPT",
             "The finance ministry has told its officers not to use AI tools such as ChatGPT."]
    found = finder.find(texts, engine.matcher.find(texts))
    assert not [hit for hits in found for hit in hits if hit.via == REFERENCE]


def test_a_product_is_no_company_the_words_refer_back_to() -> None:
    finder = ReferenceFinder(Registry({"microsoft": Company("microsoft", "Microsoft", "lab")}))
    text = "Matt Wood said in a LinkedIn post that he is stepping away from the company"
    linkedin = Found("microsoft", "LinkedIn", text.index("LinkedIn"), text.index("LinkedIn") + 8, PRODUCT)
    assert finder.find([text], [[linkedin]]) == [[linkedin]]


def test_an_epithet_counts_only_where_the_company_is_named() -> None:
    registry = Registry({"nvidia": Company("nvidia", "Nvidia", "lab", epithets=("chipmaker",))})
    engine = RulesEngine(registry, [])
    texts = ["AMD wins order", "The chipmaker said it will ship in May."]
    assert not [hit for hits in engine.references.find(texts, engine.matcher.find(texts)) for hit in hits]


@pytest.mark.parametrize("summary", ["Last year, OpenAI and Microsoft were hit with a similar suit.",
                                     "In November, Anthropic partnered with Palantir and Amazon.",
                                     "Back in 2019, Microsoft invested $1 billion in OpenAI."])
def test_a_sentence_opening_on_a_past_time_tells_earlier_news(engine: RulesEngine, summary: str) -> None:
    assert events(engine, "Nvidia sued by authors over NeMo", summary) <= {("legal", "nvidia", None)}


INVESTOR_CASES = [
    ("amounts from investors", "OpenAI raises $110 billion in record funding round",
     "It announced a $110 billion round, with $30 billion from SoftBank, $30 billion from Nvidia and $50 billion "
     "from Amazon.", {("funding", "openai", "nvidia"), ("funding", "openai", "amazon")}),
    ("a list after 'including'", "Mistral secures €1.7 billion",
     "Existing backers including Nvidia, DST Global and Andreessen Horowitz joined the round.",
     {("funding", "mistral", "nvidia")}),
    ("a seller is no investor", "Anthropic raises $2 billion", "The startup also buys $1 billion of chips from Nvidia.",
     {("funding", "anthropic", None)}),
    ("untracked names before the verb", "Cohere raises $500 million",
     "Amazon, Nvidia and Oracle contributed $300 million of it.",
     {("funding", "cohere", "amazon"), ("funding", "cohere", "nvidia")}),
    ("an auxiliary before the verb", "Mistral raises €600 million", "Nvidia has also joined the round.",
     {("funding", "mistral", "nvidia")}),
    ("untracked names after a cue", "Reka AI raises $60 million",
     "Backers including DST Global, Snowflake Ventures and Nvidia took part.", {("funding", "reka", "nvidia")}),
    ("investors who agree to add money", "Mistral raises EUR 450 million",
     "Nvidia and Salesforce agreed to add EUR 120 million in convertible debt.", {("funding", "mistral", "nvidia")}),
    ("a list of investors in a title", "Alphabet, Nvidia invest in Safe Superintelligence", "",
     {("funding", "ssi", "google"), ("funding", "ssi", "nvidia")}),
]


@pytest.mark.parametrize("name,title,summary,expected", INVESTOR_CASES, ids=[c[0] for c in INVESTOR_CASES])
def test_a_round_takes_each_investor_the_item_names(engine: RulesEngine, name: str, title: str, summary: str,
                                                   expected: set) -> None:
    assert {e for e in events(engine, title, summary) if e[0] == "funding"} == expected
