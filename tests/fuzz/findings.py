"""A campaign's figures and findings as text: Markdown tables (per transport, per RPC and
transport) for BENCHMARKS.md, and each finding with a request that reproduces it."""

from __future__ import annotations

import json
import shlex
from collections import Counter, defaultdict
from urllib.parse import urlencode

from google.protobuf.message import Message

from tests.fuzz.bodies import form_pairs, to_json
from tests.fuzz.campaign import Finding, Result
from tests.fuzz.probes import Probe, Transport
from tests.fuzz.wire import encode

LONG = 48


def _short(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    if len(text) <= LONG:
        return json.dumps(text, ensure_ascii=False) if isinstance(value, str) else text
    head = json.dumps(text[:24], ensure_ascii=False)
    return f"{head}… ({len(text)} chars)"


def message_text(message: Message | None) -> str:
    if message is None:
        return "{}"
    fields = ", ".join(f"{k}: {_short(v)}" for k, v in to_json(message).items())
    return f"{message.DESCRIPTOR.name} {{{fields}}}"


def _status_counts(answers: list[str]) -> str:
    return ", ".join(f"{status} {n}" for status, n in Counter(answers).most_common())


def tables(result: Result) -> str:
    by_transport: dict[str, list[str]] = defaultdict(list)
    by_rpc: dict[tuple[str, str], list[str]] = defaultdict(list)
    for probe, answer in result.sent:
        by_transport[probe.transport].append(answer.status)
        by_rpc[(probe.rpc, str(probe.transport))].append(answer.status)
    bad = Counter((p.rpc, str(p.transport)) for p, a in result.sent if a.bad)
    changed = Counter(v.split(" was refused")[0] for v in result.verdict.violations)
    lines = ["| transport | requests | accepted | refused | INTERNAL/UNKNOWN/5xx/no answer |",
             "| --- | ---: | ---: | ---: | ---: |"]
    for transport, statuses in sorted(by_transport.items()):
        oks = sum(1 for p, a in result.sent if p.transport == transport and a.ok)
        bads = sum(1 for p, a in result.sent if p.transport == transport and a.bad)
        lines.append(f"| {transport} | {len(statuses)} | {oks} | {len(statuses) - oks - bads} "
                     f"| {bads} |")
    lines += ["", "| RPC or route | transport | sent | answers | bad | state changes |",
              "| --- | --- | ---: | --- | ---: | ---: |"]
    for (rpc, transport), statuses in sorted(by_rpc.items()):
        lines.append(f"| {rpc} | {transport} | {len(statuses)} | {_status_counts(statuses)} "
                     f"| {bad[(rpc, transport)]} | {changed[f'{transport} {rpc}']} |")
    return "\n".join(lines)


def summary(result: Result) -> str:
    retried = sum(a.retries for _p, a in result.sent)
    verdict = result.verdict
    lines = [
        f"{len(result.sent)} requests in {result.seconds:.1f} s "
        f"({', '.join(f'{k} {v:.1f} s' for k, v in result.timings.items())}); "
        f"{retried} resent after a rate refusal",
        f"processes down afterwards: {', '.join(result.down) or 'none'}",
        f"world cases compared unchanged: {len(verdict.checked)}; touched by accepted "
        f"requests or clocks: {len(verdict.touched)} "
        f"({'; '.join(f'{c}: {w}' for c, w in verdict.touched.items())})",
        f"state changes by refused requests: {len(verdict.violations)}",
        *[f"  - {v}" for v in verdict.violations],
        f"distinct bad answers: {len(result.findings)} "
        f"({sum(f.count for f in result.findings)} requests)",
    ]
    return "\n".join(lines)


def reproduction(probe: Probe) -> str:
    """How to send `probe` again, by hand."""
    who = f"as {probe.caller or 'nobody'} ({probe.credential})"
    shape = f", body shape {probe.shape}" if probe.shape.name != "valid" else ""
    headers = f", headers {dict(probe.headers)}" if probe.headers else ""
    if probe.transport in (Transport.GRPC, Transport.MTLS, Transport.DESK):
        message = probe.message
        assert message is not None
        raw = encode(message, probe.shape)
        shown = raw.hex() if len(raw) <= 200 else f"{raw[:100].hex()}… ({len(raw)} bytes)"
        return (f"{probe.transport} /seamless.v1.{probe.rpc} {who}{shape}\n"
                f"    request: {message_text(message)}\n    bytes: {shown}")
    if probe.transport is Transport.CONNECT:
        line = (f"{probe.method} /seamless.v1.{probe.rpc} ({probe.encoding}) {who}"
                f"{shape}{headers}\n    request: {message_text(probe.message)}")
        if probe.shape.name == "valid" and probe.encoding == "json" and not probe.headers:
            body = json.dumps(to_json(probe.message) if probe.message else {},
                              ensure_ascii=False)
            if len(body) < 2000:
                line += (f"\n    curl -s $HTTP/seamless.v1.{probe.rpc} -H 'Content-Type: "
                         f"application/json' -H \"Authorization: Bearer $TOKEN\" "
                         f"-d {shlex.quote(body)}")
        return line
    pairs = form_pairs(probe.message) if probe.message is not None else list(probe.pairs)
    shown = urlencode(pairs)
    if len(shown) > 600:
        shown = shown[:600] + f"… ({len(shown)} chars)"
    where = probe.path if probe.transport is Transport.CONSOLE else "/open311/v2" + probe.path
    return f"{probe.transport} {probe.method} {where} {who}{shape}\n    pairs: {shown}"


def finding_text(finding: Finding) -> str:
    answer = finding.answer
    routes = ", ".join(f"{rpc} ({n})" for rpc, n in sorted(finding.routes.items()))
    again = "" if finding.reproduced else " (sent again, it was answered otherwise)"
    text = [f"- **{answer.status}** on {finding.probe.transport}, {finding.count}× in the "
            f"run: {routes}",
            f"  answer: {answer.status} {answer.http or ''} {answer.message[:300]!r}",
            "  minimal reproduction" + again + ": " +
            reproduction(finding.probe).replace("\n", "\n  ")]
    if finding.log:
        text.append("  platform log:\n" + "\n".join(
            f"    | {line}" for line in finding.log.splitlines()[-40:]))
    return "\n".join(text)


def listing(result: Result) -> str:
    return "\n".join(finding_text(f) for f in sorted(
        result.findings, key=lambda f: (f.probe.rpc, f.probe.transport))) or "none"
