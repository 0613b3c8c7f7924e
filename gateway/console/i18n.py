"""The console's words, in Chinese (the default) and English.

One table: a page asks for a key and gets the text of the reader's language; a key
missing from a language is a failing test (`tests/gateway/test_console_render.py`), not a
blank on the screen.
"""

from __future__ import annotations

from collections.abc import Callable

from workflows import command_table

LANGUAGES = ("zh", "en")
DEFAULT = "zh"

TEXT: dict[str, dict[str, str]] = {
    # Each command's own words (its buttons, its confirmation) are its declaration's
    # (workflows.command_table), added below.
    "product": {"zh": "协同办案平台 Seamless", "en": "Seamless joint cases"},
    "inbox": {"zh": "待办", "en": "Inbox"},
    "my_cases": {"zh": "我的案件", "en": "My cases"},
    "coordinator": {"zh": "统筹协调", "en": "Coordinator"},
    "oversight": {"zh": "督查", "en": "Oversight"},
    "sign_in": {"zh": "登录", "en": "Sign in"},
    "sign_out": {"zh": "退出", "en": "Sign out"},
    "agency": {"zh": "单位", "en": "Agency"},
    "officer_id": {"zh": "工号", "en": "Officer id"},
    "password": {"zh": "密码", "en": "Password"},
    "signed_in_as": {"zh": "当前用户", "en": "Signed in as"},
    "new_password": {"zh": "新密码（至少 10 个字符）",
                     "en": "New password (10 characters or more)"},
    "must_change": {"zh": "首次登录须设置您自己的新密码：请再次输入一次性密码，并填写新密码。",
                    "en": "At the first sign-in you set a password of your own: give the "
                          "one-time password again and a new one."},
    "confirm_title": {"zh": "请确认", "en": "Please confirm"},
    "started_elsewhere": {"zh": "此页面需要大量计算，且是从其他网站打开的。"
                                "如确需查看，请点击继续。",
                          "en": "This page takes a lot of work and was opened from another "
                                "site. Go on if you meant to open it."},
    "go_on": {"zh": "继续", "en": "Go on"},
    "bad_sign_in": {"zh": "单位、工号或密码不正确。",
                    "en": "Wrong agency, officer id or password."},
    "slowed_sign_in": {"zh": "该工号或本机地址的登录失败次数过多，请稍候再试。",
                       "en": "Too many failed sign-ins for this officer id or from your "
                             "address; wait a little and try again."},
    "expired": {"zh": "登录已失效，请重新登录。", "en": "Your session has ended; sign in "
                                                  "again."},
    "too_many": {"zh": "登录尝试过于频繁，请 %.0f 秒后再试。",
                 "en": "Too many sign-in attempts; try again in %.0f s."},
    "agency_unavailable": {"zh": "该单位的系统暂时无法响应，请稍后再试。",
                           "en": "That agency's service is not answering; try again "
                                 "shortly."},
    "csrf": {"zh": "表单已过期或来源不明，请刷新页面后重试。",
             "en": "The form expired or did not come from this console; reload the page "
                   "and try again."},
    "bad_form": {"zh": "表单内容有误，请修改后再提交：", "en": "The form needs correcting: "},
    "notices": {"zh": "通知", "en": "Notices"},
    "contact_masked": {"zh": "联系方式仅对热线和牵头单位完整显示",
                       "en": "the contact is shown in full to the hotline and the lead only"},
    "unread_notices": {"zh": "{n} 条未读通知", "en": "{n} unread notices"},
    "unread": {"zh": "未读", "en": "unread"},
    "no_notices": {"zh": "暂无通知。", "en": "No notice yet."},
    "notices_more": {"zh": "仅列出最近 100 条。", "en": "The latest 100 are shown."},
    "received_at": {"zh": "收到时间", "en": "Received"},
    "not_found_title": {"zh": "未找到", "en": "Not found"},
    "back": {"zh": "返回", "en": "Back"},
    "case": {"zh": "案件", "en": "Case"},
    "case_number": {"zh": "案件编号", "en": "Case number"},
    "title": {"zh": "标题", "en": "Title"},
    "type": {"zh": "类型", "en": "Type"},
    "status": {"zh": "状态", "en": "Status"},
    "owner": {"zh": "牵头单位", "en": "Owner"},
    "owner_now": {"zh": "当前牵头单位", "en": "Owner now"},
    "task": {"zh": "任务", "en": "Task"},
    "next_step": {"zh": "下一步", "en": "Next step"},
    "deadline": {"zh": "期限", "en": "Deadline"},
    "time_left": {"zh": "剩余时间", "en": "Time left"},
    "overdue": {"zh": "已超时", "en": "overdue"},
    "no_clock": {"zh": "无时限", "en": "no clock"},
    "nothing_to_do": {"zh": "暂无待办事项。", "en": "Nothing waits for you."},
    "findings": {"zh": "处置结果", "en": "Findings"},
    "evidence": {"zh": "证据编号（每行一个）", "en": "Evidence references (one a line)"},
    "reason": {"zh": "理由", "en": "Reason"},
    "suggested_agency": {"zh": "建议承办单位", "en": "Suggested agency"},
    "none": {"zh": "（无）", "en": "(none)"},
    "more_time": {"zh": "延长（如 2h、3d）", "en": "More time (e.g. 2h, 3d)"},
    "uphold": {"zh": "同意退回", "en": "Uphold the decline"},
    "overrule": {"zh": "驳回退回", "en": "Overrule"},
    "redispatch_to": {"zh": "改派至", "en": "Re-dispatch to"},
    "note": {"zh": "备注", "en": "Note"},
    "grant": {"zh": "批准延期", "en": "Grant"},
    "refuse": {"zh": "不批准", "en": "Refuse"},
    "resolution": {"zh": "处理意见", "en": "Resolution"},
    # Cases led that are closed: part of the score, so shown beside the others.
    "closure_rate": {"zh": "结案率", "en": "Closed"},
    "case_type": {"zh": "案件类型", "en": "Case type"},
    "stage": {"zh": "环节", "en": "Stage"},
    "jurisdiction": {"zh": "属地", "en": "Jurisdiction"},
    "subject": {"zh": "对象（车牌、场所等）", "en": "Subject (plate, site…)"},
    "description": {"zh": "案情描述", "en": "Description"},
    "location": {"zh": "地点", "en": "Location"},
    "subject_short": {"zh": "对象", "en": "Subject"},
    "open_in_map": {"zh": "在地图中查找", "en": "Find on a map"},
    "asked_until": {"zh": "申请延至", "en": "Asked until"},
    "already_open": {"zh": "该对象已有案件 {number} 在办，由{owner}牵头：请到该案件补充"
                           "情况，不要另开新案。",
                     "en": "Case {number}, led by {owner}, is already open for this subject: "
                           "add what you know to it rather than opening another."},
    "subject_taken": {"zh": "该对象已有在办案件：请到该案件补充情况，不要另开新案。",
                      "en": "A case is open on this subject: add to it rather than open "
                            "another."},
    "possible_duplicates": {"zh": "可能重复的在办案件（对象相近或同一属地），请先核对：",
                            "en": "Open cases that may be the same (a subject alike, or the "
                                  "same jurisdiction); check them first:"},
    "open_the_case": {"zh": "打开该案件", "en": "Open that case"},
    # An error page's heading, by the status of the refusal.
    "code_ALREADY_EXISTS": {"zh": "已经存在", "en": "Already there"},
    "code_FAILED_PRECONDITION": {"zh": "现在不能办理", "en": "Not possible now"},
    "code_INVALID_ARGUMENT": {"zh": "请修改后再提交", "en": "Something to correct"},
    "code_PERMISSION_DENIED": {"zh": "无权办理", "en": "Not yours to do"},
    "code_RESOURCE_EXHAUSTED": {"zh": "超出限制", "en": "Over a limit"},
    "code_UNAVAILABLE": {"zh": "暂时无法办理", "en": "Unavailable for a moment"},
    "code_other": {"zh": "未能办理", "en": "Not done"},
    "objection_window": {"zh": "如认为不应由本单位牵头，可在此时间前提出派单异议：",
                         "en": "If this agency should not lead, object before"},
    "objection_waits": {"zh": "异议待指挥中心裁定，本单位仍牵头至裁定",
                        "en": "the coordinator decides; this agency leads until then"},
    "should_lead": {"zh": "建议牵头单位", "en": "Who should lead"},
    "uphold_dispatch": {"zh": "维持派单", "en": "Uphold the dispatch"},
    "reassign_lead": {"zh": "改派牵头单位", "en": "Reassign the lead"},
    "new_lead": {"zh": "新牵头单位", "en": "New lead"},
    "title_declined": {"zh": "{agency}退回了任务：{task}", "en": "{agency} declined {task}"},
    "title_asks_time": {"zh": "{agency}申请延长任务期限：{task}",
                        "en": "{agency} asks more time for {task}"},
    "title_offers": {"zh": "{agency}向本单位移交案件", "en": "{agency} offers you the case"},
    "title_objects": {"zh": "{agency}对牵头办理提出异议",
                      "en": "{agency} objects to leading the case"},
    "nobody_needed": {"zh": "无需改派", "en": "nobody: the work is not needed"},
    "lead_will_be": {"zh": "按责任矩阵，牵头单位将是：", "en": "The responsibility matrix "
                                                           "will make the lead:"},
    "lead_unknown": {"zh": "矩阵未指定，将由指挥中心指定", "en": "not named by the matrix: "
                                                             "the coordinator decides"},
    "open": {"zh": "立案", "en": "Open"},
    "kind": {"zh": "任务类型", "en": "Kind of task"},
    "assignee": {"zh": "承办单位", "en": "Assignee"},
    "instructions": {"zh": "工作要求", "en": "Instructions"},
    "clock_sign": {"zh": "签收", "en": "sign for"},
    "clock_on_scene": {"zh": "到场", "en": "on scene"},
    "clock_due": {"zh": "办结", "en": "due"},
    "case_closed": {"zh": "本案已于以下时间结案：", "en": "The case closed at"},
    "past_deadline": {"zh": "已超期", "en": "Past its deadline for"},
    "lasted": {"zh": "持续时长", "en": "Lasted"},
    "still_open": {"zh": "仍未结束", "en": "still open"},
    "clocks": {"zh": "时限", "en": "Clocks"},
    "sign_within": {"zh": "签收时限（如 30m）", "en": "Sign for within (e.g. 30m)"},
    "due_within": {"zh": "办结时限（如 3d）", "en": "Complete within (e.g. 3d)"},
    "per_playbook": {"zh": "留空则按预案", "en": "empty: as the playbook says"},
    "to_agency": {"zh": "移交至", "en": "To agency"},
    "summary": {"zh": "结案摘要", "en": "Summary"},
    "close_blocked": {"zh": "尚有未完成任务，不能结案：", "en": "Cannot close while tasks are "
                                                           "open:"},
    "close_needs_head": {"zh": "结案须由单位负责人操作。",
                         "en": "Closing a case takes the head role."},
    "close_offer_pending": {"zh": "移交尚待答复，不能结案。",
                            "en": "Cannot close while a hand-off offer waits."},
    "role_officer": {"zh": "办理任务须具备承办人角色。",
                     "en": "Acting on tasks takes the officer role."},
    "lines": {"zh": "时限", "en": "Lines"},
    "legal_line": {"zh": "法定时限", "en": "Legal line"},
    "promised_line": {"zh": "承诺时限", "en": "Promised line"},
    "actual": {"zh": "实际用时", "en": "Actual"},
    "within_line": {"zh": "期内办结", "en": "closed within it"},
    "past_line": {"zh": "逾期办结", "en": "closed after it"},
    "timeline": {"zh": "责任泳道图", "en": "Swimlane timeline"},
    "zoom_in": {"zh": "放大", "en": "Zoom in"},
    "zoom_out": {"zh": "缩小", "en": "Zoom out"},
    "fit": {"zh": "全览", "en": "Fit"},
    "events": {"zh": "事件", "en": "Events"},
    "time": {"zh": "时间", "en": "Time"},
    "actor": {"zh": "操作人", "en": "Actor"},
    "event": {"zh": "事件", "en": "Event"},
    "detail": {"zh": "详情", "en": "Detail"},
    "must_act_now": {"zh": "当前须处理", "en": "Who must act now"},
    "tasks": {"zh": "任务", "en": "Tasks"},
    "state": {"zh": "状态", "en": "State"},
    "escalations": {"zh": "升级督办队列", "en": "Escalation queue"},
    "no_escalations": {"zh": "暂无待处理的升级事项。", "en": "No escalation waits."},
    "stalled_now": {"zh": "当前停滞（已超期）", "en": "Stalled now (past deadline)"},
    "more_stalled": {"zh": "停滞事项超过 1000 项，仅列出最近开始的 1000 项；其余请用下方筛选查看。",
                     "en": "More than 1,000 stalls: the 1,000 that began last are listed; "
                           "filter the gaps below for the rest."},
    "accountable": {"zh": "责任单位", "en": "Accountable"},
    "how_long": {"zh": "已持续", "en": "For"},
    "gaps": {"zh": "缝隙", "en": "Gaps"},
    "gap_kind": {"zh": "类型", "en": "Kind"},
    "breached_only": {"zh": "只看超期", "en": "Breached only"},
    "filter": {"zh": "筛选", "en": "Filter"},
    "any": {"zh": "全部", "en": "Any"},
    "scorecards": {"zh": "单位评分", "en": "Agency scorecards"},
    "red_list": {"zh": "红榜", "en": "Best five"},
    "black_list": {"zh": "黑榜", "en": "Worst five"},
    "ranking_rule": {"zh": "评分为已判定各率的平均；办理任务满 {n} 件（已判定签收）方参与"
                           "排名和红黑榜。n 为每一率的依据件数。",
                     "en": "The score is the mean of the rates judged; an agency is ranked, "
                           "and may be listed best or worst, once {n} of its tasks were "
                           "judged. n is what each rate is based on."},
    "too_few_tasks": {"zh": "已判定任务不足 {n} 件，暂不排名",
                      "en": "fewer than {n} tasks judged: not ranked yet"},
    "rank": {"zh": "排名", "en": "Rank"},
    "score": {"zh": "得分", "en": "Score"},
    "on_time_sign": {"zh": "按时签收率", "en": "Signed on time"},
    "on_time_arrival": {"zh": "按时到场率", "en": "On scene on time"},
    "on_time_completion": {"zh": "按时办结率", "en": "Completed on time"},
    "bounce_rate": {"zh": "退回率", "en": "Bounce rate"},
    # 12345 接诉即办: the response rate is the on-time sign-for rate, under its name.
    "response_rate": {"zh": "响应率（按时签收）", "en": "Response (signed on time)"},
    "solved_rate": {"zh": "解决率", "en": "Solved"},
    "satisfaction_rate": {"zh": "满意率", "en": "Satisfied"},
    "satisfaction_counts": {"zh": "满意 / 基本满意 / 不满意（基本满意计入满意率）",
                            "en": "Satisfied / basically / dissatisfied (basically "
                                  "counts as satisfied)"},
    "reopen_rate": {"zh": "重办率", "en": "Reopened"},
    "objections": {"zh": "派单异议", "en": "Objections"},
    "objections_counts": {"zh": "维持 / 改派 / 提出", "en": "Upheld / reassigned / raised"},
    "hotline_by_type": {"zh": "各类案件接诉即办", "en": "Hotline figures per case type"},
    "ratings": {"zh": "评价数", "en": "Ratings"},
    "reports": {"zh": "诉求数", "en": "Reports"},
    "reports_by_area": {"zh": "各区域诉求", "en": "Reports per area"},
    "area": {"zh": "区域", "en": "Area"},
    "no_area": {"zh": "未注明", "en": "Not given"},
    "handoff_matrix": {"zh": "移交矩阵", "en": "Hand-off matrix"},
    "from_to": {"zh": "移出 \\ 接收", "en": "From \\ to"},
    "lines_by_type": {"zh": "各类案件时限（中位数）", "en": "Lines per case type (medians)"},
    "cases": {"zh": "案件数", "en": "Cases"},
    "closed": {"zh": "已结", "en": "Closed"},
    "ledger": {"zh": "台账核验", "en": "Ledger verification"},
    "ledger_intact": {"zh": "台账完整", "en": "The ledger holds up"},
    "ledger_broken": {"zh": "台账异常", "en": "The ledger does not hold up"},
    "cases_checked": {"zh": "已核验案件", "en": "Cases checked"},
    "engine_findings": {"zh": "绕过平台对引擎的操作", "en": "Done on the engine past the platform"},
    "engine_intervention": {"zh": "引擎干预", "en": "Intervention on the engine"},
    "ENDED_BY_ENGINE": {"zh": "在引擎中被终止", "en": "ended on the engine"},
    "GONE_FROM_ENGINE": {"zh": "已从引擎中删除", "en": "gone from the engine"},
    "UNKNOWN_TO_LEDGER": {"zh": "台账中无此记录", "en": "unknown to the ledger"},
    "FOREIGN_QUEUE": {"zh": "非平台队列上的流程", "en": "on a queue the platform does not serve"},
    "NOT_COMPARED": {"zh": "本次未能与引擎核对", "en": "the engine could not be compared"},
    "checkpoints": {"zh": "见证检查点", "en": "Checkpoints"},
    "export": {"zh": "导出事件日志", "en": "Export the event log"},
    "done": {"zh": "已完成：", "en": "Done:"},
    "lang_switch": {"zh": "English", "en": "中文"},
    "tasks_open": {"zh": "未完成任务", "en": "open tasks"},
    "refresh_note": {"zh": "新任务会自动出现。", "en": "New work appears by itself."},
    "none_yet": {"zh": "暂无。", "en": "None yet."},
    "legend": {"zh": "图例", "en": "Legend"},
    "ownership": {"zh": "牵头期", "en": "Ownership"},
    "breached": {"zh": "超期", "en": "Breached"},
    "phase": {"zh": "任务阶段", "en": "Task phase"},
    "list_cases_empty": {"zh": "暂无可见案件。", "en": "No case to show."},
    # The hotline's desk: intake (受理), merging and splitting (并单/拆单), follow-up (回访).
    "intake": {"zh": "受理", "en": "Intake"},
    "follow_up": {"zh": "回访", "en": "Follow-up"},
    "intake_title": {"zh": "受理诉求", "en": "Take a report"},
    "only_hotline": {"zh": "仅热线（区指挥中心）受理诉求和回访。",
                     "en": "Only the hotline (the command centre) takes reports in and "
                           "follows them up."},
    "search_catalog": {"zh": "搜索诉求类别（关键词、名称）",
                         "en": "Search the categories (keywords, names)"},
    "search": {"zh": "搜索", "en": "Search"},
    "category": {"zh": "诉求类别", "en": "Category"},
    "group": {"zh": "分组", "en": "Group"},
    "tier": {"zh": "答复时限", "en": "Answer tier"},
    "tier_emergency": {"zh": "紧急 · 2小时", "en": "emergency · 2 h"},
    "tier_utilities": {"zh": "民生 · 24小时", "en": "utilities · 24 h"},
    "tier_general": {"zh": "一般 · 7天", "en": "general · 7 days"},
    "tier_complex": {"zh": "复杂 · 15天", "en": "complex · 15 days"},
    "choose": {"zh": "选择", "en": "Choose"},
    "no_service_found": {"zh": "没有匹配的类别。", "en": "No category matches."},
    "unknown_service": {"zh": "目录中没有这个类别：", "en": "The catalog has no category"},
    "change_category": {"zh": "更换类别", "en": "Change the category"},
    "required": {"zh": "必填", "en": "required"},
    "optional": {"zh": "选填", "en": "optional"},
    "subject_note": {"zh": "诉求对象：同一对象的诉求并入同一案件（并单）",
                     "en": "The subject: reports on one subject join one case"},
    "address": {"zh": "地址", "en": "Address"},
    "lat": {"zh": "纬度", "en": "Latitude"},
    "lon": {"zh": "经度", "en": "Longitude"},
    "wgs84_note": {"zh": "WGS84 坐标；无坐标时请选择属地。",
                   "en": "WGS84; without a point, choose the jurisdiction."},
    "by_location": {"zh": "按坐标确定", "en": "by the location"},
    "channel": {"zh": "渠道", "en": "Channel"},
    "channel_hotline": {"zh": "热线", "en": "hotline"},
    "channel_walk-in": {"zh": "来访", "en": "walk-in"},
    "channel_open311": {"zh": "网上（Open311）", "en": "Open311"},
    "reporter": {"zh": "诉求人", "en": "Reporter"},
    "reporter_name": {"zh": "姓名", "en": "Name"},
    "phone": {"zh": "电话", "en": "Phone"},
    "email": {"zh": "邮箱", "en": "E-mail"},
    "check_candidates": {"zh": "查找可并单案件", "en": "Look for cases to join"},
    "submit_report": {"zh": "提交诉求", "en": "Submit the report"},
    "candidates": {"zh": "可并入的办理中案件", "en": "Open cases the report could join"},
    "merge_note": {"zh": "填写与下列案件相同的对象，提交后自动并入该案件。",
                   "en": "Give the subject of a case below and the report joins it."},
    "on_subject": {"zh": "同一对象", "en": "On the same subject"},
    "fill_subject": {"zh": "填写对象后点击“查找可并单案件”。",
                     "en": "Fill in the subject, then look for cases to join."},
    "nearby": {"zh": "同属地同类案件", "en": "Same type, same jurisdiction"},
    "same_type": {"zh": "同类办理中案件", "en": "Open cases of the same type"},
    "no_candidates": {"zh": "暂无。", "en": "None."},
    "case_reports": {"zh": "诉求", "en": "Reports"},
    "report": {"zh": "诉求编号", "en": "Report"},
    "received": {"zh": "受理时间", "en": "Received"},
    "answer": {"zh": "答复", "en": "Answer"},
    "answer_hint": {"zh": "本案有诉求，结案须填写给诉求人的答复。",
                    "en": "The case has reports: closing it takes the answer their "
                          "reporters are given."},
    "merge_into_here": {"zh": "将诉求并入本案", "en": "Merge a report into this case"},
    "report_id": {"zh": "诉求编号（R…）", "en": "Report id (R…)"},
    "follow_up_title": {"zh": "回访：已结案待评价的诉求",
                        "en": "Follow-up: reports of closed cases awaiting a rating"},
    "no_follow_up": {"zh": "暂无待回访诉求。", "en": "No report awaits a rating."},
    "solved": {"zh": "是否解决", "en": "Solved"},
    "yes": {"zh": "是", "en": "Yes"},
    "no": {"zh": "否", "en": "No"},
    "satisfaction": {"zh": "满意度", "en": "Satisfaction"},
    "satisfied": {"zh": "满意", "en": "Satisfied"},
    "basically_satisfied": {"zh": "基本满意", "en": "Basically satisfied"},
    "dissatisfied": {"zh": "不满意", "en": "Dissatisfied"},
    "reopen_lead": {"zh": "重办牵头单位（不满意且未解决时）",
                    "en": "Lead of the reopened case (if dissatisfied and unsolved)"},
    "same_lead": {"zh": "原牵头单位", "en": "The same lead"},
    "needs_officer_role": {"zh": "受理和回访须具备承办人角色。",
                           "en": "Taking reports and ratings takes the officer role."},
    # Confirmations naming what was done ({} are report ids and case numbers).
    "report_opened": {"zh": "已受理诉求 {}：新立案件。",
                      "en": "Report {} taken in: a new case was opened."},
    "report_merged": {"zh": "已受理诉求 {}：并入已有案件（并单）。",
                      "en": "Report {} taken in: merged into an existing case."},
    "report_unrouted": {"zh": "已受理诉求 {}，但尚未派入案件，请稍后查看。",
                        "en": "Report {} is stored but not on a case yet; check again "
                              "shortly."},
    "merged_into": {"zh": "诉求 {} 已并入本案。", "en": "Report {} merged into this case."},
    "split_to": {"zh": "诉求 {} 已拆出，现属案件 {}。",
                 "en": "Report {} split off; it is now on case {}."},
    "rated": {"zh": "已记录诉求 {} 的评价。", "en": "The rating of report {} is recorded."},
    "rated_reopened": {"zh": "已记录诉求 {} 的评价；案件已重办，新案件 {}。",
                       "en": "The rating of report {} is recorded; the case was reopened "
                             "as {}."},
}

TEXT.update({call.words[0]: {"zh": call.words[1], "en": call.words[2]}
             for call in command_table.WORDED})


def translator(lang: str) -> Callable[[str], str]:
    language = lang if lang in LANGUAGES else DEFAULT

    def t(key: str) -> str:
        return TEXT[key][language]
    return t


def local_name(names: dict[str, tuple[str, str]], key: str, lang: str) -> str:
    """A name (an agency's, a case type's) in the reader's language; the id for one the
    table lacks."""
    zh_en = names.get(key)
    if zh_en is None:
        return key
    return zh_en[0] if lang == "zh" else zh_en[1]


# The Chinese names of the enum values a page shows (English: the value's short name).
ENUM_ZH: dict[str, dict[str, str]] = {
    "GapKind": {"handoff pending": "移交待接收", "dispatch unsigned": "派单未签收",
                "arrival pending": "签收未到场", "overdue": "超期未办结",
                "decline review": "退回待审核", "escalation": "升级待处理",
                "lead objection": "派单异议待审核"},
    "TaskState": {"dispatched": "已派发", "signed": "已签收", "on scene": "已到场",
                  "done": "已办结", "declined": "已退回", "withdrawn": "已撤回",
                  "deemed consent": "视为同意"},
    "CaseStatus": {"open": "办理中", "closed": "已结案"},
    "NoticeKind": {"supervision": "督办", "escalation": "升级", "handoff offer": "移交",
                   "ownership": "牵头"},
    "CaseEventKind": {
        "opened": "立案", "task dispatched": "派发任务", "task signed": "签收",
        "task on scene": "到场", "task done": "办结任务", "task declined": "退回任务",
        "decline reviewed": "审核退回", "extension requested": "申请延期",
        "extension decided": "延期决定", "task withdrawn": "撤回任务",
        "deemed consent": "视为同意", "notice": "督办通知", "escalation": "升级",
        "escalation resolved": "升级办结", "handoff offered": "提出移交",
        "handoff accepted": "接收移交", "handoff declined": "拒绝移交",
        "handoff withdrawn": "撤回移交", "handoff expired": "移交超时",
        "owner assigned": "指定牵头", "closed": "结案", "line missed": "超出时限",
        "task delivered": "任务送达", "notice delivered": "通知送达",
        "report attached": "并入诉求", "report detached": "拆出诉求",
        "report rated": "回访评价", "lead objected": "派单异议",
        "objection decided": "裁定异议"},
}


def enum_label(short_name: str, enum: str, lang: str) -> str:
    if lang == "zh":
        return ENUM_ZH.get(enum, {}).get(short_name, short_name)
    return short_name
