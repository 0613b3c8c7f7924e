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
    """The platform's processes, plus the `seamless` command line pointed at them."""

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [SEAMLESS, *args], capture_output=True, text=True, timeout=120,
            env={**os.environ, "SEAMLESS_DATA_DIR": str(self.data_dir)})
        if check and result.returncode != 0:
            raise AssertionError(f"seamless {' '.join(args)} failed ({result.returncode}):\n"
                                 f"{result.stdout}\n{result.stderr}")
        return result

    def cli_json(self, *args: str, check: bool = True) -> Any:
        return json.loads(self.cli(*args, "--json", check=check).stdout)
