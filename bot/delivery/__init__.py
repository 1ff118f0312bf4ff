"""Delivery: stories -> per-channel alerts and thread replies (fanout, alerts, thread_context)
-> the outbox -> the platforms (outbox)."""
