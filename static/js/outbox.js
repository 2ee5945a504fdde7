/* perfapp outbox: nothing typed is ever lost, nothing is sent twice.
 *
 * Drafts of the compose sheet are saved to IndexedDB as the person types; a submission that
 * cannot reach the server is queued there and sent when the connection returns: by the
 * service worker's background sync where the browser has it (sw.js imports this file), and
 * by every page on start and on the "online" event (Safari has no background sync).
 * Each draft's id is its Idempotency-Key, sent with every try, so the server creates at most
 * one feedback however often a submission is retried.
 *
 * One record per draft or submission (store "items", key "id"):
 *   {id, user, state: draft|queued|sending|failed, fields: {recipient: {id, name, initials, hue},
 *    text, emoji[], tag_ids[], free_tags, behaviour, impact, suggestion, kind, visibility,
 *    confidential, development_only, project_id, milestone_id, ask_id},
 *    voice: {blob, mime, duration}|null, body: [[name, value]]|null (what is posted),
 *    url, csrf, attempts, nextTryAt, error: {code, message}|null, createdAt, updatedAt}
 * A sent item is deleted; pages that watch show it as "sent" until they are left.
 */
(function (global) {
  "use strict";

  var DB_NAME = "perfapp-outbox";
  var STORE = "items";
  var CHANNEL = "perfapp-outbox";
  var LOCK = "perfapp-outbox";
  var SENDING_STALE_MS = 2 * 60 * 1000;  // a "sending" this old was interrupted: send it again
  var MAX_BACKOFF_MS = 10 * 60 * 1000;
  var WAIT_MS = 60 * 1000;               // signed out or another account: look again later
  var SAVE_DELAY_MS = 400;
  var inPage = typeof document !== "undefined";

  // --- IndexedDB ----------------------------------------------------------------------
  var dbPromise = null;
  function openDb() {
    if (!dbPromise) {
      dbPromise = new Promise(function (resolve, reject) {
        var req = indexedDB.open(DB_NAME, 1);
        req.onupgradeneeded = function () { req.result.createObjectStore(STORE, { keyPath: "id" }); };
        req.onsuccess = function () {
          var db = req.result;
          db.onversionchange = function () { db.close(); dbPromise = null; };
          resolve(db);
        };
        req.onerror = function () { dbPromise = null; reject(req.error); };
      });
    }
    return dbPromise;
  }

  // Runs fn(store) in one transaction; resolves with what fn's last request gave, once committed.
  function withStore(mode, fn) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode);
        var result;
        fn(tx.objectStore(STORE), function (value) { result = value; });
        tx.oncomplete = function () { resolve(result); };
        tx.onerror = tx.onabort = function () { reject(tx.error); };
      });
    });
  }
  function allItems() {
    return withStore("readonly", function (store, done) {
      var req = store.getAll();
      req.onsuccess = function () { done(req.result || []); };
    });
  }
  function getItem(id) {
    return withStore("readonly", function (store, done) {
      var req = store.get(id);
      req.onsuccess = function () { done(req.result || null); };
    });
  }
  function deleteItem(id) {
    return withStore("readwrite", function (store) { store.delete(id); }).then(changed);
  }
  // Read, change and write one item atomically: change(item|null) returns the new item,
  // null to delete it, or undefined to leave it. Resolves with the stored item (or null).
  function updateItem(id, change) {
    return withStore("readwrite", function (store, done) {
      var req = store.get(id);
      req.onsuccess = function () {
        var next = change(req.result || null);
        if (next === undefined) { done(req.result || null); return; }
        if (next === null) { store.delete(id); done(null); return; }
        next.updatedAt = Date.now();
        store.put(next);
        done(next);
      };
    }).then(function (item) { changed(); return item; });
  }

  // --- telling pages (and the service worker's pages) what changed ----------------------
  var channel = typeof BroadcastChannel !== "undefined" ? new BroadcastChannel(CHANNEL) : null;
  var listeners = [];
  function announce(message) {
    listeners.forEach(function (fn) { fn(message); });
    if (channel) channel.postMessage(message);
  }
  function changed() { announce({ type: "changed" }); }
  if (channel) channel.onmessage = function (e) { listeners.forEach(function (fn) { fn(e.data || {}); }); };

  function uuid() {
    if (global.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  // --- sending -------------------------------------------------------------------------
  var EXTENSIONS = { "audio/webm": "webm", "audio/ogg": "ogg", "audio/mp4": "m4a" };

  // What the compose form would post, from a draft's fields (a draft sent from the outbox page).
  function draftEntries(fields, voice) {
    var e = [];
    function add(name, value) { if (value !== undefined && value !== null && value !== "") e.push([name, String(value)]); }
    add("recipient_id", fields.recipient && fields.recipient.id);
    ["text", "free_tags", "behaviour", "impact", "suggestion", "kind", "visibility",
     "project_id", "milestone_id", "ask_id"].forEach(function (n) { add(n, fields[n]); });
    (fields.emoji || []).forEach(function (v) { add("emoji", v); });
    (fields.tag_ids || []).forEach(function (v) { add("tag_ids", v); });
    if (fields.confidential) add("confidential", "1");
    add("development_only_present", "1");
    if (fields.development_only) add("development_only", "1");
    if (voice && voice.blob) {
      var mime = (voice.mime || voice.blob.type || "audio/webm").split(";")[0];
      e.push(["voice", new File([voice.blob], "voice." + (EXTENSIONS[mime] || "webm"), { type: voice.blob.type || mime })]);
    }
    return e;
  }

  function errorText(data) {
    if (!data) return "";
    if (data.errors) return Object.keys(data.errors).map(function (k) { return data.errors[k]; }).join(" ");
    return data.error || "";
  }

  function backoff(attempts) {
    return Math.min(5000 * Math.pow(2, Math.max(0, attempts - 1)), MAX_BACKOFF_MS);
  }

  // One try. Resolves with {outcome: sent|failed|retry|wait, url?, code?, message?, delay?}.
  function sendItem(item, csrf) {
    var body = new FormData();
    (item.body || draftEntries(item.fields, item.voice)).forEach(function (pair) {
      if (pair[0] !== "csrf_token") body.append(pair[0], pair[1]);
    });
    var token = csrf || item.csrf || "";
    body.append("csrf_token", token);
    return fetch(item.url || "/feedback/new", {
      method: "POST", body: body, credentials: "same-origin", redirect: "manual",
      headers: { "Idempotency-Key": item.id, "X-Perfapp-User": String(item.user), "X-CSRFToken": token,
                 "Accept": "application/json" },
    }).then(function (res) {
      if (res.type === "opaqueredirect" || res.status === 401) return { outcome: "wait", code: "signed-out" };
      var json = /json/.test(res.headers.get("Content-Type") || "") ? res.json().catch(function () { return null; }) : Promise.resolve(null);
      return json.then(function (data) {
        var s = res.status;
        if (s >= 200 && s < 300) return { outcome: "sent", url: data && data.url };
        if (s === 409) return { outcome: "retry", code: "busy", delay: 3000 };
        if (s === 403) return { outcome: "wait", code: "other-account", message: errorText(data) };
        // An expired form token: a page sends again with its own, fresh one.
        if (s === 400 && !inPage) return { outcome: "wait", code: "token" };
        if (s >= 400 && s < 500) return { outcome: "failed", code: "rejected", message: errorText(data) };
        return { outcome: "retry", code: "server" };
      });
    }, function () { return { outcome: "retry", code: "network" }; });
  }

  function withLock(fn) {
    var locks = global.navigator && navigator.locks;
    return locks ? locks.request(LOCK, fn) : fn();
  }

  // Send what is waiting. opts: {user (only theirs), force (ignore backoff), csrf (a fresh token)}.
  // Resolves with {sent, retry (something is left to try), next (ms until the earliest retry)}.
  function process(opts) {
    opts = opts || {};
    return withLock(function () {
      return allItems().then(function (items) {
        var result = { sent: 0, retry: false, next: null };
        var now = Date.now();
        var due = items.filter(function (it) {
          if (opts.user && String(it.user) !== String(opts.user)) return false;
          var stale = it.state === "sending" && now - (it.updatedAt || 0) > SENDING_STALE_MS;
          if (it.state !== "queued" && !stale) return false;
          if (!opts.force && it.nextTryAt && it.nextTryAt > now) {
            result.retry = true;
            result.next = result.next === null ? it.nextTryAt - now : Math.min(result.next, it.nextTryAt - now);
            return false;
          }
          return true;
        }).sort(function (a, b) { return (a.queuedAt || 0) - (b.queuedAt || 0); });
        var offline = false;
        return due.reduce(function (chain, candidate) {
          return chain.then(function () {
            if (offline) return;
            return updateItem(candidate.id, function (it) {
              if (!it || (it.state !== "queued" && it.state !== "sending")) return undefined;
              it.state = "sending";
              return it;
            }).then(function (it) {
              if (!it || it.state !== "sending") return;
              return sendItem(it, opts.csrf).then(function (r) {
                if (r.code === "network") offline = true;
                return settle(it.id, r, result);
              });
            });
          });
        }, Promise.resolve()).then(function () { return result; });
      });
    });
  }

  function settle(id, r, result) {
    if (r.outcome === "sent") {
      result.sent += 1;
      announce({ type: "sent", id: id, url: r.url || null });  // before the item goes, so pages can keep showing it
      return deleteItem(id);
    }
    return updateItem(id, function (it) {
      if (!it) return undefined;
      it.error = { code: r.code, message: r.message || "" };
      if (r.outcome === "failed") {
        it.state = "failed";
        return it;
      }
      it.state = "queued";
      var delay = WAIT_MS;
      if (r.outcome === "retry") {
        it.attempts = (it.attempts || 0) + 1;
        delay = r.delay || backoff(it.attempts);
        result.retry = true;
      }
      it.nextTryAt = Date.now() + delay;
      result.next = result.next === null ? delay : Math.min(result.next, delay);
      return it;
    });
  }

  var api = { process: process, allItems: allItems, getItem: getItem, updateItem: updateItem,
              deleteItem: deleteItem, draftEntries: draftEntries, onChange: function (fn) { listeners.push(fn); } };
  global.perfappOutbox = api;
  if (!inPage) return;  // the service worker needs only the above

  // =======================================================================================
  // Pages
  // =======================================================================================
  var script = document.currentScript;
  var USER = script && script.getAttribute("data-user");
  if (!USER) return;

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }
  function strings() {
    var el = document.getElementById("outbox-strings");
    try { return el ? JSON.parse(el.getAttribute("data-strings") || "{}") : {}; } catch (e) { return {}; }
  }
  function fill(text, values) {
    return String(text || "").replace(/\{(\w+)\}/g, function (m, k) { return values[k] !== undefined ? values[k] : m; });
  }
  function fromTemplate(id) {
    var t = document.getElementById(id);
    return t ? t.content.firstElementChild.cloneNode(true) : null;
  }
  function slot(root, name) { return root.querySelector('[data-slot="' + name + '"]'); }

  // --- sending from pages: on start, when back online, and on a timer for retries ---------
  var retryTimer = null;
  function run(force) {
    if (!navigator.onLine) return Promise.resolve();
    return process({ user: USER, force: !!force, csrf: csrfToken() }).then(function (r) {
      clearTimeout(retryTimer);
      if (r.retry && r.next !== null) retryTimer = setTimeout(function () { run(false); }, Math.max(r.next, 1000));
      return r;
    }, function () {});
  }
  function askWorkerToSync() {
    if (!("serviceWorker" in navigator)) return;
    navigator.serviceWorker.ready.then(function (reg) {
      if (reg.active) reg.active.postMessage({ type: "outbox-sync" });
    });
  }
  window.addEventListener("online", function () { run(true); });

  // --- the compose sheet ------------------------------------------------------------------
  var compose = { form: null, id: null, voice: null, timer: null, sent: {} };
  var swapping = null;  // the draft behind a compose form htmx is about to re-render (422)

  function chipOf(form) { return form.querySelector("[data-picker] .picked .picked-chip"); }
  function checkedValues(form, name) {
    return Array.prototype.map.call(form.querySelectorAll('input[name="' + name + '"]:checked'), function (i) { return i.value; });
  }
  function value(form, name) { var el = form.elements[name]; return el && el.value !== undefined ? el.value : ""; }
  function checked(form, name) { var el = form.querySelector('input[type=checkbox][name="' + name + '"]'); return !!(el && el.checked); }

  // Avatar hues are classes (hue-N, app.css): the CSP allows no style attributes. Older saved
  // items may hold "" or a number.
  function hueOf(avatar) { var m = /(?:^|\s)hue-(\d+)/.exec(avatar.className); return m ? m[1] : ""; }
  function setHue(avatar, hue) { var h = String(hue || "").replace(/\D/g, ""); if (h) avatar.classList.add("hue-" + h); }

  // The give sheet asks "Show my name"; drafts keep storing "confidential" (its opposite).
  function hidesName(form) {
    var show = form.querySelector('input[type=checkbox][name="show_name"]');
    return show ? !show.checked : checked(form, "confidential");
  }

  function collect(form) {
    var chip = chipOf(form);
    var recipient = null;
    if (chip) {
      var avatar = chip.querySelector(".avatar");
      var label = chip.querySelector("span:not(.avatar)");
      recipient = { id: chip.getAttribute("data-id"), name: label ? label.textContent : "",
                    initials: avatar ? avatar.textContent : "", hue: avatar ? hueOf(avatar) : "" };
    }
    var radio = function (name) { var r = form.querySelector('input[name="' + name + '"]:checked'); return r ? r.value : ""; };
    return {
      recipient: recipient, text: value(form, "text"), emoji: checkedValues(form, "emoji"),
      tag_ids: checkedValues(form, "tag_ids"), free_tags: value(form, "free_tags"),
      behaviour: value(form, "behaviour"), impact: value(form, "impact"), suggestion: value(form, "suggestion"),
      kind: radio("kind"), visibility: radio("visibility"), confidential: hidesName(form),
      development_only: checked(form, "development_only"), project_id: value(form, "project_id"),
      milestone_id: value(form, "milestone_id"), ask_id: value(form, "ask_id"),
    };
  }
  function hasContent(f, voice) {
    return !!(f.recipient || f.text.trim() || f.emoji.length || f.tag_ids.length || f.free_tags.trim() ||
              f.behaviour.trim() || f.impact.trim() || f.suggestion.trim() || (voice && voice.blob));
  }

  function saveNow() {
    clearTimeout(compose.timer);
    var form = compose.form;
    if (!form || !document.body.contains(form)) return Promise.resolve();
    var fields = collect(form);
    var voice = compose.voice;
    if (!hasContent(fields, voice)) {
      if (!compose.id) return Promise.resolve();
      return updateItem(compose.id, function (it) { return it && it.state === "draft" ? null : undefined; });
    }
    if (!compose.id) compose.id = uuid();
    var id = compose.id;
    if (compose.sent[id]) return Promise.resolve();
    return updateItem(id, function (it) {
      if (compose.sent[id] || (it && it.state !== "draft")) return undefined;
      it = it || { id: id, user: USER, state: "draft", createdAt: Date.now() };
      it.fields = fields;
      it.voice = voice;
      return it;
    });
  }
  function saveSoon() {
    clearTimeout(compose.timer);
    compose.timer = setTimeout(saveNow, SAVE_DELAY_MS);
  }

  function setChecked(form, name, values) {
    form.querySelectorAll('input[name="' + name + '"]').forEach(function (i) { i.checked = values.indexOf(i.value) !== -1; });
  }
  function setRadio(form, name, v) {
    var r = v && form.querySelector('input[name="' + name + '"][value="' + CSS.escape(v) + '"]');
    if (r) r.checked = true;
    return r;
  }
  function fire(el, type) { if (el) el.dispatchEvent(new Event(type, { bubbles: true })); }

  function putRecipient(form, r) {
    var picker = form.querySelector("[data-picker]");
    if (!picker || !r || !r.id) return;
    var picked = picker.querySelector(".picked");
    if (picked.querySelector('[data-id="' + CSS.escape(String(r.id)) + '"]')) return;
    picked.textContent = "";
    var chip = document.createElement("span");
    chip.className = "picked-chip";
    chip.setAttribute("data-id", r.id);
    var avatar = document.createElement("span");
    avatar.className = "avatar avatar-sm";
    avatar.setAttribute("aria-hidden", "true");
    setHue(avatar, r.hue);
    avatar.textContent = r.initials || "";
    var name = document.createElement("span");
    name.textContent = r.name || "";
    var input = document.createElement("input");
    input.type = "hidden";
    input.name = picker.getAttribute("data-input-name") || "recipient_id";
    input.value = r.id;
    var x = document.createElement("button");
    x.type = "button";
    x.className = "chip-x";
    x.setAttribute("data-unpick", "");
    x.setAttribute("aria-label", fill(strings().remove, { name: r.name || "" }));
    x.textContent = "×";
    chip.append(avatar, name, input, x);
    picked.appendChild(chip);
    var search = picker.querySelector(".picker-search");
    if (search) search.hidden = true;
  }

  // Put a draft's fields back into the compose form (app.js keeps the dependent defaults).
  function applyDraft(form, f, voice) {
    putRecipient(form, f.recipient);
    ["text", "free_tags", "behaviour", "impact", "suggestion"].forEach(function (n) {
      if (form.elements[n] && f[n] !== undefined) form.elements[n].value = f[n];
    });
    setChecked(form, "emoji", f.emoji || []);
    setChecked(form, "tag_ids", f.tag_ids || []);
    fire(setRadio(form, "kind", f.kind), "change");  // resets "development only" to the kind's default
    var dev = form.querySelector("[data-dev-only]");
    if (dev) dev.checked = !!f.development_only;
    var conf = form.querySelector('input[name="confidential"]');
    if (conf) conf.checked = !!f.confidential;
    var show = form.querySelector('input[name="show_name"]');
    if (show) show.checked = !f.confidential;
    setRadio(form, "visibility", f.visibility);
    fire(dev, "change");
    if (form.elements.project_id) form.elements.project_id.value = f.project_id || "";
    if (form.elements.milestone_id) form.elements.milestone_id.value = f.milestone_id || "";
    fire(form.elements.project_id, "change");
    if (f.ask_id && !form.elements.ask_id) {
      var ask = document.createElement("input");
      ask.type = "hidden"; ask.name = "ask_id"; ask.value = f.ask_id;
      form.appendChild(ask);
    }
    var template = f.behaviour || f.impact || f.suggestion;
    // Kind, audience, name, the template and the most used tags are on the sheet itself.
    var inMore = (f.tag_ids || []).some(function (v) {
      var box = form.querySelector('input[name="tag_ids"][value="' + CSS.escape(String(v)) + '"]');
      return box && box.closest("details.more-options");
    });
    var more = inMore || f.free_tags || f.project_id;
    var details = form.querySelector("details.more-options");
    if (details && more) details.open = true;
    var tpl = form.querySelector("details.template");
    if (tpl && template) tpl.open = true;
    restoreVoice(form, voice);
  }
  function restoreVoice(form, voice) {
    if (!voice || !voice.blob) return;
    // After voice.js has set the recorder up (it may start on the same DOMContentLoaded).
    setTimeout(function () {
      form.dispatchEvent(new CustomEvent("perfapp:voice-restore", { bubbles: true, detail: voice }));
    }, 0);
  }

  function showRestored(form, item) {
    var banner = fromTemplate("draft-restored-template");
    if (!banner) return;
    var when = item.updatedAt ? relativeTime(item.updatedAt) : "";
    slot(banner, "text").textContent = fill(strings().restored, { time: when });
    banner.querySelector("[data-draft-start-over]").addEventListener("click", function () {
      var id = compose.id;
      compose.id = null;
      clearTimeout(compose.timer);
      sessionStorage.setItem("perfapp-fresh-compose", "1");
      (id ? deleteItem(id) : Promise.resolve()).then(function () { location.reload(); });
    });
    form.insertBefore(banner, form.firstElementChild);
  }

  // Which draft to show: #draft=<id> (Edit in the outbox), else the newest draft that fits what
  // the page was opened for (?to=, ?ask=, ?project=, ?milestone=), else the newest draft.
  function pickDraft(items) {
    var wanted = /(?:^#|&)draft=([\w-]+)/.exec(location.hash);
    if (wanted) return items.filter(function (it) { return it.id === wanted[1]; })[0] || null;
    if (sessionStorage.getItem("perfapp-fresh-compose")) {
      sessionStorage.removeItem("perfapp-fresh-compose");
      return null;
    }
    var params = new URLSearchParams(location.search);
    var match = { to: "recipient", ask: "ask_id", project: "project_id", milestone: "milestone_id" };
    var drafts = items.filter(function (it) {
      if (it.state !== "draft" || String(it.user) !== USER) return false;
      return Object.keys(match).every(function (p) {
        if (!params.get(p)) return true;
        var v = match[p] === "recipient" ? (it.fields.recipient && it.fields.recipient.id) : it.fields[match[p]];
        return String(v || "") === params.get(p);
      });
    });
    drafts.sort(function (a, b) { return (b.updatedAt || 0) - (a.updatedAt || 0); });
    return drafts[0] || null;
  }

  function initCompose(form) {
    if (form.hasAttribute("data-outbox")) return;
    form.setAttribute("data-outbox", "");
    compose.form = form;
    form.addEventListener("input", saveSoon);
    form.addEventListener("change", saveSoon);
    form.addEventListener("perfapp:voice-changed", function (e) {
      var d = e.detail || {};
      compose.voice = d.blob ? { blob: d.blob, mime: d.mime || d.blob.type, duration: d.duration || 0 } : null;
      saveSoon();
    });
    var picked = form.querySelector("[data-picker] .picked");
    if (picked) new MutationObserver(saveSoon).observe(picked, { childList: true });

    if (swapping) {  // the same draft, re-rendered by the server with its messages
      compose.id = swapping.id;
      compose.voice = swapping.voice;
      swapping = null;
      restoreVoice(form, compose.voice);
      return;
    }
    compose.id = null;
    compose.voice = null;
    allItems().then(function (items) {
      var item = pickDraft(items);
      if (!item || String(item.user) !== USER || item.state === "sending" || compose.form !== form) return;
      compose.id = item.id;
      compose.voice = item.voice || null;
      applyDraft(form, item.fields || {}, item.voice);
      showRestored(form, item);
      // Editing a queued or failed item takes it out of the queue until it is sent again.
      if (item.state !== "draft") {
        updateItem(item.id, function (it) {
          if (!it || it.state === "sending") return undefined;
          it.state = "draft"; it.body = null; it.error = null; it.attempts = 0; it.nextTryAt = 0;
          return it;
        });
      }
    });
    warmOutboxPage();
  }

  // The outbox page must open offline too: have the service worker keep a copy.
  function warmOutboxPage() {
    var link = document.querySelector("[data-outbox-link]");
    if (!link || !navigator.onLine || !("serviceWorker" in navigator) || !global.caches) return;
    caches.match(link.href).then(function (kept) {
      if (kept) return;
      return navigator.serviceWorker.ready.then(function (reg) {
        if (reg.active) reg.active.postMessage({ type: "outbox-warm", url: link.href });
      });
    }).catch(function () {});
  }

  function isCompose(elt) { return elt && elt.id === "compose" && elt.tagName === "FORM"; }

  // Queue a submission that cannot be sent now, and show that it is safe.
  function queue(form, entries) {
    clearTimeout(compose.timer);
    var id = compose.id || uuid();
    compose.id = null;
    var fields = collect(form);
    var body = entries.filter(function (pair) {
      var v = pair[1];
      return !(typeof v !== "string" && v && v.size === 0 && !v.name);
    });
    return updateItem(id, function (it) {
      it = it || { id: id, user: USER, createdAt: Date.now() };
      it.state = "queued";
      it.fields = fields;
      it.voice = compose.voice;
      it.body = body;
      it.url = form.action;
      it.csrf = csrfToken();
      it.attempts = 0;
      it.nextTryAt = 0;
      it.error = null;
      it.queuedAt = Date.now();
      return it;
    }).then(function () {
      var panel = fromTemplate("outbox-queued-template");
      if (panel) {
        var name = slot(panel, "name");
        if (name) name.textContent = fields.recipient ? fields.recipient.name : "";
        form.replaceWith(panel);
        var focus = panel.querySelector("h2");
        if (focus) { focus.setAttribute("tabindex", "-1"); focus.focus(); }
      }
      compose.form = null;
      askWorkerToSync();
      updateCounts();
      if (navigator.onLine) setTimeout(function () { run(false); }, 1500);
    });
  }

  // Offline: don't even try; queue at once (htmx's request or a plain submit alike).
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!isCompose(form) || navigator.onLine) return;
    e.preventDefault();
    e.stopImmediatePropagation();
    var entries = [];
    new FormData(form).forEach(function (v, k) { entries.push([k, v]); });
    queue(form, entries);
  }, true);

  document.addEventListener("htmx:configRequest", function (e) {
    var form = e.detail.elt;
    if (!isCompose(form)) return;
    if (!compose.id) compose.id = uuid();
    saveNow();
    e.detail.headers["Idempotency-Key"] = compose.id;
    e.detail.headers["X-Perfapp-User"] = USER;
    form._outboxFormData = e.detail.formData;  // what is posted (voice.js may still add to it)
    form._outboxId = compose.id;
  });
  document.addEventListener("htmx:sendError", function (e) {
    var form = e.detail.elt;
    if (!isCompose(form) || !form._outboxFormData) return;
    var entries = [];
    form._outboxFormData.forEach(function (v, k) { entries.push([k, v]); });
    compose.id = form._outboxId;
    queue(form, entries);
  });
  document.addEventListener("htmx:afterSettle", function () { swapping = null; });
  document.addEventListener("htmx:beforeSwap", function (e) {
    var form = e.detail.elt;
    if (!isCompose(form)) return;
    var status = e.detail.xhr.status;
    if (status >= 200 && status < 300) {
      // Sent: the draft is done with (the answer may even be a replay of an earlier try).
      var id = form._outboxId;
      if (id) { compose.sent[id] = true; deleteItem(id); }
      clearTimeout(compose.timer);
      compose.id = null;
      compose.form = null;
    } else if (status === 422 && e.detail.target === form) {
      swapping = { id: compose.id, voice: compose.voice };
    }
  });

  // --- the Drafts & outbox page ----------------------------------------------------------
  var justSent = {};  // id -> url, shown as "sent" while this page stays open

  function relativeTime(ms) {
    var diff = (ms - Date.now()) / 1000;
    var lang = document.documentElement.lang || undefined;
    var fmt = typeof Intl.RelativeTimeFormat === "function" ? new Intl.RelativeTimeFormat(lang, { numeric: "auto" }) : null;
    var units = [["day", 86400], ["hour", 3600], ["minute", 60]];
    for (var i = 0; i < units.length; i++) {
      if (Math.abs(diff) >= units[i][1]) return fmt ? fmt.format(Math.round(diff / units[i][1]), units[i][0]) : "";
    }
    return fmt ? fmt.format(0, "minute") : "";
  }
  function durationText(seconds) {
    var s = Math.round(seconds || 0);
    return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  }
  function summary(f, s) {
    var tags = (f.free_tags || "").trim();
    return (f.text || "").trim() || (f.behaviour || "").trim() || (f.impact || "").trim() ||
      (f.suggestion || "").trim() || (f.emoji || []).join(" ") || tags || s.empty || "";
  }
  function stateMessage(it, s) {
    var err = it.error;
    if (!err) return "";
    if (err.message) return err.message;
    return (s.errors || {})[err.code] || "";
  }

  function renderItem(it, s, composeUrl) {
    var li = fromTemplate("outbox-item-template");
    var state = it.sentUrl !== undefined ? "sent" : it.state;
    li.setAttribute("data-id", it.id);
    li.setAttribute("data-state", state);
    var f = it.fields || {};
    var r = f.recipient;
    var avatar = slot(li, "avatar");
    if (r) {
      avatar.textContent = r.initials || "";
      setHue(avatar, r.hue);
    } else {
      avatar.textContent = "?";
    }
    slot(li, "name").textContent = r ? fill(s.to, { name: r.name }) : s.noRecipient;
    slot(li, "when").textContent = relativeTime(it.updatedAt || it.createdAt || Date.now());
    slot(li, "state").textContent = (s.states || {})[state] || state;
    var text = slot(li, "text");
    text.textContent = summary(f, s);
    if (f.emoji && f.emoji.length && text.textContent !== f.emoji.join(" ")) text.textContent += " " + f.emoji.join(" ");
    var voice = slot(li, "voice");
    if (it.voice && it.voice.blob) voice.textContent = fill(s.voice, { time: durationText(it.voice.duration) });
    else voice.remove();
    var message = stateMessage(it, s);
    var err = slot(li, "error");
    if (message && (state === "failed" || state === "queued")) {
      err.textContent = message;
      err.hidden = false;
      if (state === "queued") err.className = "outbox-note muted";
    }
    var edit = li.querySelector('[data-action="edit"]');
    var send = li.querySelector('[data-action="send"]');
    var discard = li.querySelector('[data-action="discard"]');
    var view = li.querySelector('[data-action="view"]');
    edit.href = composeUrl + "#draft=" + encodeURIComponent(it.id);
    if (state === "sent") {
      edit.remove(); send.remove(); discard.remove();
      if (it.sentUrl) view.href = it.sentUrl; else view.remove();
    } else {
      view.remove();
      if (state === "sending") { edit.remove(); send.disabled = true; discard.disabled = true; }
    }
    return li;
  }

  function renderOutbox() {
    var page = document.querySelector("[data-outbox-page]");
    if (!page) return Promise.resolve();
    var s = strings();
    var list = page.querySelector("[data-outbox-list]");
    var composeUrl = page.getAttribute("data-compose-url");
    return allItems().then(function (items) {
      var mine = items.filter(function (it) { return String(it.user) === USER; });
      var ids = {};
      mine.forEach(function (it) { ids[it.id] = true; });
      Object.keys(justSent).forEach(function (id) {
        if (!ids[id]) mine.push(justSent[id]);
      });
      mine.sort(function (a, b) { return (b.updatedAt || 0) - (a.updatedAt || 0); });
      mine.forEach(function (it) { lastSeen[it.id] = it; });
      list.replaceChildren.apply(list, mine.map(function (it) { return renderItem(it, s, composeUrl); }));
      page.querySelector("[data-outbox-empty]").hidden = mine.length > 0;
      page.setAttribute("data-count", String(mine.filter(function (it) { return it.sentUrl === undefined; }).length));
      var net = page.querySelector("[data-outbox-offline]");
      if (net) net.hidden = navigator.onLine;
    });
  }

  function onOutboxClick(e) {
    var button = e.target.closest("[data-action]");
    var page = e.target.closest("[data-outbox-page]");
    if (!button || !page) return;
    var li = button.closest("[data-id]");
    var id = li && li.getAttribute("data-id");
    var action = button.getAttribute("data-action");
    if (!id || action === "edit" || action === "view") return;  // plain links
    e.preventDefault();
    if (action === "discard") {
      if (!window.confirm(strings().confirmDiscard)) return;
      deleteItem(id);
    } else if (action === "send") {
      updateItem(id, function (it) {
        if (!it || it.state === "sending") return undefined;
        if (!it.body) it.body = draftEntries(it.fields || {}, it.voice);
        it.url = it.url || page.getAttribute("data-send-url");
        it.state = "queued"; it.error = null; it.nextTryAt = 0; it.attempts = 0;
        it.csrf = csrfToken();
        it.queuedAt = it.queuedAt || Date.now();
        return it;
      }).then(function () {
        if (navigator.onLine) run(true); else askWorkerToSync();
      });
    }
  }
  document.addEventListener("click", onOutboxClick);

  function updateCounts() {
    var els = document.querySelectorAll("[data-outbox-count]");
    if (!els.length) return;
    allItems().then(function (items) {
      var n = items.filter(function (it) { return String(it.user) === USER; }).length;
      els.forEach(function (el) { el.textContent = String(n); el.hidden = n === 0; });
    });
  }

  // What each listed item held, so one that was just sent (and deleted) can still be shown.
  var lastSeen = {};
  listeners.push(function (message) {
    if (message.type === "sent" && lastSeen[message.id]) {
      var it = lastSeen[message.id];
      justSent[message.id] = { id: it.id, user: it.user, fields: it.fields, voice: it.voice, state: "sent",
                               sentUrl: message.url || "", updatedAt: Date.now() };
    }
    renderOutbox();
    updateCounts();
  });

  function initPage(root) {
    var forms = root.querySelectorAll ? root.querySelectorAll("form#compose") : [];
    if (isCompose(root)) forms = [root];
    Array.prototype.forEach.call(forms, initCompose);
    if ((root.matches && root.matches("[data-outbox-page]")) || (root.querySelector && root.querySelector("[data-outbox-page]"))) {
      renderOutbox();
    }
    updateCounts();
  }
  window.addEventListener("offline", function () { renderOutbox(); });
  window.addEventListener("online", function () { renderOutbox(); });
  document.addEventListener("htmx:load", function (e) { initPage(e.target); });
  document.addEventListener("pagehide", function () { if (compose.form) saveNow(); });
  document.addEventListener("visibilitychange", function () { if (document.hidden && compose.form) saveNow(); });
  function start() {
    initPage(document);
    run(false);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})(typeof self !== "undefined" ? self : this);
