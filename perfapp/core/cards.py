"""Cards: a record as lists show it, rendered once and shared by every viewer who sees the same HTML.

A card's HTML depends on its record (whose version moves whenever what the card shows changes:
perfapp.core.versions), the language (not the timezone: dates are written in the organisation's,
and the browser writes them in the person's, recent ones as "3 minutes ago"), and a few *viewer facets*: whether the author is
shown, whether the viewer may promote or report it, which reactions are the viewer's own,
whether the viewer is the person it is about. Each card kind derives its facets in one function
from a light row (the record's id, version and the few columns the facets need), so a page is:

1. one keyset query for the ids it shows (the domain's list service);
2. one query for those rows' versions and facet columns (`render` here) — or both as one
   statement (`with_light_rows`, then `plan_rows`): Home and profiles do that;
3. cached cards for those keys; only the missing records are loaded and rendered.

Cards carry nothing per session (the CSRF token travels once per page in `hx-headers`) or per
second (relative times are formatted in the browser), so cached HTML never goes stale by itself.
The cache lives in each worker process (cachetools' LRU, bounded by characters): nothing is
invalidated, a new version is a new key, and old entries age out.
"""
from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from cachetools import LRUCache
from flask import current_app, g, has_request_context, render_template, request
from flask_babel import get_locale
from markupsafe import Markup
from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm.exc import DetachedInstanceError

from perfapp.core.db import SAFE_METHODS, run
from perfapp.extensions import db

Facets = Hashable


@dataclass(frozen=True)
class CardKind:
    """How one kind of record renders as a card."""

    name: str
    template: str
    model: Any  # a Versioned model
    var: str  # the record's name in the template
    #: the columns `facets` reads, besides id and version
    columns: tuple[str, ...]
    #: (light rows, viewer, options) -> {id: facets}; the one place a viewer's facets are derived
    facets: Callable[[Sequence[Any], Any, dict[str, Any]], Mapping[int, Facets]]
    #: ids -> {id: record with what the card shows loaded}
    load: Callable[[list[int]], dict[int, Any]]
    #: records -> {id: what its card shows besides the record, the same for every viewer} (the
    #: reaction counts): kept with the record, as the record's version moves when it changes
    shared: Callable[[list[Any]], dict[int, Any]] = field(default=lambda records: {})
    #: (a record's shared value, a viewer's facets) -> the extra template context (their reactions)
    context: Callable[[Any, Facets], dict[str, Any]] = field(default=lambda shared, facets: {})
    #: (ids, viewer) -> {id: HTML shown instead to this viewer} (a post they reported)
    replaced: Callable[[list[int], Any], dict[int, Markup]] = field(default=lambda ids, viewer: {})
    #: model -> labelled columns the light rows also read about the viewer (bind parameter
    #: "viewer_id"), e.g. their own reactions: facets then need no statement of their own
    viewer_columns: Callable[[Any], tuple[Any, ...]] = field(default=lambda model: ())


_lock = threading.Lock()
_making_store = threading.Lock()
#: cards found and rendered in this process (gunicorn.conf.py logs them when a worker exits)
stats: Counter[str] = Counter()
_cache: LRUCache[Hashable, str] | None = None


def _store() -> LRUCache[Hashable, str]:
    global _cache
    if _cache is None:
        with _making_store:  # not _lock: _store() may be called with it held
            if _cache is None:
                _cache = LRUCache(maxsize=current_app.config.get("CARD_CACHE_CHARS", 64_000_000), getsizeof=len)
    return _cache


def clear() -> None:
    """Forget every cached card (tests)."""
    with _lock:
        if _cache is not None:
            _cache.clear()
        _records.clear()


def light_rows(kind: CardKind, ids: Sequence[int], viewer: Any) -> list[Any]:
    """The rows' ids, versions and facet columns (the viewer's among them), in one query."""
    if not ids:
        return []
    return list(run(_light_rows(kind), {"ids": list(ids), "viewer_id": getattr(viewer, "id", None)}))


def _light_columns(kind: CardKind) -> list[Any]:
    model = kind.model
    # created_at too: a restored backup or an emptied test database reuses ids (and versions
    # start at 1 again), so (id, version) alone could name another row's card.
    return [model.id, model.version, model.created_at, *(getattr(model, name) for name in kind.columns),
            *kind.viewer_columns(model)]


@cache
def _light_rows(kind: CardKind) -> Select:
    """Built once per kind (building a statement costs more than SQLite running it)."""
    return select(*_light_columns(kind)).where(kind.model.id.in_(bindparam("ids", expanding=True)))


def with_light_rows(kind: CardKind, page: Select) -> Select:
    """A list's keyset page (a statement selecting the rows' `id` and `created_at`, newest
    first) together with those rows' light rows, in its order, as one statement: a page of
    cards is then one statement for its ids, versions and facet columns, not two. Build it
    once per page shape (cache the result): building costs more than running it. Its rows
    are light rows, ready for `plan_rows`."""
    listed = page.subquery()
    model = kind.model
    return (select(*_light_columns(kind)).join_from(listed, model, model.id == listed.c.id)
            .order_by(listed.c.created_at.desc(), listed.c.id.desc()))


def render(kind: CardKind, ids: Sequence[int], viewer: Any, **options: Any) -> Cards:
    """The cards for these ids, in order, as `viewer` sees them (ids no longer there are left out)."""
    return Cards.of(plan(kind, ids, viewer, **options), ids)


def render_map(kind: CardKind, ids: Sequence[int], viewer: Any, **options: Any) -> dict[int, Markup]:
    """{id: card} for these ids as `viewer` sees them (ids no longer there are left out)."""
    return plan(kind, ids, viewer, **options).html()


class Plan:
    """Some cards of one kind as a viewer sees them: their keys now (one query for versions and
    facets), their HTML when first asked for (cached cards, the missing ones rendered)."""

    __slots__ = ("kind", "viewer", "keys", "facets", "replaced", "_html")

    def __init__(self, kind: CardKind, viewer: Any, keys: dict[int, tuple[Any, ...]],
                 facets: Mapping[int, Facets], replaced: dict[int, Markup]) -> None:
        self.kind, self.viewer, self.keys, self.facets, self.replaced = kind, viewer, keys, facets, replaced
        self._html: dict[int, Markup] | None = None

    def __contains__(self, card_id: object) -> bool:
        """Whether this card is still there to show (a row or, for its reporter, a placeholder)."""
        return card_id in self.keys or card_id in self.replaced

    def html(self) -> dict[int, Markup]:
        if self._html is None:
            self._html = self._render()
        return self._html

    def _render(self) -> dict[int, Markup]:
        kind, keys = self.kind, self.keys
        use_cache = current_app.config.get("CARD_CACHE", True)
        store = _store()
        html: dict[int, str] = {}
        if use_cache:
            with _lock:
                for i, key in keys.items():
                    found = store.get(key)
                    if found is not None:
                        html[i] = found
        missing = [i for i in keys if i not in html]
        stats["found"] += len(html)
        stats["rendered"] += len(missing)
        if missing:
            rendered, current = _rendered(kind, {i: keys[i] for i in missing}, self.facets, use_cache)
            html.update(rendered)
            if use_cache:
                with _lock:
                    for i in current:  # rendered at the version its key names
                        store[keys[i]] = rendered[i]
        out = {i: Markup(text) for i, text in html.items()}
        out.update(self.replaced)
        return out


#: (kind, id, (version, created_at)) -> (record, its shared value): what a card was last rendered
#: from, for its other renderings in this worker (the other language, other viewers' facets: on
#: the praise wall a new post is rendered about eight times per worker, and loading it was most of
#: each). Detached records: kept only once the request that loaded them has let go of them.
_records: LRUCache[Hashable, tuple[Any, Any]] = LRUCache(maxsize=2048)


def _rendered(kind: CardKind, keys: dict[int, tuple[Any, ...]], facets: Mapping[int, Facets],
              reuse: bool) -> tuple[dict[int, str], set[int]]:
    """The HTML of these cards as these facets have it, rendered from kept records where there
    are (a page view's), else loaded; and which of them show their record at the version its key
    names (not one written since the keys were read: such a card is shown, never kept)."""
    reuse = reuse and has_request_context() and request.method in SAFE_METHODS
    sources: dict[int, tuple[Any, Any]] = {}
    if reuse:
        # Loaded by this request already (the praise wall renders its new cards in every
        # language), else kept from an earlier request's.
        loaded = g.get("_card_records", {})
        with _lock:
            for i, key in keys.items():
                found = loaded.get(key[:3]) or _records.get(key[:3])
                if found is not None:
                    sources[i] = found
    current = set(sources)
    stats["from kept records"] += len(current)
    if need := [i for i in keys if i not in sources]:
        records = kind.load(need)
        shared = kind.shared(list(records.values()))
        sources.update((i, (record, shared.get(i))) for i, record in records.items())
        current.update(i for i, record in records.items() if record.version == keys[i][2][0])
        if reuse:
            g.setdefault("_card_records", {}).update((keys[i][:3], sources[i]) for i in need if i in current)
    html = {}
    for i, (record, shared_value) in sources.items():
        try:
            html[i] = render_template(kind.template, **{kind.var: record}, f=facets[i],
                                      **kind.context(shared_value, facets[i]))
        except DetachedInstanceError:  # a kept record lacks what this rendering reads: load it
            with _lock:
                _records.pop(keys[i][:3], None)
            again, fresh = _rendered(kind, {i: keys[i]}, facets, reuse=False)
            html.update(again)
            current.discard(i)
            current.update(fresh)
    return html, current


def keep_records(_error: BaseException | None = None) -> None:
    """teardown_appcontext: the records this request loaded for cards, detached from its session
    (so no other thread's rendering can load through it), kept for their other renderings."""
    loaded = g.pop("_card_records", None)
    if loaded:
        db.session.expunge_all()  # the session is about to be removed: nothing else uses it now
        with _lock:
            for key, source in loaded.items():
                _records[key] = source


def plan(kind: CardKind, ids: Sequence[int], viewer: Any, **options: Any) -> Plan:
    """The keys of these cards as `viewer` sees them; their HTML comes later (Plan.html)."""
    if not ids:
        return Plan(kind, viewer, {}, {}, {})
    replaced = kind.replaced(list(ids), viewer)
    return _plan(kind, light_rows(kind, [i for i in ids if i not in replaced], viewer), viewer, replaced, options)


def plan_rows(kind: CardKind, rows: Sequence[Any], viewer: Any, **options: Any) -> Plan:
    """`plan` for light rows already read (a statement made with `with_light_rows`, run with
    the bind parameter "viewer_id" set to the viewer's id)."""
    if not rows:
        return Plan(kind, viewer, {}, {}, {})
    replaced = kind.replaced([row.id for row in rows], viewer)
    return _plan(kind, [row for row in rows if row.id not in replaced], viewer, replaced, options)


def _plan(kind: CardKind, rows: Sequence[Any], viewer: Any, replaced: dict[int, Markup],
          options: dict[str, Any]) -> Plan:
    facets = kind.facets(rows, viewer, options)
    where = str(get_locale())
    keys = {row.id: (kind.name, row.id, (row.version, row.created_at), where, facets[row.id]) for row in rows}
    return Plan(kind, viewer, keys, facets, replaced)


class Cards(Sequence[Markup]):
    """A page's cards in order, possibly of several kinds. A kept page (perfapp.core.pages) is
    keyed by `page_key()`, the cards' keys, which name everything a card's HTML shows: a page
    found again never reads its cards. `{{ cards }}` writes them all, one per line."""

    __slots__ = ("_order", "_html")

    def __init__(self, order: list[tuple[Plan, int]]) -> None:
        self._order = order
        self._html: list[Markup] | None = None

    @classmethod
    def of(cls, plan: Plan, ids: Sequence[int]) -> Cards:
        return cls([(plan, i) for i in ids if i in plan])

    def page_key(self) -> str:
        # repr: one C call over ints, strings, dates and named tuples (a card key's parts) rather
        # than a digest call per part; within one process equal keys have equal reprs.
        return repr([plan.keys.get(i) or str(plan.replaced[i]) for plan, i in self._order])

    def _cards(self) -> list[Markup]:
        if self._html is None:
            found = {id(plan): plan.html() for plan, _i in self._order}
            self._html = [found[id(plan)][i] for plan, i in self._order if i in found[id(plan)]]
        return self._html

    def __getitem__(self, index: Any) -> Any:
        return self._cards()[index]

    def __len__(self) -> int:
        return len(self._cards())

    def __bool__(self) -> bool:
        return bool(self._order)

    def __iter__(self) -> Any:
        return iter(self._cards())

    def __html__(self) -> str:
        return Markup("\n").join(self._cards())


def fragment(key: Hashable, make: Callable[[], str]) -> Markup:
    """A piece of HTML shared by every viewer, cached with the cards under `key` (which must name
    the versions of the records it shows, the language and the timezone, like a card's key)."""
    use_cache = current_app.config.get("CARD_CACHE", True)
    store = _store()
    if use_cache:
        with _lock:
            found = store.get(("fragment", key))
        if found is not None:
            return Markup(found)
    text = str(make())
    if use_cache:
        with _lock:
            store[("fragment", key)] = text
    return Markup(text)


def facets_of(kind: CardKind, record: Any, viewer: Any, **options: Any) -> Facets:
    """One loaded record's facets (a card included directly, on the record's own page), derived by
    the same function as in lists."""
    return kind.facets([record], viewer, options)[record.id]
