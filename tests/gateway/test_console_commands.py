"""Every command of the authorization table has its place in the console: a form on a
page, offered to the readers whose role may call it (the page asks `may`, the table's
own test), and the console's command door takes it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gateway.console import forms
from workflows import command_table

TEMPLATES = Path(forms.__file__).parent / "templates"
CHANGES = [call for call in command_table.CALLS if call.changes]


def _places(call: command_table.Call) -> dict[str, str]:
    """The templates holding a form for the command, with their text."""
    patterns = [f'action="/act/{call.rpc}"', f"m.command('{call.rpc}'"]
    if call.rpc == "ReviewDecline":
        patterns.append("m.uphold_form(")
    if call.rpc == "SubmitReport":  # the intake's own form (gateway.console.hotline)
        patterns.append('action="/intake"')
    found = {}
    for template in sorted(TEMPLATES.glob("*.html")):
        text = template.read_text(encoding="utf-8")
        if template.name != "macros.html" and any(p in text for p in patterns):
            found[template.name] = text
    return found


@pytest.mark.parametrize("call", CHANGES, ids=[c.rpc for c in CHANGES])
def test_every_command_has_a_form_for_those_who_may_call_it(
        call: command_table.Call) -> None:
    places = _places(call)
    assert places, f"{call.rpc}: no page of the console has a form for it"
    asked = re.compile(rf"may\('(?:{call.service}/)?{call.rpc}'\)")
    for name, text in places.items():
        assert asked.search(text), (
            f"{name} offers {call.rpc} without asking whether the reader's role may "
            f"({call.role}) call it")
    if call.rpc != "SubmitReport":
        assert call.rpc in forms.COMMANDS, f"the console's door does not take {call.rpc}"


def test_the_console_door_takes_only_commands() -> None:
    reads = {call.rpc for call in command_table.CALLS if not call.changes}
    assert not forms.COMMANDS & reads
