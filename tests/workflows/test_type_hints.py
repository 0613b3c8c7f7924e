"""The converter's type-hint cache decodes exactly as before."""

from __future__ import annotations

import gc
import weakref
from dataclasses import dataclass

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


async def test_the_cache_does_not_keep_classes_alive() -> None:
    """The sandbox defines the workflow module's classes afresh for every case; a cache
    that held them would hold every case's copy of the module."""
    cache_converter_type_hints()

    def a_class_of_one_case() -> type:
        @dataclass
        class Reply:
            case_id: str
            tasks: list[str]
        return Reply

    reply_type = a_class_of_one_case()
    payloads = await DataConverter.default.encode([reply_type("case:x@1", ["T1"])])
    decoded = await DataConverter.default.decode(payloads, [reply_type])
    assert decoded == [reply_type("case:x@1", ["T1"])]
    gone = weakref.ref(reply_type)
    del reply_type, decoded
    gc.collect()
    assert gone() is None
