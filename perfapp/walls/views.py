"""Walls: the praise wall (praise, flowers and badges), people's badge walls, the company's badges."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Response, abort, current_app, render_template, request, url_for
from flask_babel import force_locale, get_locale
from flask_login import current_user, login_required
from markupsafe import Markup

from perfapp.core import cards, pages
from perfapp.core.changes import PUBLIC
from perfapp.core.htmx import redirect, render, wants_fragment
from perfapp.core.ui import more_loader
from perfapp.core.validation import parse_int
from perfapp.extensions import db
from perfapp.feedback.services import TagLabel
from perfapp.people.models import User
from perfapp.people.services import profile_head, profile_section_html
from perfapp.recognition.badges import award_refusal, catalogue, earned, recognition_of
from perfapp.recognition.models import AWARDERS, Badge
from perfapp.recognition.ui import badge_icon
from perfapp.stories.services import library
from perfapp.walls import bp, services
from perfapp.walls.cards import SharedRows, shared_rows, viewer_cards

BADGE_STORIES = 3  # a glance on a phone; "see all" opens the library filtered by the badge


def _wall_filter() -> services.WallFilter:
    def positive(name: str) -> int | None:
        value = parse_int(request.args.get(name))
        return value if value and value > 0 else None

    period = request.args.get("period", "")
    return services.WallFilter(department_id=positive("department"), tag_id=positive("tag"),
                               badge_id=positive("badge"), period=period if period in services.PERIODS else "")


@dataclass(frozen=True)
class WallBody:
    """What every viewer's praise wall page is made of, made once per change to anything public
    (pages.shared_value), in every language at once: the items, the rows their cards are planned
    from, and, per language, the HTML around the cards (the strips, the filter, the feed's frame),
    split where the cards go."""

    items: tuple[services.WallItem, ...]
    next_cursor: Any
    rows: SharedRows
    #: language -> the HTML before the cards, after them, and the "load more" link (the same for
    #: every viewer of this filter and cursor)
    around: dict[str, tuple[pages.Digested, pages.Digested, pages.Digested]]


@dataclass(frozen=True)
class Strips:
    """What the first page shows above the cards, read once for every language: this month's
    values, the newest awards' versions and, on a filtered wall, the filter's options."""

    top_values: list[tuple[Any, int]]
    newest: tuple[tuple[int, int, Any], ...]
    options: dict[str, list[Any]] | None

    @classmethod
    def read(cls, wall_filter: services.WallFilter, cursor: services.Cursor | None) -> Strips | None:
        """The first page's strips (None for a later page: it shows none)."""
        if cursor is not None:
            return None
        return cls(services.top_values(), services.newest_award_versions(),
                   services.filter_options() if wall_filter.active else None)


def _around(wall_filter: services.WallFilter, cursor: services.Cursor | None, items: list[services.WallItem],
            next_cursor: Any, strips: Strips | None) -> tuple[pages.Digested, pages.Digested, pages.Digested]:
    """The wall's HTML before and after its cards, and its "load more" link, in the request's
    language (`strips`: the first page's, None on the others)."""
    context: dict[str, Any] = {"has_items": bool(items), "wall_filter": wall_filter, "feed": pages.PLACEHOLDER}
    if strips is not None:
        # Plain values: each value as a label in this language.
        context.update(top_values=[(TagLabel.of(tag), n) for tag, n in strips.top_values],
                       newest_strip=newest_strip(strips.newest), options=strips.options)
    before, _cards, after = render_template("walls/_wall.html", **context).partition(pages.PLACEHOLDER)
    more = more_loader(url_for("walls.praise", **wall_filter.args()), next_cursor)
    return pages.Digested(Markup(before)), pages.Digested(Markup(after)), pages.Digested(more)


def _wall() -> tuple[pages.Parts, pages.Parts]:
    """This request's wall (the part spliced into the page) and its feed (the cards and the
    "load more" link, the fragment infinite scroll loads)."""
    wall_filter = _wall_filter()
    cursor = services.decode_cursor(request.args.get("before"))
    viewer = current_user._get_current_object()

    def make() -> WallBody:
        items, next_cursor = services.praise_wall(viewer, wall_filter, cursor)
        rows = shared_rows(items)
        strips = Strips.read(wall_filter, cursor)
        around = {}
        # Every language in one making: a worker makes the wall once per change, not once per
        # language (each making is one slow request; at a few public writes a second, making it
        # per language put twice as many of them among every hundred requests). The new cards
        # are rendered for this viewer too (most are bystanders, whose cards every other
        # bystander shares), in each language, while the worker's other threads still answer
        # the wall made before (kept in the card cache: without it, nothing to do).
        for language in current_app.config["LANGUAGES"]:
            with force_locale(language):
                around[language] = _around(wall_filter, cursor, items, next_cursor, strips)
                if current_app.config.get("CARD_CACHE", True):
                    viewer_cards(items, rows, viewer).__html__()
        return WallBody(tuple(items), next_cursor, rows, around)

    body: WallBody = pages.shared_value("praise wall", (viewer.is_hr, wall_filter, cursor), make)
    # (a language not in LANGUAGES, which no one's setting can name: made for this request)
    before, after, more = (body.around.get(str(get_locale()))
                           or _around(wall_filter, cursor, list(body.items), body.next_cursor,
                                      Strips.read(wall_filter, cursor)))
    feed = pages.Parts((viewer_cards(body.items, body.rows, viewer), more))
    return pages.Parts((before, feed, after)), feed


@bp.route("/")
@login_required
def praise() -> Response:
    """The praise wall: public praise, flowers and badges, filterable; infinite scroll loads
    the next page as a fragment. Every public write anywhere changes it for every viewer, so its
    wall is spliced into the page kept around it (perfapp.core.pages), made from what is shared
    by every viewer (`WallBody`), and found before the view (`_wall_part`)."""
    wall, feed = _wall()
    # The fragment writes only the feed; the page only the wall (its kept copy is keyed by the rest).
    shown: dict[str, Any] = {"feed": feed} if wants_fragment("feed-more") else {"wall": wall}
    return render("walls/praise.html", "walls/_items.html", target="feed-more", keep=True, splice="wall", **shown)


def _wall_part() -> pages.Parts | None:
    """The wall spliced into a kept praise wall page, before the view (the page, not its fragment)."""
    return None if wants_fragment("feed-more") else _wall()[0]


pages.stamped("walls.praise", part=_wall_part, shared=PUBLIC)


def newest_strip(versions: tuple[tuple[int, int, Any], ...]) -> Markup:
    """The newest badges strip (`services.newest_award_versions`), rendered once per set of award
    versions and language."""
    if not versions:
        return Markup("")
    return cards.fragment(("newest badges", versions, str(get_locale())),
                          lambda: render_template("walls/_newest.html", newest=services.newest_awards()))


@bp.route("/filter")
@login_required
def wall_filter_form() -> Response:
    """The filter sheet's form, loaded when it is first opened (a page of its own without htmx)."""
    return render("walls/filter.html", "walls/_filter_form.html", target="wall-filter-body",
                  wall_filter=_wall_filter(), options=services.filter_options())


@dataclass(frozen=True)
class BadgeCell:
    """One badge in a badge wall's grid, drawn in the page's language."""

    badge_id: int
    name: str
    icon: Markup
    count: int


@bp.route("/people/<int:person_id>")
@login_required
def person(person_id: int) -> Response:
    """A person's badge wall: badges as a grid, flowers received, top tags. Kept per viewer
    (perfapp.core.pages): the person, the badges and the tags are passed as plain values."""
    person = profile_head(person_id)
    if person is None:  # no one, or the stand-in for erased people (no page)
        abort(404)
    held, flowers = recognition_of(person, current_user)
    return render("walls/person.html", keep=True, person=person,
                  holdings=[BadgeCell(h.badge.id, h.badge.name, badge_icon(h.badge), h.count) for h in held],
                  flowers=flowers,
                  top_tags=[(TagLabel.of(tag), n) for tag, n in services.person_top_tags(person)],
                  sections=[profile_section_html("before_praise", person)])


# Found by the changes to the person (their badges, flowers and tags); not the viewer's (as a profile).
pages.stamped("walls.person", about="person_id", viewers_own=False)


@bp.route("/people/<int:person_id>/badges/<int:badge_id>")
@login_required
def citations(person_id: int, badge_id: int) -> Response:
    """Why this person holds this badge (a fragment inside the grid, or a page of its own)."""
    person = db.get_or_404(User, person_id)
    badge = db.get_or_404(Badge, badge_id)
    awards = services.citations(person, badge, current_user)
    if not awards:
        abort(404)
    return render("walls/citations.html", "walls/_citations.html", target=f"citations-{badge.id}",
                  person=person, badge=badge, awards=awards, span=earned(person, badge, current_user))


@bp.route("/badges")
@login_required
def badges() -> Response:
    """Every badge, grouped by value, with how many people hold it."""
    return render("walls/badges.html", groups=services.badge_categories(catalogue()),
                  counts=services.holder_counts())


@bp.route("/badges/<int:badge_id>")
@login_required
def badge(badge_id: int) -> Response:
    """One badge: what it is for and who holds it, most recent first (infinite scroll)."""
    badge = db.get_or_404(Badge, badge_id)
    cursor = services.decode_holder_cursor(request.args.get("before"))
    holders, next_cursor = services.holders(badge, current_user, cursor)
    context: dict[str, Any] = {"badge": badge, "holders": holders, "next_cursor": next_cursor, "awarders": AWARDERS,
               "more_url": url_for("walls.badge", badge_id=badge.id)}
    if not wants_fragment("feed-more"):
        # A full page (the first one, or "Load more" followed as a plain link) has the head. The stories behind it lead the page (the holders scroll on below them), so only the
        # first page reads them, through the library's own visibility rules. Only stories told
        # from awards of this badge: a story merely tagged with the badge's value is about that
        # value (the library's value filter has it) and would put people under a badge they
        # never earned.
        stories, more_stories = library(viewer=current_user, badge_id=badge.id, limit=BADGE_STORIES)
        context.update(total=services.holder_total(badge, current_user),
                       refusal=award_refusal(current_user, badge),
                       stories=stories, more_stories=more_stories is not None)
    return render("walls/badge.html", "walls/_holders.html", target="feed-more", **context)


# Gifts and awards have their pages in recognition; links already sent (inbox mail, push) still work.
@bp.route("/flowers/<int:gift_id>")
def flower(gift_id: int) -> Response:
    return redirect(url_for("recognition.flower_gift", gift_id=gift_id), 308)


@bp.route("/awards/<int:award_id>")
def award(award_id: int) -> Response:
    return redirect(url_for("recognition.badge_award", award_id=award_id), 308)
