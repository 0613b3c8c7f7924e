"""The README's quick start, followed literally: `make up` serves, the commands the README
shows then work as written, and Ctrl-C stops it all."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
from pathlib import Path

from tests.e2e import cli_forks
from tests.e2e.platform import SEAMLESS, free_ports, up_environment, wait_for

# The whole platform as real processes: left out of `make test-fast`.

REPO = Path(__file__).parents[2]
READY_WITHIN_SECONDS = 180.0



def readme_commands() -> list[list[str]]:
    """The commands of the README's quick start block ("Then, in another terminal"), a
    line continued with a backslash joined to the next, comments left out."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    after = text.split("Then, in another", 1)[1]
    block = after.split("```", 2)[1]
    joined = block.replace("\\\n", " ")
    return [shlex.split(line, comments=True) for line in joined.splitlines()
            if line.strip()]


def _run_readme(env: dict[str, str]) -> None:
    """Each command as written; CASE is the number `case open` printed first."""
    number = ""
    commands = readme_commands()
    assert [c[:3] for c in commands if c[:3] == ["seamless", "case", "open"]]
    for command in commands:
        assert command[0] == "seamless"
        args = [number if word == "CASE" else word for word in command[1:]]
        assert "" not in args, f"{command}: CASE before any case was opened"
        result = subprocess.run([SEAMLESS, *args], capture_output=True, text=True, env=env,
                                timeout=180)
        assert result.returncode == 0, f"{' '.join(command)}:\n{result.stdout}\n" \
                                       f"{result.stderr}"
        if command[1:3] == ["case", "open"]:
            first = result.stdout.splitlines()[0].split()
            assert first[0] == "case" and re.fullmatch(r"\d{8}-\d{4}", first[1]), first
            number = first[1]
        if command[1:3] == ["task", "sign"]:
            assert "SIGNED" in result.stdout


def _healthy(env: dict[str, str]) -> bool:
    result = cli_forks.run(["status", "--json"], env=env, timeout=60)
    if not result.stdout.strip():
        return False
    return bool(json.loads(result.stdout)["healthy"])


def test_make_up_serves_the_readme_commands_and_ctrl_c_stops_everything(
        tmp_path: Path) -> None:
    ports = free_ports()
    env = up_environment(tmp_path / "data", ports)
    up = subprocess.Popen(["make", "up"], cwd=REPO, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        wait_for(lambda: (tmp_path / "data" / "endpoints.json").exists() and _healthy(env),
                 "every component to report SERVING", timeout=READY_WITHIN_SECONDS,
                 interval=1.0)
        _run_readme(env)
    finally:
        os.killpg(up.pid, signal.SIGINT)  # what Ctrl-C in the terminal sends
        output, _ = up.communicate(timeout=60)
    assert "Seamless is up." in output
    assert f"127.0.0.1:{ports.gateway}" in output
    # Everything stopped: no component answers any more.
    status = json.loads(subprocess.run([SEAMLESS, "status", "--json"], capture_output=True,
                                       text=True, env=env, timeout=60).stdout)
    assert not any(c["status"] == "SERVING" for c in status["components"]), status
