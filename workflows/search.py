"""The case search attributes: what `temporal workflow list` and the gateway's case list
filter on. `seamless up` and the test environments register them with the server."""

from __future__ import annotations

from typing import Any

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client
from temporalio.common import SearchAttributeKey

CASE_TYPE = SearchAttributeKey.for_keyword("SeamlessCaseType")
# The subject's keyed digest, as in the case's workflow id (rules.opening.subject_lock):
# never the subject, which anyone reaching the engine would read. (Cases opened before
# the digest: the subject as it was typed, or normalised.)
SUBJECT = SearchAttributeKey.for_keyword("SeamlessSubject")
# The case number (gateway.case_numbers), set when the case starts.
NUMBER = SearchAttributeKey.for_keyword("SeamlessCaseNumber")
OWNER = SearchAttributeKey.for_keyword("SeamlessOwner")
STATUS = SearchAttributeKey.for_keyword("SeamlessStatus")
# Every agency taking part: "the cases I can see" is one equality filter on this.
PARTICIPANTS = SearchAttributeKey.for_keyword_list("SeamlessParticipants")
# The agencies the case waits on (rules.work): "my inbox" is one filter on this.
AWAITING = SearchAttributeKey.for_keyword_list("SeamlessAwaiting")

ALL: tuple[SearchAttributeKey[Any], ...] = (CASE_TYPE, SUBJECT, NUMBER, OWNER, STATUS,
                                             PARTICIPANTS, AWAITING)


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
