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
  var exactFmt = fmt({ weekday: "short", day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short" });
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
    if (seconds > 0 && seconds < 6 * 86400) return weekdayFmt.format(date) + " " + timeFmt.format(date);
    if (date.getFullYear() === now.getFullYear()) return monthDayFmt.format(date);
    return fullDateFmt.format(date);
  }
  /* <time datetime> in the browser's (or the configured) zone. data-time-format="exact": the exact
     time as text (a message's headers); "time": the time of day only; otherwise relative text with
     the exact time on hover. */
  function renderTimes(root) {
    var now = new Date();
    (root || document).querySelectorAll("time[datetime]").forEach(function (el) {
      var date = new Date(el.getAttribute("datetime"));
      if (isNaN(date)) return;
      var format = el.dataset.timeFormat;
      if (format === "exact") {
        el.textContent = exactFmt.format(date);
        if (!el.title) el.title = el.getAttribute("datetime");
        return;
      }
      if (format === "time") el.textContent = timeFmt.format(date);
      else el.textContent = el.closest(".last-synced") ? relativeAgo(date, now) : relative(date, now);
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
  function row(id) { return document.getElementById("msg-" + id); }
  function setRowUnread(item, unread) {
    item.classList.toggle("unread", unread);
    item.dataset.unread = unread ? "1" : "0";
    var dot = item.querySelector(".unread-dot");
    if (!dot) return;
    if (unread) dot.title = "Unread"; else dot.removeAttribute("title");
    var said = dot.querySelector(".visually-hidden");
    if (said) said.textContent = unread ? "Unread" : "";
  }
  function markOpen(id) {
    document.querySelectorAll("#rows > li.open").forEach(function (r) { r.classList.remove("open"); });
    openId = id ? String(id) : null;
    var item = id && row(id);
    if (item) { item.classList.add("open"); setCurrent(item); }
  }
  function openRow(row) {
    if (!row) return;
    setCurrent(row);
    var link = row.querySelector(".msg-link");
    if (link) link.click();
  }
  /* The open message is in the address (/?<filters>&open=<Id>, pushed by the row links): a reload
     or a copied link reopens it, back and forward step through what was opened. */
  function urlWithOpen(id) {
    var params = new URLSearchParams(location.search);
    params.delete("after");
    if (id) params.set("open", id); else params.delete("open");
    var query = params.toString();
    return location.pathname + (query ? "?" + query : "");
  }
  function replaceUrl(url) {
    if (url === location.pathname + location.search) return;
    history.replaceState({ htmx: true }, "", url);
    // htmx 2 files its next history snapshot under this key: keep it in step with the address.
    try { sessionStorage.setItem("htmx-current-path-for-history", url); } catch (e) { /* private mode */ }
  }
  /* Closing always leaves no pane behind (a history snapshot may hold a half-open one): no
     "reading" class, an empty pane, no open row. True when a message was open. */
  function closeReader(keepUrl) {
    var box = inbox(), reader = document.getElementById("reader");
    if (!box) return false;
    var wasOpen = box.classList.contains("reading");
    box.classList.remove("reading");
    if (reader) { reader.innerHTML = ""; delete reader.dataset.openUrl; }
    markOpen(null);
    if (!keepUrl && wasOpen) replaceUrl(urlWithOpen(null));
    return wasOpen;
  }
  /* ?open=<Id> on a page load (or a history restore the server answered): fill the pane. */
  function loadOpenMessage() {
    var reader = document.getElementById("reader");
    var url = reader && reader.dataset.openUrl;
    if (!url || !window.htmx) return;
    delete reader.dataset.openUrl; // once: a history snapshot must not load it again
    var box = inbox();
    if (box) box.classList.add("reading");
    var match = /\/messages\/(\d+)\//.exec(url);
    if (match) markOpen(match[1]);
    htmx.ajax("GET", url, { source: reader, target: reader, swap: "innerHTML" });
  }
  /* u: the message's own mark endpoints (inbox/mailbox/message_views.py), as the reader's buttons use.
     When the message is open beside the list its buttons are swapped too; the row follows the
     messageMarked event either way. */
  function toggleUnread(item) {
    if (!item || !window.htmx) return;
    var url = item.dataset.unread === "1" ? item.dataset.readUrl : item.dataset.unreadUrl;
    if (!url) return;
    var actions = document.querySelector('#reader .message[data-message-id="' + item.dataset.id + '"] #message-actions');
    if (actions) htmx.ajax("POST", url, { source: actions, target: actions, swap: "outerHTML" });
    else htmx.ajax("POST", url, { source: document.getElementById("reader") || document.body, swap: "none" });
  }

  /* The reader says when a message was marked (opened, "Mark unread", u): the row follows at once. */
  document.body.addEventListener("messageMarked", function (event) {
    var detail = event.detail || {};
    var item = row(detail.id);
    if (item) setRowUnread(item, !!detail.unread);
  });
  /* Rows marked in bulk come back in place; a reader showing one of them is brought in line. */
  document.body.addEventListener("messagesMarked", function (event) {
    var detail = event.detail || {};
    if (!openId || !(detail.ids || []).map(String).includes(openId)) return;
    var actions = document.querySelector('#reader .message[data-message-id="' + openId + '"] #message-actions');
    var item = row(openId);
    var url = item && (detail.unread ? item.dataset.unreadUrl : item.dataset.readUrl);
    if (actions && url) htmx.ajax("POST", url, { source: actions, target: actions, swap: "outerHTML" });
  });

  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt, target = event.detail.target;
    if (elt && elt.classList && elt.classList.contains("msg-link")) {
      var item = elt.closest("li.msg");
      if (item) markOpen(item.dataset.id);
      var box = inbox();
      if (box) box.classList.add("reading");
    } else if (elt && elt.closest && elt.closest("#reader .message-nav") && elt.tagName === "A") {
      // Newer / older inside the pane: the address follows, as it does for a row.
      var match = /\/messages\/(\d+)\//.exec(elt.getAttribute("hx-get") || "");
      if (match) elt.setAttribute("hx-push-url", urlWithOpen(match[1]));
    } else if (target && target.id === "results") {
      closeReader(true); // another view of the list (filters, live banner): its own address, no pane
    }
  });
  document.addEventListener("htmx:afterSwap", function () {
    // The reader may show another message now (a row, newer / older): highlight its row.
    var message = document.querySelector("#reader .message[data-message-id]");
    if (message && message.dataset.messageId !== openId) markOpen(message.dataset.messageId);
  });
  /* --- History: Back / Forward restore a view that agrees with its address ------------------
     htmx restores the body from its snapshot (taken when the next address was pushed, so it holds
     the list, heading and counts of this view), but a snapshot is innerHTML: the filters' ticked
     boxes, radios and typed values are properties it cannot hold, and the reader pane is caught
     as it was while the next message loaded. So after every restore the form is set from the
     address, the pane follows ?open= (closed, or showing that message), the counts reload (the
     section's "load" trigger) and the title follows them. A restore the server answered (cache
     miss) is already right; the same steps are harmless there. */
  function filtersFromUrl() {
    var form = document.getElementById("filters");
    if (!form) return;
    var params = new URLSearchParams(location.search);
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.type === "submit" || el.type === "button" || el.type === "reset") return;
      var values = params.getAll(el.name);
      if (el.type === "checkbox") el.checked = values.indexOf(el.value) >= 0;
      else if (el.type === "radio") el.checked = (values[0] || "") === el.value;
      else if (el.tagName === "SELECT") {
        el.value = values[0] || "";
        if (el.selectedIndex < 0) el.selectedIndex = 0;
      } else if (el.type === "date") el.value = isoDay(values[0] || "");
      else el.value = values[0] || "";
    });
    // Controls whose shown state is more than their value (a combobox's label) listen for this.
    form.dispatchEvent(new CustomEvent("filtersRestored", { bubbles: true }));
  }
  // The server reads 2025-3-1 as 2025-03-01; a date box takes only the latter.
  function isoDay(value) {
    var m = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(value.trim());
    return m ? m[1] + "-" + ("0" + m[2]).slice(-2) + "-" + ("0" + m[3]).slice(-2) : "";
  }
  function openFromUrl() {
    var id = new URLSearchParams(location.search).get("open");
    return id && /^\d{1,19}$/.test(id) ? id : null;
  }
  /* The reader's address for message `id` in the view of the current address. */
  function messageUrl(id) {
    var reader = document.getElementById("reader");
    var base = reader && reader.dataset.messageUrl; // /messages/0/
    if (!base) return null;
    var params = new URLSearchParams(location.search);
    params.delete("open");
    params.delete("after");
    var query = params.toString();
    return base.replace(/0\/$/, id + "/") + (query ? "?" + query : "");
  }
  function readerFromUrl() {
    var reader = document.getElementById("reader"), box = inbox();
    if (!reader || !box) return;
    var id = openFromUrl();
    if (!id) { closeReader(true); return; }
    box.classList.add("reading");
    markOpen(id);
    if (reader.querySelector('.message[data-message-id="' + id + '"]')) return;
    var url = messageUrl(id);
    if (url && window.htmx) {
      reader.innerHTML = "";
      htmx.ajax("GET", url, { source: reader, target: reader, swap: "innerHTML" });
    }
  }
  /* Marks made since a snapshot was taken (opening, the buttons, u, bulk; in any page of this tab):
     a restored list shows every row as read or unread as it is now. Newest last, at most 2,000. */
  var MARKS_KEY = "helpdesk-marks";
  function storedMarks() {
    try { return JSON.parse(sessionStorage.getItem(MARKS_KEY) || "[]"); } catch (e) { return []; }
  }
  function rememberMarks(ids, unread) {
    var wanted = ids.map(String);
    var marks = storedMarks().filter(function (m) { return wanted.indexOf(m[0]) < 0; });
    wanted.forEach(function (id) { marks.push([id, unread ? 1 : 0]); });
    try { sessionStorage.setItem(MARKS_KEY, JSON.stringify(marks.slice(-2000))); } catch (e) { /* full or private */ }
  }
  function applyMarks() {
    storedMarks().forEach(function (m) {
      var item = row(m[0]);
      if (item && item.dataset.unread !== String(m[1])) setRowUnread(item, m[1] === 1);
    });
  }
  document.body.addEventListener("messageMarked", function (event) {
    var detail = event.detail || {};
    if (detail.id) rememberMarks([detail.id], !!detail.unread);
  });
  document.body.addEventListener("messagesMarked", function (event) {
    var detail = event.detail || {};
    if (detail.ids) rememberMarks(detail.ids, !!detail.unread);
  });
  // "Mark all" changes rows no snapshot can know: the views held for Back are asked of the server again.
  document.addEventListener("submit", function (event) {
    if (event.target.closest && event.target.closest("form.mark-all")) {
      try { sessionStorage.removeItem("htmx-history-cache"); } catch (e) { /* private mode */ }
    }
  });
  // A page the browser kept whole (back-forward cache) is brought up to date the same way.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) applyMarks();
  });

  // The list scrolls in its own pane at wide screens: its place is kept with the snapshot.
  document.body.addEventListener("htmx:historyItemCreated", function (event) {
    var pane = document.querySelector(".list-pane");
    if (pane && event.detail.item) event.detail.item.listScroll = pane.scrollTop;
  });
  document.addEventListener("htmx:historyRestore", function (event) {
    var current = document.querySelector("#rows > li.current");
    currentId = current ? current.dataset.id : null;
    openId = null;
    filtersFromUrl();
    applyMarks();
    if (document.getElementById("reader") && document.getElementById("reader").dataset.openUrl) loadOpenMessage();
    else readerFromUrl();
    var item = event.detail && event.detail.item, pane = document.querySelector(".list-pane");
    if (item && pane && item.listScroll) pane.scrollTop = item.listScroll;
    // The row last worked on stays in sight (the layout may have changed with the pane closed);
    // after htmx puts the window's scroll back (its own next tick).
    if (current && !openId) window.setTimeout(function () { if (current.isConnected) current.scrollIntoView({ block: "nearest" }); }, 0);
  });
  // A view htmx no longer holds is asked of the server: meanwhile the form already says the address.
  document.body.addEventListener("htmx:historyCacheMiss", filtersFromUrl);
  // A counts answer for a view already left (its section was replaced meanwhile) is dropped:
  // it would put the old view's numbers in the title.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (target && target.id === "counts" && !document.body.contains(target)) event.detail.shouldSwap = false;
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
  // The reader's Close (and Esc): back to the list, focus on the row that was open.
  document.addEventListener("click", function (event) {
    var close = event.target.closest && event.target.closest("#reader [data-close-reader]");
    if (!close) return;
    var was = openId;
    if (!closeReader()) return;
    var item = was && row(was), link = item && item.querySelector(".msg-link");
    if (link) { setCurrent(item); link.focus({ preventScroll: false }); }
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[data-confirm]");
    if (button && !window.confirm(button.dataset.confirm)) {
      event.preventDefault();
      event.stopPropagation();
    }
  }, true);

  /* --- Top bar menu (phones): a button with aria-expanded; Esc or a tap elsewhere closes it ---- */
  function menuOpen(open, focusToggle) {
    var toggle = document.getElementById("menu-toggle"), bar = toggle && toggle.closest(".topbar");
    if (!bar) return false;
    var was = toggle.getAttribute("aria-expanded") === "true";
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    bar.classList.toggle("menu-open", open);
    if (!open && was && focusToggle) toggle.focus();
    return was !== open;
  }
  document.addEventListener("click", function (event) {
    var toggle = document.getElementById("menu-toggle");
    if (!toggle || !event.target.closest) return;
    if (event.target.closest("#menu-toggle")) menuOpen(toggle.getAttribute("aria-expanded") !== "true");
    else if (!event.target.closest("#topbar-menu")) menuOpen(false);
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && menuOpen(false, true)) { event.preventDefault(); event.stopImmediatePropagation(); }
  }, true);
  // Tabbing out of the open menu closes it.
  document.addEventListener("focusin", function (event) {
    if (event.target.closest && !event.target.closest("#topbar-menu, #menu-toggle")) menuOpen(false);
  });

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
    if (!document.getElementById("rows") && "jkux".indexOf(event.key) >= 0) return; // not on the list
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
    // A page loaded again by Back (after another page) may get the browser's remembered form state
    // of another entry: the address decides.
    var navigation = window.performance && performance.getEntriesByType && performance.getEntriesByType("navigation")[0];
    if (navigation && navigation.type === "back_forward" && document.getElementById("filters")) filtersFromUrl();
    var open = document.querySelector("#rows > li.open");
    if (open) { openId = open.dataset.id; currentId = openId; }
    loadOpenMessage();
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
