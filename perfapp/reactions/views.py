"""The reaction bar and comment threads: one URL per action, fragments for htmx, 303s without it."""
from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, g, make_response, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from perfapp.core.htmx import redirect, render, wants_fragment
from perfapp.core.ratelimit import per_person
from perfapp.core.validation import FormError
from perfapp.extensions import db
from perfapp.moderation.services import can_report
from perfapp.reactions import bp, services
from perfapp.reactions.models import LIKE, MAX_COMMENT, REACTIONS
from perfapp.reactions.registry import TARGETS, Target

# --- template helpers ------------------------------------------------------------------

@bp.app_template_global()
def reactions_for(target_type: str, obj: Any) -> services.Summary:
    """The reaction bar's numbers for `obj`, loaded for the whole page at once.

    Feed views load their items before rendering, so every row of this type in the
    session's identity map is (nearly always) on the page: the first bar rendered loads
    counts for all of them in two grouped queries, and the others read the cache.
    """
    cache: dict[tuple[str, int], services.Summary] = g.setdefault("reaction_summaries", {})
    key = (target_type, obj.id)
    if key not in cache:
        model: type[Any] = TARGETS[target_type].model
        loaded: list[Any] = list(db.session.identity_map.values())  # mapped rows, typed as object
        ids = {o.id for o in loaded
               if isinstance(o, model) and (target_type, o.id) not in cache}
        ids.add(obj.id)
        for target_id, summary in services.summaries(target_type, sorted(ids), current_user).items():
            cache[(target_type, target_id)] = summary
    return cache[key]


@bp.app_template_global()
def on_own_page(target_type: str, obj: Any) -> bool:
    """True on the target's own page (its thread is shown open there)."""
    return request.path == TARGETS[target_type].url(obj)


@bp.app_template_global()
def comment_thread(target_type: str, obj: Any) -> services.Thread:
    return services.thread(current_user, target_type, obj)


@bp.app_template_global("may_report")
def may_report(target_type: str, obj: Any) -> bool:
    return can_report(current_user, target_type, obj)


def footer_key(target_type: str, obj: Any) -> tuple[Any, ...]:
    """Every value reactions/_footer.html shows for `obj` to the current viewer in a list (the
    thread closed, no errors): a fragment-cache key part for cards (perfapp.core.fragments)."""
    rx = reactions_for(target_type, obj)
    return (target_type, obj.id, bool(obj.hidden), tuple(sorted(rx.counts.items())), tuple(sorted(rx.mine)),
            rx.comments, may_report(target_type, obj), on_own_page(target_type, obj))


@bp.app_context_processor
def reaction_constants() -> dict[str, Any]:
    return {"REACTIONS": REACTIONS, "LIKE": LIKE, "MAX_COMMENT": MAX_COMMENT}


# --- views ----------------------------------------------------------------------------

def _target_or_404(target_type: str, target_id: int) -> tuple[Target, Any]:
    try:
        return services.target_for(current_user, target_type, target_id)
    except LookupError:
        abort(404)


def _bar(target_type: str, obj: Any, errors: dict[str, str] | None = None) -> str:
    summary = services.summaries(target_type, [obj.id], current_user)[obj.id]
    return render_template("reactions/_bar.html", rx_type=target_type, rx_obj=obj, rx=summary,
                           rx_errors=errors or {})


def _parts(*parts: str, status: int = 200) -> Response:
    response = make_response("".join(parts), status)
    response.vary.add("HX-Request")
    return response


def _said(target_type: str, obj: Any, message: str) -> str:
    return render_template("reactions/_said.html", rx_key=f"{target_type}-{obj.id}", message=message)


def _thread_page(target_type: str, kind: Target, obj: Any, status: int = 200,
                 errors: dict[str, str] | None = None, text: str = "") -> Response:
    return render("reactions/thread.html", "reactions/_thread.html", target=f"thread-{target_type}-{obj.id}",
                  status=status, kind=kind, obj=obj, rx_type=target_type, rx_obj=obj,
                  thread=services.thread(current_user, target_type, obj), rx_errors=errors or {},
                  comment_text=text)


@bp.route("/<target_type>/<int:target_id>")
@login_required
def thread(target_type: str, target_id: int) -> Response:
    """The target with its reactions and comment thread; htmx gets the thread only."""
    kind, obj = _target_or_404(target_type, target_id)
    return _thread_page(target_type, kind, obj)


@bp.route("/<target_type>/<int:target_id>/react", methods=["POST"])
@per_person("RATELIMIT_REACTIONS")
@login_required
def react(target_type: str, target_id: int) -> Response:
    # Each button names the state it asks for ("on" or "off" with its emoji). A bare "emoji"
    # (a page from before this rule) only ever adds: a stale tab must never take a reaction back.
    on = "off" not in request.form
    emoji = request.form.get("on") or request.form.get("off") or request.form.get("emoji", "")
    try:
        _changed, kind, obj = services.react(current_user, target_type, target_id, emoji, on)
    except LookupError:
        abort(404)
    except FormError as e:
        db.session.rollback()
        kind, obj = _target_or_404(target_type, target_id)
        if wants_fragment(f"rx-{target_type}-{target_id}"):
            return _parts(_bar(target_type, obj, e.errors), status=422)
        return _thread_page(target_type, kind, obj, status=422, errors=e.errors)
    # The answer is made before the commit, from the rows as this transaction wrote them: after
    # it, the target would be read (and checked) again.
    if wants_fragment(f"rx-{target_type}-{target_id}"):
        message = _("You reacted with %(emoji)s.", emoji=emoji) if on else _("Reaction removed.")
        response = _parts(_bar(target_type, obj), _said(target_type, obj, message))
    else:
        response = redirect(kind.url(obj), 303)
    db.session.commit()
    return response


def _thread_changed(target_type: str, obj: Any, message: str) -> Response:
    """After a comment is added or removed: the thread, the comment count (out of band), a spoken note."""
    thread_html = render_template(
        "reactions/_thread.html", rx_type=target_type, rx_obj=obj,
        thread=services.thread(current_user, target_type, obj))
    count = services.summaries(target_type, [obj.id], current_user)[obj.id].comments
    count_html = render_template("reactions/_comment_count.html", rx_key=f"{target_type}-{obj.id}",
                                 n=count, oob=True)
    return _parts(thread_html, count_html, _said(target_type, obj, message))


@bp.route("/<target_type>/<int:target_id>/comments", methods=["POST"])
@per_person("RATELIMIT_COMMENTS")
@login_required
def comment(target_type: str, target_id: int) -> Response:
    text = request.form.get("text", "")
    try:
        services.add_comment(current_user, target_type, target_id, text)
    except LookupError:
        abort(404)
    except FormError as e:
        db.session.rollback()
        kind, obj = _target_or_404(target_type, target_id)
        return _thread_page(target_type, kind, obj, status=422, errors=e.errors, text=text)
    db.session.commit()
    kind, obj = _target_or_404(target_type, target_id)
    if wants_fragment(f"thread-{target_type}-{target_id}"):
        return _thread_changed(target_type, obj, _("Comment added."))
    flash(_("Comment added."), "success")
    return redirect(url_for("reactions.thread", target_type=target_type, target_id=target_id), 303)


@bp.route("/comments/<int:comment_id>/delete", methods=["POST"])
@login_required
def delete_comment(comment_id: int) -> Response:
    try:
        removed = services.delete_comment(current_user, comment_id)
    except LookupError:
        abort(404)
    target_type, target_id = removed.target_type, removed.target_id
    db.session.commit()
    kind, obj = _target_or_404(target_type, target_id)
    if wants_fragment(f"thread-{target_type}-{target_id}"):
        return _thread_changed(target_type, obj, _("Comment deleted."))
    flash(_("Comment deleted."), "success")
    return redirect(url_for("reactions.thread", target_type=target_type, target_id=target_id), 303)
