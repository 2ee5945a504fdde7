// Relative times, formatted in the browser: the server writes <time class="ago" datetime="…Z">
// with an absolute date in the person's language (cached cards never go stale by the clock);
// here, anything under a week becomes "3 分钟前" / "3 minutes ago" and is kept current.
(function () {
  "use strict";
  var WEEK = 7 * 86400;
  var UNITS = [["day", 86400], ["hour", 3600], ["minute", 60], ["second", 1]];
  var JUST_NOW = 10;  // seconds: also covers a phone whose clock runs a little behind the server's
  var format = null;
  var justNow = null;

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
    if (!el.dataset.absolute) el.dataset.absolute = el.textContent;
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
