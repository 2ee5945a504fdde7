/* perfapp: turn Web Push on or off for this device (Me → Notifications).
 * The browser is asked for permission only after the person taps "Turn on". The subscription
 * goes to the server as PushSubscription.toJSON(); the service worker (/sw.js) shows pushes. */
(function () {
  "use strict";
  if (window.perfappPush) return;  // htmx may run this script again after a boosted visit
  window.perfappPush = true;

  function supported() {
    return "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
  }

  function keyBytes(base64url) {
    var base64 = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(base64);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  function csrf() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  // An error whose message is for the person (the server's translated words or ours);
  // anything else the browser throws is shown as the generic "try again".
  function Said(message) { this.message = message; }

  function post(url, data) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrf() },
      body: JSON.stringify(data),
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (body) {
        if (!r.ok) throw body.error ? new Said(body.error) : new Error(String(r.status));
        return body;
      });
    });
  }

  function show(box, on, message) {
    var status = box.querySelector("[data-push-status]");
    if (message && status) status.textContent = message;
    var onBtn = box.querySelector("[data-push-on]");
    var offBtn = box.querySelector("[data-push-off]");
    if (onBtn) onBtn.hidden = on === true;
    if (offBtn) offBtn.hidden = on !== true;
  }

  function busy(box, yes) {
    box.querySelectorAll("button").forEach(function (b) { b.disabled = yes; });
  }

  function changed() {
    document.body.dispatchEvent(new CustomEvent("push-changed", { bubbles: true }));
  }

  function turnOn(box) {
    var msg = function (name) { return box.getAttribute("data-msg-" + name); };
    if (!supported()) { show(box, false, msg("unsupported")); return; }
    busy(box, true);
    show(box, false, msg("working"));
    Notification.requestPermission().then(function (permission) {
      if (permission !== "granted") throw new Said(msg("denied"));
      return navigator.serviceWorker.ready;
    }).then(function (reg) {
      return reg.pushManager.subscribe({
        userVisibleOnly: true, applicationServerKey: keyBytes(box.getAttribute("data-vapid-key")),
      });
    }).then(function (sub) {
      var data = typeof sub.toJSON === "function" ? sub.toJSON() : sub;
      return post(box.getAttribute("data-subscribe-url"), data);
    }).then(function (body) {
      show(box, true, body.message || msg("on"));
      changed();
    }).catch(function (err) {
      show(box, false, err instanceof Said ? err.message : msg("error"));
    }).then(function () { busy(box, false); });
  }

  function turnOff(box) {
    var msg = function (name) { return box.getAttribute("data-msg-" + name); };
    busy(box, true);
    navigator.serviceWorker.ready.then(function (reg) {
      return reg.pushManager.getSubscription();
    }).then(function (sub) {
      if (!sub) return null;
      var endpoint = sub.endpoint;
      return Promise.resolve(sub.unsubscribe()).then(function () {
        return post(box.getAttribute("data-unsubscribe-url"), { endpoint: endpoint });
      });
    }).then(function (body) {
      show(box, false, (body && body.message) || msg("off"));
      changed();
    }).catch(function (err) {
      show(box, true, err instanceof Said ? err.message : msg("error"));
    }).then(function () { busy(box, false); });
  }

  // What this device already has: no permission prompt here, only a look.
  function init(root) {
    (root || document).querySelectorAll("[data-push]").forEach(function (box) {
      if (box.hasAttribute("data-push-ready")) return;
      box.setAttribute("data-push-ready", "");
      if (!supported()) { show(box, false, box.getAttribute("data-msg-unsupported")); return; }
      if (Notification.permission !== "granted") return;
      navigator.serviceWorker.ready.then(function (reg) {
        return reg.pushManager.getSubscription();
      }).then(function (sub) {
        if (sub) show(box, true, box.getAttribute("data-msg-on"));
      }).catch(function () {});
    });
  }

  document.addEventListener("click", function (e) {
    var on = e.target.closest("[data-push-on]");
    var off = e.target.closest("[data-push-off]");
    var box = (on || off) && (on || off).closest("[data-push]");
    if (!box) return;
    e.preventDefault();
    if (on) turnOn(box); else turnOff(box);
  });
  document.addEventListener("htmx:load", function (e) { init(e.target); });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { init(document); });
  } else {
    init(document);
  }
})();
