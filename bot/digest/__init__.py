"""The weekly digest: build (what happened per company), chart (PNG), job (the weekly run)."""
