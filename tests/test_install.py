"""`pip install` of the built wheel gives a working `vendorwatch` from any directory.

The wheel is built from a copy of the sources (no build isolation, no index: nothing is
downloaded; setuptools comes from the test extra), installed into a fresh venv, and its console
script runs `--version`, `classify`, `demo` and `db upgrade` from an empty directory, with the
seeds and migrations found as package data. The fresh venv reuses the dependencies of the
interpreter running the tests through a .pth line (nothing fetched); the test checks that the
code it ran is the wheel's, not the checkout's. About a minute; it runs in CI like every test.
"""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("pyproject.toml", "setup.py", "README.md", "bot", "watchers", "seeds")

pytestmark = [pytest.mark.install, pytest.mark.timeout(600)]


def call(*argv: str | Path, cwd: Path, env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in argv], cwd=cwd, env=env, input=stdin, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    base = tmp_path_factory.mktemp("install")
    offline = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "PYTHON"))}
    offline.update(PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1")
    source = base / "src"
    source.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(ROOT / name, source / name)
    built = call(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                 "-w", base / "dist", source, cwd=base, env=offline)
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = (base / "dist").glob("vendorwatch-*.whl")

    venv = base / "venv"
    made = call(sys.executable, "-m", "venv", "--without-pip", venv, cwd=base, env=offline)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    purelib = call(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))", cwd=base, env=offline)
    # the dependencies: the test interpreter's site-packages, after the venv's own (a .pth adds no .pth of theirs)
    Path(purelib.stdout.strip(), "_vendorwatch_test_deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    install = call(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", wheel,
                   cwd=base, env=offline)
    assert install.returncode == 0, install.stdout + install.stderr

    work = base / "work"  # an empty directory, nowhere near the checkout
    work.mkdir()
    env = {k: v for k, v in offline.items() if not k.startswith(("DATABASE_URL", "SEED", "SLACK_", "DISCORD_",
                                                                  "XDG_", "CACHE_DIR", "VIRTUAL_ENV"))}
    env.update(HOME=str(base / "home"), PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}")
    return work, env


def test_the_code_and_seeds_run_are_the_wheels(installed: tuple[Path, dict[str, str]]) -> None:
    work, env = installed
    probe = call("python", "-c", "import bot, watchers.settings as s; print(bot.__file__); print(s.default_seeds_dir())",
                 cwd=work, env=env)
    assert probe.returncode == 0, probe.stderr
    module, seeds = probe.stdout.split()
    assert "site-packages" in module and not module.startswith(str(ROOT))
    assert seeds.endswith(os.path.join("site-packages", "watchers", "seeds"))
    for name in ("companies.toml", "rules.toml", "sample/sample.toml"):
        assert (Path(seeds) / name).is_file(), name
    bundled = sorted(str(p.relative_to(Path(seeds))) for p in Path(seeds).rglob("*") if p.is_file())
    in_checkout = sorted(str(p.relative_to(ROOT / "seeds")) for p in (ROOT / "seeds").rglob("*")
                         if p.is_file() and "__pycache__" not in p.parts)
    assert bundled == in_checkout  # every seeds file ships, whoever added it


def test_version(installed: tuple[Path, dict[str, str]]) -> None:
    work, env = installed
    result = call("vendorwatch", "--version", cwd=work, env=env)
    assert result.returncode == 0 and result.stdout.startswith("vendorwatch 0."), result.stdout + result.stderr


def test_classify(installed: tuple[Path, dict[str, str]]) -> None:
    work, env = installed
    line = json.dumps({"title": "Meta to take 49% stake in Scale AI for $14.3 billion, hire CEO Alexandr Wang"})
    result = call("vendorwatch", "classify", cwd=work, env=env, stdin=line + "\n")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert "scale-ai" in out["companies"] and any(e["type"] == "funding" for e in out["events"])


def test_demo(installed: tuple[Path, dict[str, str]]) -> None:
    work, env = installed
    result = call("vendorwatch", "demo", "--output-dir", work / "demo-output", cwd=work, env=env)
    assert result.returncode == 0, result.stderr
    assert "Scale AI" in result.stdout


def test_db_upgrade_in_the_per_user_data_directory(installed: tuple[Path, dict[str, str]]) -> None:
    work, env = installed
    result = call("vendorwatch", "db", "upgrade", cwd=work, env=env)
    assert result.returncode == 0, result.stderr
    database = Path(env["HOME"]) / ".local" / "share" / "vendorwatch" / "vendorwatch.db"
    assert result.stdout.startswith("created the database schema (revision ")
    assert result.stdout.strip().endswith(f"in {database} (SQLite)")
    again = call("vendorwatch", "db", "upgrade", cwd=work, env=env)
    assert again.returncode == 0 and again.stdout.startswith("the database schema was already current")
