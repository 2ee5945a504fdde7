// Relative times, formatted in the browser: the server writes <time class="ago" datetime="…Z">
// with an absolute date in the person's language (cached cards never go stale by the clock);
// here, anything under a week becomes "3 分钟前" / "3 minutes ago" and is kept current.
(function () {
  "use strict";
  var WEEK = 7 * 86400;
  var UNITS = [["day", 86400], ["hour", 3600], ["minute", 60], ["second", 1]];
  var format = null;

  function formatter() {
    if (!format && window.Intl && Intl.RelativeTimeFormat) {
      format = new Intl.RelativeTimeFormat(document.documentElement.lang || undefined, { numeric: "always" });
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
    for (var i = 0; i < UNITS.length; i++) {
      var size = UNITS[i][1];
      if (Math.abs(seconds) >= size || size === 1) {
        var value = Math.round(seconds / size);
        if (value === 0) value = seconds < 0 ? -1 : 1;  // "1 second ago", never "in 0 seconds"
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
