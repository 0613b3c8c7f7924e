"""A cache for the type hints Temporal's JSON converter looks up on every decode.

temporalio's `value_to_type` calls `typing.get_type_hints` for each dataclass it decodes,
every time. Our dataclasses use postponed annotations (PEP 563), so each call evaluates
every field's annotation from its string again: about a tenth of the worker's CPU and
more of the gateway's, measured with py-spy. A class's hints never change once it is
defined, so caching them per class is safe.

This replaces a name inside temporalio's converter module (a private one). If a later
temporalio no longer has it, nothing is patched and decoding is only slower, not wrong.
"""

from __future__ import annotations

import importlib
import logging
import typing
import weakref
from typing import Any

log = logging.getLogger(__name__)


# Weak keys: the sandbox defines the workflow module's classes afresh for every case, and
# a cache holding them would hold every case's copy of that module (it did: the worker
# grew past 1 GiB over five thousand cases).
_cache: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()


def _hints(owner: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    if args or kwargs:  # never asked so by the converter; answered uncached to be safe
        return typing.get_type_hints(owner, *args, **kwargs)
    try:
        hints = _cache.get(owner)
    except TypeError:  # neither hashable nor weakly referable
        return typing.get_type_hints(owner)
    if hints is None:
        hints = typing.get_type_hints(owner)
        try:
            _cache[owner] = hints
        except TypeError:
            return hints
    return dict(hints)  # a copy: callers may not mutate the cache


def cache_converter_type_hints() -> None:
    """Install the cache in this process (idempotent)."""
    try:
        module: Any = importlib.import_module("temporalio.converter._payload_converter")
    except ImportError:
        module = None
    current = getattr(module, "get_type_hints", None)
    if current is typing.get_type_hints:
        module.get_type_hints = _hints
    elif current is not _hints:
        log.warning("temporalio's converter no longer looks up type hints as expected; "
                    "decoding is not cached")
