"""Packaging beside pyproject.toml: which packages the wheel holds, and where `seeds/` goes.

The checkout keeps the seeds at the root (`seeds/`); a wheel carries them as the package data
`watchers/seeds/` (package-dir maps one onto the other; `watchers.settings.default_seeds_dir` finds
them with importlib.resources). Everything else is declared in pyproject.toml.
"""

from pathlib import Path

from setuptools import find_packages, setup

# seeds/ and each folder in it, as data-only packages under watchers (files: pyproject's package-data)
SEED_PACKAGES = ["watchers.seeds"] + sorted(
    "watchers.seeds." + ".".join(path.relative_to("seeds").parts)
    for path in Path("seeds").rglob("*") if path.is_dir() and path.name != "__pycache__")

setup(
    packages=find_packages(include=["bot", "bot.*", "watchers", "watchers.*"]) + SEED_PACKAGES,
    package_dir={"watchers.seeds": "seeds"},
)
