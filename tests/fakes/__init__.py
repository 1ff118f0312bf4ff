"""Loopback fakes of the chat platforms' APIs, for tests that run the real SDK clients."""
