/* Help desk: small progressive enhancements. Everything works without this file; htmx (served by
   django-htmx) does the fetching. This file: relative times, the reader pane, keyboard shortcuts,
   bulk-selection helpers and confirmations. No inline handlers anywhere (CSP-friendly). */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  /* --- Times: relative text, exact local time on hover ---------------------------------- */
  var zone = (document.body && document.body.dataset.timeZone) || undefined;
  function fmt(options) {
    try { return new Intl.DateTimeFormat(undefined, Object.assign({ timeZone: zone }, options)); }
    catch (e) { zone = undefined; return new Intl.DateTimeFormat(undefined, options); }
  }
  var exactFmt = fmt({ dateStyle: "full", timeStyle: "long" });
  var timeFmt = fmt({ hour: "2-digit", minute: "2-digit" });
  var dayFmt = fmt({ year: "numeric", month: "2-digit", day: "2-digit" });
  var weekdayFmt = fmt({ weekday: "short" });
  var monthDayFmt = fmt({ day: "numeric", month: "short" });
  var fullDateFmt = fmt({ day: "numeric", month: "short", year: "numeric" });

  function relative(date, now) {
    var seconds = (now - date) / 1000;
    if (seconds < 45 && seconds > -60) return "just now";
    if (seconds >= 45 && seconds < 3600) return Math.max(1, Math.round(seconds / 60)) + " min ago";
    var day = dayFmt.format(date), today = dayFmt.format(now);
    if (day === today) return timeFmt.format(date);
    if (day === dayFmt.format(new Date(now - 864e5))) return "Yesterday " + timeFmt.format(date);
    if (seconds > 0 && seconds < 6 * 864e5) return weekdayFmt.format(date) + " " + timeFmt.format(date);
    if (date.getFullYear() === now.getFullYear()) return monthDayFmt.format(date);
    return fullDateFmt.format(date);
  }
  function renderTimes(root) {
    var now = new Date();
    (root || document).querySelectorAll("time[datetime]").forEach(function (el) {
      var date = new Date(el.getAttribute("datetime"));
      if (isNaN(date)) return;
      el.textContent = el.closest(".last-synced") ? relativeAgo(date, now) : relative(date, now);
      el.title = exactFmt.format(date);
    });
  }
  function relativeAgo(date, now) {
    var s = Math.max(0, Math.round((now - date) / 1000));
    if (s < 60) return s + " s ago";
    if (s < 3600) return Math.round(s / 60) + " min ago";
    if (s < 86400) return Math.round(s / 3600) + " h ago";
    return Math.round(s / 86400) + " days ago";
  }

  /* --- The list: current row, reader pane ------------------------------------------------ */
  function inbox() { return document.getElementById("inbox"); }
  function rows() { return Array.prototype.slice.call(document.querySelectorAll("#rows > li.msg")); }
  // Remembered by id: a row swapped in place (after a mark) gets its highlight back.
  var currentId = null, openId = null;
  function current() { return document.querySelector("#rows > li.msg.current"); }
  function setCurrent(row) {
    var old = current();
    if (old) old.classList.remove("current");
    currentId = row ? row.dataset.id : null;
    if (!row) return;
    row.classList.add("current");
    row.scrollIntoView({ block: "nearest" });
    var link = row.querySelector(".msg-link");
    if (link && document.activeElement && document.activeElement.closest && document.activeElement.closest("#rows")) link.focus();
  }
  function move(step) {
    var all = rows();
    if (!all.length) return;
    var at = all.indexOf(current());
    var next = at < 0 ? all[0] : all[Math.min(all.length - 1, Math.max(0, at + step))];
    setCurrent(next);
    if (step > 0 && at >= all.length - 2) {
      var more = document.getElementById("more");
      if (more && window.htmx) htmx.trigger(more, "intersect"); // keep loading as j walks down
    }
  }
  function markRowRead(row) {
    row.classList.remove("unread");
    row.dataset.unread = "0";
  }
  function openRow(row) {
    if (!row) return;
    setCurrent(row);
    var link = row.querySelector(".msg-link");
    if (link) link.click();
  }
  function closeReader() {
    var box = inbox(), reader = document.getElementById("reader");
    if (!box || !box.classList.contains("reading")) return false;
    box.classList.remove("reading");
    openId = null;
    if (reader) reader.innerHTML = "";
    document.querySelectorAll("#rows > li.open").forEach(function (r) { r.classList.remove("open"); });
    return true;
  }
  function toggleUnread(row) {
    var form = document.getElementById("bulk");
    if (!row || !form || !window.htmx) return;
    var action = row.dataset.unread === "1" ? "read" : "unread";
    var token = form.querySelector("input[name=csrfmiddlewaretoken]");
    htmx.ajax("POST", form.getAttribute("action"), {
      source: form, swap: "none",
      values: { ids: row.dataset.id, action: action },
      headers: { "X-CSRFToken": token ? token.value : "" }
    });
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    if (elt && elt.classList && elt.classList.contains("msg-link")) {
      var row = elt.closest("li.msg");
      document.querySelectorAll("#rows > li.open").forEach(function (r) { r.classList.remove("open"); });
      if (row) { row.classList.add("open"); openId = row.dataset.id; setCurrent(row); markRowRead(row); }
      var box = inbox();
      if (box) box.classList.add("reading");
    }
  });

  /* Send only the filters that are set: the URL stays short and readable (?unread=1&q=x). */
  document.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.verb !== "get" || !event.detail.elt || event.detail.elt.id !== "filters") return;
    var params = event.detail.parameters;
    var names = params instanceof FormData ? Array.from(params.keys()) : Object.keys(params);
    names.forEach(function (name) {
      var value = params instanceof FormData ? params.get(name) : params[name];
      if (value === "" || value === null) {
        if (params instanceof FormData) params.delete(name); else delete params[name];
      }
    });
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    renderTimes(event.detail.target);
  });
  document.addEventListener("htmx:oobAfterSwap", function (event) {
    renderTimes(event.detail.target);
  });
  document.addEventListener("htmx:load", function (event) {
    var row = event.detail.elt;
    if (!row || !row.classList || !row.classList.contains("msg")) return;
    if (row.dataset.id === currentId) row.classList.add("current");
    if (row.dataset.id === openId && inbox() && inbox().classList.contains("reading")) row.classList.add("open");
  });

  /* --- Clicks: select all, confirmations -------------------------------------------------- */
  document.addEventListener("change", function (event) {
    if (event.target.id === "select-all") {
      document.querySelectorAll("#rows input.select").forEach(function (box) { box.checked = event.target.checked; });
    }
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[data-confirm]");
    if (button && !window.confirm(button.dataset.confirm)) {
      event.preventDefault();
      event.stopPropagation();
    }
  }, true);

  /* --- Keyboard ----------------------------------------------------------------------------- */
  function typing(target) {
    if (!target || !target.tagName) return false;
    var tag = target.tagName.toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
  }
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var dialog = document.getElementById("shortcuts");
    if (event.key === "Escape") {
      if (typing(event.target) && event.target.id === "id_q") { event.target.blur(); return; }
      if (closeReader()) event.preventDefault();
      return;
    }
    if (typing(event.target) || (dialog && dialog.open)) return;
    switch (event.key) {
      case "j": move(1); break;
      case "k": move(-1); break;
      case "Enter":
        if (!current()) return;
        if (event.target.closest && event.target.closest("a, button") && !event.target.closest("#rows")) return;
        openRow(current());
        break;
      case "u": toggleUnread(current()); break;
      case "x": {
        var row = current(), box = row && row.querySelector("input.select");
        if (box) box.checked = !box.checked;
        break;
      }
      case "/": {
        var search = document.getElementById("id_q");
        if (!search) return;
        search.focus();
        search.select();
        break;
      }
      case "?": if (dialog && dialog.showModal) dialog.showModal(); break;
      default: return;
    }
    event.preventDefault();
  });

  function start() {
    renderTimes(document);
    // On a phone the filters fold away under "Filters" unless one is in use.
    var more = document.getElementById("more-filters");
    if (more && window.matchMedia("(max-width: 760px)").matches && !/[?&](unread|direction|account|customer|since|until)=./.test(location.search)) {
      more.open = false;
    }
    window.setInterval(function () { renderTimes(document); }, 30000);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
