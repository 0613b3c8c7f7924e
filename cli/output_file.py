"""A command's output written to a file the person named (`--out FILE`): privately, and
whole or not at all.

The output goes to a new private file (0600, made with O_EXCL beside FILE, so on the same
file system) and is renamed to FILE only once all of it has arrived: a call that fails
midway, or a Ctrl-C, leaves FILE as it was and no partial file behind. FILE is replaced
only with `--force`. A symbolic link at FILE is refused, `--force` or not: writing
through it would put the export wherever the link points (another person's file, a
system file), and replacing the link silently is rarely what was meant. A link that
appears while the export runs is replaced itself by the rename, never written through.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path

# Where a hard link cannot be made (a FAT-formatted stick, some network shares), the
# file is placed by a rename after checking that FILE is still absent.
_NO_HARD_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK}


def refuse_unless_writable(path: Path, *, force: bool) -> None:
    """Refuse, before anything is fetched, a FILE that may not be written."""
    try:
        found = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(found.st_mode):
        raise SystemExit(f"--out {path}: is a symbolic link; name the file itself (a link "
                         "is never written through, not even with --force)")
    if not stat.S_ISREG(found.st_mode):
        raise SystemExit(f"--out {path}: is not a regular file")
    if not force:
        raise SystemExit(f"--out {path}: the file exists; add --force to replace it")


def write_whole(path: Path, chunks: Iterable[bytes], *, force: bool) -> int:
    """Write `chunks` to `path` as described above; returns how many bytes."""
    refuse_unless_writable(path, force=force)
    try:
        descriptor, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.",
                                            suffix=".part")
    except OSError as err:
        raise SystemExit(f"--out {path}: cannot write there: {err.strerror}") from None
    temporary = Path(name)
    try:
        with os.fdopen(descriptor, "wb") as out:
            written = sum(out.write(chunk) for chunk in chunks)
            out.flush()
            os.fsync(out.fileno())  # all of it on disk before it takes FILE's name
        _place(temporary, path, force=force)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return written


def _place(temporary: Path, path: Path, *, force: bool) -> None:
    if force:
        os.replace(temporary, path)
        return
    # A hard link fails if FILE has appeared meanwhile, where a rename would replace it.
    try:
        os.link(temporary, path, follow_symlinks=False)
    except FileExistsError:
        raise SystemExit(f"--out {path}: the file appeared while exporting; add --force "
                         "to replace it") from None
    except OSError as err:
        if err.errno not in _NO_HARD_LINKS:
            raise
        refuse_unless_writable(path, force=False)
        os.replace(temporary, path)
        return
    temporary.unlink()
