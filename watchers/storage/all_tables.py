"""Import every table module so that SQLModel.metadata holds the whole schema."""

from sqlmodel import SQLModel

from watchers.storage import delivery, stories, tables  # noqa: F401

metadata = SQLModel.metadata
