"""Private files and folders: what a process writes is its own (0600 files, 0700 folders).

Every process of the platform sets the umask first, so its databases, logs and trace
files are created private too, as are those of the programs it starts (the Temporal dev
server); `tighten` brings a data directory made before that into line.
"""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def private_umask() -> None:
    """Files this process (and its children) creates are readable by its user alone."""
    os.umask(0o077)


def private_dir(path: Path) -> Path:
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    path.chmod(PRIVATE_DIR)
    return path


def write_private(path: Path, data: bytes | str) -> None:
    """Write `data` to `path` (0600), replacing it whole: a reader never sees half a
    file, and an existing file with looser permissions is not written through."""
    private_dir(path.parent)
    staging = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    staging.unlink(missing_ok=True)  # left by a crash; never written through
    descriptor = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW,
                         PRIVATE_FILE)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data.encode() if isinstance(data, str) else data)
    os.replace(staging, path)


def tighten(root: Path) -> None:
    """Make every folder under `root` 0700 and every file 0600 (symbolic links are left
    alone, never followed)."""
    private_dir(root)
    for folder, folders, files in os.walk(root):
        for name in folders:
            path = Path(folder, name)
            if not path.is_symlink():
                path.chmod(PRIVATE_DIR)
        for name in files:
            path = Path(folder, name)
            if not path.is_symlink():
                path.chmod(PRIVATE_FILE)


def read_secret(path: Path, what: str = "secret") -> str:
    """A secret kept in a file (a password, an API key; a container secret), without
    the line break an editor leaves; an empty file is refused, naming the file only."""
    secret = path.read_text(encoding="utf-8").strip()
    if not secret:
        raise ValueError(f"the {what} file {path} is empty")
    return secret
