"""The default database does not depend on the working directory by surprise (storage/location.py).

Unset DATABASE_URL: data/vendorwatch.db in a checkout or where that file exists already, else
the per-user data file; a set DATABASE_URL (environment or .env) is used as given.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.shared_data import VENDORWATCH
from watchers.settings import load_settings
from watchers.storage.location import DEFAULT_URL, default_database_url, user_data_dir, with_default_database

ROOT = Path(__file__).resolve().parent.parent


def test_the_default_is_the_contracts() -> None:
    assert DEFAULT_URL == "sqlite:///data/vendorwatch.db"


def test_a_checkout_keeps_data_under_it(tmp_path: Path) -> None:
    assert default_database_url(ROOT, {"HOME": str(tmp_path)}) == DEFAULT_URL
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "seeds").mkdir()
    assert default_database_url(tmp_path, {"HOME": "/nowhere"}) == DEFAULT_URL


def test_an_existing_data_file_is_never_left_behind(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "vendorwatch.db").write_bytes(b"")
    assert default_database_url(tmp_path, {"HOME": "/nowhere"}) == DEFAULT_URL


def test_elsewhere_the_per_user_data_directory(tmp_path: Path) -> None:
    assert user_data_dir({"XDG_DATA_HOME": "/x/data", "HOME": "/home/u"}) == Path("/x/data/vendorwatch")
    assert user_data_dir({"HOME": "/home/u"}) == Path("/home/u/.local/share/vendorwatch")
    assert default_database_url(tmp_path, {"HOME": "/home/u"}) == \
        "sqlite:////home/u/.local/share/vendorwatch/vendorwatch.db"


def test_a_set_url_is_used_as_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    unset = with_default_database(load_settings())
    assert unset.database_url == f"sqlite:///{tmp_path / 'home/.local/share/vendorwatch/vendorwatch.db'}"
    monkeypatch.setenv("DATABASE_URL", DEFAULT_URL)  # set, even to the default's text: relative, as given
    assert with_default_database(load_settings()).database_url == DEFAULT_URL
    monkeypatch.delenv("DATABASE_URL")
    (tmp_path / ".env").write_text(f"DATABASE_URL={DEFAULT_URL}\n")
    assert with_default_database(load_settings()).database_url == DEFAULT_URL


def test_db_upgrade_outside_a_checkout_names_the_per_user_file(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "XDG_DATA_HOME"}}
    env["HOME"] = str(tmp_path / "home")
    work = tmp_path / "work"
    work.mkdir()
    result = subprocess.run([VENDORWATCH, "db", "upgrade"], cwd=work, env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    database = tmp_path / "home" / ".local" / "share" / "vendorwatch" / "vendorwatch.db"
    assert result.stdout.strip().endswith(f"in {database} (SQLite)")
    assert database.is_file() and not (work / "data").exists()
