"""The Discord adapter (discord.py): rendering, sending, threads, slash commands and buttons.

The only package that imports the Discord SDK; the core talks to it through the platform
contract (bot/platforms/contract.py).
"""
