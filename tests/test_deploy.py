"""deploy/: each file parses and says what the bot needs (the settings table is the reference).

No Docker engine or cluster here: the files are checked as text and data. YAML loads, the
compose bot runs `vendorwatch run` with setting names only, the probes and healthchecks ask
/healthz, the image runs the built wheel as a non-root user, the systemd unit has its user,
directories and settings.
"""

from __future__ import annotations

import configparser
import re
from pathlib import Path

import pytest
import yaml

from watchers.settings import SETTINGS

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
SETTING_NAMES = {s.name for s in SETTINGS}
NOT_SETTINGS_ALLOWED = {"HOME", "MPLCONFIGDIR"}  # the process environment, not Vendorwatch's settings


def load_yaml(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def test_the_old_compose_file_is_replaced() -> None:
    assert not (DEPLOY / "docker-compose.yml").exists()


def test_compose_runs_the_bot_beside_postgres() -> None:
    (compose,) = load_yaml(DEPLOY / "compose.yaml")
    services = compose["services"]
    assert set(services) >= {"bot", "postgres"}
    bot, postgres = services["bot"], services["postgres"]
    assert bot["command"] == ["vendorwatch", "run"]
    assert set(bot["environment"]) <= SETTING_NAMES, set(bot["environment"]) - SETTING_NAMES
    assert bot["environment"]["DATABASE_URL"].startswith("postgresql+psycopg://")
    assert "@postgres:5432/" in bot["environment"]["DATABASE_URL"]
    assert bot["env_file"] == [".env"]
    assert bot["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
    assert (DEPLOY / bot["build"]["context"] / bot["build"]["dockerfile"]).is_file()
    assert bot["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "/healthz" in " ".join(bot["healthcheck"]["test"])
    assert "pg_isready" in postgres["healthcheck"]["test"]
    assert re.fullmatch(r"postgres:\d+\.\d+.*", postgres["image"])  # a pinned version
    assert any(v.split(":")[1] == "/var/lib/postgresql/data" for v in postgres["volumes"])
    assert set(compose["volumes"]) >= {v.split(":")[0] for v in postgres["volumes"]}
    assert bot["ports"] == ["${PORT:-3000}:${PORT:-3000}"] and bot["environment"]["PORT"] == "${PORT:-3000}"
    assert int(re.search(r"\d+", bot["stop_grace_period"]).group()) >= 10


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = (DEPLOY / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "") for line in lines]


def test_the_image_is_slim_pinned_non_root_and_checks_its_health() -> None:
    instructions = dockerfile_instructions()
    args = dict(arg.split("=", 1) for kind, arg in instructions if kind == "ARG" and "=" in arg)
    bases = [arg.split()[0].replace("${PYTHON_IMAGE}", args.get("PYTHON_IMAGE", "")) for kind, arg in instructions
             if kind == "FROM"]
    assert bases and all(re.fullmatch(r"python:3\.11\.\d+-slim(-\w+)?(@sha256:[0-9a-f]{64})?", b) for b in bases), bases
    users = [arg for kind, arg in instructions if kind == "USER"]
    assert users and users[-1].split(":")[0] not in {"root", "0"}
    final = instructions[max(i for i, (kind, _) in enumerate(instructions) if kind == "FROM"):]
    assert any(kind == "RUN" and re.search(r"pip install .*\.whl", arg) for kind, arg in final)  # the built wheel
    assert not any(kind in {"COPY", "ADD"} and "--from" not in arg for kind, arg in final)  # no sources in the image
    (healthcheck,) = [arg for kind, arg in instructions if kind == "HEALTHCHECK"]
    assert "/healthz" in healthcheck
    assert [arg for kind, arg in instructions if kind == "CMD"][-1] == '["vendorwatch", "run"]'
    for kind, arg in instructions:
        if kind == "ENV":
            names = set(re.findall(r"(\w+)=", arg))
            assert names - SETTING_NAMES <= {"PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE",
                                              "PIP_DISABLE_PIP_VERSION_CHECK", "MPLCONFIGDIR"}


def kubernetes() -> dict[str, dict]:
    docs = {}
    for path in sorted((DEPLOY / "kubernetes").glob("*.yaml")):
        for doc in load_yaml(path):
            docs[doc["kind"]] = doc
    return docs


def test_kubernetes_manifests() -> None:
    docs = kubernetes()
    assert set(docs) >= {"Deployment", "Secret", "ConfigMap", "PodDisruptionBudget", "Service", "Kustomization"}
    listed = {path for path in docs["Kustomization"]["resources"]}
    assert listed == {p.name for p in (DEPLOY / "kubernetes").glob("*.yaml")} - {"kustomization.yaml"}

    deployment = docs["Deployment"]
    assert deployment["spec"]["replicas"] >= 2
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] != 0
    assert pod["terminationGracePeriodSeconds"] >= 10
    (container,) = pod["containers"]
    assert container["command"] == ["vendorwatch", "run"]
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["path"] == "/healthz"
        port = container[probe]["httpGet"]["port"]
        assert port in {p["name"] for p in container["ports"]} | {p["containerPort"] for p in container["ports"]}
    assert container["ports"][0]["containerPort"] == int(docs["ConfigMap"]["data"]["PORT"])
    refs = {next(iter(ref.values()))["name"] for ref in container["envFrom"]}
    assert refs == {docs["ConfigMap"]["metadata"]["name"], docs["Secret"]["metadata"]["name"]}
    assert {e["name"] for e in container.get("env", [])} <= SETTING_NAMES | NOT_SETTINGS_ALLOWED

    assert set(docs["ConfigMap"]["data"]) <= SETTING_NAMES
    assert all(isinstance(v, str) for v in docs["ConfigMap"]["data"].values())
    secret = docs["Secret"]["stringData"]
    assert set(secret) <= SETTING_NAMES and secret["DATABASE_URL"].startswith("postgresql+psycopg://")
    assert {s.name for s in SETTINGS if s.secret} >= set(secret) - {"DATABASE_URL"}  # only secrets in the Secret

    labels = deployment["spec"]["template"]["metadata"]["labels"]
    for selector in (deployment["spec"]["selector"]["matchLabels"], docs["PodDisruptionBudget"]["spec"]["selector"]
                     ["matchLabels"], docs["Service"]["spec"]["selector"]):
        assert selector.items() <= labels.items()
    pdb = docs["PodDisruptionBudget"]["spec"]
    assert 0 < pdb["minAvailable"] < deployment["spec"]["replicas"]


def test_systemd_unit() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    unit.optionxform = str  # type: ignore[assignment]
    text = (DEPLOY / "vendorwatch.service").read_text()
    unit.read_string(text)
    service = unit["Service"]
    assert service["User"] == "vendorwatch" and service["Group"] == "vendorwatch"
    assert service["StateDirectory"] == "vendorwatch" and service["WorkingDirectory"] == "/var/lib/vendorwatch"
    assert service["ExecStart"].endswith("/vendorwatch run")
    assert service["KillSignal"] == "SIGTERM" and int(service["TimeoutStopSec"]) >= 10
    assert service["EnvironmentFile"].lstrip("-") == "/etc/vendorwatch/env"
    environment = dict(re.findall(r"^Environment=(\w+)=(.*)$", text, re.M))
    assert set(environment) <= SETTING_NAMES | NOT_SETTINGS_ALLOWED
    assert environment["DATABASE_URL"] == "sqlite:////var/lib/vendorwatch/vendorwatch.db"  # absolute, in the state dir
    assert unit["Install"]["WantedBy"] == "multi-user.target"


@pytest.mark.parametrize("name", ["Dockerfile", "compose.yaml", "kubernetes/", "vendorwatch.service"])
def test_readme_links_each(name: str) -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Running in production", 1)[1].split("\n## ", 1)[0]
    assert f"deploy/{name}" in section
