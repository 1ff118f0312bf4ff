"""Import every table module so that SQLModel.metadata holds the whole schema."""

from sqlmodel import SQLModel

from watchers.storage import delivery, feedback, requests, stories, tables, websub  # noqa: F401

metadata = SQLModel.metadata
