"""Citizens' reports (诉求): the intake's own records, routed to cases.

The gateway keeps each report once, with its reporter's contact (personal data, shown
in full only to the case's lead and the hotline); the case it belongs to keeps only
what it is about (`workflows.rules.model.ReportRef`).
"""
