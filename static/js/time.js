// Relative times, formatted in the browser: the server writes <time class="ago" datetime="…Z">
// with an absolute date in the person's language and the organisation's timezone (a cached card
// is one HTML for everyone who reads its language, and never goes stale by the clock); here,
// anything under a week becomes "3 分钟前" / "3 minutes ago" and is kept current, and older dates
// (and every title) are written again in the person's own timezone (<html data-tz>).
(function () {
  "use strict";
  var WEEK = 7 * 86400;
  var UNITS = [["day", 86400], ["hour", 3600], ["minute", 60], ["second", 1]];
  var JUST_NOW = 10;  // seconds: also covers a phone whose clock runs a little behind the server's
  var format = null;
  var justNow = null;
  var dates = null;  // [the medium date, the medium date and time] in the person's timezone, or false

  function absolute() {
    if (dates === null) {
      dates = false;
      var zone = document.documentElement.dataset.tz;
      if (zone && window.Intl && Intl.DateTimeFormat) {
        var lang = document.documentElement.lang || undefined;
        try {
          dates = [new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeZone: zone }),
                   new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "medium", timeZone: zone })];
        } catch (e) {  // a zone or option this browser doesn't know: keep the server's text
          dates = false;
        }
      }
    }
    return dates;
  }

  function formatter() {
    if (!format && window.Intl && Intl.RelativeTimeFormat) {
      var lang = document.documentElement.lang || undefined;
      format = new Intl.RelativeTimeFormat(lang, { numeric: "always" });
      justNow = new Intl.RelativeTimeFormat(lang, { numeric: "auto" }).format(0, "second");  // "now" / "现在"
    }
    return format;
  }

  function relative(el, now) {
    var when = Date.parse(el.getAttribute("datetime"));
    if (isNaN(when)) return;
    if (!el.dataset.absolute) {
      var mine = absolute();
      if (mine) {
        el.dataset.absolute = mine[0].format(when);
        el.title = mine[1].format(when);
      } else {
        el.dataset.absolute = el.textContent;
      }
    }
    var seconds = Math.round((when - now) / 1000);
    if (Math.abs(seconds) >= WEEK || !formatter()) {
      el.textContent = el.dataset.absolute;
      return;
    }
    if (seconds > -JUST_NOW) {  // never "in 1 second": something just written, or a clock skew
      el.textContent = justNow;
      return;
    }
    for (var i = 0; i < UNITS.length; i++) {
      var size = UNITS[i][1];
      if (Math.abs(seconds) >= size || size === 1) {
        var value = Math.round(seconds / size);
        if (value === 0) value = seconds < 0 ? -1 : 1;
        el.textContent = format.format(value, UNITS[i][0]);
        return;
      }
    }
  }

  function update(root) {
    var now = Date.now();
    (root || document).querySelectorAll("time.ago[datetime]").forEach(function (el) { relative(el, now); });
  }

  document.addEventListener("DOMContentLoaded", function () { update(document); });
  document.addEventListener("htmx:load", function (event) { update(event.target); });
  setInterval(function () { update(document); }, 30000);
})();
