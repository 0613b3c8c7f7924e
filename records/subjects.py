"""What a case is about, as people type it and as the platform compares it.

One rule for every reader: the engine's subject lock (one open case per type and
subject), the read model's lists and their search, the hotline's and the open form's
"possible duplicates" all decide sameness here.
"""

from __future__ import annotations

import re
import unicodedata

_WHITESPACE = re.compile(r"\s+")
# Spaces and the separators of plates, codes and names, which people type or leave out.
_SEPARATORS = re.compile(r"[\s·・.\-_/]+")


def normalize_subject(subject_key: str) -> str:
    """The subject as lists show and search it: full-width forms made plain (ＡＢ１ is
    AB1, a full-width space a space), runs of spaces one, capitals."""
    return _WHITESPACE.sub(" ", unicodedata.normalize("NFKC", subject_key).strip()).upper()


def subject_identity(subject_key: str) -> str:
    """What decides whether two reports are about the same subject: the normalized form
    without spaces and the separators people type or leave out at will (老王饭店 and
    老王 饭店, 浙A·12345 and 浙A-12345 and 浙a12345 are one subject)."""
    return _SEPARATORS.sub("", normalize_subject(subject_key))
