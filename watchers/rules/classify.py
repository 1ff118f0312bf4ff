"""The rules engine: companies and events of one news item.

How an item is read, in this order:

1. Text: title and summary are cleaned (entities decoded, tags, zero-width and direction marks
   removed, quotes unified, length bounded); the title loses a trailing " - Outlet". The title
   is split at ";" and the summary into sentences: these clauses are the units rules see.
2. Companies: the matcher (watchers/rules/match.py) finds mentions in every clause. The item's
   companies are the slugs of its mentions that are not background ("former Meta executive"),
   in order of appearance. The primary company is the first such mention in the title.
3. Slot text: in each clause every non-background mention becomes a token "⟦n⟧".
4. Rules (seeds/rules.toml) are tried in file order on every clause whose text contains one of
   the rule's triggers as whole words (one Aho-Corasick pass finds them all) and that names a
   company (or, for rules on the primary company, any clause). Every match of every pattern
   binds its slots: a slot's companies are the tokens inside it. Each event the rule emits is
   made for every subject x counterparty pair of the bound companies (a counterparty equal to
   its subject is dropped; an unbound counterparty is null). A rule whose subject is `primary`
   binds the primary company (such rules say `unless = '⟦'` to stay off clauses naming one).
   A rule with `orient = true` has wording that does not say who is the vendor ("A and B sign a
   deal"): when the registry says the bound subject is a known customer of the counterparty (and
   not the reverse), or the subject is a lab and the counterparty a vendor, the two are swapped.
   An event whose counterparty slot bound only its own subject ("Google replaces Gemini") is
   dropped. A pattern that cannot match a clause is not run: the words every match holds
   (watchers/rules/gates.py), the company tokens it needs and, for rules that can only name a
   known person's company, a known person's name are looked up first (watchers/rules/clause_words.py).
   That changes what is run, never what is found.
5. Facts come from the clause: amount, valuation, stake, round, status, person and role.
   An event whose clause denies it ("denies talks") is dropped.
6. Conflicts: a rule's `overrides` drop events of the listed types for the same subject found in
   the same clause; the first event of each (type, subject, counterparty) wins (title clauses
   come first, then earlier rules); an event without a counterparty is dropped when the same
   type and subject has one with a counterparty.

Every event keeps its evidence (the matched words) and the id of its rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from watchers.rules.frames import FrameReader, Lexicon, load_lexicon
from watchers.rules.facts import clause_status, extract_facts, extract_person_role, extract_status
from watchers.rules.match import Found, Matcher
from watchers.models import Classification, Event, Mention
from watchers.rules.registry import Company, Registry, load_registry
from watchers.rules.clause_words import ClauseWords
from watchers.rules.rulebook import PERSON_SLOT, TOKEN, Rule, load_rules
from watchers.rules.textnorm import MAX_SUMMARY_CHARS, MAX_TITLE_CHARS, clean, sentences, strip_outlet


@dataclass(frozen=True, slots=True)
class _RulePlan:
    """What `_clause_events` reads of one rule, for every clause whose words select it."""

    rule: Rule
    unless: re.Pattern | None
    unless_masks: tuple[int, ...]
    # indexed by a clause's company tokens (up to the most any pattern needs): the patterns that may
    # match it, each as (regex, first gate mask or 0 for none, the other gate masks, the tokens every
    # match holds, whether a match may be empty); none below the fewest tokens any pattern needs, nor
    # without a company unless the rule binds the primary company or a person. A match holds its
    # tokens and a word of each gate: with either it is never empty.
    by_tokens: tuple[tuple[tuple[re.Pattern, int, tuple[int, ...], int, bool], ...], ...]

    @classmethod
    def of(cls, rule: Rule, words: ClauseWords, index: int, most_tokens: int) -> "_RulePlan":
        fewest = 0 if rule.uses_primary or rule.uses_people else 1
        patterns = [(g.regex, g.masks[0] if g.masks else 0, g.masks[1:], g.min_tokens, not g.masks and not g.min_tokens)
                    for g in words.patterns[index]]
        by_tokens = tuple(tuple(p for p in patterns if p[3] <= count) if count >= fewest else ()
                          for count in range(most_tokens + 1))
        return cls(rule, rule.unless, words.unless_masks[index], by_tokens)


class RulesEngine:
    def __init__(self, registry: Registry, rules: list[Rule], lexicon: Lexicon | None = None):
        self.registry = registry
        self.rules = rules
        self.matcher = Matcher(registry)
        # known person (lowercased) -> the companies they are known for
        self._people: dict[str, list[str]] = {}
        for company in registry:
            for person in company.people:
                self._people.setdefault(person.lower(), []).append(company.slug)
        self.frames = FrameReader(lexicon, registry, self._people) if lexicon is not None else None
        # a rule whose every event is a known person's company: nothing without a known person's name
        self._words = ClauseWords(rules, self._people, {
            index for index, rule in enumerate(rules) if all(spec.subject == PERSON_SLOT for spec in rule.emits)})
        # a clause with more company tokens than any pattern needs is tried like one with that many
        self._most_tokens = max((needs for rule in rules for needs in rule.min_tokens), default=0)
        # per (place of the clause, whether the item has a primary company, whether the clause names a
        # company): the words that select rules and each rule's plan, or None where the rule's scope or
        # its need of a primary company rules it out. A clause naming no company is read only by the
        # rules that bind the primary company or a person: their own smaller automaton selects the same
        # of them in the same order, with fewer words to go through.
        self._readers: dict[tuple[str, bool, bool], tuple[ClauseWords, list[_RulePlan | None]]] = {}
        for names_company in (False, True):
            group = rules if names_company else [rule for rule in rules if rule.uses_primary or rule.uses_people]
            # where no company is named, a rule's company slots bind nothing: with a person slot and
            # no primary company, only a known person can make its events
            words = self._words if names_company else ClauseWords(group, self._people, {
                index for index, rule in enumerate(group) if rule.uses_people and not rule.uses_primary})
            plans = [_RulePlan.of(rule, words, index, self._most_tokens) for index, rule in enumerate(group)]
            for where in ("title", "summary"):
                for has_primary in (False, True):
                    self._readers[where, has_primary, names_company] = (words, [
                        plan if plan.rule.scope in ("any", where) and (has_primary or not plan.rule.uses_primary)
                        else None for plan in plans])

    @classmethod
    def load(cls, seeds_dir: Path, companies_path: Path | None = None,
             extra_companies: Iterable[Company] = (), cache_dir: Path | None = None) -> "RulesEngine":
        """The engine of a seeds directory; `cache_dir` keeps the compiled rules between starts."""
        seeds_dir = Path(seeds_dir)
        registry = load_registry(companies_path or seeds_dir / "companies.toml", extra_companies)
        lexicon_path = seeds_dir / "lexicon.toml"
        lexicon = load_lexicon(lexicon_path) if lexicon_path.is_file() else None
        return cls(registry, load_rules(seeds_dir / "rules.toml", cache_dir), lexicon)

    def classify(self, title: str, summary: str = "", *, link: str | None = None,
                 source: str | None = None) -> Classification:
        title = strip_outlet(clean(title or "", MAX_TITLE_CHARS), source)
        summary = clean(summary or "", MAX_SUMMARY_CHARS)
        texts = [part for t in title.split("; ") if (part := t.strip())]
        titles = len(texts)  # the clauses before this index are the title's, the rest the summary's
        if summary:
            texts.extend(sentences(summary))
        slugs: dict[str, None] = dict.fromkeys(self.matcher.link_slugs(link))
        mentions: list[Mention] = []
        tokens: list[Found] = []
        by_token: dict[str, str] = {}  # "⟦n⟧" -> the slug of tokens[n]
        slot_texts: list[str] = []  # each clause with a token "⟦n⟧" for each company it names
        for text, found in zip(texts, self.matcher.find(texts, link)):
            parts, last = [], 0
            for hit in found:
                mentions.append(Mention(hit.slug, hit.alias, hit.start, hit.end, hit.via))
                if hit.background:
                    continue
                slugs.setdefault(hit.slug)
                token = f"\u27e6{len(tokens)}\u27e7"
                parts += (text[last:hit.start], token)
                by_token[token] = hit.slug
                tokens.append(hit)
                last = hit.end
            slot_text = "".join(parts) + text[last:] if parts else text
            if parts and _BACKGROUND_CUE.search(slot_text):
                slot_text = _without_background_roles(slot_text, tokens)
            slot_texts.append(slot_text)
        # the first company of the title that has a role
        primary = next((by_token[found.group(0)] for slot_text in slot_texts[:titles]
                        for found in TOKEN.finditer(slot_text)), None)
        companies = list(slugs)
        if not companies:
            return Classification(companies, [], mentions)
        events: list[Event] = []
        pending: dict[int, tuple] = {}
        slots = _ItemSlots(tokens, by_token, primary, self._people)
        has_primary = bool(primary)
        commentary = bool(_COMMENTARY.search(texts[0])) if titles else False
        for index, (text, slot_text) in enumerate(zip(texts, slot_texts)):
            if commentary or _no_event_told(text):
                continue  # an opinion piece or a question tells no event
            where = "title" if index < titles else "summary"
            events.extend(e for e in self._clause_events(text, slot_text, where, has_primary, slots, pending)
                          if not _hedged(_render(pending[id(e)][1].group(0), tokens)))
        events = _resolve(events)
        for event in events:
            _complete(event, tokens, *pending[id(event)])
        if self.frames is not None and not commentary:
            events.extend(self._frame_events(texts, slot_texts, tokens, events))
        return Classification(companies, events, mentions)

    def _frame_events(self, texts: list[str], slot_texts: list[str], tokens: list[Found],
                      found: list[Event]) -> list[Event]:
        """Events of the frames (frames.py) for the (type, subject) pairs the rules did not find."""
        # a pair the rules bound either way round is theirs ("A cuts off B" read as B's loss, too)
        known = {(e.type, e.subject) for e in found} | {(e.type, e.counterparty) for e in found if e.counterparty}
        made: dict[tuple[str, str, str | None], Event] = {}
        slug_of = lambda n: tokens[n].slug  # noqa: E731
        for text, slot_text in zip(texts, slot_texts):
            if "\u27e6" not in slot_text or _no_event_told(text):
                continue
            # every event a frame makes is of a type it triggers, for a company of the clause: none is
            # new when the rules found them all
            kinds = self.frames.types_triggered(slot_text.lower())
            if all((kind, tokens[int(n)].slug) in known for kind in kinds for n in TOKEN.findall(slot_text)):
                continue
            status = clause_status(text)
            if status == "denied":
                continue
            for frame_event in self.frames.events(slot_text, slug_of):
                event = Event(frame_event.type, slug_of(frame_event.subject),
                              None if frame_event.counterparty is None else slug_of(frame_event.counterparty))
                if frame_event.frame.orient or event.type == "customer_loss":
                    event = self._orient(event)
                key = (event.type, event.subject, event.counterparty)
                if (event.type, event.subject) in known or key in made:
                    continue
                evidence = _render(slot_text[frame_event.start:frame_event.end], tokens).strip()
                if _hedged(evidence):
                    continue
                event.rule, event.confidence = f"frame.{frame_event.frame.id}", 0.8
                event.status = extract_status(text, evidence, status)
                if event.status in ("done", "planned") and frame_event.status:
                    event.status = frame_event.status
                event.evidence = evidence
                _add_facts(event, text, {})
                made[key] = event
        # an ending relationship is not a new one: a customer loss drops a partnership of the same pair
        ended = {frozenset((e.subject, e.counterparty)) for e in [*found, *made.values()] if e.type == "customer_loss"}
        return _resolve([e for e in made.values()
                         if e.type != "partnership" or frozenset((e.subject, e.counterparty)) not in ended])

    def _clause_events(self, text: str, slot_text: str, where: str, has_primary: bool, slots: "_ItemSlots",
                       pending: dict[int, tuple]) -> list[Event]:
        """Events of one clause, bare: what `_complete` adds to each survivor goes into `pending`."""
        company_tokens = min(slot_text.count("\u27e6"), self._most_tokens)
        words, plans = self._readers[where, has_primary, company_tokens > 0]
        candidates, present = words.scan(slot_text.lower(), slot_text, text.isascii())
        if not candidates:
            return []
        found: list[Event] = []
        overridden: set[tuple[str, str]] = set()
        in_clause: str | None = ""
        facts: dict[str, object] = {}
        for index in sorted(candidates):
            plan = plans[index]
            if plan is None or not plan.by_tokens[company_tokens]:
                continue
            if plan.unless is not None and _gates_met(plan.unless_masks, present) and plan.unless.search(slot_text):
                continue
            rule = plan.rule
            for regex, first_gate, other_gates, needs, may_be_empty in plan.by_tokens[company_tokens]:
                # _gates_met, its first gate inline: the gates skip most patterns tried
                if first_gate and not present & first_gate or other_gates and not _gates_met(other_gates, present):
                    continue
                # the matches of finditer: after one that is not empty it searches on from its end, as
                # search does without building an iterator (dear next to a search that finds nothing)
                rest = regex.finditer(slot_text) if may_be_empty else None
                match = next(rest, None) if rest else regex.search(slot_text)
                while match is not None:
                    if in_clause == "":
                        in_clause = clause_status(text)
                        if in_clause == "denied":  # a denial drops every event of the clause
                            return []
                    made = _bind(rule, match, slots)
                    if rule.orient:
                        made = [self._orient(e) for e in made]
                    context = (text, match, in_clause, facts)
                    for event in made:
                        pending[id(event)] = context
                        for overridden_type in rule.overrides:
                            overridden.add((overridden_type, event.subject))
                    found.extend(made)
                    if rest:
                        match = next(rest, None)
                    elif slot_text.count("\u27e6", match.end()) < needs:  # too few tokens left for a match
                        match = None
                    else:
                        match = regex.search(slot_text, match.end())
        if not overridden:
            return found
        return [e for e in found if (e.type, e.subject) not in overridden]

    def _orient(self, event: Event) -> Event:
        """Vendor as subject for customer_loss and partnership, from known customers and kinds."""
        if event.type not in ("customer_loss", "partnership") or event.counterparty is None:
            return event
        subject, other = self.registry.get(event.subject), self.registry.get(event.counterparty)
        if subject is None or other is None:
            return event
        known = subject.slug in other.customers and other.slug not in subject.customers
        if known or (not other.customers or subject.slug not in other.customers) and (
                subject.kind == "lab" and other.kind == "vendor" and other.slug not in subject.customers):
            event.subject, event.counterparty = other.slug, subject.slug
        return event

    def explain(self, classification: Classification) -> str:
        """Why each event was found, for a person: rule, evidence, facts, and the mentions behind it."""
        lines = [f"companies: {', '.join(classification.companies) or 'none'}"]
        for mention in classification.mentions:
            lines.append(f"  {mention.slug}: {mention.alias!r} ({mention.via})")
        if not classification.events:
            lines.append("events: none")
        for event in classification.events:
            pair = event.subject + (f" <- {event.counterparty}" if event.counterparty else "")
            lines.append(f"event: {event.type} {pair} [{event.status}]")
            lines.append(f"  rule: {event.rule}")
            lines.append(f"  evidence: \"{event.evidence}\"")
            facts = [f"{name}={_fmt(getattr(event, name))}" for name in
                     ("amount_usd", "valuation_usd", "stake_pct", "round", "person", "role")
                     if getattr(event, name) is not None]
            if facts:
                lines.append(f"  facts: {', '.join(facts)}")
        return "\n".join(lines)


# Background inside a clause: a relative clause that tells the past or a standing role of
# someone already named ("Microsoft, which invested $13 billion in OpenAI, ...", "Wang, who left
# Scale AI for Meta in June, ...", "authors who sued Anthropic"), up to the next comma or break;
# and a company named only as the relation of the clause's subject ("Meta's contractor cuts jobs",
# "Telus, a vendor to Meta, ..."). Companies there are companies of the item with no role in
# its events.
_BACKGROUND_SPAN = re.compile(r"""
    \b(?:who|which|that)\s+
    (?:(?:had|has|have|once|previously|earlier|also|recently|first|then|just|already)\s+)*
    (?!(?:departed|resigned|retired|exited|stepped)\b)     # a person's move is part of the news
    (?:[a-z]+ed|bought|took|won|led|sold|quit|lost|ran|made|held|paid|brought|sought|
       leads|runs|heads|oversees|counts|includes)\b
    [^,;:\u2014()]*                                      # to the end of the relative clause
  | ^(?:the\s+|a\s+)?\u27e6\d+\u27e7['\u2019]s\s+(?:[\w-]+\s+){0,3}?  # "Meta's content moderation contractor"
    (?:contractor|supplier|vendor|partner|rival|competitor|investor|backer)s?\b  # (its customers' moves are its news)
  | \u27e6\d+\u27e7\s+(?:co-?founder|founder|ceo|cto|cfo|chief\s+\w+|executive|exec|researcher|veteran|alum)
    ['\u2019]s\b                                       # a person's descriptor: "OpenAI co-founder's start-up"
  | \u27e6\d+\u27e7(?:['\u2019]s)?\s+(?:rival|competitor|challenger)\s+(?=\S)  # a comparison: "OpenAI rival Anthropic"
  | (?:\bex-|\bformer\s+)\w[\w. -]{0,30}?\s(?:and|&|or)\s\u27e6\d+\u27e7  # "ex-Microsoft and Google veteran"
  | \b(?:days|weeks|months|years|hours|shortly|soon)\s+(?:after|before)\b[^,;]*  # the time of other news
  | \bbefore\s+(?:its|their|his|her|the)\b[^,;]*
  | ,\s+(?:a|an|the|its)\s+(?:[\w-]+\s+){0,2}?        # ", a longtime vendor to Meta,"
    (?:contractor|supplier|vendor|partner|customer|client|rival|competitor|investor|backer)s?
    \s+(?:of|to|for)\s+[^,;]*
""", re.VERBOSE)
_BACKGROUND_CUE = re.compile(r"\b(?:who|which|that|rival|competitor|challenger|after|before|ex-|former)\b"
                             r"|['\u2019]s\b|, (?:a|an|the|its) ")


def _without_background_roles(slot_text: str, tokens: list[Found]) -> str:
    """The slot text with each token inside a background span written back as the company's name."""
    spans = [(found.start(), found.end()) for found in _BACKGROUND_SPAN.finditer(slot_text)]
    if not spans:
        return slot_text
    return TOKEN.sub(lambda token: tokens[int(token.group(1))].alias
                     if any(start <= token.start() < end for start, end in spans) else token.group(0), slot_text)


# A headline that announces commentary, not news: "Opinion: ...", "Analysis | ...", "Inside ...",
# "A look back at ...", "... explained"
_COMMENTARY = re.compile(r"^(?:opinion|analysis|commentary|column|explainer|editorial|podcast)\s*[:|\-\u2014]"
                         r"|^(?:inside|a look back at|lessons from|the rise and fall of)\b|,? explained$", re.I)
# Hedges inside an event's own words: a possibility, an attempt, a negation or talks that are over
# ("Amazon might invest", "Meta tried to acquire", "Meta is not cutting ties", "Meta held talks to buy"). A non-renewal is itself the event.
_HEDGE = re.compile(r"\b(?:could|might|would|should|may|can't|cannot|not|never|tried|tries|attempted|failed|"
                    r"refused|rejected|declined|turned down|rebuffed|(?:held|had|was in|were in) (?:\w+ )?talks)\b"
                    r"(?! renew| to renew| extend)", re.I)


# A running total, not a new round: "has raised $20 billion to date", "has invested $13 billion since 2019"
_CUMULATIVE = re.compile(r"\b(?:has|have)\s+(?:\w+\s+){0,2}?(?:raised|invested|received)\b.*"
                         r"\b(?:since\s+(?:\d{4}|its|it\s+was)|to\s+date|so\s+far)\b", re.I)


def _no_event_told(clause: str) -> bool:
    """A question, a condition or a running total ("Will Meta drop Scale AI?", "If OpenAI buys
    Chrome, ...", "Microsoft has invested $13 billion in OpenAI since 2019")."""
    return clause.endswith("?") or clause[:8].lower().startswith(("if ", "what if ", "unless ")) or (
        " ha" in clause and bool(_CUMULATIVE.search(clause)))


def _hedged(evidence: str) -> bool:
    return bool(_HEDGE.search(evidence))


def _gates_met(masks: tuple[int, ...], present: int) -> bool:
    """False when a word set that every match needs has no word in the clause (clause_words.py)."""
    for mask in masks:
        if not present & mask:
            return False
    return True


def _fmt(value: object) -> str:
    if isinstance(value, float) and value >= 1e6:
        return f"${value / 1e9:.2f}B" if value >= 1e9 else f"${value / 1e6:.1f}M"
    return str(value)


def _render(text: str, tokens: list[Found]) -> str:
    """The slot text `text` with each token's alias in place of the token."""
    parts = TOKEN.split(text)  # text, token number, text, ...: the matches TOKEN.sub would replace
    for at in range(1, len(parts), 2):
        parts[at] = tokens[int(parts[at])].alias
    return "".join(parts)


class _ItemSlots:
    """What a rule's slots bind to in one item: its company tokens, primary company, known people."""

    __slots__ = ("tokens", "by_token", "primary", "people")

    def __init__(self, tokens: list[Found], by_token: dict[str, str], primary: str | None,
                 people: dict[str, list[str]]):
        self.tokens, self.by_token, self.primary, self.people = tokens, by_token, primary, people

    def slugs(self, match: re.Match, slot: str | None) -> list[str | None]:
        if slot is None:
            return [None]
        if slot == "primary":
            return [self.primary]
        try:
            text = match.group(slot) or ""
        except IndexError:  # this pattern of the rule has no such slot
            return [None]
        if slot == PERSON_SLOT:
            padded = f" {text.lower()} "
            named = (slug for name, slugs in self.people.items() if f" {name} " in padded for slug in slugs)
            return list(dict.fromkeys(named)) or [None]
        slug = self.by_token.get(text)
        if slug is not None:  # one token as the slot text writes it (what `{X}` binds): TOKEN finds just it
            return [slug]
        return list(dict.fromkeys(self.tokens[int(n)].slug for n in TOKEN.findall(text))) or [None]


def _bind(rule: Rule, match: re.Match, slots: _ItemSlots) -> list[Event]:
    made = []
    for spec in rule.emits:
        for subject in slots.slugs(match, spec.subject):
            if subject is None:
                continue
            counterparties = [None] if spec.counterparty is None else slots.slugs(match, spec.counterparty)
            if counterparties == [subject]:
                continue
            for counterparty in counterparties:
                event = Event(spec.type, subject, None if counterparty == subject else counterparty)
                event.rule, event.confidence = rule.id, rule.confidence  # cheaper than keywords
                made.append(event)
    return made


def _complete(event: Event, tokens: list[Found], clause_text: str, match, in_clause: str | None,
              facts: dict) -> None:
    """Evidence, status and facts, for the events that survive conflicts only."""
    evidence = _render(match.group(0), tokens)
    event.status = extract_status(clause_text, evidence, in_clause)
    event.evidence = evidence.strip()
    _add_facts(event, clause_text, facts)


def _add_facts(event: Event, text: str, cache: dict) -> None:
    """Facts of the clause, read once per clause whatever the number of its events."""
    if event.type in ("funding", "acquisition", "partnership", "customer_loss"):
        if "money" not in cache:
            cache["money"] = extract_facts(text)
        facts = cache["money"]
        event.amount_usd, event.valuation_usd = facts.amount_usd, facts.valuation_usd
        event.stake_pct, event.round = facts.stake_pct, facts.round
    elif event.type == "leadership_change":
        if "person" not in cache:
            cache["person"] = extract_person_role(text)
        event.person, event.role = cache["person"]


def _resolve(events: list[Event]) -> list[Event]:
    if len(events) < 2:  # nothing to conflict with (most items)
        return events
    seen: dict[tuple[str, str, str | None], Event] = {}
    for event in events:
        seen.setdefault((event.type, event.subject, event.counterparty), event)
    with_counterparty = {(t, s) for t, s, c in seen if c is not None}
    return [e for (t, s, c), e in seen.items() if c is not None or (t, s) not in with_counterparty]
