"""Roles the registry fills where a clause's words leave them open (frames.py, step 4f): the vendor
or the customer of a customer loss, from the companies' kinds and their known relations
(seeds/companies.toml `customers`, `investors`)."""

from __future__ import annotations

from typing import Callable

from watchers.rules.clause_reading import Word
from watchers.rules.registry import Registry


def related(registry: Registry, one: str, other: str) -> bool:
    """Whether the registry knows a relation between two companies: either lists the other among
    its customers or investors."""
    a, b = registry.get(one), registry.get(other)
    if a is None or b is None:
        return False
    return other in a.customers or other in a.investors or one in b.customers or one in b.investors


def customer_loss_roles(registry: Registry, words: list[Word], at: int, bound: dict[str, list[int]],
                        before: list[int], slugs: Callable[[int], str], title_companies: tuple[int, ...]) -> None:
    """Fill the open roles of a customer loss in `bound`, in this order of precedence:
    1. an unbound vendor is the one other company of the clause that is a vendor or knows the
       customer as its customer, else the one company of the title that knows it as its customer
       (a summary's "Google, a major client, ended its contract" under "Appen shares crumble");
    2. an unbound customer is the one other company of the clause related to the vendor;
    3. a customer bound across an infinitive ("Microsoft taps Anthropic to cut OpenAI reliance":
       who cuts is not in the words) gives way to the one company before it related to the vendor,
       when it is not related itself.
    A company in a compound adjective ("Amazon-backed Anthropic") describes another and is no party."""
    subjects, customers = bound["subject"], bound["counterparty"]
    if not subjects and customers:
        bound["subject"] = (_vendor_in(registry, [w.company for w in words if w.company is not None], customers, slugs)
                            or _vendor_in(registry, list(title_companies), customers, slugs, known_only=True))
        return
    if len(subjects) != 1:
        return
    vendor = slugs(subjects[0])
    parties = [(k, w.company) for k, w in enumerate(words) if w.company is not None
               and (k + 1 == len(words) or words[k + 1].text != "-")]
    if not customers:
        fits = _related_to(registry, vendor, parties, slugs)
    elif before and customers == [words[before[-1]].company] and words[at - 1].text == "to" \
            and not related(registry, slugs(customers[0]), vendor):
        fits = _related_to(registry, vendor, [(k, token) for k, token in parties if k < before[0]], slugs)
    else:
        return
    if len(fits) == 1:
        bound["counterparty"] = fits


def _related_to(registry: Registry, vendor: str, parties: list[tuple[int, int]], slugs) -> list[int]:
    """The tokens of the parties (other than the vendor) the registry relates to the vendor, one per company."""
    fits = {slugs(token): token for _, token in parties if slugs(token) != vendor and related(registry, slugs(token), vendor)}
    return list(fits.values())


def _vendor_in(registry: Registry, tokens: list[int], customers: list[int], slugs, known_only: bool = False) -> list[int]:
    """The one company among `tokens`, not a customer, that knows a customer as its own or (unless
    `known_only`) is a vendor."""
    customer_slugs = {slugs(c) for c in customers}
    fits = {}
    for token in tokens:
        company = registry.get(slugs(token))
        if company is None or company.slug in customer_slugs:
            continue
        if not known_only and company.kind == "vendor" or customer_slugs & set(company.customers):
            fits[company.slug] = token
    return list(fits.values()) if len(fits) == 1 else []
