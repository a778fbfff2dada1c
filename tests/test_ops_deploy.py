"""Dockerfile, compose.yaml and the systemd unit: every `python -m bot` they run exists.

No container engine runs on the test machine, so these files are checked by
reading them: each command parses with the real CLI parser, the compose file
parses as YAML and has the services the README promises.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
import yaml

from bot.cli.main import COMMANDS, build_parser

ROOT = Path(__file__).resolve().parent.parent


def check_cli(args: list[str]) -> None:
    """Fail unless `python -m bot ARGS` parses and names a command we have."""
    try:
        parsed = build_parser().parse_args(args)
    except SystemExit as exc:
        raise AssertionError(f"python -m bot {shlex.join(args)} does not parse") from exc
    assert parsed.command in COMMANDS


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = (ROOT / "Dockerfile").read_text()
    lines = [ln for ln in text.splitlines() if not ln.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    found = []
    for line in joined.splitlines():
        if line.strip():
            word, _, rest = line.strip().partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def exec_form(text: str) -> list[str]:
    """A JSON-array (exec form) instruction argument."""
    value = json.loads(text)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value), text
    return value


def test_dockerfile_is_multi_stage_slim_non_root_with_data_volume_and_healthcheck() -> None:
    steps = dockerfile_instructions()
    bases = [rest for word, rest in steps if word == "FROM"]
    assert len(bases) == 2 and all("-slim" in b for b in bases)
    assert any(word == "COPY" and rest.startswith("--from=build") for word, rest in steps)
    users = [rest for word, rest in steps if word == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert ("VOLUME", '["/data"]') in steps

    entry = exec_form(next(rest for word, rest in steps if word == "ENTRYPOINT"))
    assert entry == ["python", "-m", "bot"]
    check_cli(exec_form(next(rest for word, rest in steps if word == "CMD")))
    [health] = [rest for word, rest in steps if word == "HEALTHCHECK"]
    probe = exec_form(health.split(" CMD ", 1)[1])
    assert probe[:3] == ["python", "-m", "bot"]
    check_cli(probe[3:])
    assert check_cli(["healthcheck"]) is None


def test_compose_file_parses_and_runs_only_commands_the_cli_has() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "migrate", "bot", "worker"}
    assert services["worker"]["deploy"]["replicas"] == 2
    assert services["migrate"]["restart"] == "no"
    for name in ("migrate", "bot", "worker"):
        service = services[name]
        assert service["build"] == "." and service["image"] == "newsbrief-bot:latest"
        check_cli(service["command"])  # appended to ENTRYPOINT python -m bot
        assert service["environment"]["DATABASE_URL"].startswith("postgresql+psycopg://")
    assert services["migrate"]["command"] == ["migrate"]
    assert services["bot"]["command"][1:] == ["--role", "bot"]
    assert services["worker"]["command"][1:] == ["--role", "worker"]
    for name in ("bot", "worker"):
        wait = services[name]["depends_on"]["migrate"]["condition"]
        assert wait == "service_completed_successfully"


@pytest.mark.parametrize("key", ["ExecStartPre", "ExecStart"])
def test_systemd_unit_runs_existing_commands(key: str) -> None:
    unit = (ROOT / "deploy" / "newsbrief-bot.service").read_text()
    [line] = [ln for ln in unit.splitlines() if ln.startswith(f"{key}=")]
    argv = shlex.split(line.split("=", 1)[1])
    assert argv[1:3] == ["-m", "bot"]
    check_cli(argv[3:])


def test_the_checker_notices_a_command_that_does_not_exist() -> None:
    with pytest.raises(AssertionError, match="does not parse"):
        check_cli(["run", "--role", "scheduler"])
    with pytest.raises(AssertionError, match="does not parse"):
        check_cli(["health-check"])
