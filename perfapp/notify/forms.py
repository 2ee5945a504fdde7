"""Turn the notification settings form into service input (no validation of meaning here)."""
from __future__ import annotations

from werkzeug.datastructures import MultiDict

from perfapp.notify.preferences import PreferenceInput
from perfapp.notify.registry import PUSH_CATEGORIES

_TRUE = {"1", "on", "true", "yes"}


def parse_preferences(form: MultiDict) -> PreferenceInput:
    return PreferenceInput(
        switches={name: form.get(name, "") in _TRUE for name in PUSH_CATEGORIES},
        quiet_enabled=form.get("quiet_enabled", "") in _TRUE,
        quiet_start=form.get("quiet_start", ""),
        quiet_end=form.get("quiet_end", ""),
        daily_cap=form.get("daily_cap", ""),
    )
