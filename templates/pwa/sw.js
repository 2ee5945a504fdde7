/* perfapp service worker (Workbox, vendored). Rendered by perfapp.pwa.views.service_worker.
 * Version {{ version }}: changes with every precached file and offline page (their
 * templates and each language's catalog), so the browser installs a new worker after a deploy. */
"use strict";

importScripts({{ workbox_sw|tojson }});
workbox.setConfig({ modulePathPrefix: {{ workbox_prefix|tojson }}, debug: false });

// Touch every module now: workbox-sw loads them with importScripts, which only works
// while the worker first runs, not later inside an event handler.
const { core, precaching, routing, strategies, expiration, navigationPreload } = workbox;

// The offline page in each language (html lang -> URL), the default language first.
const OFFLINE_PAGES = {{ offline_pages|tojson }};
const STATIC_PREFIX = {{ static_prefix|tojson }};
const PAGES_CACHE = "perfapp-pages";
const STATIC_CACHE = "perfapp-static";
const FORGET_PAGES_AFTER = {{ forget_pages_after|tojson }};

core.setCacheNameDetails({ prefix: "perfapp" });
// Old pages keep working with a new worker (their static URLs are versioned and the server
// still answers them), so a new version takes over at once instead of waiting for every tab.
self.skipWaiting();
core.clientsClaim();
navigationPreload.enable();

// Precache without cookies. The offline pages render a CSRF token, and a response that sets
// the session cookie while the person logs in (install runs alongside the first pages) would
// overwrite their new session. Anonymous, the shell is the same for everyone anyway.
precaching.addPlugins([{
  requestWillFetch: async ({ request }) => new Request(request, { credentials: "omit" }),
}]);
precaching.cleanupOutdatedCaches();
precaching.precacheAndRoute({{ precache|tojson }});

// The language the person reads, as each page tells it (app.js). Kept in a cache too,
// because the browser stops and restarts workers whenever it likes.
const STATE_CACHE = "perfapp-state";
const LANG_KEY = "/__sw/lang";
let pageLang = null;
const knownLang = (lang) => typeof lang === "string" && Object.prototype.hasOwnProperty.call(OFFLINE_PAGES, lang);

self.addEventListener("message", (event) => {
  const data = event.data || {};
  if (data.type !== "lang" || !knownLang(data.lang) || data.lang === pageLang) return;
  pageLang = data.lang;
  event.waitUntil(caches.open(STATE_CACHE).then((c) => c.put(LANG_KEY, new Response(data.lang))));
});

async function personLang() {
  if (!pageLang) {
    const saved = await caches.match(LANG_KEY, { cacheName: STATE_CACHE });
    pageLang = saved ? await saved.text() : null;
  }
  if (knownLang(pageLang)) return pageLang;
  // Nothing told yet: the browser's languages, then the app's default.
  const langs = Object.keys(OFFLINE_PAGES);
  for (const wanted of self.navigator.languages || []) {
    const match = langs.find((l) => l.split("-")[0] === wanted.split("-")[0]);
    if (match) return match;
  }
  return langs[0];
}

// Logging in or out or switching language makes the cached pages someone else's or in the
// wrong language: forget them. No respondWith, so the POST itself goes to the network untouched.
self.addEventListener("fetch", (event) => {
  const { request } = event;
  if (request.method !== "POST") return;
  const url = new URL(request.url);
  if (url.origin === self.location.origin && FORGET_PAGES_AFTER.includes(url.pathname)) {
    event.waitUntil(caches.delete(PAGES_CACHE));
  }
});

function isHtmx(request) {
  return request.headers.get("HX-Request") === "true";
}

// Pages and their htmx fragments share URLs (responses say "Vary: HX-Request"), and which
// one the server sends also depends on HX-Target, HX-Boosted and HX-History-Restore-Request
// (perfapp.core.htmx.wants_fragment). So the cache key names the variant explicitly:
// full pages (navigations, boosted links, history restores) share the plain URL, and a
// fragment is keyed by its target.
const keyByHtmxVariant = {
  cacheKeyWillBeUsed: async ({ request }) => {
    const h = request.headers;
    if (!isHtmx(request) || h.get("HX-Boosted") === "true" || h.get("HX-History-Restore-Request") === "true") {
      return request.url.split("#")[0];
    }
    const url = new URL(request.url);
    url.searchParams.set("__hx-target", h.get("HX-Target") || "");
    return url.href;
  },
};

// Only what the server meant for this URL: no redirects (a login page under "/"),
// no errors, nothing marked no-store.
const onlyCleanResponses = {
  cacheWillUpdate: async ({ response }) => {
    if (!response || response.status !== 200 || response.redirected) return null;
    if (/no-store/.test(response.headers.get("Cache-Control") || "")) return null;
    return response;
  },
};

routing.registerRoute(
  ({ request, url }) => url.origin === self.location.origin && !url.pathname.startsWith(STATIC_PREFIX)
    && (request.mode === "navigate" || isHtmx(request)),
  new strategies.NetworkFirst({
    cacheName: PAGES_CACHE,
    networkTimeoutSeconds: {{ network_timeout|tojson }},
    plugins: [
      keyByHtmxVariant,
      onlyCleanResponses,
      new expiration.ExpirationPlugin({ maxEntries: 80, maxAgeSeconds: 14 * 24 * 3600, purgeOnQuotaError: true }),
    ],
  }),
);  // GET only (Workbox's default): a POST is never cached.

// Static files carry their content hash in the URL, so a cached copy never goes stale.
routing.registerRoute(
  ({ url }) => url.origin === self.location.origin && url.pathname.startsWith(STATIC_PREFIX),
  new strategies.CacheFirst({
    cacheName: STATIC_CACHE,
    plugins: [
      onlyCleanResponses,
      new expiration.ExpirationPlugin({ maxEntries: 60, maxAgeSeconds: 60 * 24 * 3600, purgeOnQuotaError: true }),
    ],
  }),
);

// A page that is neither reachable nor cached: the offline page, in the person's language.
// Anything else fails as a network error, which app.js turns into a real navigation.
routing.setCatchHandler(async ({ request }) => {
  if (request.mode === "navigate") {
    const offline = await precaching.matchPrecache(OFFLINE_PAGES[await personLang()]);
    if (offline) return offline;
  }
  return Response.error();
});

// --- Offline outbox (drafts & outbox; static/js/outbox.js) ------------------------------------
// Queued feedback lives in IndexedDB, shared with the pages. The pages send it on start and
// when they come back online; here Workbox's background sync sends it even with no page open.
// The sync tag is "workbox-background-sync:perfapp-outbox"; without background sync (Safari)
// Workbox runs onSync whenever the worker starts.
importScripts({{ static_url('js/outbox.js')|tojson }});
const outboxSync = new workbox.backgroundSync.Queue("perfapp-outbox", {
  onSync: async () => {
    const result = await self.perfappOutbox.process({ force: true });
    // Something could not be sent (offline, the server busy): fail, so the browser tries again.
    if (result.retry) throw new Error("outbox: some items are still waiting");
  },
});

// Keep a copy of a page (the outbox) so it opens offline, as if it had been visited.
async function keepPage(href) {
  const url = new URL(href, self.location.href);
  if (url.origin !== self.location.origin) return;
  const response = await fetch(url.href, { credentials: "same-origin" });
  if (response.status === 200 && !response.redirected) {
    await (await caches.open(PAGES_CACHE)).put(url.href.split("#")[0], response);
  }
}

self.addEventListener("message", (event) => {
  const data = event.data || {};
  if (data.type === "outbox-sync") event.waitUntil(outboxSync.registerSync());
  if (data.type === "outbox-warm" && typeof data.url === "string") event.waitUntil(keepPage(data.url).catch(() => {}));
});

// --- web push (perfapp.notify) -------------------------------------------------------------------
// The server sends the text already in the person's language: {title, body, url, tag, lang}.
// Showing it tells open pages to refresh the unread count; a tap focuses an open window
// (or opens one) at the payload's url, which is always a page of this app.
const PUSH_ICON = {{ static_url('icons/icon-192.png')|tojson }};
const UNREAD_URL = {{ url_for('notify.unread')|tojson }};

function appUrl(path) {
  try {
    const url = new URL(path || "/", self.location.origin);
    if (url.origin === self.location.origin) return url.href;
  } catch (e) { /* not a URL: the home page */ }
  return new URL("/", self.location.origin).href;
}

async function tellPagesUnread() {
  const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  windows.forEach((client) => client.postMessage({ type: "unread", url: UNREAD_URL }));
}

// A script-made event (tests) cannot extend its lifetime; the work still runs.
function keepAlive(event, promise) {
  try { event.waitUntil(promise); } catch (e) { /* untrusted event */ }
  return promise;
}

self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (e) {
    data = { body: event.data ? event.data.text() : "" };
  }
  const options = {
    body: data.body || "", icon: PUSH_ICON, badge: PUSH_ICON,
    data: { url: appUrl(data.url) },
  };
  if (data.tag) options.tag = data.tag;
  if (data.lang) options.lang = data.lang;
  keepAlive(event, Promise.all([
    self.registration.showNotification(data.title || "perfapp", options),
    tellPagesUnread(),
  ]));
});

async function openFromNotification(url) {
  const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  const same = windows.find((client) => client.url === url);
  if (same) return same.focus();
  for (const client of windows) {
    if (new URL(client.url).origin !== self.location.origin) continue;
    try { await client.focus(); } catch (e) { /* focusing needs the tap's user activation */ }
    if ("navigate" in client) {
      const moved = await client.navigate(url).catch(() => null);
      if (moved) return moved;
    }
  }
  return self.clients.openWindow(url);
}

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  keepAlive(event, openFromNotification(appUrl(event.notification.data && event.notification.data.url)));
});
