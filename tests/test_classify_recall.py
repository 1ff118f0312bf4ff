"""Recall of wordings seen in real coverage (June 2025, Meta and Scale AI), as a table of named cases.

Each phrasing has a few variants, written for the wording rather than one headline, and look-alikes
that must stay eventless. Expected events are (type, subject, counterparty).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from watchers.rules.classify import RulesEngine

SEEDS = Path(__file__).resolve().parent.parent / "seeds"

CASES = [
    # customer leaves vendor: split / part ways / step back / pull back / walk away / retreat
    ("split with, appositive", "Google, Scale AI's largest customer, plans to split with Scale after Meta deal, "
     "sources say", "", {("customer_loss", "scale-ai", "google")}),
    ("splits with", "Google splits with Scale AI", "", {("customer_loss", "scale-ai", "google")}),
    ("parts ways with", "OpenAI parts ways with Surge AI over pricing", "", {("customer_loss", "surge-ai", "openai")}),
    ("parted ways, appositive", "Meta, a longtime client, parted ways with Appen", "",
     {("customer_loss", "appen", "meta")}),
    ("step back from, list with owner", "Microsoft and Elon Musk's xAI also step back from Scale AI, sources say", "",
     {("customer_loss", "scale-ai", "microsoft"), ("customer_loss", "scale-ai", "xai")}),
    ("back away from, list", "Microsoft, Google and xAI back away from Scale AI", "",
     {("customer_loss", "scale-ai", "microsoft"), ("customer_loss", "scale-ai", "google"),
      ("customer_loss", "scale-ai", "xai")}),
    ("pulls back from", "Google pulls back from Labelbox after acquisition", "",
     {("customer_loss", "labelbox", "google")}),
    ("walks away from", "Anthropic walks away from Surge AI", "", {("customer_loss", "surge-ai", "anthropic")}),
    ("retreats from", "OpenAI retreats from Scale AI", "", {("customer_loss", "scale-ai", "openai")}),
    ("part ways, two customers", "OpenAI and Google part ways with Scale AI", "",
     {("customer_loss", "scale-ai", "openai"), ("customer_loss", "scale-ai", "google")}),
    ("steps back from investment", "Nvidia steps back from OpenAI investment", "", set()),
    ("pulls back from investment talks", "Apple pulls back from OpenAI investment talks", "", set()),
    ("walks away from deal talks", "Scale AI walks away from Meta deal talks", "", set()),
    ("steps back from board", "Meta steps back from Scale AI board", "", set()),
    ("splits a unit", "Google splits its cloud unit", "", set()),
    ("backing away is not backing", "Google plans to split with Scale AI",
     "Microsoft is also backing away and xAI is looking to exit, the sources said.",
     {("customer_loss", "scale-ai", "google")}),
    ("backs off", "Nvidia backs off Mistral AI", "", set()),
    ("backing still funds", "Nvidia backing Mistral AI in new round", "", {("funding", "mistral", "nvidia")}),
    ("splits into", "Scale AI splits into two companies", "", set()),
    # customer stops the vendor's work
    ("phasing out vendor work", "OpenAI phasing out Scale AI work after Meta deal", "",
     {("customer_loss", "scale-ai", "openai")}),
    ("winds down vendor projects", "Google winds down Surge AI projects", "", {("customer_loss", "surge-ai", "google")}),
    ("pauses vendor contracts", "xAI pauses Scale AI data labeling contracts", "", {("customer_loss", "scale-ai", "xai")}),
    ("halts vendor work", "Microsoft halts Appen work", "", {("customer_loss", "appen", "microsoft")}),
    ("ends vendor contract", "Google ends Scale AI contract", "", {("customer_loss", "scale-ai", "google")}),
    ("vendor winds down customer work", "Scale AI winds down OpenAI work", "", {("customer_loss", "scale-ai", "openai")}),
    ("pauses investment", "OpenAI pauses Scale AI investment", "", set()),
    ("ends own product work", "Google ends Gemini work", "", set()),
    # valuation after an investor's money
    ("valued after investment", "Scale AI valued at $29 billion after Meta investment", "",
     {("funding", "scale-ai", "meta")}),
    ("valued following stake", "Surge AI valued at $25 billion following Nvidia stake", "",
     {("funding", "surge-ai", "nvidia")}),
    ("valued after a deal", "Mercor valued at $10 billion after Meta deal", "", {("funding", "mercor", None)}),
    ("valued with customer", "Mercor valued at $10 billion with Meta as customer", "", {("funding", "mercor", None)}),
    # closing an investment, not a bare deal
    ("closes investment", "Meta closes $14.3 billion Scale AI investment", "", {("funding", "scale-ai", "meta")}),
    ("closes bare deal", "Meta closes $14.3 billion Scale AI deal", "", set()),
    # a known person (companies.toml people) leaves the company they are known for
    ("known person leaves to join", "Meta invests $14.3 billion in Scale AI as Alexandr Wang leaves to join Meta", "",
     {("funding", "scale-ai", "meta"), ("leadership_change", "scale-ai", None), ("leadership_change", "meta", None)}),
    ("known person departs for", "Alexandr Wang departs for Meta", "",
     {("leadership_change", "scale-ai", None), ("leadership_change", "meta", None)}),
    ("known person exits, title case", "Alexandr Wang Exits To Join Meta Superintelligence Lab", "",
     {("leadership_change", "scale-ai", None), ("leadership_change", "meta", None)}),
    ("known person will leave the company", "Meta invests in Scale AI",
     "Alexandr Wang will leave the company to join Meta.", {("funding", "scale-ai", "meta"),
                                                             ("leadership_change", "scale-ai", None),
                                                             ("leadership_change", "meta", None)}),
    ("known person steps down, no company named", "Alexandr Wang steps down", "", set()),
    ("known person leaves a named company", "Alexandr Wang leaves Meta", "", {("leadership_change", "meta", None)}),
    ("known person of another company", "Meta's Alexandr Wang leaves", "", set()),
    ("leaves the door open", "Alexandr Wang leaves door open to Meta return", "", set()),
    ("role at another company", "Meta AI chief Alexandr Wang leaves to join OpenAI", "",
     {("leadership_change", "meta", None), ("leadership_change", "openai", None)}),
    ("known person's new role elsewhere", "Alexandr Wang is chief AI officer at Meta", "", set()),
    # an interim or new chief: the company named with the person, or the known person's company
    ("company's chief is interim CEO", "Scale AI's strategy chief Jason Droege is interim CEO", "",
     {("leadership_change", "scale-ai", None)}),
    ("company chief named interim CEO", "Scale AI strategy chief Jason Droege named interim CEO", "",
     {("leadership_change", "scale-ai", None)}),
    ("names interim CEO", "Scale AI names Jason Droege interim CEO", "", {("leadership_change", "scale-ai", None)}),
    ("known person will serve as interim", "Meta deal closes",
     "Strategy chief Jason Droege will serve as interim CEO.", {("leadership_change", "scale-ai", None)}),
    ("known person is the new CEO", "Meta deal closes", "Jason Droege is the new CEO.",
     {("leadership_change", "scale-ai", None)}),
    ("known person is CEO, a description", "Meta deal closes", "Jason Droege is CEO.", set()),
    ("unknown person is new CEO", "Surge AI raises $1B", "John Smith is the new CEO.", {("funding", "surge-ai", None)}),
    ("company chief is CEO, a description", "Scale AI strategy chief Jason Droege is CEO", "", set()),
    # an executive moves: the company left and the company joined both change
    ("executive of one joins another's lab", "Scale AI CEO Alexandr Wang is joining Meta's superintelligence lab",
     "", {("leadership_change", "scale-ai", None), ("leadership_change", "meta", None)}),
    ("executive defects, possessive role", "Apple's top AI executive defects to Meta", "",
     {("leadership_change", "apple", None), ("leadership_change", "meta", None)}),
    ("executive joins an event, not a company", "OpenAI CEO Sam Altman joins Microsoft's Build keynote", "", set()),
    ("known person joins", "Sam Altman joins Microsoft", "",
     {("leadership_change", "openai", None), ("leadership_change", "microsoft", None)}),
    ("known person joins in doing", "Satya Nadella joins OpenAI in calling for AI rules", "", set()),
    ("a company joining a boycott is no hire", "Coca-Cola joins Facebook boycott", "", {("customer_loss", "meta", None)}),
    ("a pronoun is no known person", "Facebook COO Sandberg quits", "She joined from Google in 2008.",
     {("leadership_change", "meta", None)}),
    ("stake then hire, infinitives", "Meta to take 49% stake in Scale AI, hire CEO Alexandr Wang", "",
     {("funding", "scale-ai", "meta"), ("leadership_change", "scale-ai", None), ("leadership_change", "meta", None)}),
    ("a named hire with no role word", "Anthropic hires Andrej Karpathy", "", {("leadership_change", "anthropic", None)}),
    ("a named person poached from a rival", "Meta poaches OpenAI's Lucas Beyer", "",
     {("leadership_change", "meta", None), ("leadership_change", "openai", None)}),
    ("a named person lost", "OpenAI loses Larry Summers, one of its directors", "",
     {("leadership_change", "openai", None)}),
    ("a place lost is no person", "Nvidia loses Wall Street's favour", "", set()),
    ("a bank hired is no person", "OpenAI hires Morgan Stanley to advise on its listing", "", set()),
    ("a Title Case headline's capitals name no one", "Anthropic Hires Top Talent From Research Labs", "", set()),
    ("a company after an infinitive is no party", "Cohere's chief scientist is leaving as it struggles to match Google",
     "", {("leadership_change", "cohere", None)}),
    # deals and suits: who is who
    ("signs sized deal with provider", "Meta signs $10 billion cloud deal with Google", "",
     {("partnership", "google", "meta")}),
    ("vendor inks deal with lab", "Scale AI inks deal with Meta", "", {("partnership", "scale-ai", "meta")}),
    ("sued by names the plaintiff", "Mercor sued by Scale AI over poaching", "", {("legal", "mercor", None)}),
    ("sued with an object names the defendants", "Musk's xAI sued Apple and OpenAI on Monday", "",
     {("legal", "apple", None), ("legal", "openai", None)}),
    ("accused with an object is the accuser", "OpenAI accused Musk of harassment in a countersuit", "", set()),
    ("accused of, the passive", "Cohere accused of copying news articles", "", {("legal", "cohere", None)}),
    ("executive leaves for", "Apple's head of AI models leaves for Meta", "",
     {("leadership_change", "apple", None), ("leadership_change", "meta", None)}),
    ("person leaves one for another", "John Schulman leaves Anthropic for Thinking Machines", "",
     {("leadership_change", "anthropic", None), ("leadership_change", "thinking-machines", None)}),
    # more ways a customer leaves
    ("winding down its work with", "OpenAI is winding down its work with Scale AI", "",
     {("customer_loss", "scale-ai", "openai")}),
    ("ends use of", "OpenAI ends use of Scale AI, Bloomberg reports", "", {("customer_loss", "scale-ai", "openai")}),
    ("vendor says customer terminated", "Appen says Google terminated its contract", "",
     {("customer_loss", "appen", "google")}),
    ("unnamed labs abandoning", "Big AI labs are abandoning Scale AI", "", {("customer_loss", "scale-ai", None)}),
    ("customers head for the exits", "Scale AI's customers head for the exits after Meta deal", "",
     {("customer_loss", "scale-ai", None)}),
    ("rival picks up fleeing customers", "Surge AI picks up customers fleeing Scale AI", "",
     {("customer_loss", "scale-ai", None)}),
    ("contracts is a noun", "xAI halts Scale AI contracts after Meta deal", "",
     {("customer_loss", "scale-ai", "xai")}),
    # an investor we do not track
    ("untracked investor invests", "ASML invests €1.3 billion in Mistral AI", "", {("funding", "mistral", None)}),
    ("invests in chips is not funding", "OpenAI invests $10 billion in Nvidia chips", "", set()),
]


@pytest.fixture(scope="module")
def rules_engine() -> RulesEngine:
    return RulesEngine.load(SEEDS)


@pytest.mark.parametrize("title,summary,expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_case(rules_engine: RulesEngine, title: str, summary: str, expected: set) -> None:
    result = rules_engine.classify(title, summary)
    found = {(e.type, e.subject, e.counterparty) for e in result.events}
    assert found == expected, rules_engine.explain(result)
