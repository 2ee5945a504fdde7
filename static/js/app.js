/* perfapp: small progressive enhancements on top of server-rendered pages and htmx. */
(function () {
  "use strict";

  // --- toasts --------------------------------------------------------------
  function toast(html) {
    var box = document.getElementById("toasts");
    if (!box) return;
    var wrap = document.createElement("div");
    wrap.innerHTML = html;
    while (wrap.firstChild) box.appendChild(wrap.firstChild);
    scheduleToastRemoval();
  }
  function scheduleToastRemoval() {
    document.querySelectorAll("#toasts .toast:not([data-timed])").forEach(function (t) {
      t.setAttribute("data-timed", "1");
      setTimeout(function () { t.remove(); }, 4500);
    });
  }

  // --- person picker ---------------------------------------------------------
  function escapeHtml(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  // A refusal of the person picked before (e.g. "is deactivated") no longer applies once another is picked.
  function clearRefusal(picker) {
    var error = picker.querySelector(".field-error");
    if (error) error.remove();
  }
  function pick(picker, option) {
    var mode = picker.getAttribute("data-picker");
    var max = parseInt(picker.getAttribute("data-max") || "1", 10);
    var name = picker.getAttribute("data-input-name");
    var picked = picker.querySelector(".picked");
    var id = option.getAttribute("data-pick");
    if (picked.querySelector('[data-id="' + id + '"]')) return;
    if (mode === "one") picked.innerHTML = "";
    if (picked.children.length >= max) return;
    var label = picker.closest("form").getAttribute("data-remove-label") || "×";
    picked.insertAdjacentHTML("beforeend",
      '<span class="picked-chip" data-id="' + escapeHtml(id) + '">' +
      '<span class="avatar avatar-sm hue-' + escapeHtml((option.getAttribute("data-hue") || "").replace(/\D/g, "")) + '" aria-hidden="true">' +
      escapeHtml(option.getAttribute("data-initials")) + "</span><span>" + escapeHtml(option.getAttribute("data-name")) +
      '</span><input type="hidden" name="' + escapeHtml(name) + '" value="' + escapeHtml(id) + '">' +
      '<button type="button" class="chip-x" data-unpick aria-label="' + escapeHtml(label) + '">×</button></span>');
    var input = picker.querySelector("input[type=search]");
    var results = picker.querySelector(".picker-results");
    clearRefusal(picker);
    input.value = "";
    results.innerHTML = "";
    if (mode === "one" || picked.children.length >= max) {
      picker.querySelector(".picker-search").hidden = true;
      var text = document.getElementById("text");
      if (text) text.focus();
    } else {
      input.focus();
    }
  }

  // A "copy" button (data-copy = the id of the element whose text it copies; data-copied =
  // the label once done). Here rather than an onclick attribute: the CSP runs no inline code.
  function copyText(button) {
    var el = document.getElementById(button.getAttribute("data-copy"));
    if (!el) return;
    var done = function () {
      var label = button.querySelector("span");
      if (label) label.textContent = button.getAttribute("data-copied");
    };
    var fallback = function () {
      var range = document.createRange();
      range.selectNodeContents(el);
      var selection = getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      if (document.execCommand("copy")) done();
    };
    if (navigator.clipboard) navigator.clipboard.writeText(el.textContent.trim()).then(done, fallback);
    else fallback();
  }

  document.addEventListener("click", function (e) {
    var copy = e.target.closest("[data-copy]");
    if (copy) { copyText(copy); return; }
    var option = e.target.closest("[data-pick]");
    if (option) {
      var picker = option.closest("[data-picker]");
      if (picker) { e.preventDefault(); pick(picker, option); carryPerson(); }
      return;
    }
    var unpick = e.target.closest("[data-unpick]");
    if (unpick) {
      var p = unpick.closest("[data-picker]");
      unpick.closest(".picked-chip").remove();
      clearRefusal(p);
      var search = p.querySelector(".picker-search");
      search.hidden = false;
      search.querySelector("input").focus();
      carryPerson();
    }
  });
  // Enter in the picker's search box picks the first result instead of submitting the form.
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Enter" || !e.target.matches("[data-picker] input[type=search]")) return;
    e.preventDefault();
    var picker = e.target.closest("[data-picker]");
    var first = picker.querySelector("[data-pick]");
    if (first) { pick(picker, first); carryPerson(); }
  });

  // --- compose sheet: say in words who will see it ---------------------------
  function sayAudience(form) {
    var box = form.querySelector("[data-audience]");
    var vis = form.querySelector("input[name=visibility]:checked");
    if (!box || !vis) return;
    var chip = form.querySelector("[data-picker] .picked .picked-chip");
    var label = chip && chip.querySelector("span:not(.avatar)");
    var name = label ? label.textContent : "";
    var key = vis.value === "public" ? "data-public" : "data-" + vis.value + (name ? "" : "-none");
    // textContent, never innerHTML: the name is someone's typed name.
    box.querySelector("[data-audience-who]").textContent = (box.getAttribute(key) || "").replace("{name}", name);
    var show = form.querySelector("[data-show-name]");
    box.querySelector("[data-audience-name]").hidden = !show || show.checked;
  }

  // --- the give switch (Feedback / Flowers / Badge) carries the picked person ---
  function carryPerson() {
    // After sending, the form is gone (a "sent" card): the links keep the person they carried.
    if (!document.querySelector("[data-picker]")) return;
    var chip = document.querySelector("[data-picker] .picked .picked-chip");
    var id = chip ? chip.getAttribute("data-id") : "";
    document.querySelectorAll("[data-give-switch] a").forEach(function (a) {
      var url = new URL(a.href, location.href);
      if (id) url.searchParams.set("to", id); else url.searchParams.delete("to");
      a.href = url.pathname + url.search;
    });
    document.querySelectorAll("form.compose").forEach(sayAudience);
  }

  // --- compose sheet: sensible defaults that follow the kind -----------------
  function syncCompose(form, changed) {
    var kind = form.querySelector("input[name=kind]:checked");
    var dev = form.querySelector("[data-dev-only]");
    var pub = form.querySelector("input[name=visibility][value=public]");
    if (!kind || !pub) return;
    if (changed && changed.name === "kind" && dev) dev.checked = kind.value === "constructive";
    var publicAllowed = kind.value === "praise" && !(dev && dev.checked);
    var row = pub.closest("[data-visibility-option]");
    pub.disabled = !publicAllowed;
    if (row) row.hidden = !publicAllowed;  // only the audiences the kind allows are offered
    if (!publicAllowed && pub.checked) {
      // Remember that "public" was moved away from, not chosen against: back to praise restores it.
      form.querySelector("input[name=visibility][value=private]").checked = true;
      form.setAttribute("data-public-moved", "1");
    } else if (publicAllowed && form.hasAttribute("data-public-moved") && changed && changed !== pub) {
      if (changed.name === "kind" || changed.hasAttribute("data-dev-only")) pub.checked = true;
      form.removeAttribute("data-public-moved");
    }
    if (changed && changed.name === "visibility") form.removeAttribute("data-public-moved");
    sayAudience(form);
    var project = form.querySelector("[data-project-select]");
    var milestone = form.querySelector("[data-milestone-select]");
    if (project && milestone) {
      Array.prototype.forEach.call(milestone.options, function (o) {
        var owner = o.getAttribute("data-project");
        o.hidden = !!owner && !!project.value && owner !== project.value;
      });
      var sel = milestone.selectedOptions[0];
      if (sel && sel.hidden) milestone.value = "";
      if (changed === milestone && sel && sel.getAttribute("data-project")) project.value = sel.getAttribute("data-project");
    }
  }
  document.addEventListener("change", function (e) {
    var form = e.target.closest("form.compose");
    if (form) syncCompose(form, e.target);
  });
  function initPage(root) {
    (root || document).querySelectorAll("form.compose").forEach(function (f) { syncCompose(f, null); });
    carryPerson();
    scheduleToastRemoval();
  }
  document.addEventListener("DOMContentLoaded", function () { initPage(document); });
  document.addEventListener("htmx:load", function (e) { initPage(e.target); searchTyped(e.target); });
  // A boosted page's new content is wired up by htmx a moment after it appears (its settle step):
  // what was typed into a picker in between raised no request. Search for it once it is wired.
  function searchTyped(root) {
    root.querySelectorAll("[data-picker] input[type=search][hx-get]").forEach(function (input) {
      var results = input.closest("[data-picker]").querySelector(".picker-results");
      if (input.value.trim() && results && !results.children.length) htmx.trigger(input, "search");
    });
  }

  // --- htmx: errors become toasts; a failed navigation falls back to a real one
  document.addEventListener("htmx:responseError", function (e) {
    var xhr = e.detail.xhr;
    if (xhr.status === 401) return;
    var text = xhr.responseText || "";
    if (text.indexOf('class="toast') !== -1 && text.length < 2000) toast(text);
  });
  document.addEventListener("htmx:sendError", function (e) {
    // Offline or server gone: let the browser (and the service worker) handle a boosted navigation.
    var elt = e.detail.elt;
    if (elt && elt.tagName === "A" && elt.href) window.location.href = elt.href;
  });

  // --- back control: the installed app has no browser back button ----------------------
  // Every page that is not a tab has an app-bar link [data-back] to its parent page. When the
  // page before this one in the history is ours, going back is better (the same scroll
  // position, the same filter); otherwise (opened from a notification, a mail, a bookmark)
  // the link's own href is the way out. Chrome tells us with the Navigation API; elsewhere
  // (Safari) we remember per tab which URLs were reached from inside the app.
  var REACHED = "perfapp-reached:";
  function ours(url) {
    try {
      var u = new URL(url, location.href);
      return u.origin === location.origin && u.pathname.indexOf("/auth/") !== 0 && u.href !== location.href;
    } catch (err) { return false; }
  }
  function remember(inApp) {
    try {
      if (inApp) sessionStorage.setItem(REACHED + location.href, "1");
      else sessionStorage.removeItem(REACHED + location.href);
    } catch (err) { /* storage off: the href is used */ }
  }
  function previousIsOurs() {
    var nav = window.navigation;
    if (nav && nav.currentEntry && typeof nav.entries === "function") {
      var index = nav.currentEntry.index;
      var prev = index > 0 ? nav.entries()[index - 1] : null;
      return !!(prev && prev.url && ours(prev.url));
    }
    try { return sessionStorage.getItem(REACHED + location.href) === "1"; } catch (err) { return false; }
  }
  (function noteThisLoad() {
    var entry = performance.getEntriesByType && performance.getEntriesByType("navigation")[0];
    var type = entry ? entry.type : "navigate";
    if (type === "navigate") remember(!!document.referrer && ours(document.referrer));
  })();
  document.addEventListener("htmx:pushedIntoHistory", function () { remember(true); });
  // Capture phase: decide before htmx's boosted-link handler on the link itself sees the click.
  document.addEventListener("click", function (e) {
    var link = e.target.closest && e.target.closest("a[data-back]");
    if (!link || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    if (!previousIsOurs()) return;
    e.preventDefault();
    e.stopPropagation();
    history.back();
  }, true);

  // --- getting started: add to home screen ------------------------------------------------
  // Chrome/Android offers its own install dialog through beforeinstallprompt (kept for the
  // Install button); iOS Safari has none, so it gets the Share → Add to Home Screen steps; an
  // app already running from the home screen hides the step.
  var installPrompt = null;
  function standalone() {
    return (window.matchMedia && window.matchMedia("(display-mode: standalone)").matches) ||
      window.navigator.standalone === true;
  }
  function isIOS() {
    var ua = navigator.userAgent || "";
    return /iPhone|iPad|iPod/.test(ua) || (/Macintosh/.test(ua) && navigator.maxTouchPoints > 1);
  }
  function showInstall(root) {
    (root || document).querySelectorAll("[data-install-step]").forEach(function (step) {
      if (standalone()) { step.hidden = true; return; }
      var ios = isIOS() && !installPrompt;
      step.querySelector("[data-install-ios]").hidden = !ios;
      step.querySelector("[data-install-generic]").hidden = ios || !!installPrompt;
      step.querySelector("[data-install-button]").hidden = !installPrompt;
    });
  }
  window.addEventListener("beforeinstallprompt", function (e) {
    e.preventDefault();  // shown from our button instead of the browser's mini-infobar
    installPrompt = e;
    showInstall(document);
  });
  window.addEventListener("appinstalled", function () { installPrompt = null; showInstall(document); });
  document.addEventListener("click", function (e) {
    var button = e.target.closest && e.target.closest("[data-install-button]");
    if (!button || !installPrompt) return;
    var prompt = installPrompt;
    installPrompt = null;
    prompt.prompt();
    prompt.userChoice.then(function (choice) {
      var step = button.closest("[data-install-step]");
      if (choice.outcome === "accepted" && step) step.hidden = true;
      else showInstall(document);
    }).catch(function () {});
  });
  document.addEventListener("DOMContentLoaded", function () { showInstall(document); });
  document.addEventListener("htmx:load", function (e) { showInstall(e.target); });

  // --- push: the service worker showed a notification; refresh the unread count --------
  function refreshUnread(url) {
    var badge = document.getElementById("unread");
    if (!badge || !url || new URL(url, location.href).origin !== location.origin) return;
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (d) {
        if (!d) return;
        badge.textContent = d.count < 100 ? String(d.count) : "99+";
        badge.hidden = !d.count;
        badge.setAttribute("aria-label", d.label);
      })
      .catch(function () {});
  }
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.addEventListener("message", function (e) {
      if (e.data && e.data.type === "unread") refreshUnread(e.data.url);
    });
  }

  // --- service worker --------------------------------------------------------
  if ("serviceWorker" in navigator) {
    window.addEventListener("load", function () {
      navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () {});
      // The worker keeps the offline page in every language; tell it which one this person
      // reads, so a page that can't load offline is explained in that language.
      navigator.serviceWorker.ready.then(function (reg) {
        if (reg.active) reg.active.postMessage({ type: "lang", lang: document.documentElement.lang });
      });
    });
  }
})();
