"""The rules engine: which tracked companies an item is about, and which events it reports.

registry (seeds/companies.toml) -> textnorm (clean text) -> match (company mentions) ->
classify (event rules of seeds/rules.toml, loaded by rulebook) -> facts (amount, stake, person,
role, status). provider hands the orchestrator the current engine.
"""
