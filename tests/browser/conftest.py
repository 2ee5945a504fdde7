"""Browser journeys: the real app on a live server, driven by Debian's Chromium through Playwright.

One server and one browser per session; each test gets fresh tables with a small seeded
organisation and new phone-sized browser contexts. The server has its own SQLite file and
its own app object, so tests/conftest.py's session app and its cleanup never touch it.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, got_request_exception
from werkzeug.serving import make_server

from perfapp import create_app
from perfapp.config import TestConfig
from perfapp.core import cards, pages
from perfapp.core.db import empty_table
from perfapp.extensions import db
from tests.conftest import _database_url

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
LOCALES = {"zh": "zh-CN", "en": "en-US"}
PHONE: dict[str, Any] = {
    "viewport": {"width": 360, "height": 740}, "device_scale_factor": 2,
    "is_mobile": True, "has_touch": True,
}
HERE = Path(__file__).resolve().parent
SCREENS = HERE.parent.parent / "test-results" / "screens"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.browser)
            # A real browser on a busy 2-core machine sometimes misses a timing window
            # (service-worker start-up, background sync); a broken feature fails all three tries.
            item.add_marker(pytest.mark.flaky(reruns=2, reruns_delay=2))


@pytest.fixture(autouse=True)
def _clean_db() -> None:
    """Replaces tests/conftest.py's cleanup: this suite empties its own database (see `org`)."""


# --- the live server -------------------------------------------------------------

@dataclass
class LiveServer:
    app: Flask
    url: str
    errors: list[BaseException] = field(default_factory=list)


def _identity_encoding(app: Flask) -> Callable[..., Any]:
    """Serve static files as they are on disk now: WhiteNoise prefers a .br/.gz next to a file,
    and one left by an earlier `make run` may be older than the file (CI has none)."""

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        environ.pop("HTTP_ACCEPT_ENCODING", None)
        return app(environ, start_response)

    return wsgi


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    # SQLite by default; PostgreSQL when TEST_DATABASE_URL is set, like the rest of the suite.
    url = _database_url(str(tmp_path_factory.mktemp("browser-db")))

    class BrowserConfig(TestConfig):
        SQLALCHEMY_DATABASE_URI = url
        # A busy CI machine can take over 3 s for a page; the journeys want the network's
        # answer then, not a cached copy (the offline tests fail fast, so still use the cache).
        PWA_NETWORK_TIMEOUT_SECONDS = 30

    app = create_app(BrowserConfig)
    with app.app_context():
        db.drop_all()  # a PostgreSQL database may hold an older run's schema
        db.create_all()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", 0, _identity_encoding(app), threaded=True)
    live = LiveServer(app=app, url=f"http://127.0.0.1:{server.server_port}")

    def record(_sender: Flask, exception: BaseException, **_kw: Any) -> None:
        live.errors.append(exception)

    got_request_exception.connect(record, app)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield live
    server.shutdown()
    thread.join(10)
    server.server_close()
    got_request_exception.disconnect(record, app)
    with app.app_context():
        db.engine.dispose()


# --- a small organisation, fresh for every test ----------------------------------------

PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class Person:
    id: int
    name: str
    email: str


@dataclass(frozen=True)
class Org:
    boss: Person        # 王伟, manages 李娜
    lina: Person        # 李娜 (pinyin "lina", initials "ln")
    emma: Person        # Emma Wilson
    zhang: Person       # 张敏
    james: Person       # James Brown
    project_id: int
    milestone_id: int
    tag_id: int


def _empty_tables() -> None:
    with db.engine.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            empty_table(conn, table)


def _seed() -> Org:
    from datetime import date

    from perfapp.auth.services import hash_password
    from perfapp.feedback.models import Tag
    from perfapp.people.models import User
    from perfapp.projects.models import Milestone, Project

    password_hash = hash_password(PASSWORD)

    def person(name: str, email: str, title: str, manager: User | None = None) -> User:
        user = User(email=email, title=title, password_hash=password_hash)
        user.set_name(name)
        if manager is not None:
            user.manager = manager
        db.session.add(user)
        return user

    boss = person("王伟", "wang.wei@example.com", "Engineering manager")
    lina = person("李娜", "lina@example.com", "Product designer", manager=boss)
    emma = person("Emma Wilson", "emma@example.com", "Backend engineer", manager=boss)
    zhang = person("张敏", "zhang.min@example.com", "QA engineer")
    james = person("James Brown", "james@example.com", "Sales lead")
    project = Project(name="Apollo", members=[boss, lina, emma])
    milestone = Milestone(name="Launch", due_date=date(2026, 12, 1))
    project.milestones = [milestone]
    tag = Tag(kind="value", name_en="Ownership", name_zh="担当", key="ownership")
    db.session.add_all([project, tag])
    db.session.commit()

    def p(u: User) -> Person:
        return Person(u.id, u.name, u.email)

    org = Org(p(boss), p(lina), p(emma), p(zhang), p(james), project.id, milestone.id, tag.id)
    db.session.commit()
    return org


@pytest.fixture()
def org(live_server: LiveServer) -> Iterator[Org]:
    # Outside a request every transaction here is a write (BEGIN IMMEDIATE): end it before
    # the test, or the server would wait on SQLite's lock.
    with live_server.app.app_context():
        _empty_tables()
        cards.clear()  # ids restart: a card kept from the last test must not name this one's rows
        pages.clear()  # and kept pages show those cards
        seeded = _seed()
        db.session.remove()
    # A request the previous test's page left in flight (a poll, a background sync) can meet the
    # wipe above and fail on a row that just went; that is no fault of this test's, and left in
    # the list it would fail every test after it. What this test's own requests raise still fails it.
    live_server.errors.clear()
    yield seeded
    assert not live_server.errors, f"the server raised: {live_server.errors!r}"


@pytest.fixture()
def in_app(live_server: LiveServer) -> Callable[..., Any]:
    """in_app(fn, *args): run fn inside the live app's context (to seed or to check rows)."""

    def run(fn: Callable[..., Any], *args: Any) -> Any:
        with live_server.app.test_request_context():
            try:
                return fn(*args)
            finally:
                db.session.remove()

    return run


# --- the browser ---------------------------------------------------------------------------

@pytest.fixture(scope="session")
def playwright() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (make test installs Debian's chromium)")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=10_000)  # shared 2-core machines are slow at times
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright: Any) -> Iterator[Any]:
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@dataclass
class Phone:
    """A phone-sized context and its page, with what went wrong in its JavaScript."""

    context: Any
    page: Any
    lang: str
    page_errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)


def watch(phone: Phone) -> Phone:
    phone.page.on("pageerror", lambda e: phone.page_errors.append(str(e)))
    phone.page.on("console", lambda m: m.type == "error" and phone.console_errors.append(m.text))
    return phone


# Names where a Content-Security-Policy violation came from (the console's own message does not).
CSP_REPORTER = """
document.addEventListener("securitypolicyviolation", function (e) {
  console.error("Content Security Policy violation: " + [e.violatedDirective, e.blockedURI, e.sourceFile,
                e.lineNumber, e.columnNumber, e.sample].join(" | "));
});
"""


@pytest.fixture()
def phone(browser: Any, live_server: LiveServer, org: Org) -> Iterator[Callable[[str], Phone]]:
    """phone("zh"|"en") -> a new phone context (360×740, touch, that locale) with one page."""
    opened: list[Phone] = []

    def open_phone(lang: str) -> Phone:
        context = browser.new_context(base_url=live_server.url, locale=LOCALES[lang], **PHONE)
        context.set_default_timeout(10_000)
        context.add_init_script(CSP_REPORTER)
        p = watch(Phone(context=context, page=context.new_page(), lang=lang))
        opened.append(p)
        return p

    yield open_phone
    for p in opened:
        p.context.close()
    for p in opened:
        assert not p.page_errors, f"JavaScript errors: {p.page_errors}"
        # Every journey doubles as a Content-Security-Policy check (perfapp.core.security).
        violations = [m for m in p.console_errors if "Content Security Policy" in m or "Permissions-Policy" in m]
        assert not violations, f"CSP violations: {violations}"


@pytest.fixture()
def shot() -> Callable[[Any, str, str], None]:
    """shot(page, name, lang): save test-results/screens/<name>-<lang>.png for reviewers."""
    SCREENS.mkdir(parents=True, exist_ok=True)

    def take(page: Any, name: str, lang: str) -> None:
        page.screenshot(path=str(SCREENS / f"{name}-{lang}.png"), animations="disabled")

    return take


@pytest.fixture()
def tr(live_server: LiveServer) -> Callable[..., str]:
    """tr("Settings", "zh") -> that string as the app shows it in that language (catalog permitting)."""
    from flask_babel import force_locale, gettext

    def translate(text: str, lang: str, **variables: Any) -> str:
        with live_server.app.test_request_context(), force_locale("zh_Hans_CN" if lang == "zh" else "en"):
            return gettext(text, **variables)

    return translate


@pytest.fixture()
def log_in() -> Callable[[Any, Person], None]:
    """log_in(page, person): through the form, as a person would, landing on Home."""

    def do(page: Any, person: Person) -> None:
        page.goto("/auth/login")
        page.fill("#email", person.email)
        page.fill("#password", PASSWORD)
        page.locator("form.card button.btn-primary").click()
        page.wait_for_url("**/")
        page.locator("nav.tabbar").wait_for()

    return do
