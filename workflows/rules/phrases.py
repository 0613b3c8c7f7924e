"""What the platform says of itself, in both languages: event details, notices and the
reasons of escalations.

The rules do not write a sentence; they name a phrase and its arguments
(`Phrase("clock_missed", task="T1", clock="sign-for", ...)`). What is stored (the
event's attributes, the notice, the escalation) is the phrase in a small JSON form, so
every reader renders it in its own language with its own names for agencies and task
kinds: the console in Chinese or English, the ledger's `detail` and the CLI in English.
A person's own words (a reason, a note, a summary) are the argument `said`, shown after
the phrase as they were written, never translated.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

# Templates by key: (Chinese, English). Arguments in braces; see `render` for how each
# kind of argument is shown.
PHRASES: dict[str, tuple[str, str]] = {
    "opened": ("牵头单位：{owner}", "lead {owner}"),
    "reopened": ("牵头单位：{owner}；重办案件 {from_case}", "lead {owner}, reopening {from_case}"),
    "dispatched": ("{kind} → {assignee}", "{kind} to {assignee}"),
    "delivered": ("第 {round} 轮已送达{assignee}待办", "round {round} in the inbox of {assignee}"),
    "notice_delivered": ("{notice}已送达：{recipients}", "{notice} notice to {recipients}"),
    "clock_missed": ("任务 {task}（{assignee}）{clock}超时（期限 {deadline_time}）",
                     "task {task} ({assignee}) {clock} missed (deadline {deadline_time})"),
    "clock_missed_twice": ("任务 {task}（{assignee}）{clock}再次超时",
                           "task {task} ({assignee}) {clock} missed twice"),
    "decision_missed": ("派单异议 {objection} 裁定超时（期限 {deadline_time}）",
                        "decision on objection {objection} missed (deadline {deadline_time})"),
    "decision_missed_twice": ("派单异议 {objection} 裁定再次超时",
                              "decision on objection {objection} missed twice"),
    "clock_due_soon": ("任务 {task}（{assignee}）{clock}即将到期（期限 {deadline_time}）",
                       "task {task} ({assignee}) {clock} due soon (deadline {deadline_time})"),
    "review_due_soon": ("{assignee}退回的任务 {task} 请于 {deadline_time} 前审核",
                        "review the decline of task {task} by {assignee} by {deadline_time}"),
    "decision_due_soon": ("派单异议 {objection} 请于 {deadline_time} 前裁定",
                          "decide objection {objection} by {deadline_time}"),
    "offer_due_soon": ("{from}的移交（{handoff}）将于 {deadline_time} 过期，请接收或拒绝",
                       "the offer from {from} ({handoff}) expires at {deadline_time}: accept "
                       "or decline it"),
    "line_due_soon": ("案件{line}即将到期（{deadline_time}）",
                      "the case's {line} falls at {deadline_time}"),
    "line_missed": ("案件已超过{line}", "the case passed its {line}"),
    "decline_unreviewed": ("{assignee}退回的任务 {task} 未在时限内审核",
                           "decline of task {task} by {assignee} left unreviewed"),
    "deemed_consent": ("{assignee}逾期未答复（期限 {missed_time}），视为同意；须于 {issue_time} "
                       "前出具批准",
                       "{assignee} silent past {missed_time}: deemed to consent; the approval "
                       "is due by {issue_time}"),
    "objection_raised": ("{owner}对牵头办理提出派单异议（{objection}，请于 {decide_time} 前裁定）",
                         "{owner} objects to leading the case ({objection}, to decide by "
                         "{decide_time})"),
    "objection_upheld": ("派单异议 {objection}：维持派单，{owner}继续牵头",
                         "objection {objection} upheld: {owner} keeps the case"),
    "objection_reassigned": ("派单异议 {objection}：改由{owner}牵头",
                             "objection {objection}: {owner} now leads the case"),
    "handoff_offered": ("{from}提出将案件移交{to}（{handoff}）",
                        "{from} offers the case to {to} ({handoff})"),
    "handoff_accepted": ("{to}接收了{from}的移交（{handoff}）",
                         "{to} accepted the case from {from} ({handoff})"),
    "handoff_declined": ("{to}拒绝接收移交（{handoff}）", "{to} declined the offer ({handoff})"),
    "handoff_withdrawn": ("{from}撤回了移交（{handoff}）", "{from} withdrew the offer ({handoff})"),
    "handoff_expired": ("移交{to}（{handoff}）超时未答复",
                        "the offer to {to} ({handoff}) expired unanswered"),
    "owner_assigned": ("指挥中心指定{owner}牵头", "the coordinator made {owner} the lead"),
    "escalation_answered": ("升级事项 {escalation}：已指定牵头单位",
                            "escalation {escalation}: a lead was assigned"),
    "escalation_resolved": ("升级事项 {escalation} 已处理", "escalation {escalation} resolved"),
    "report_attached": ("诉求 {report}（{channel}，{service}）",
                        "report {report} ({channel}, {service})"),
    "report_merged": ("诉求 {report}（{channel}，{service}），人工并单",
                      "report {report} ({channel}, {service}) merged by hand"),
    "report_detached": ("诉求 {report} 已拆出", "report {report} split off"),
    "declined_suggesting": ("建议改由{suggested}承办", "suggests {suggested}"),
    "declined": ("未建议承办单位", "suggests nobody"),
    "decline_reviewed": ("{outcome}", "{outcome}"),
    "decline_upheld_for": ("{owner}同意了任务 {task} 的退回",
                           "{owner} upheld the decline of task {task}"),
    "decline_overruled_for": ("{owner}驳回了任务 {task} 的退回，请重新签收办理",
                              "{owner} overruled the decline of task {task}: sign for it again"),
    "extension_granted_for": ("{owner}批准任务 {task} 延期至 {due_time}",
                              "{owner} granted task {task} until {due_time}"),
    "extension_refused_for": ("{owner}未批准任务 {task} 延期",
                              "{owner} refused task {task} more time"),
    "extension_requested": ("申请延至 {due_time}", "asks until {due_time}"),
    "extension_granted": ("批准延期至 {due_time}", "granted until {due_time}"),
    "extension_refused": ("不批准延期", "refused"),
    "report_rated": ("诉求 {report}：{solved}，{satisfaction}",
                     "report {report}: {solved}, {satisfaction}"),
}

# Arguments that name an agency (shown by its name) and that hold a time (ISO 8601,
# shown in the district's zone); words of a closed set, shown by this table.
AGENCY_ARGS = frozenset({"owner", "assignee", "from", "to", "suggested", "objector"})
WORDS: dict[str, dict[str, tuple[str, str]]] = {
    "clock": {"sign-for": ("签收", "sign-for"), "on-scene": ("到场", "on-scene"),
              "completion": ("办结", "completion"),
              "approval": ("审批答复", "approval"),
              "approval issue": ("出具批准", "approval issue")},
    "line": {"legal": ("法定时限", "legal line"), "promised": ("承诺时限", "promised line")},
    "notice": {"SUPERVISION": ("督办通知", "supervision"),
               "ESCALATION": ("升级通知", "escalation"),
               "HANDOFF_OFFER": ("移交通知", "hand-off offer"),
               "OWNERSHIP": ("牵头通知", "lead"),
               "REMINDER": ("临期提醒", "reminder"),
               "DECISION": ("处理结果", "decision")},
    "outcome": {"UPHELD": ("同意退回", "upheld"), "OVERRULED": ("驳回退回", "overruled")},
    "channel": {"hotline": ("热线", "hotline"), "walk-in": ("来访", "walk-in"),
                "open311": ("网上", "Open311")},
    "solved": {"true": ("已解决", "solved"), "false": ("未解决", "not solved")},
    "satisfaction": {"SATISFIED": ("满意", "satisfied"),
                     "BASICALLY_SATISFIED": ("基本满意", "basically satisfied"),
                     "DISSATISFIED": ("不满意", "dissatisfied")},
}
LANGUAGES = ("zh", "en")


@dataclass(frozen=True, init=False)
class Phrase:
    key: str
    args: dict[str, str] = field(default_factory=dict)

    def __init__(self, key: str, **args: str) -> None:
        if key not in PHRASES:
            raise KeyError(f"no phrase {key!r}")
        object.__setattr__(self, "key", key)
        object.__setattr__(self, "args", {k: v for k, v in args.items() if v})

    def encode(self) -> str:
        """The stored form: compact JSON, the same bytes for the same phrase."""
        return json.dumps([self.key, self.args], ensure_ascii=False, sort_keys=True,
                          separators=(",", ":"))

    def saying(self, said: str) -> Phrase:
        return Phrase(self.key, **{**self.args, "said": said})


def decode(stored: str) -> Phrase | None:
    """A stored phrase; None for one this release does not know (a reader then shows the
    English detail stored beside it)."""
    try:
        key, args = json.loads(stored)
        return Phrase(str(key), **{str(k): str(v) for k, v in dict(args).items()})
    except (ValueError, TypeError, KeyError):
        return None


def _same(value: str) -> str:
    return value


def render(phrase: Phrase, lang: str, *, name: Callable[[str], str] = _same,
           when: Callable[[str], str] = _same, kind: Callable[[str], str] = _same,
           service: Callable[[str], str] = _same) -> str:
    """The phrase in `lang` ("zh" or "en"): agencies by `name`, times (arguments ending in
    `_time`) by `when`, task kinds by `kind`, report categories by `service`, closed words
    from WORDS, the rest as they are, and what the person said after it."""
    zh = lang == "zh"
    shown: dict[str, str] = {}
    for arg, value in phrase.args.items():
        if arg in AGENCY_ARGS:
            shown[arg] = name(value)
        elif arg == "recipients":
            shown[arg] = ("、" if zh else ", ").join(name(v) for v in value.split(","))
        elif arg.endswith("_time"):
            shown[arg] = when(value)
        elif arg == "kind":
            shown[arg] = kind(value)
        elif arg == "service":
            shown[arg] = service(value)
        elif arg in WORDS:
            words = WORDS[arg].get(value)
            shown[arg] = value if words is None else words[0 if zh else 1]
        else:
            shown[arg] = value
    template = PHRASES[phrase.key][0 if zh else 1]
    text = template.format_map(_Blank(shown))
    said = phrase.args.get("said", "")
    return f"{text}{'：' if zh else ': '}{said}" if said else text


class _Blank(dict[str, str]):
    """Arguments a phrase was stored without (an empty value is not stored) show empty."""

    def __missing__(self, key: str) -> str:
        return ""
