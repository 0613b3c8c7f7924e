"""The data directory: where `seamless up` keeps every database, credential and the
addresses of the running platform, and where every other command finds them."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

DEFAULT = Path(".seamless")
ENDPOINTS = "endpoints.json"


def resolve(explicit: str | None) -> Path:
    """--data-dir, else $SEAMLESS_DATA_DIR, else ./.seamless."""
    chosen = explicit or os.environ.get("SEAMLESS_DATA_DIR") or str(DEFAULT)
    return Path(chosen).absolute()


@dataclass
class Endpoints:
    temporal: str
    temporal_ui: str
    gateway: str
    agencies: dict[str, str] = field(default_factory=dict)

    def write(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        (data_dir / ENDPOINTS).write_text(json.dumps(asdict(self), indent=2) + "\n",
                                          encoding="utf-8")

    @classmethod
    def read(cls, data_dir: Path) -> Endpoints:
        path = data_dir / ENDPOINTS
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SystemExit(f"no platform found: {path} does not exist. Start one with "
                             "'seamless up' (or 'make up'), or point --data-dir or "
                             "SEAMLESS_DATA_DIR at its data directory.") from None
        return cls(**raw)
