"""The whole platform as real processes, for end-to-end tests, with the command line."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from cli import supervise
from cli.supervise import PORT_SPAN, up_environment, wait_for
from cli.up import Ports
from tests.e2e import cli_forks
from tests.e2e.cli_forks import SEAMLESS

__all__ = ["SEAMLESS", "Platform", "free_ports", "up_environment", "wait_for"]


def free_ports() -> Ports:
    """Free ports for a platform, in a slice of the span of this test process's own:
    `make test` runs the e2e modules two at a time, and a platform stopped and started
    again must find its ports still free."""
    index = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    low, high = PORT_SPAN
    width = (high - low) // count
    return supervise.free_ports(span=(low + index * width, low + (index + 1) * width))


class Platform(supervise.Platform):
    """The platform's processes, plus the `seamless` command line pointed at them, as a
    user whose sessions are kept in a config folder of the test's own."""

    def __init__(self, data_dir: Path, ports: Ports | None = None, *,
                 database_url: str = "", agencies_apart: bool = False) -> None:
        super().__init__(data_dir, ports or free_ports(), database_url=database_url,
                         agencies_apart=agencies_apart)

    @property
    def config_home(self) -> Path:
        return self.data_dir.parent / f"{self.data_dir.name}-config"

    def cli(self, *args: str, check: bool = True, input: str | None = None
            ) -> subprocess.CompletedProcess[str]:
        result = cli_forks.run(
            args, timeout=120, input=input,
            env={**os.environ, "SEAMLESS_DATA_DIR": str(self.data_dir),
                 "XDG_CONFIG_HOME": str(self.config_home)})
        if check and result.returncode != 0:
            raise AssertionError(f"seamless {' '.join(args)} failed ({result.returncode}):\n"
                                 f"{result.stdout}\n{result.stderr}")
        return result

    def cli_json(self, *args: str, check: bool = True, input: str | None = None) -> Any:
        return json.loads(self.cli(*args, "--json", check=check, input=input).stdout)
