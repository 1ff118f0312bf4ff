"""Storage through SQLModel on SQLAlchemy 2: SQLite by default, PostgreSQL for replicas.

All tables of the project live in this package (one schema, one migration history); the
orchestrator of watchers/ and the bot's core write them through the session helpers in db.py.
"""
