"""Ingestion side of Vendorwatch: fetch, parse, normalize, match, classify, cluster."""
