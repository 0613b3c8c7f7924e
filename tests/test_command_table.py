"""Every call declared once (workflows/command_table.py), and every table the doors use
derived from that declaration and agreeing with it: a call added to a proto and not
declared, or declared and not served, or a derived table edited by hand, fails here."""

from __future__ import annotations

import argparse

import pytest
from google.protobuf import descriptor_pb2

from agencies import gateway_link
from agencies import server as agency_server
from cli.main import build_parser
from gateway import authorization, command_rpcs
from gateway.console import forms, pages
from gateway.console.i18n import LANGUAGES, TEXT
from seamless.v1 import agency_pb2, case_service_pb2, oversight_pb2, report_pb2
from trust import attestations
from workflows import command_table
from workflows.command_table import CALLS

SERVICES = {
    command_table.CASE: case_service_pb2.DESCRIPTOR.services_by_name["CaseService"],
    command_table.REPORT: report_pb2.DESCRIPTOR.services_by_name["ReportService"],
    command_table.OVERSIGHT: oversight_pb2.DESCRIPTOR.services_by_name["OversightService"],
}


def _served() -> dict[tuple[str, str], bool]:
    """(service, rpc) of every method the protos declare, and whether it reads only."""
    return {(service, method.name): method.GetOptions().idempotency_level ==
            descriptor_pb2.MethodOptions.NO_SIDE_EFFECTS
            for service, descriptor in SERVICES.items() for method in descriptor.methods}


def test_every_served_call_is_declared_once_and_reads_change_nothing() -> None:
    declared = [(call.service, call.rpc) for call in CALLS]
    assert len(declared) == len(set(declared)), "a call declared twice"
    served = _served()
    assert set(declared) == set(served)
    for call in CALLS:
        assert not (call.changes and served[(call.service, call.rpc)]), call.rpc
    # A read the proto cannot mark as one: the export streams, which a GET cannot.
    assert {call.rpc for call in CALLS
            if not call.changes and not served[(call.service, call.rpc)]} == \
        {"ExportEventLog"}


def test_the_gateway_s_permissions_are_the_declaration() -> None:
    assert authorization.PERMISSIONS == {
        call.method: authorization.Permission(call.role, call.changes, call.forwarded)
        for call in CALLS}


def test_the_acts_an_agency_forwards_are_declared_alike_everywhere() -> None:
    forwarded = {call.rpc: call.act for call in CALLS if call.forwarded}
    assert command_rpcs.FORWARDED_ACTIONS == forwarded
    actions = {value for name, value in agency_pb2.TaskAction.items()
               if name != "TASK_ACTION_UNSPECIFIED"}
    assert set(agency_server._ACTIONS) == actions  # noqa: SLF001 - the table under test
    assert set(agency_server._ACTIONS.values()) == set(forwarded.values())  # noqa: SLF001
    for call in command_table.FORWARDED:
        assert call.role is not None and call.changes and call.desk_help


@pytest.mark.parametrize("call", command_table.FORWARDED, ids=lambda c: c.rpc)
def test_a_forwarded_act_carries_what_the_officer_sent(call: command_table.Call) -> None:
    act = agency_pb2.ActOnTaskRequest(
        request_id="r-1", case_id="20261201-0001", task_id="T1", action=call.desk_action,
        findings="excavator seized", evidence_refs=["photo-1", "photo-2"],
        reason="not ours", suggested_agency="public-security")
    message = gateway_link.forwarded_request(call, act, officer="li.wei")
    assert type(message).__name__ == f"{call.rpc}Request"
    sent = {field.name: getattr(message, field.name) for field in message.DESCRIPTOR.fields}
    assert (sent["request_id"], sent["case_id"], sent["task_id"], sent["officer_id"]) == \
        ("r-1", "20261201-0001", "T1", "li.wei")
    for field in call.said:
        assert list(sent[field]) == list(getattr(act, field)) \
            if field == "evidence_refs" else sent[field] == getattr(act, field)
    # Nothing else the officer sent travels: what the agency's signature does not cover.
    others = set(sent) - {*gateway_link.NAMING, "officer_id", *call.said}
    assert all(not sent[name] for name in others), others


@pytest.mark.parametrize("call", command_table.FORWARDED, ids=lambda c: c.rpc)
def test_what_an_act_says_is_what_the_agency_signs(call: command_table.Call) -> None:
    """The fields forwarded beside the task's names are those the signed act's digest
    covers: changing any of them changes the digest, changing any other field does not
    reach the gateway."""
    base = {"findings": "f", "evidence_refs": ["e"], "reason": "r", "suggested_agency": "a"}
    digest = attestations.content_digest(call.act, **base)  # type: ignore[arg-type]
    for field in base:
        changed = {**base, field: ["other"] if field == "evidence_refs" else "other"}
        moved = attestations.content_digest(call.act, **changed) != digest  # type: ignore[arg-type]
        assert moved is (field in call.said), (call.rpc, field)


def test_the_console_s_words_and_forms_are_the_declaration() -> None:
    worded = {call.rpc: call for call in CALLS if call.words[0]}
    assert pages.DONE_WORDS == {rpc: call.words[0] for rpc, call in worded.items()}
    assert forms.SERVICE_OF == {rpc: call.service for rpc, call in worded.items()}
    for call in worded.values():
        key, zh, en = call.words
        assert TEXT[key] == {"zh": zh, "en": en} and set(TEXT[key]) == set(LANGUAGES)
    # Every command of the case service has the console's words, and no read has.
    served = _served()
    assert {rpc for (service, rpc), reads in served.items()
            if service == command_table.CASE and not reads} <= set(worded)
    assert not any(served[(call.service, call.rpc)] for call in worded.values())


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    [found] = [action for action in parser._actions  # noqa: SLF001 - argparse keeps them so
               if isinstance(action, argparse._SubParsersAction)]  # noqa: SLF001
    return dict(found.choices)


def test_the_cli_s_desk_acts_say_what_the_declaration_says() -> None:
    helps = {leaf.description for leaf in _subcommands(_subcommands(build_parser())["task"])
             .values()}
    for call in command_table.FORWARDED:
        assert call.desk_help in helps, call.rpc
