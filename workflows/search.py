"""The case search attributes: what an operator filters on with `temporal workflow list`
(the platform's own lists read the read model, workflows.projection). `seamless up` and
the test environments register them with the server."""

from __future__ import annotations

from typing import Any

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client
from temporalio.common import SearchAttributeKey

CASE_TYPE = SearchAttributeKey.for_keyword("SeamlessCaseType")
# The subject's keyed digest, as in the case's workflow id (rules.opening.subject_lock):
# never the subject, which anyone reaching the engine would read.
SUBJECT = SearchAttributeKey.for_keyword("SeamlessSubject")
# The case number (gateway.case_numbers), set when the case starts.
NUMBER = SearchAttributeKey.for_keyword("SeamlessCaseNumber")
OWNER = SearchAttributeKey.for_keyword("SeamlessOwner")
STATUS = SearchAttributeKey.for_keyword("SeamlessStatus")

ALL: tuple[SearchAttributeKey[Any], ...] = (CASE_TYPE, SUBJECT, NUMBER, OWNER, STATUS)


def dev_server_args() -> list[str]:
    """`temporal server start-dev` arguments that register every case attribute."""
    args: list[str] = []
    for key in ALL:
        args += ["--search-attribute", f"{key.name}={key._metadata_type}"]
    return args


async def register(client: Client) -> None:
    """Register the attributes on a running server (the time-skipping test server has
    no start-up flag for them). Registering twice is harmless."""
    await client.operator_service.add_search_attributes(AddSearchAttributesRequest(
        namespace=client.namespace,
        search_attributes={key.name: IndexedValueType.ValueType(key.indexed_value_type.value)
                           for key in ALL}))
