"""Registrations: HR's and authors' inbox entries about moderation. `connect(app)` is called once
from create_app."""
from __future__ import annotations

from flask import Flask

from perfapp.moderation import services
from perfapp.notify.registry import register


def connect(app: Flask) -> None:
    register("report", "moderation/_note_report.html", services.load_reports_for_inbox)
    register("moderation", "moderation/_note_decision.html", services.load_decisions_for_inbox)
