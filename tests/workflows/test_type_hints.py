"""The converter's type-hint cache decodes exactly as before."""

from __future__ import annotations

from temporalio.converter import DataConverter

from workflows.rules.commands import DispatchTask
from workflows.rules.model import Actor, CaseStatus, CommandResult
from workflows.type_hints import cache_converter_type_hints


async def test_cached_hints_decode_nested_dataclasses_unchanged() -> None:
    converter = DataConverter.default
    command = DispatchTask("req-1", Actor("jinhaihu-township", "li.na"), "work-safety",
                           "emergency-management", sign_within="30m")
    result = CommandResult("case:x@1", "jinhaihu-township", CaseStatus.OPEN, ["T5"])
    payloads = await converter.encode([command, result])
    before = await converter.decode(payloads, [DispatchTask, CommandResult])
    cache_converter_type_hints()
    cache_converter_type_hints()  # twice is harmless
    after = await converter.decode(payloads, [DispatchTask, CommandResult])
    assert after == before == [command, result]
