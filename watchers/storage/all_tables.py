"""Import every table module so that SQLModel.metadata holds the whole schema."""

from sqlmodel import SQLModel

from watchers.storage import delivery, feedback, stories, tables  # noqa: F401

metadata = SQLModel.metadata
