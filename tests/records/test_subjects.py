"""One subject rule: however a subject is typed, the same subject; and the read model's
migration, which keeps its own copy of the rule, made what the rule makes."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from records.subjects import normalize_subject, subject_identity

MIGRATION = (Path(__file__).parents[2] / "observability" / "migrations" / "projection"
             / "projection_0002_subject_identity.py")
SPELLINGS = [("老王饭店", "老王 饭店", "老王　饭店 "), ("浙A·12345", "浙a-12345", "浙Ａ１２３４５"),
             ("JHH quarry 3/4", "jhh-quarry 34", "ｊｈｈ_ｑｕａｒｒｙ 3.4")]


@pytest.mark.parametrize("spellings", SPELLINGS)
def test_a_subject_is_one_however_it_is_typed(spellings: tuple[str, ...]) -> None:
    assert len({subject_identity(s) for s in spellings}) == 1
    assert normalize_subject(spellings[0]) == normalize_subject(f"  {spellings[0]} ")


def test_the_migration_backfilled_what_the_rule_makes() -> None:
    spec = importlib.util.spec_from_file_location("projection_0002", MIGRATION)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    for subject in (s for spellings in SPELLINGS for s in spellings):
        assert migration.subject_identity(subject) == subject_identity(subject)
