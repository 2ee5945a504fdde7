"""Health check, web app manifest, service worker and the offline page."""
from __future__ import annotations

from flask import Response, current_app, json, render_template, request, url_for
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _

from perfapp.core.assets import static_url
from perfapp.core.i18n import html_lang, normalise_locale
from perfapp.pwa import bp, services


def _locale() -> str:
    """?lang= when it names a language we have, else the request's own choice.

    The offline pages the service worker precaches and the manifest are fetched by the
    browser, not by a page, so their URLs name the language: then one URL always means one
    language, whatever headers the browser sends with those fetches.
    """
    wanted = normalise_locale(request.args.get("lang"))
    if wanted is not None and wanted in current_app.config["LANGUAGES"]:
        return wanted
    return str(get_locale())


def _varies_by_person(response: Response) -> Response:
    """Without ?lang=, the language comes from the cookie, the account or Accept-Language."""
    response.vary.update(("Cookie", "Accept-Language"))
    return response


@bp.route("/healthz")
def healthz() -> Response:
    """Load-balancer check: never touches the database."""
    return Response("ok", mimetype="text/plain", headers={"Cache-Control": "no-store"})


@bp.route("/offline")
def offline() -> Response:
    """Shown by the service worker for pages it has not cached; rendered in the person's language."""
    with force_locale(_locale()):
        return _varies_by_person(Response(render_template("pwa/offline.html")))


@bp.route("/sw.js")
def service_worker() -> Response:
    """The service worker, at a fixed root URL so its scope is the whole app.

    The same text for everyone; it changes whenever a precached file or offline page does,
    so a deploy makes browsers install the new worker.
    """
    workbox_sw, workbox_prefix = services.workbox_urls()
    body = render_template(
        "pwa/sw.js",
        version=services.service_worker_version(),
        workbox_sw=workbox_sw,
        workbox_prefix=workbox_prefix,
        precache=services.precache_entries(),
        offline_pages=services.offline_pages(),
        # How long a page may take before the cached copy is shown instead.
        network_timeout=current_app.config.get("PWA_NETWORK_TIMEOUT_SECONDS", 3),
        static_prefix=url_for("static", filename=""),
        # After these POSTs the cached pages belong to another person or language.
        forget_pages_after=[url_for("auth.login"), url_for("auth.logout"),
                            url_for("people.language"), url_for("people.settings")],
    )
    return Response(body, mimetype="application/javascript", headers={
        "Cache-Control": "no-cache",
        "Service-Worker-Allowed": "/",
    })


@bp.app_context_processor
def pwa_urls() -> dict:
    def manifest_url() -> str:
        """The manifest link: names the page's language, and changes when the icons do."""
        return url_for("pwa.manifest", lang=str(get_locale()), v=services.manifest_version())

    return {"manifest_url": manifest_url}


@bp.route("/manifest.webmanifest")
def manifest() -> Response:
    """The web app manifest, in the person's language; icon URLs are versioned."""
    icons = [
        {"src": static_url("icons/icon-192.png"), "sizes": "192x192", "type": "image/png", "purpose": "any"},
        {"src": static_url("icons/icon-512.png"), "sizes": "512x512", "type": "image/png", "purpose": "any"},
        {"src": static_url("icons/maskable-192.png"), "sizes": "192x192", "type": "image/png", "purpose": "maskable"},
        {"src": static_url("icons/maskable-512.png"), "sizes": "512x512", "type": "image/png", "purpose": "maskable"},
    ]
    with force_locale(_locale()):
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
    return _varies_by_person(Response(
        json.dumps(data, ensure_ascii=False), mimetype="application/manifest+json",
        headers={"Cache-Control": "no-cache"},
    ))
