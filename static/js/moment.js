// Formats <time class="quarty-moment"> elements in the browser's locale and time
// zone with Intl, replacing the moment.js that flask-moment loads from a CDN.
(function () {
  "use strict";
  var FORMATS = {
    L: { year: "numeric", month: "2-digit", day: "2-digit" },
    LL: { year: "numeric", month: "long", day: "numeric" },
    LLL: { year: "numeric", month: "long", day: "numeric", hour: "numeric", minute: "2-digit" },
    LLLL: { weekday: "long", year: "numeric", month: "long", day: "numeric", hour: "numeric", minute: "2-digit" },
    LT: { hour: "numeric", minute: "2-digit" },
    LTS: { hour: "numeric", minute: "2-digit", second: "2-digit" }
  };
  var UNITS = [
    ["year", 365 * 24 * 3600], ["month", 30 * 24 * 3600], ["week", 7 * 24 * 3600],
    ["day", 24 * 3600], ["hour", 3600], ["minute", 60], ["second", 1]
  ];
  var locale = navigator.language || undefined;

  function fromNow(date) {
    var seconds = (date.getTime() - Date.now()) / 1000;
    var rtf = new Intl.RelativeTimeFormat(locale, { numeric: "auto" });
    if (Math.abs(seconds) < 45) { return seconds <= 0 ? "a few seconds ago" : "in a few seconds"; }
    for (var i = 0; i < UNITS.length; i++) {
      if (Math.abs(seconds) >= UNITS[i][1] || UNITS[i][0] === "second") {
        return rtf.format(Math.round(seconds / UNITS[i][1]), UNITS[i][0]);
      }
    }
    return "";
  }

  function startOfDay(date) {
    return new Date(date.getFullYear(), date.getMonth(), date.getDate()).getTime();
  }

  function calendar(date) {
    var days = Math.round((startOfDay(date) - startOfDay(new Date())) / 86400000);
    var time = new Intl.DateTimeFormat(locale, FORMATS.LT).format(date);
    if (Math.abs(days) > 1) { return new Intl.DateTimeFormat(locale, FORMATS.L).format(date); }
    var day = new Intl.RelativeTimeFormat(locale, { numeric: "auto" }).format(days, "day");
    return day.charAt(0).toUpperCase() + day.slice(1) + " " + time;
  }

  function render(element) {
    var date = new Date(element.getAttribute("datetime"));
    if (isNaN(date.getTime())) { return; }
    var kind = element.dataset.kind;
    if (kind === "fromNow") { element.textContent = fromNow(date); }
    else if (kind === "calendar") { element.textContent = calendar(date); }
    else { element.textContent = new Intl.DateTimeFormat(locale, FORMATS[element.dataset.format] || FORMATS.LLL).format(date); }
    element.title = date.toLocaleString(locale);
    element.dataset.rendered = "true";
  }

  function renderAll() {
    document.querySelectorAll("time.quarty-moment").forEach(function (element) {
      render(element);
      var refresh = parseInt(element.dataset.refresh || "0", 10);
      if (refresh > 0 && !element.dataset.timer) {
        element.dataset.timer = String(setInterval(function () { render(element); }, refresh));
      }
    });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", renderAll); }
  else { renderAll(); }
})();
