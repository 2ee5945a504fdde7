"""The story library: browse by value, promote a recognition, consent, read a story."""
from __future__ import annotations

from flask import Response, abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from perfapp.core.htmx import redirect, render, wants_fragment
from perfapp.core.validation import FormError, parse_int
from perfapp.extensions import db
from perfapp.feedback.services import decode_cursor
from perfapp.people.models import User
from perfapp.recognition.models import Badge
from perfapp.stories import bp, services
from perfapp.stories.forms import parse_story


def _refuse(status: int, message: str) -> Response:
    db.session.rollback()
    return render("errors/page.html", "errors/_error.html", target="story-form", status=status, message=message)


@bp.route("/")
@login_required
def index() -> Response:
    """Published stories, filtered by one value or one badge (the badge page's "see all");
    above them, stories still waiting for consent."""
    values = services.value_tags()
    value_id = parse_int(request.args.get("value"))
    value = next((v for v in values if v.id == value_id), None)
    badge_id = parse_int(request.args.get("badge"))
    badge = db.session.get(Badge, badge_id) if badge_id and badge_id > 0 else None
    cursor = decode_cursor(request.args.get("before"))
    items, next_cursor = services.library(value.id if value else None, cursor, viewer=current_user,
                                          badge_id=badge.id if badge else None)
    more_url = url_for("stories.index", value=value.id if value else None, badge=badge.id if badge else None)
    return render("stories/index.html", "stories/_cards.html", target="feed-more",
                  items=items, next_cursor=next_cursor, more_url=more_url, values=values, value=value,
                  badge=badge, awaiting=services.awaiting(current_user) if cursor is None and not badge else [])


def _form_context(draft: services.Draft, form: dict, errors: dict[str, str], people: list[User]) -> dict:
    return {"draft": draft, "form": form, "errors": errors, "people": people,
            "values": services.value_tags(), "required_ids": {p.id for p in draft.required}}


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new() -> Response:
    """Promote a recognition (?source_type=&source_id=) into a story; everyone involved is asked."""
    args = request.form if request.method == "POST" else request.args
    source_type, source_id = args.get("source_type", ""), parse_int(args.get("source_id"))
    try:
        draft = services.draft(current_user, source_type, source_id)
    except PermissionError:
        return _refuse(403, _("Only HR and managers can promote recognitions into stories."))
    except LookupError:
        return _refuse(404, _("We couldn't find that recognition."))
    except services.NotEligible as e:
        return _refuse(403, e.reason or _("Only public praise can become a story. Private and "
                                          "development-only feedback never can."))
    except services.AlreadyStory as e:
        if request.method == "GET":
            flash(_("This recognition is already a story."), "info")
            return redirect(url_for("stories.detail", story_id=e.story.id), 303)
        return _refuse(409, _("This recognition is already a story."))

    if request.method == "GET":
        d = draft.data
        form = {"source_type": d.source_type, "source_id": d.source_id, "text": d.text, "tag_ids": d.tag_ids}
        return render("stories/new.html", **_form_context(draft, form, {}, draft.people))

    data = parse_story(request.form)
    try:
        story = services.promote(current_user, data)
        db.session.commit()
    except FormError as e:
        db.session.rollback()
        ids = [i for i in data.person_ids if i > 0][:services.MAX_PEOPLE * 2]
        people = list(db.session.scalars(select(User).where(User.id.in_(ids)))) if ids else []
        form = {"source_type": data.source_type, "source_id": data.source_id, "title": data.title,
                "text": data.text, "tag_ids": data.tag_ids}
        return render("stories/new.html", "stories/_form.html", target="story-form", status=422,
                      **_form_context(draft, form, e.errors, people))
    except IntegrityError:  # someone promoted the same recognition a moment ago
        return _refuse(409, _("This recognition is already a story."))
    if wants_fragment("story-form"):
        response = render("stories/_promoted.html", story=story)
        response.headers["HX-Trigger"] = "story-promoted"
        return response
    flash(_("Story saved. It will be published when everyone involved has accepted."), "success")
    return redirect(url_for("stories.detail", story_id=story.id), 303)


@bp.route("/<int:story_id>")
@login_required
def detail(story_id: int) -> Response:
    story = services.get_visible(current_user, story_id)
    if story is None:
        abort(404)
    if not current_user.is_hr and services.is_paused(story):
        return render("stories/paused.html", story=story)
    source, obj = services.source_of(story, current_user)
    return render("stories/detail.html", story=story, source=source, source_obj=obj)


@bp.route("/<int:story_id>/consent", methods=["POST"])
@login_required
def consent(story_id: int) -> Response:
    """An involved person accepts or declines; htmx gets their consent box back."""
    decision = request.form.get("decision")
    if decision not in ("accept", "decline"):
        return _refuse(400, _("Choose accept or decline."))
    try:
        story = services.respond(current_user, story_id, decision == "accept")
    except LookupError:
        abort(404)
    except PermissionError:
        return _refuse(403, _("Only the people in this story can answer."))
    db.session.commit()
    if wants_fragment(f"consent-{story_id}"):
        response = render("stories/_consent.html", story=story, compact=request.form.get("compact") == "1")
        response.headers["HX-Trigger"] = "story-consent"
        return response
    if story.is_published:
        flash(_("Thank you. The story is published."), "success")
    elif decision == "accept":
        flash(_("Thank you. The story will be published when everyone has accepted."), "success")
    else:
        flash(_("You declined. The story stays unpublished."), "info")
    return redirect(url_for("stories.detail", story_id=story.id), 303)


@bp.route("/<int:story_id>/withdraw", methods=["POST"])
@login_required
def withdraw(story_id: int) -> Response:
    try:
        services.withdraw(current_user, story_id)
    except LookupError:
        abort(404)
    except PermissionError:
        return _refuse(403, _("Only the person who promoted it, or HR, can withdraw a story."))
    db.session.commit()
    flash(_("Story withdrawn."), "info")
    return redirect(url_for("stories.index"), 303)
