"""What a refusal says to a person, in each language, by its stable reason.

The API's message is English and precise ("suggested_agency: natural-resources lacks the
capability …"); a page in Chinese shows the sentence here for the refusal's reason, a
page in English shows this sentence and the API's message under it. Every reason the
rules and the gateway can give has its sentence (`tests/gateway/test_console_language.py`
fails on one without).
"""

from __future__ import annotations

REFUSALS: dict[str, tuple[str, str]] = {
    # The rules (workflows.rules.refusals.Reason)
    "MISSING_FIELD": ("缺少必填内容，请补充后再提交。", "Something required is missing."),
    "TEXT_TOO_LONG": ("内容过长，请精简后再提交。", "A text is too long; shorten it."),
    "BAD_DURATION": ("时长格式不正确，请填写如 30m、2h、3d、1wd。",
                     "A duration reads like 30m, 2h, 3d or 1wd."),
    "CLOCKS_OUT_OF_ORDER": ("时限先后不对：签收须早于到场，到场须早于办结。",
                            "The clocks are out of order: sign for, then be on scene, then "
                            "complete."),
    "DEADLINE_IN_PAST": ("该时间已过，请选择以后的时间。", "That time has passed; choose a later "
                                                          "one."),
    "BAD_TIMESTAMP": ("时间格式不正确。", "That is not a valid time."),
    "BAD_CASE_NUMBER": ("案件编号格式不正确，应如 20261130-0042。",
                        "A case number reads like 20261130-0042."),
    "UNKNOWN_AGENCY": ("目录中没有这个单位。", "The directory has no such agency."),
    "UNKNOWN_TASK_KIND": ("本类案件没有这种任务。", "This type of case has no such task."),
    "UNKNOWN_STAGE": ("本类案件没有这个环节。", "This type of case has no such stage."),
    "UNKNOWN_CASE_TYPE": ("没有这种案件类型。", "There is no such type of case."),
    "OUT_OF_RANGE": ("数值超出允许范围。", "A value is out of its range."),
    "REQUEST_ID_REUSED": ("该请求编号已用于另一项操作，请刷新页面后重试。",
                          "That request id was used for something else; reload the page and "
                          "try again."),
    "CASE_NOT_FOUND": ("没有这个案件，或您无权查看。", "No such case, or not one you may see."),
    "TASK_NOT_FOUND": ("本案没有这个任务。", "The case has no such task."),
    "HANDOFF_NOT_FOUND": ("本案没有这项移交。", "The case has no such hand-off."),
    "ESCALATION_NOT_FOUND": ("本案没有这项升级事项。", "The case has no such escalation."),
    "REPORT_NOT_FOUND": ("没有这条诉求。", "No such report."),
    "OBJECTION_NOT_FOUND": ("本案没有这项派单异议。", "The case has no such objection."),
    "NOT_OWNER": ("只有牵头单位可以办理此事。", "Only the agency leading the case may do this."),
    "NOT_ASSIGNEE": ("只有承办单位可以办理此任务。", "Only the assignee may act on this task."),
    "NOT_OFFERED": ("这项移交不是给本单位的。", "The offer was not made to your agency."),
    "NOT_COORDINATOR": ("此事须由指挥中心办理。", "The coordinator does this."),
    "LEAD_NOT_ALLOWED": ("本单位不能牵头此类案件。", "Your agency may not lead this type of "
                                                    "case."),
    "COMMAND_NOT_SEALED": ("该操作未经平台签发，未予执行。",
                           "The command did not come through the platform; nothing changed."),
    "CASE_CLOSED": ("案件已结案。", "The case is closed."),
    "CASE_CLOSING": ("案件正在结案，请稍后查看。", "The case is closing; look again shortly."),
    "INVALID_TASK_STATE": ("任务当前的状态不允许此操作，请刷新页面查看最新情况。",
                           "The task's state does not allow this now; reload the page to see "
                           "where it stands."),
    "MISSING_CAPABILITY": ("该单位不具备此项任务的职能，请选择其他单位。",
                           "That agency cannot do this kind of task; choose another."),
    "HANDOFF_TO_SELF": ("不能移交给本单位。", "A case is not handed to its own lead."),
    "HANDOFF_ALREADY_PENDING": ("已有一项移交等待答复。", "An offer already waits for an "
                                                         "answer."),
    "HANDOFF_PENDING": ("移交尚待答复，请先撤回移交。", "An offer waits; withdraw it first."),
    "ALREADY_OWNER": ("该单位已是牵头单位。", "That agency already leads the case."),
    "TASKS_OPEN": ("事不完，人不走：尚有未完成的任务，请先办结或撤回。",
                   "Tasks are still open; complete or withdraw them first."),
    "NO_EXTENSION_PENDING": ("该任务没有待审批的延期申请。",
                             "The task has no extension request waiting."),
    "EXTENSION_ALREADY_PENDING": ("已有一项延期申请待审批。",
                                  "An extension request already waits for a decision."),
    "ESCALATION_RESOLVED": ("该升级事项已处理。", "That escalation was already resolved."),
    "NO_LEAD_IN_MATRIX": ("责任矩阵未指定牵头单位，请由指挥中心指定。",
                          "The responsibility matrix names no lead here; the coordinator "
                          "assigns one."),
    "ANSWER_REQUIRED": ("本案有诉求，结案须填写给诉求人的答复。",
                        "The case has reports: closing it takes the answer their reporters "
                        "are given."),
    "OBJECTION_NOT_ALLOWED": ("派单异议期已过，或本单位不能提出异议。",
                              "The time to object has passed, or your agency may not object."),
    "OBJECTION_PENDING": ("派单异议尚待裁定。", "An objection waits for the coordinator."),
    "OBJECTION_DECIDED": ("该派单异议已裁定。", "That objection was already decided."),
    "TOO_MANY_TASKS": ("本案任务数已达上限。", "The case has as many tasks as it may have."),
    "TOO_MANY_REPORTS": ("本案诉求数已达上限。", "The case has as many reports as it may "
                                                 "have."),
    "CASE_TOO_LARGE": ("本案记录已达上限，请结案后另立新案。",
                       "The case's record is full; close it and open a new one."),
    "CASE_ALREADY_OPEN": ("该对象已有在办案件。", "A case is already open for this subject."),
    # The gateway's own
    "INVALID_FIELD": ("填写的内容有误，请修改后再提交。", "A field needs correcting."),
    "BAD_PAGE_TOKEN": ("翻页信息已失效，请从第一页重新查看。",
                       "That page of the list has expired; start from the first page."),
    "BAD_LOCATION": ("坐标不正确。", "The coordinates are not valid."),
    "ACT_NOT_SIGNED": ("该操作缺少本单位的签名，未予执行。",
                       "The act was not signed by your agency; nothing changed."),
    "AGENCY_UNAVAILABLE": ("该单位的系统暂时无法响应，请稍后再试。",
                           "That agency's service is not answering; try again shortly."),
    "NO_AGENCY_SERVICE": ("本单位尚未接入平台的单位服务。",
                          "Your agency has no service on this platform."),
    "ENGINE_UNAVAILABLE": ("办案引擎暂时无法响应，请稍后重试（不会重复办理）。",
                           "The case engine is not answering; try again (nothing is done "
                           "twice)."),
    "STORE_UNAVAILABLE": ("诉求库暂时无法响应，请稍后重试（不会重复受理）。",
                          "The report store is not answering; try again (nothing is taken "
                          "twice)."),
    "CLOCK_SKEWED": ("本平台网关的时钟与办案引擎相差过大，暂不能办理（未作任何记录）；"
                     "请联系运维校准时间。",
                     "The gateway's clock is too far from the case engine's to act now "
                     "(nothing was recorded); ask the platform's operators to correct its "
                     "time."),
    "CASE_BUSY": ("案件正忙，请稍后重试。", "The case is busy; try again in a moment."),
    "INTERNAL": ("平台出错，请将页面上的编号告知运维人员。",
                 "The platform failed; quote the number shown to its operators."),
    "NOT_AN_AGENCY": ("该身份不属于任何单位。", "That identity is not an agency's."),
    "OFFICER_MISMATCH": ("操作人与登录身份不符。", "The officer named is not the one signed "
                                                   "in."),
    "ROLE_REQUIRED": ("您的角色不能办理此事。", "Your role does not allow this."),
    "READ_ONLY_IDENTITY": ("该身份只能查看，不能办理。", "That identity may only read."),
    "NOT_FORWARDABLE": ("此操作不能由单位服务代为提交。",
                        "This is not something an agency's service may pass on."),
    "UNKNOWN_METHOD": ("没有这项操作。", "There is no such operation."),
    "UNAUTHENTICATED": ("登录已失效，请重新登录。", "Your session has ended; sign in again."),
    "SCORES_NOT_READY": ("评分尚在计算，请稍后查看。", "The scores are still being worked out; "
                                                     "look again shortly."),
    "NOT_HOTLINE": ("仅热线（区指挥中心）受理诉求和回访。",
                    "Only the hotline takes reports in and follows them up."),
    "RATE_LIMITED": ("操作过于频繁，请稍后再试。", "Too many requests; wait a moment."),
    "TOO_MANY_IN_FLIGHT": ("平台正忙，请稍后再试。", "The platform is busy; try again shortly."),
    "HEAVY_JOBS_BUSY": ("统计任务正忙，请稍后再试。", "Heavy reports are busy; try again "
                                                     "shortly."),
    "HEAVY_JOB_RUNNING": ("您已有一项统计在进行，请等待其完成。",
                          "One of your heavy reports is still running; wait for it."),
    # The evidence door's (gateway.evidence_http)
    "EVIDENCE_TAMPERED": ("该文件已与签名时的摘要不符，不予提供；此次拒绝已记入保管记录。",
                          "The file no longer matches its signed digest: it is not served, "
                          "and the refusal is on record."),
    "NOT_YOURS_TO_SEE": ("该取证材料仅持有单位、牵头单位、指挥中心和督查可见。",
                         "This evidence is for the agency holding it, the lead, the "
                         "coordinator and oversight."),
    # The intake's (gateway.reports)
    "UNKNOWN_SERVICE": ("目录中没有这个诉求类别。", "The catalog has no such category."),
    "BAD_PHONE": ("电话号码格式不正确。", "That phone number is not valid."),
    "BAD_EMAIL": ("邮箱格式不正确。", "That e-mail address is not valid."),
    "BAD_MEDIA_URL": ("图片链接须为 https 地址。", "A media link must be an https address."),
    "TOO_MANY_MEDIA": ("图片数量超过上限。", "Too many media links."),
    "NO_LOCATION": ("请填写坐标或选择属地。", "Give a point or choose the jurisdiction."),
    "NOT_ROUTED": ("诉求尚未派入案件，请稍后再试。", "The report is not on a case yet; try "
                                                     "again shortly."),
    "ALREADY_RATED": ("该诉求已评价。", "That report was already rated."),
    "FOLLOW_UP_OVER": ("回访期已过。", "The time for follow-up has passed."),
    "CASE_OPEN": ("案件尚未结案，还不能回访。", "The case is still open; follow-up comes after "
                                               "it closes."),
}


def refusal_words(reason: str, lang: str) -> str:
    """The sentence for `reason` in `lang`; empty for a reason this table lacks."""
    words = REFUSALS.get(reason)
    return "" if words is None else words[0 if lang == "zh" else 1]
