"""The whole platform as real processes, for end-to-end tests, with the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from cli import supervise
from cli.supervise import free_ports, wait_for

__all__ = ["SEAMLESS", "Platform", "free_ports", "wait_for"]

SEAMLESS = str(Path(sys.executable).parent / "seamless")


class Platform(supervise.Platform):
    """The platform's processes, plus the `seamless` command line pointed at them, as a
    user whose sessions are kept in a config folder of the test's own."""

    @property
    def config_home(self) -> Path:
        return self.data_dir.parent / f"{self.data_dir.name}-config"

    def cli(self, *args: str, check: bool = True, input: str | None = None
            ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [SEAMLESS, *args], capture_output=True, text=True, timeout=120, input=input,
            env={**os.environ, "SEAMLESS_DATA_DIR": str(self.data_dir),
                 "XDG_CONFIG_HOME": str(self.config_home)})
        if check and result.returncode != 0:
            raise AssertionError(f"seamless {' '.join(args)} failed ({result.returncode}):\n"
                                 f"{result.stdout}\n{result.stderr}")
        return result

    def cli_json(self, *args: str, check: bool = True, input: str | None = None) -> Any:
        return json.loads(self.cli(*args, "--json", check=check, input=input).stdout)
