"""Registrations: feedback is reportable; HR's and authors' inbox entries about moderation."""
from __future__ import annotations

from perfapp.feedback.models import Feedback
from perfapp.moderation import services
from perfapp.moderation.registry import register_reportable
from perfapp.notify.registry import register

register_reportable("feedback", Feedback, lambda item: item.author_id, "moderation/_feedback_case.html",
                    can_read=lambda item, viewer: item.can_be_read_by(viewer),
                    dom_id=lambda item: f"fb-{item.id}")
register("report", "moderation/_note_report.html", services.load_reports_for_inbox)
register("moderation", "moderation/_note_decision.html", services.load_decisions_for_inbox)
