"""The version of Vendorwatch: the installed distribution's, else the checkout's pyproject.toml."""

from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def version() -> str:
    try:
        return metadata.version("vendorwatch")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        pass
    try:
        with PYPROJECT.open("rb") as stream:
            return str(tomllib.load(stream)["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"
