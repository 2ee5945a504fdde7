"""The inbox page."""
from __future__ import annotations

from flask import Response, request
from flask_login import current_user, login_required

from perfapp.core.db import write_transaction
from perfapp.core.htmx import render
from perfapp.core.validation import parse_int
from perfapp.extensions import db
from perfapp.notify import bp, services


@bp.route("/")
@login_required
def inbox() -> Response:
    entries, next_before = services.inbox(current_user, parse_int(request.args.get("before")))
    unread_ids = {e["note"].id for e in entries if e["note"].read_at is None}
    # The tab bar's count already shows this page as read (it is marked read just below).
    response = render("notify/inbox.html", "notify/_entries.html", target="feed-more",
                      entries=entries, next_before=next_before, unread_ids=unread_ids,
                      unread_count=lambda: 0)
    # Opening the inbox reads it. A fresh write transaction, so SQLite takes its
    # write lock up front instead of upgrading the page's read snapshot.
    db.session.commit()
    if unread_ids:
        with write_transaction():
            services.mark_all_read(current_user)
            db.session.commit()
    return response
