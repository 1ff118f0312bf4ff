"""Chat side of Vendorwatch: commands, delivery, digests and the platform adapters."""
