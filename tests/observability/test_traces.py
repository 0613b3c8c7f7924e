"""Traces a person relies on: one request is one trace from the gateway through the
workflow and its activity into the agency's service; a case's responsibility spans join
the case's own trace, name the accountable agency and link back to the requests."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from observability import analysis, telemetry
from observability import attributes as attr
from observability.ledger import stream_events
from observability.spans import case_trace_id, nanos
from seamless.v1 import case_service_pb2 as cs
from tests.gateway.harness import Gateway, running_gateway
from tests.observability.test_ground_truth import (
    COORDINATOR,
    FARMS,
    QUALITY,
    STREET,
    open_food_case,
    rid,
    worker_with_ledger,
)
from tests.trust.kit import gateway_sealer
from tests.workflows.harness import Recorder, eventually
from workflows.catalog_loader import Catalog
from workflows.client import case_handle, send
from workflows.rules.commands import (
    AcceptHandoff,
    CloseCase,
    CompleteTask,
    DispatchTask,
    OfferHandoff,
    ResolveEscalation,
    SignTask,
    WithdrawTask,
)
from workflows.rules.model import Actor

MARKET = "market-regulation"


def ledger_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ledger.db'}"


def in_trace(spans: InMemorySpanExporter, trace_id: int) -> list[ReadableSpan]:
    return [s for s in spans.get_finished_spans()
            if s.context is not None and s.context.trace_id == trace_id]


def named(spans: Sequence[ReadableSpan], name: str) -> list[ReadableSpan]:
    return [s for s in spans if s.name == name]


def request_trace(spans: InMemorySpanExporter, rpc: str) -> list[ReadableSpan]:
    """Every span of the trace the gateway's server span for `rpc` belongs to."""
    [server] = named(spans.get_finished_spans(), f"/seamless.v1.CaseService/{rpc}")
    assert server.context is not None
    return in_trace(spans, server.context.trace_id)


def gap_spans(spans: InMemorySpanExporter, kind: str = "") -> list[ReadableSpan]:
    return [s for s in spans.get_finished_spans() if s.attributes is not None
            and s.attributes.get(attr.GAP_KIND) is not None
            and (not kind or s.attributes[attr.GAP_KIND] == kind)]


# ----- one request, one trace, across the processes' hops -----------------------------

@pytest.fixture
async def gw(dev_env: WorkflowEnvironment, catalog: Catalog, tmp_path: Path
             ) -> AsyncIterator[Gateway]:
    async with running_gateway(dev_env.client, catalog, tmp_path) as gateway:
        yield gateway


async def test_a_request_is_one_trace_from_gateway_to_agency(
        gw: Gateway, spans: InMemorySpanExporter) -> None:
    opened = await gw.call("OpenCase", cs.OpenCaseRequest(
        request_id=rid(), type="food-supply-chain", subject_key=f"T-{uuid.uuid4().hex[:8]}",
        title="Stalls selling the recalled batch", stage="unlicensed",
        jurisdiction="pinggu"), STREET)
    await gw.call("DispatchTask", cs.DispatchTaskRequest(
        request_id=rid(), case_id=opened.case.id, kind="trace-production",
        assignee=FARMS), STREET)

    for rpc in ("OpenCase", "DispatchTask"):
        async def reached_the_agency(rpc: str = rpc) -> bool:
            # The activity's span ends after the agency's: wait for both.
            trace = request_trace(spans, rpc)
            return bool(named(trace, "/seamless.v1.AgencyService/DeliverTask")) and \
                bool(named(trace, "RunActivity:deliver_task"))
        await eventually(reached_the_agency)
        trace = request_trace(spans, rpc)
        hops = {s.name for s in trace}
        # gateway -> workflow -> activity -> agency service, in one trace
        assert {f"/seamless.v1.CaseService/{rpc}", "RunActivity:deliver_task",
                "/seamless.v1.AgencyService/DeliverTask"} <= hops, rpc
        # StartActivity is the workflow's own span: the workflow scheduled the delivery
        # on behalf of this request (for a later dispatch as much as for the opening).
        assert "StartActivity:deliver_task" in hops, rpc
        if rpc == "OpenCase":
            assert "RunWorkflow:CaseWorkflow" in hops
        agency = named(trace, "/seamless.v1.AgencyService/DeliverTask")[0]
        activity = named(trace, "RunActivity:deliver_task")[0]
        assert agency.parent is not None and activity.context is not None
        assert agency.parent.span_id in {s.context.span_id for s in trace if s.context}


# ----- responsibility spans on the time-skipping server -------------------------------

@pytest.fixture
async def traced_client(time_skipping_env: WorkflowEnvironment) -> Client:
    client = time_skipping_env.client
    return await Client.connect(client.service_client.config.target_host,
                                namespace=client.namespace,
                                interceptors=[telemetry.temporal_interceptor(),
                                              gateway_sealer()])


async def test_an_offer_accepted_two_hours_later_is_one_handoff_gap_of_two_hours(
        time_skipping_env: WorkflowEnvironment, traced_client: Client, catalog: Catalog,
        tmp_path: Path, spans: InMemorySpanExporter) -> None:
    env, client = time_skipping_env, traced_client
    async with worker_with_ledger(client, ledger_url(tmp_path), Recorder()) as (queue, _):
        case_id = await open_food_case(client, catalog, queue, "BATCH-SPAN-1")
        await send(client, case_id, OfferHandoff(rid(), Actor(STREET), QUALITY, "source"))
        await env.sleep(timedelta(hours=2))
        await send(client, case_id, AcceptHandoff(rid(), Actor(QUALITY), "H1"))

        async def exported() -> bool:
            return bool(gap_spans(spans, "HANDOFF_PENDING"))
        await eventually(exported)
    [gap] = gap_spans(spans, "HANDOFF_PENDING")
    assert gap.attributes is not None and gap.context is not None
    assert gap.start_time is not None and gap.end_time is not None
    assert abs((gap.end_time - gap.start_time) / 1e9 - 7200) < 5
    assert gap.attributes[attr.GAP_ACCOUNTABLE] == STREET
    assert (gap.attributes[attr.HANDOFF_FROM], gap.attributes[attr.HANDOFF_TO]) == (STREET,
                                                                                    QUALITY)
    assert gap.attributes[attr.DEADLINE_BREACHED] is False
    assert gap.status.status_code is not StatusCode.ERROR
    # In the case's own trace, linked to the offer's and the acceptance's requests.
    assert gap.context.trace_id == case_trace_id(case_id)
    offer_call = named(spans.get_finished_spans(), "StartWorkflowUpdate:offer_handoff")[0]
    accept_call = named(spans.get_finished_spans(), "StartWorkflowUpdate:accept_handoff")[0]
    assert offer_call.context is not None and accept_call.context is not None
    assert {(link.context.trace_id, link.attributes.get(attr.LINK_ROLE) if link.attributes
             else None) for link in gap.links} == {
        (offer_call.context.trace_id, "start"), (accept_call.context.trace_id, "end")}
    owners = [s for s in in_trace(spans, case_trace_id(case_id))
              if s.attributes and s.attributes.get(attr.RESPONSIBILITY_KIND) == "ownership"]
    assert [s.attributes[attr.CASE_OWNER] for s in owners if s.attributes] == [STREET]


async def test_a_task_signed_45_minutes_into_a_30_minute_clock_is_one_breached_gap(
        time_skipping_env: WorkflowEnvironment, traced_client: Client, catalog: Catalog,
        tmp_path: Path, spans: InMemorySpanExporter) -> None:
    env, client = time_skipping_env, traced_client
    async with worker_with_ledger(client, ledger_url(tmp_path), Recorder()) as (queue, _):
        case_id = await open_food_case(client, catalog, queue, "BATCH-SPAN-2")
        await send(client, case_id, WithdrawTask(rid(), Actor(STREET), "T1", "not needed"))
        await send(client, case_id, DispatchTask(rid(), Actor(STREET), "trace-production",
                                                 FARMS, sign_within="30m"))
        await env.sleep(timedelta(minutes=45))
        await send(client, case_id, SignTask(rid(), Actor(FARMS), "T2"))

        async def exported() -> bool:
            return any(s.attributes is not None and s.attributes.get(attr.TASK_ID) == "T2"
                       for s in gap_spans(spans))
        await eventually(exported)
    unsigned = [s for s in gap_spans(spans, "DISPATCH_UNSIGNED")
                if s.attributes is not None and s.attributes[attr.TASK_ID] == "T2"]
    assert len(unsigned) == 1
    [gap] = unsigned
    assert gap.attributes is not None and gap.start_time and gap.end_time
    assert abs((gap.end_time - gap.start_time) / 1e9 - 45 * 60) < 5
    assert gap.attributes[attr.GAP_ACCOUNTABLE] == FARMS
    assert gap.attributes[attr.DEADLINE_BREACHED] is True
    assert gap.status.status_code is StatusCode.ERROR
    breached = [s for s in gap_spans(spans) if s.status.status_code is StatusCode.ERROR]
    assert breached == [gap]


async def test_gap_spans_match_the_ledger_exactly(
        time_skipping_env: WorkflowEnvironment, traced_client: Client, catalog: Catalog,
        tmp_path: Path, spans: InMemorySpanExporter) -> None:
    env, client = time_skipping_env, traced_client
    async with worker_with_ledger(client, ledger_url(tmp_path), Recorder(flaky={"T2": 1})) as (
            queue, engine):
        case_id = await open_food_case(client, catalog, queue, "BATCH-SPAN-3")
        await send(client, case_id, OfferHandoff(rid(), Actor(STREET), QUALITY, "source",
                                                 expires_within="30m"))
        await env.sleep(timedelta(minutes=40))
        await send(client, case_id, DispatchTask(rid(), Actor(STREET), "trace-production",
                                                 FARMS, due_within="1h"))
        await env.sleep(timedelta(minutes=20))
        await send(client, case_id, SignTask(rid(), Actor(MARKET), "T1"))
        await send(client, case_id, SignTask(rid(), Actor(FARMS), "T2"))
        await send(client, case_id, CompleteTask(rid(), Actor(MARKET), "T1", "recalled"))
        await env.sleep(timedelta(hours=1))
        await send(client, case_id, CompleteTask(rid(), Actor(FARMS), "T2", "farm 12"))
        await send(client, case_id, ResolveEscalation(rid(), Actor(COORDINATOR), "E1", "ok"))
        await send(client, case_id, CloseCase(rid(), Actor(STREET), "done"))
        await case_handle(client, case_id).result()
        now = datetime.now(UTC) + timedelta(days=30)
        ledger_gaps = analysis.analyse(analysis.replay_cases(stream_events(engine), now=now),
                                       now=now).gaps

    def key_of_span(s: ReadableSpan) -> tuple[object, ...]:
        assert s.attributes is not None
        return (s.attributes[attr.GAP_KIND], s.attributes[attr.GAP_ACCOUNTABLE],
                s.attributes.get(attr.TASK_ID, ""), s.start_time, s.end_time,
                s.attributes.get(attr.DEADLINE_BREACHED, False))
    from_spans = sorted(key_of_span(s) for s in gap_spans(spans)
                        if s.context and s.context.trace_id == case_trace_id(case_id))
    from_ledger = sorted((g.name, g.accountable, g.task_id, nanos(g.start),
                          nanos(g.end) if g.end else None, g.breached(now))
                         for g in ledger_gaps)
    assert from_spans == from_ledger
    kinds = {k[0] for k in from_ledger}
    assert {"HANDOFF_PENDING", "ESCALATION", "DISPATCH_UNSIGNED", "OVERDUE"} <= kinds
