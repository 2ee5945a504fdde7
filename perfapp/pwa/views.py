"""Health check, web app manifest, service worker and the offline page."""
from __future__ import annotations

from flask import Response, render_template

from perfapp.pwa import bp


@bp.route("/healthz")
def healthz() -> Response:
    """Load-balancer check: never touches the database."""
    return Response("ok", mimetype="text/plain", headers={"Cache-Control": "no-store"})


@bp.route("/offline")
def offline() -> str:
    """Shown by the service worker for pages it has not cached; rendered in the person's language."""
    return render_template("pwa/offline.html")


@bp.route("/manifest.webmanifest")
def manifest() -> Response:
    """The web app manifest, in the person's language; icon URLs are versioned."""
    from flask import json
    from flask_babel import gettext as _

    from perfapp.core.assets import static_url
    from perfapp.core.i18n import html_lang

    icons = [
        {"src": static_url("icons/icon-192.png"), "sizes": "192x192", "type": "image/png", "purpose": "any"},
        {"src": static_url("icons/icon-512.png"), "sizes": "512x512", "type": "image/png", "purpose": "any"},
        {"src": static_url("icons/maskable-192.png"), "sizes": "192x192", "type": "image/png", "purpose": "maskable"},
        {"src": static_url("icons/maskable-512.png"), "sizes": "512x512", "type": "image/png", "purpose": "maskable"},
    ]
    data = {
        "id": "/",
        "name": _("perfapp · feedback and recognition"),
        "short_name": "perfapp",
        "description": _("Give feedback in seconds, see good work, grow every day."),
        "lang": html_lang(),
        "start_url": "/?source=pwa",
        "scope": "/",
        "display": "standalone",
        "orientation": "portrait",
        "theme_color": "#e5484d",
        "background_color": "#f7f7f8",
        "icons": icons,
    }
    return Response(json.dumps(data, ensure_ascii=False), mimetype="application/manifest+json",
                    headers={"Cache-Control": "no-cache"})
