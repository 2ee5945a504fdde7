"""Jinja set-up for speed: the same templates and output, fewer instructions per page.

A feed page renders ~20 cards, each an include of includes calling dozens of helpers, so
per-call overheads add up: werkzeug's context-local proxies (request, g, current_app: a few
µs each), Flask-WTF's csrf_token() reading its config on every call, and Jinja's check, on
every `{% from ... import %}` inside an include, whether the importing template has globals
the macro module lacks (a set difference against a ChainMap, ~200 000 instructions a time),
and the set of global names it builds for every include and macro context.
"""
from __future__ import annotations

from collections import ChainMap
from types import BuiltinFunctionType, FunctionType, MethodType
from typing import Any

from flask import Flask, session, url_for
from flask.globals import _cv_app, _cv_request
from flask.templating import Environment as FlaskEnvironment
from flask_wtf.csrf import generate_csrf
from jinja2 import Template
from jinja2.runtime import Context
from jinja2.utils import _PassArg, internalcode

from perfapp.core.fragments import _recording, csrf_marker


def app_globals() -> Any:
    """The current app context's `g` without going through its proxy (None outside one)."""
    ctx = _cv_app.get(None)
    return None if ctx is None else ctx.g


def request_context() -> Any:
    """The current request context without going through a proxy (None outside one)."""
    return _cv_request.get(None)


class FastTemplate(Template):
    def _get_default_module(self, ctx: Context | None = None) -> Any:
        """Jinja's, with its check for new globals done as one set operation.

        Jinja makes a fresh (uncached) module when the importing context has globals this
        template lacks, and otherwise returns the cached one. It computes those keys as
        `ctx.globals_keys - self.globals.keys()`, a Python-level loop over a ChainMap; this
        computes the same set in C, then lets Jinja do exactly what it would have done.
        """
        if ctx is not None and not ctx.globals_keys.difference(self.globals):
            ctx = None
        return super()._get_default_module(ctx)


# Plain functions and methods: their __call__ is a method-wrapper, which never carries
# jinja_pass_arg, so Jinja's first check in Context.call is always false for them.
_PLAIN_CALLABLES = frozenset({FunctionType, BuiltinFunctionType, MethodType})


class FastContext(Context):
    def __init__(self, environment: Any, parent: dict[str, Any], name: str | None, blocks: dict[str, Any],
                 globals: Any = None) -> None:
        """Jinja's, with the globals' key set (made for every include) taken from the ChainMap's maps in C."""
        super().__init__(environment, parent, name, blocks)
        if globals is not None:
            self.globals_keys = set().union(*globals.maps) if isinstance(globals, ChainMap) else set(globals)

    @internalcode
    def call(__self, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805 (Jinja's signature)
        """Jinja's Context.call (every call in a template goes through it), with a short path for
        plain functions and methods; callables wanting the context itself take Jinja's path."""
        if type(__obj) not in _PLAIN_CALLABLES:
            return super().call(__obj, *args, **kwargs)
        pass_arg = getattr(__obj, "jinja_pass_arg", None)
        if pass_arg is _PassArg.context:
            return super().call(__obj, *args, **kwargs)
        if pass_arg is _PassArg.eval_context:
            args = (__self.eval_ctx, *args)
        elif pass_arg is _PassArg.environment:
            args = (__self.environment, *args)
        if kwargs:
            kwargs.pop("_block_vars", None)
            kwargs.pop("_loop_vars", None)
        try:
            return __obj(*args, **kwargs)
        except StopIteration:
            return __self.environment.undefined(
                "value was undefined because a callable raised a StopIteration exception")


class FastEnvironment(FlaskEnvironment):
    template_class = FastTemplate
    context_class = FastContext


# --- url_for for templates ---------------------------------------------------------------
# A feed card links its author, recipient, detail page, reaction form, thread and report
# sheet: ~150 url_for calls a page at ~50 000 instructions each. Given the endpoint, the
# argument names and any short identifier-like string arguments (target types), the URL is a
# fixed text with the integer arguments in between. The first call for such a shape builds
# the URL with Flask from marker numbers, cuts the text around them and checks the result
# against Flask for other numbers; later calls only put the numbers in. Anything else
# (negative or non-int numbers, other strings, None, _anchor/_external...) goes to Flask.

_PROBES = ((9_107_304_481_337, 9_107_304_481_631, 9_107_304_482_011, 9_107_304_482_503), (0, 7, 42, 90_001),
           (123_456, 5, 0, 31))


def _url_parts(endpoint: str, shape: tuple[tuple[str, ...], ...]) -> tuple[Any, ...] | None:
    """(text, i, text, i, ..., text): the URL is the texts joined by the i-th integer argument;
    None when URLs of this shape are not like that. shape: (name,) per integer argument,
    (name, value) per string argument, in call order."""
    slots = [entry[0] for entry in shape if len(entry) == 1]
    if endpoint.startswith(".") or not slots or len(slots) > len(_PROBES[0]) or any(
            entry[0].startswith("_") for entry in shape):
        return None

    def values(numbers: tuple[int, ...]) -> dict[str, Any]:
        given = iter(numbers)
        return {entry[0]: (next(given) if len(entry) == 1 else entry[1]) for entry in shape}

    try:
        url = url_for(endpoint, **values(_PROBES[0]))
    except Exception:  # noqa: BLE001 (the real call raises it again)
        return None
    markers = [str(n) for n in _PROBES[0][:len(slots)]]
    if not url.startswith("/") or any(url.count(m) != 1 for m in markers):
        return None
    parts: list[Any] = []
    start = 0
    for pos, index in sorted((url.find(m), i) for i, m in enumerate(markers)):
        parts += [url[start:pos], index]
        start = pos + len(markers[index])
    parts.append(url[start:])
    template = tuple(parts)
    for probe in _PROBES[1:]:
        if _fill(template, probe) != url_for(endpoint, **values(probe)):
            return None
    return template


def _fill(template: tuple[Any, ...], numbers: tuple[int, ...] | list[int]) -> str:
    out = template[0]
    for i in range(1, len(template), 2):
        out += str(numbers[template[i]]) + template[i + 1]
    return out


def template_url_for(endpoint: str, **values: Any) -> str:
    """flask.url_for, as templates call it (see above)."""
    ctx = request_context()
    if ctx is None or not values:
        return url_for(endpoint, **values)
    numbers: list[int] = []
    shape: list[tuple[str, ...]] = []
    for name, value in values.items():
        kind = type(value)
        if kind is int and value >= 0:
            numbers.append(value)
            shape.append((name,))
        elif kind is str and len(value) <= 32 and value.isidentifier():
            shape.append((name, value))
        else:
            return url_for(endpoint, **values)
    templates = ctx.app.extensions["url_templates"]
    key = (ctx.request.root_path, endpoint, *shape)
    template = templates.get(key, False)
    if template is False:
        template = _url_parts(endpoint, tuple(shape)) if _simple_routing(ctx.app) else None
        if len(templates) < 4096:
            templates[key] = template
    if template is None:
        return url_for(endpoint, **values)
    return _fill(template, numbers)


def _simple_routing(app: Flask) -> bool:
    """No host or subdomain routing and no url_defaults hooks: a path depends only on its arguments."""
    simple = app.extensions.get("url_templates_simple")
    if simple is None:
        simple = (not app.url_map.host_matching and not app.subdomain_matching and not app.url_default_functions
                  and all(not rule.subdomain and not rule.host for rule in app.url_map.iter_rules()))
        app.extensions["url_templates_simple"] = simple
    return simple


def init_templating(app: Flask) -> None:
    """Swap in the faster csrf_token() and url_for() globals (call after CSRFProtect.init_app)."""
    field = app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")

    # Signed tokens by the session's raw token. Flask-WTF signs the raw token with the time on
    # every request; with no time limit (WTF_CSRF_TIME_LIMIT = None) any signature of the same
    # raw token is as good, so one per session is kept: pages stay byte-identical between
    # requests and the page cache can reuse their compressed bytes (perfapp.core.pagecache).
    signed: dict[str, str] = {}
    memo = app.config.get("WTF_CSRF_TIME_LIMIT", 3600) is None

    def csrf_token() -> str:
        """Flask-WTF's generate_csrf(): the token it keeps on `g` for this app context, else a new one."""
        if _recording.get():
            return csrf_marker()  # a cached card: filled in on every use (perfapp.core.fragments)
        g = app_globals()
        token = None if g is None else g.__dict__.get(field)
        if token is not None:
            return token
        raw = session.get(field) if memo else None
        if raw is not None and (token := signed.get(raw)) is not None:
            setattr(g, field, token)  # where generate_csrf() looks first
            return token
        token = generate_csrf()
        raw = session.get(field) if memo else None
        if raw is not None:
            if len(signed) > 50_000:
                signed.clear()
            signed[raw] = token
        return token

    app.jinja_env.globals["csrf_token"] = csrf_token
    app.extensions["url_templates"] = {}
    app.jinja_env.globals["url_for"] = template_url_for
    # Flask-WTF also puts generate_csrf into every template context, which wins over globals.
    app.context_processor(lambda: {"csrf_token": csrf_token})
