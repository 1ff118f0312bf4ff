"""Chat platforms: the contract every adapter implements, and the adapters themselves."""
