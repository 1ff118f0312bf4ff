"""The entity matcher: real mentions in, look-alikes out, one pass whatever the registry's size."""

from __future__ import annotations

from pathlib import Path

import pytest

from watchers.rules.match import Matcher
from watchers.rules.registry import Company, Registry, load_registry

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(load_registry(SEEDS / "companies.toml"))


def slugs(matcher: Matcher, *texts: str, link: str | None = None) -> list[str]:
    return [h.slug for hits in matcher.find(list(texts), link) for h in hits if not h.background]


CASES = [
    ("plain", ["Scale AI raises $1 billion"], ["scale-ai"]),
    ("platform alias", ["Remotasks workers in Kenya protest"], ["scale-ai"]),
    ("longest wins", ["Google DeepMind hires"], ["google"]),
    ("capitals", ["NVIDIA AND OPENAI SIGN DEAL"], ["nvidia", "openai"]),
    ("lowercase is not the company", ["an apple a day keeps meta-analysis away"], []),
    ("veto turing test", ["AI passes the Turing test"], []),
    ("veto turing award", ["Turing Award for Hinton"], []),
    ("veto alan turing", ["Alan Turing statue unveiled"], []),
    ("veto meta-analysis at sentence start", ["Meta-analysis of trials"], []),
    ("veto amazon rainforest", ["Amazon rainforest burns"], []),
    ("veto brazil's amazon", ["Deforestation in Brazil's Amazon falls"], []),
    ("veto handshake deal", ["A Handshake deal on trade"], []),
    ("veto apple pie", ["Apple pie contest"], []),
    ("veto big apple", ["Congestion pricing in the Big Apple"], []),
    ("a parent's short name for its outsourcing unit", ["Meta cuts ties with Telus"], ["meta", "telus-digital"]),
    ("the parent's other units are not the outsourcer", ["Telus Health and Telus Corp. report results"], []),
    ("a chatbot standing for its maker", ["Agency removes Grok from its tools"], ["xai"]),
    ("the verb grok is no chatbot", ["Hard to grok the new rules"], []),
    ("a messaging app standing for its owner", ["WhatsApp banned on staff phones"], ["meta"]),
    ("a cloud, a video site and a games brand stand for their owners",
     ["Ola quits Azure", "Advertisers pause spending on YouTube", "Xbox president resigns"],
     ["microsoft", "google", "microsoft"]),
    ("the colour azure and a solar firm are no cloud", ["Azure skies over the bay", "Azure Power raises debt"], []),
    ("the employer an executive is hired away from", ["Cohere hires former Mistral AI CFO Jane Roe"],
     ["cohere", "mistral"]),
    ("a former employer as a descriptor", ["Former Mistral AI CFO Jane Roe joins a panel"], []),
    ("a company's legal name", ["The order names Character Technologies and Snap Inc."], ["character-ai"]),
    ("a known person's AI startup", ["Backers pile into Mira Murati's AI startup"], ["thinking-machines"]),
    ("a known person's views name no company", ["Ilya Sutskever's views on AI safety"], []),
    ("a product with its maker names the maker", ["Claude maker gets $10 billion"], ["anthropic"]),
    ("a product's developer, possessive", ["Llama's developer hires an engineer"], ["meta"]),
    ("veterans of a company are its past", ["Apple and Google veterans raise $250mn"], []),
    ("alumni of a company are its past", ["OpenAI alumni launch a startup"], []),
    ("an alumna of a company is its past", ["Google alumna launches a lab"], []),
    ("a product alone names nobody", ["Users of Claude can upload files"], []),
    ("a product's users are no maker", ["Claude users complain about limits"], []),
    ("context alias alone", ["Scale of the problem grows"], []),
    ("context alias at scale", ["Deploying models at scale"], []),
    ("context alias with sure mention", ["Scale AI hires", "Scale said the cuts were needed"], ["scale-ai", "scale-ai"]),
    ("context alias with cue", ["Data-labeling startup Surge raises $1B"], ["surge-ai"]),
    ("context alias with known person", ["Surge grows fast", "Edwin Chen said so"], ["surge-ai"]),
    ("surge in demand", ["A surge in demand for GPUs"], []),
    ("word boundary", ["Metalworkers and Appendix"], []),
    ("xai exact case", ["XAI methods explain models"], []),
    ("domain in text", ["Visit scale.com for details"], ["scale-ai"]),
    # the extra tracked companies: their names are also common words
    ("reka alone", ["Reka chef wins award"], []),
    ("moonshot alone", ["A moonshot for the city"], []),
    ("moonshot ai project", ["Google's Moonshot AI Project takes shape"], ["google"]),
    ("moonshot ai", ["Moonshot AI releases Kimi K2"], ["moonshot-ai"]),
    ("hugging face in prose", ["Fans were hugging face to face"], []),
    ("hugging face-to-face", ["Hugging Face-to-Face Meetings Return"], []),
    ("hugging face", ["Hugging Face launches new models"], ["hugging-face"]),
    ("character ai generic", ["Meta tests new Character AI chatbots"], ["meta"]),
    ("character ai with cue", ["Chatbot startup Character AI hires"], ["character-ai"]),
    ("character.ai", ["Character.AI bans teens"], ["character-ai"]),
]


@pytest.mark.parametrize("texts,expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_mentions(matcher: Matcher, texts: list[str], expected: list[str]) -> None:
    assert slugs(matcher, *texts) == expected


def test_background_mentions_are_marked(matcher: Matcher) -> None:
    hits = matcher.find(["Amazon hires former Microsoft product chief; ex-Meta researcher joins"])[0]
    assert [(h.slug, h.background) for h in hits] == [("amazon", False), ("microsoft", True), ("meta", True)]


def test_link_on_company_domain(matcher: Matcher) -> None:
    assert matcher.link_slugs("https://openai.com/index/new-model/") == {"openai"}
    assert matcher.link_slugs("https://news.google.com/rss/articles/x") == set()
    assert matcher.link_slugs("http://[::1") == set()
    assert slugs(matcher, "Surge grows", link="https://www.surgehq.ai/blog/x") == ["surge-ai"]


def test_offsets_point_into_the_text(matcher: Matcher) -> None:
    text = "Über-news: Anthropic\u2019s Claude"
    hit = matcher.find([text])[0][0]
    assert text[hit.start:hit.end] == "Anthropic"


def test_unicode_that_changes_length_when_lowercased_is_safe(matcher: Matcher) -> None:
    assert slugs(matcher, "İstanbul office of OpenAI opens") == ["openai"]


def test_ten_thousand_companies_in_one_automaton() -> None:
    companies = {f"co-{n}": Company(slug=f"co-{n}", name=f"Company{n} Labs", aliases=(f"Brand{n}",))
                 for n in range(10_000)}
    matcher = Matcher(Registry(companies))
    assert slugs(matcher, "Brand9999 and Company42 Labs sign deal; Brand10 rises") == ["co-9999", "co-42", "co-10"]


def test_empty_registry() -> None:
    assert Matcher(Registry({})).find(["anything"]) == [[]]
