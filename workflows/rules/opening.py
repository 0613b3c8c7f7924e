"""Opening a case: who leads (the responsibility matrix), its lines, its opening tasks."""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime

from records import event_schema as schema
from records.subjects import subject_identity
from workflows.rules import limits
from workflows.rules.case import CaseEngine, answer_key, fingerprint
from workflows.rules.catalog import CaseRules, LeadRule
from workflows.rules.commands import OpenCase
from workflows.rules.model import (
    CaseState,
    Clock,
    EventKind,
    OwnershipInterval,
    OwnershipVia,
)
from workflows.rules.phrases import Phrase
from workflows.rules.refusals import Reason, Refusal
from workflows.rules.report_ops import check_report, record_attached
from workflows.rules.task_ops import check_new_task, create_task
from workflows.versions import LATEST

# A case number (gateway.case_numbers): eight digits of local date, a dash, that day's
# sequence in at least four digits (a busy district's fifth is still a number).
CASE_NUMBER = re.compile(r"[0-9]{8}-[0-9]{4,6}")


def is_case_number(text: str) -> bool:
    return CASE_NUMBER.fullmatch(text) is not None


def subject_lock(case_type: str, subject_key: str, secret: bytes = b"") -> str:
    """The workflow id: one open case per (case type, subject), the id being the lock.

    The subject itself stays out of it (a licence plate or a site would otherwise travel
    in every id, inbox, trace and error): a digest of it stands in, so the lock still
    falls on the same id for the same subject however it is spelt. The digest is keyed
    with the platform's subject secret (trust.engine_keys): the engine shows workflow ids
    to anyone who reaches it, and a bare hash of a plate is found by hashing every plate.
    (Without a secret, where payloads are not sealed either, the key is empty: tests
    of the rules and the engine alone.)
    """
    subject = subject_identity(subject_key)
    digest = keyed_digest(secret, case_type + "\n" + subject)
    return f"case:{case_type}:{digest}"


def keyed_digest(secret: bytes, text: str) -> str:
    """What stands for `text` in an id the engine shows: HMAC-SHA-256 under `secret`."""
    return hmac.new(secret, text.encode(), hashlib.sha256).hexdigest()[:20]


def subject_digest(workflow_id: str) -> str:
    """The subject's digest in a case's subject lock (what the engine may index)."""
    return workflow_id.rpartition(":")[2]


def case_id(workflow_id: str, run_id: str) -> str:
    """A case's id: its subject lock and the run that holds it.

    A subject can be opened again once its case is closed, so the lock alone would name
    two cases; the run id makes every opening a case of its own, everywhere its id goes
    (agency inboxes, notices, the ledger).
    """
    return f"{workflow_id}@{run_id}" if run_id else workflow_id


def split_case_id(case_id: str) -> tuple[str, str]:
    """(workflow id, run id) of a case id."""
    # A subject key may itself hold an "@"; a run id never does.
    workflow_id, _, run_id = case_id.rpartition("@")
    return (workflow_id, run_id) if workflow_id else (case_id, "")


def choose_lead(cmd: OpenCase, rules: CaseRules) -> tuple[str, LeadRule]:
    playbook = rules.playbook
    rule = playbook.lead_rule(stage=cmd.stage, jurisdiction=cmd.jurisdiction)
    if rule is None:
        named = sorted({r.jurisdiction for r in playbook.matrix if r.jurisdiction != "*"})
        if not cmd.jurisdiction and named:
            raise Refusal(Reason.MISSING_FIELD,
                          f"jurisdiction: who leads a case of {playbook.id} depends on where "
                          f"it is; give one of {', '.join(named)} ('seamless playbooks' shows "
                          "the matrix)", field="jurisdiction")
        raise Refusal(Reason.NO_LEAD_IN_MATRIX,
                      f"the responsibility matrix of {playbook.id} names no lead for "
                      f"{'stage ' + cmd.stage if cmd.stage else 'a case'} in "
                      f"{cmd.jurisdiction or 'no jurisdiction'} (it covers "
                      f"{', '.join(named) or 'every jurisdiction'}); ask the coordinator "
                      f"({rules.directory.coordinator}) to open it")
    if cmd.reopened_from and cmd.lead:
        # 重办: the same lead as before unless the coordinator said otherwise; either way
        # the hotline or the coordinator names it (check_open_request checks who asks).
        return cmd.lead, rule
    if not cmd.lead or cmd.lead == rule.lead:
        return rule.lead, rule
    if cmd.lead == cmd.actor.agency and rule.first_receiver_may_lead:
        return cmd.lead, rule
    raise Refusal(Reason.LEAD_NOT_ALLOWED,
                  f"the matrix makes {rule.lead} the lead here; "
                  + ("only the receiving agency may ask to lead itself"
                     if rule.first_receiver_may_lead
                     else "first-receiver leads (首接负责) are not allowed for this case"),
                  field="lead")


def check_open_request(cmd: OpenCase, rules: CaseRules) -> tuple[str, LeadRule]:
    """Every check of an open request (also run client-side); the lead and its matrix row."""
    limits.check_text("request_id", cmd.request_id, limits.MAX_REQUEST_ID, required=True)
    limits.check_text("type", cmd.type, limits.MAX_ID, required=True)
    limits.check_text("subject_key", cmd.subject_key, limits.MAX_SUBJECT, required=True)
    if not subject_identity(cmd.subject_key):
        raise Refusal(Reason.MISSING_FIELD, "subject_key: name the subject with letters "
                      "or digits (a plate, a licence, a site's name)", field="subject_key")
    limits.check_text("title", cmd.title, limits.MAX_TITLE, required=True)
    limits.check_text("description", cmd.description, limits.MAX_TEXT)
    limits.check_text("jurisdiction", cmd.jurisdiction, limits.MAX_ID)
    limits.check_text("location", cmd.location, limits.MAX_LOCATION)
    limits.check_text("actor.officer", cmd.actor.officer, limits.MAX_OFFICER)
    if cmd.number and not is_case_number(cmd.number):
        raise Refusal(Reason.BAD_CASE_NUMBER, f"number: {cmd.number!r} is not a case number "
                      "such as 20261130-0042", field="number")
    limits.check_text("reopened_from", cmd.reopened_from, limits.MAX_CASE_ID)
    if cmd.reopened_from and cmd.actor.agency != rules.directory.hotline:
        raise Refusal(Reason.NOT_COORDINATOR,
                      f"reopened_from: only the hotline ({rules.directory.hotline}) reopens "
                      "a matter")
    if len(cmd.reports) > limits.MAX_REPORTS_PER_CASE:
        raise Refusal(Reason.TOO_MANY_REPORTS,
                      f"reports: at most {limits.MAX_REPORTS_PER_CASE} open a case")
    for i, report in enumerate(cmd.reports):
        check_report(report, f"reports[{i}]")
    if rules.directory.get(cmd.actor.agency) is None:
        raise Refusal(Reason.UNKNOWN_AGENCY,
                      f"actor.agency: no agency {cmd.actor.agency!r} in the directory",
                      field="actor.agency")
    if cmd.lead and rules.directory.get(cmd.lead) is None:
        raise Refusal(Reason.UNKNOWN_AGENCY, f"lead: no agency {cmd.lead!r} in the directory",
                      field="lead")
    playbook = rules.playbook
    if cmd.type != playbook.id:
        raise Refusal(Reason.UNKNOWN_CASE_TYPE, f"type {cmd.type!r} is not {playbook.id}",
                      field="type")
    if playbook.stages and cmd.stage not in playbook.stages:
        raise Refusal(Reason.UNKNOWN_STAGE,
                      f"stage: {cmd.stage!r} is not one of {', '.join(playbook.stages)}",
                      field="stage")
    if not 1 <= cmd.priority <= 5:
        raise Refusal(Reason.OUT_OF_RANGE, "priority must be 1 (highest) to 5",
                      field="priority")
    return choose_lead(cmd, rules)


def open_case(cmd: OpenCase, rules: CaseRules, *, now: datetime, run_id: str = "",
              workflow_id: str = "",
              trace: tuple[str, str] = ("", ""), proofs: tuple[str, ...] = (),
              version: int = LATEST) -> CaseEngine:
    """A new case of `version` (workflows.versions) with its owner, lines and opening
    tasks, or a Refusal."""
    owner, rule = check_open_request(cmd, rules)
    legal = rules.calendar_deadline(now, rules.playbook.legal_line)
    promised = rules.calendar_deadline(now, rules.playbook.promised_line)
    state = CaseState(
        id=case_id(workflow_id or subject_lock(cmd.type, cmd.subject_key), run_id),
        number=cmd.number, type=cmd.type,
        title=cmd.title,
        description=cmd.description, subject_key=cmd.subject_key.strip(),
        jurisdiction=cmd.jurisdiction, location=cmd.location, stage=cmd.stage,
        priority=cmd.priority, opened_by=cmd.actor, opened_at=now, owner=owner,
        legal_line=Clock(legal, 0), promised_line=Clock(promised, 0),
        ownership=[OwnershipInterval(owner, now, OwnershipVia.OPEN)],
        reopened_from=cmd.reopened_from,
    )
    engine = CaseEngine(state, rules, version=version)
    with engine.caused_by(trace, proofs):
        _record_opening(engine, cmd, rule, now)
    return engine


def _record_opening(engine: CaseEngine, cmd: OpenCase, rule: LeadRule, now: datetime
                    ) -> None:
    state, rules = engine.state, engine.rules
    attributes = {schema.OWNER: state.owner, schema.CASE_TYPE: cmd.type,
                  schema.LEGAL_BY: schema.timestamp(state.legal_line.deadline),
                  schema.PROMISED_BY: schema.timestamp(state.promised_line.deadline),
                  schema.COORDINATOR: rules.directory.coordinator}
    if state.number:
        attributes[schema.CASE_NUMBER] = state.number
    if cmd.reopened_from:
        attributes[schema.REOPENED_FROM] = cmd.reopened_from
    # The case keeps its rows in the read model; the audit checks them (a ledger may
    # hold cases opened before the read model, whose openings do not say so).
    attributes[schema.LISTED] = "true"
    opened = (Phrase("reopened", owner=state.owner, from_case=cmd.reopened_from)
              if cmd.reopened_from else Phrase("opened", owner=state.owner))
    engine.record(EventKind.OPENED, cmd.actor, now, phrase=opened, attributes=attributes)
    for report in dict((r.id, r) for r in cmd.reports).values():
        record_attached(engine, report, cmd.actor, now, by_hand=False)
    task_ids = []
    for opening in rule.opening_tasks:
        kind = check_new_task(engine, opening.kind, opening.assignee, "opening_tasks")
        task_ids.append(create_task(engine, kind, opening.assignee, cmd.actor, now).id)
    state.answers[answer_key(cmd)] = (fingerprint(cmd), engine.result(task_ids=task_ids))
