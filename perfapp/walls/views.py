"""Walls: the company's praise wall (badge wall and stories come with recognition)."""
from __future__ import annotations

from flask import Response, request, url_for
from flask_login import login_required

from perfapp.core.htmx import render
from perfapp.feedback import services as feedback_services
from perfapp.walls import bp


@bp.route("/")
@login_required
def praise() -> Response:
    cursor = feedback_services.decode_cursor(request.args.get("before"))
    items, next_cursor = feedback_services.praise_wall(cursor)
    return render("walls/praise.html", "feedback/_items.html", target="feed-more",
                  items=items, next_cursor=next_cursor, more_url=url_for("walls.praise"))
