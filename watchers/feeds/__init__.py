"""Feeds: which feeds exist, when each is due, fetching it safely, parsing and normalizing it.

sources (seed and user feeds) -> schedule (next check) -> state (claims, leases, results) ->
fetch (conditional GET behind address_guard and pinned_network) -> parse (feedparser in
worker processes) -> normalize (plain text, canonical links, stable keys).
"""
