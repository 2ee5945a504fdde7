"""perfapp: social performance management, phone first."""
from __future__ import annotations

from flask import Flask
from whitenoise import WhiteNoise

from perfapp.config import BASE_DIR, Config


def create_app(config: type[Config] | None = None) -> Flask:
    """Build the app: extensions, blueprints, signal handlers, CLI."""
    app = Flask(
        __name__,
        template_folder=str(BASE_DIR / "templates"),
        static_folder=str(BASE_DIR / "static"),
        instance_path=str(BASE_DIR / "instance"),
    )
    app.config.from_object(config or Config)

    from perfapp.core.validation import BoundedIntConverter, CleanRequest

    app.url_map.converters["int"] = BoundedIntConverter  # before any route is added
    app.request_class = CleanRequest

    from perfapp.extensions import babel, compress, csrf, db, htmx, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(BASE_DIR / "perfapp" / "migrations"))
    csrf.init_app(app)
    htmx.init_app(app)
    if app.config.get("COMPRESS_REGISTER", True):
        compress.init_app(app)

    from perfapp.core.i18n import init_i18n, select_locale, select_timezone

    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    init_i18n(app)

    from perfapp.core import mail
    from perfapp.core.assets import init_assets
    from perfapp.core.db import init_db
    from perfapp.core.errors import init_errors
    from perfapp.core.navigation import init_navigation
    from perfapp.core.ratelimit import init_ratelimit
    from perfapp.core.security import init_security
    from perfapp.core.ui import init_ui
    from perfapp.core.versions import init_versions

    mail.check_config(app)
    mail.install()
    init_db(app)
    from perfapp.core.cards import keep_records

    # After db.init_app: teardowns run last-registered first, so this one while the session is open.
    app.teardown_appcontext(keep_records)
    init_versions(app)
    init_errors(app)
    init_security(app)
    init_ratelimit(app)
    init_assets(app)
    init_ui(app)
    init_navigation(app)

    from perfapp import models  # noqa: F401  (registers every table with the metadata)
    from perfapp.admin import bp as admin_bp
    from perfapp.audit import bp as audit_bp
    from perfapp.auth import bp as auth_bp
    from perfapp.auth.session import init_login
    from perfapp.coaching import bp as coaching_bp
    from perfapp.feedback import bp as feedback_bp
    from perfapp.feedback.views import home
    from perfapp.goals import bp as goals_bp
    from perfapp.integrations import bp as integrations_bp
    from perfapp.meetings import bp as meetings_bp
    from perfapp.meetings import views as _meeting_views  # noqa: F401  (its routes on meetings_bp)
    from perfapp.moderation import bp as moderation_bp
    from perfapp.notify import bp as notify_bp
    from perfapp.onboarding import bp as onboarding_bp
    from perfapp.people import bp as people_bp
    from perfapp.personal import bp as personal_bp
    from perfapp.projects import bp as projects_bp
    from perfapp.projects import views as _project_views  # noqa: F401  (its routes on projects_bp)
    from perfapp.pwa import bp as pwa_bp
    from perfapp.reactions import bp as reactions_bp
    from perfapp.recognition import bp as recognition_bp
    from perfapp.reviews import bp as reviews_bp
    from perfapp.stories import bp as stories_bp
    from perfapp.walls import bp as walls_bp

    init_login(app, login_manager)
    for bp in (reactions_bp, moderation_bp):
        app.register_blueprint(bp)
    for bp in (auth_bp, people_bp, feedback_bp, notify_bp, walls_bp, admin_bp, pwa_bp, recognition_bp):
        app.register_blueprint(bp)
    for bp in (stories_bp, integrations_bp, audit_bp, personal_bp, coaching_bp, onboarding_bp):
        app.register_blueprint(bp)
    app.register_blueprint(goals_bp)
    app.register_blueprint(projects_bp)
    app.register_blueprint(meetings_bp)
    app.register_blueprint(reviews_bp)
    app.add_url_rule("/", endpoint="home", view_func=home)
    # Each domain's signal handlers and registrations (reactions, moderation, stories, notify).
    from perfapp.coaching import wiring as coaching_wiring
    from perfapp.feedback import wiring as feedback_wiring
    from perfapp.goals import wiring as goals_wiring
    from perfapp.integrations import wiring as integrations_wiring
    from perfapp.meetings import wiring as meetings_wiring
    from perfapp.moderation import wiring as moderation_wiring
    from perfapp.notify import wiring as notify_wiring
    from perfapp.reactions import wiring as reactions_wiring
    from perfapp.recognition import wiring as recognition_wiring
    from perfapp.reviews import wiring as reviews_wiring
    from perfapp.stories import wiring as stories_wiring

    for wiring in (feedback_wiring, reactions_wiring, moderation_wiring, notify_wiring, stories_wiring,
                   integrations_wiring, recognition_wiring, goals_wiring, meetings_wiring, coaching_wiring,
                   reviews_wiring):
        wiring.connect(app)

    from perfapp.cli import register_cli

    register_cli(app)

    app.wsgi_app = WhiteNoise(  # type: ignore[method-assign]  # WSGI middleware, as Flask documents
        app.wsgi_app, root=str(BASE_DIR / "static"), prefix="static/",
        max_age=app.config["STATIC_MAX_AGE"],
    )
    from perfapp.core.connection import BodyGuard

    app.wsgi_app = BodyGuard(app.wsgi_app)  # type: ignore[method-assign]  # WSGI middleware, as Flask documents
    if app.config.get("TRUSTED_PROXIES"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        # The client address (rate limits, the audit log) and scheme from the proxies' headers.
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]  # WSGI middleware, as Flask documents
    from perfapp.core.pages import init_pages

    init_pages(app)  # last: its before_request hook may answer a kept page before the view
    return app
