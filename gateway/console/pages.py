"""The console's pages, assembled: each area in its own module on the console's core
(`core`): signing in (`sign_in_pages`), officers' work and the command door
(`work_pages`), oversight (`oversight_pages`), notifications away from the console
(`notify_pages`); the hotline desk is `hotline`'s."""

from __future__ import annotations

from gateway.console.core import DONE_WORDS, flash_of
from gateway.console.notify_pages import NotifyPages
from gateway.console.oversight_pages import OversightPages
from gateway.console.sign_in_pages import SignInPages
from gateway.console.work_pages import WorkPages

__all__ = ["DONE_WORDS", "Console", "flash_of"]


class Console(SignInPages, WorkPages, OversightPages, NotifyPages):
    """Every page of the console, on one core: one set of keys, one template
    environment, one throttle."""
