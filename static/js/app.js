/* Help desk: small progressive enhancements. Everything works without this file; htmx (served by
   django-htmx) does the fetching. This file: relative times, the reader pane, keyboard shortcuts,
   bulk-selection helpers and confirmations. No inline handlers anywhere (CSP-friendly). */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  /* --- Times: the server writes them (inbox/timefmt.py, {% when %}); this only refreshes the
     relative text as time passes, by the same rules (static/js/timefmt.js), in the same zone (the
     configured HELPDESK_TIME_ZONE, else the reader's own). <time data-time-format="exact">: the
     exact time as text; "time": the time of day; "day": the day; otherwise relative text. The
     tooltip (title) is always the exact time. */
  var zone = (document.body && document.body.dataset.timeZone) || undefined;
  function renderTimes(root) {
    var T = window.HelpdeskTime;
    if (!T || !root || !root.querySelectorAll) return;
    var now = new Date();
    var found = Array.prototype.slice.call(root.querySelectorAll("time[datetime]"));
    if (root.matches && root.matches("time[datetime]")) found.push(root);
    found.forEach(function (el) {
      var date = new Date(el.getAttribute("datetime"));
      if (isNaN(date)) return;
      var format = el.dataset.timeFormat, text;
      try {
        if (format === "exact") text = T.exact(date, zone);
        else if (format === "time") text = T.timeOfDay(date, zone);
        else if (format === "day") text = T.day(date, zone);
        else if (format === "age") text = T.age(date, now);
        else if (format === "point") text = T.point(date, now, zone);
        else text = T.relative(date, now, zone);
        var title = T.exact(date, zone);
      } catch (e) { zone = undefined; return; } // an unknown zone name: the browser's own next time
      if (el.textContent !== text) el.textContent = text;
      if (el.title !== title) el.title = title;
    });
    renderWaits(root, now);
  }
  /* How long a customer has waited ("waiting 3 h", in red past the reply target): written by the
     server (inbox/mailbox/rows.py, waiting) and kept true here as time passes, like the times. */
  function renderWaits(root, now) {
    var found = Array.prototype.slice.call(root.querySelectorAll(".waiting[data-since]"));
    if (root.matches && root.matches(".waiting[data-since]")) found.push(root);
    found.forEach(function (el) {
      var since = new Date(el.dataset.since), target = parseInt(el.dataset.target, 10);
      if (isNaN(since) || isNaN(target)) return;
      var seconds = Math.max(0, Math.floor((now - since) / 1000));
      var text = (el.dataset.prefix || "") + "waiting " + window.HelpdeskTime.wait(seconds);
      var late = seconds >= Math.max(0, target) * 3600;
      if (el.textContent !== text) el.textContent = text;
      el.dataset.hours = String(Math.floor(seconds / 3600));
      if (el.classList.contains("late") !== late) {
        el.classList.toggle("late", late);
        if (late) el.title = "Waiting longer than the " + target + " h reply target";
        else el.removeAttribute("title");
      }
    });
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
    // From the row the focus is in (reached by Tab or a click), else the row last chosen.
    var active = document.activeElement, focused = active && active.closest && active.closest("#rows > li.msg");
    var at = all.indexOf(focused || current());
    var next = at < 0 ? all[0] : all[Math.min(all.length - 1, Math.max(0, at + step))];
    setCurrent(next);
    // j / k take the focus along, wherever it was (Sign out, Export CSV): Enter then opens the
    // row they chose, and a screen reader reads it, instead of pressing the control left behind.
    var link = next.querySelector(".msg-link");
    if (link && document.activeElement !== link) link.focus({ preventScroll: true });
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
    snapshotsUnder(url);
  }
  // htmx 2 files its next history snapshot under this key: keep it in step with the address.
  function snapshotsUnder(url) {
    try { sessionStorage.setItem("htmx-current-path-for-history", url); } catch (e) { /* private mode */ }
  }
  /* Closing always leaves no pane behind (a history snapshot may hold a half-open one): no
     "reading" class, an empty pane, no open row. True when a message was open. The address
     loses its open=: when the message was opened from this very list, by stepping back to the
     list's own entry (so that Back after Close leaves the list, instead of showing it again),
     else by rewriting the address in place. */
  function closeReader(keepUrl, then) {
    var box = inbox(), reader = document.getElementById("reader");
    if (!box) return false;
    var wasOpen = box.classList.contains("reading");
    box.classList.remove("reading");
    followReaderCover(false); // now, not after this task: the row is focused next
    if (reader) { reader.innerHTML = ""; delete reader.dataset.openUrl; }
    markOpen(null);
    if (!keepUrl && wasOpen) {
      var list = urlWithOpen(null);
      if (history.state && history.state.openedFrom === list) { backQuietly(list, history.state.depth || 1, then); return true; }
      replaceUrl(list);
    }
    if (then) then();
    return wasOpen;
  }
  /* An entry pushed by opening a message remembers the list it was opened from, and how many
     entries back that list is: one for a row, one more for each Newer / Older in the pane (htmx
     announces each push before it: htmx:beforeHistoryUpdate, then htmx:pushedIntoHistory). Close
     goes back to that entry, over the messages stepped through, so that Back after Close leaves
     the list. */
  var leaving = null, leavingState = null;
  document.body.addEventListener("htmx:beforeHistoryUpdate", function () {
    leaving = location.pathname + location.search;
    leavingState = history.state;
  });
  document.body.addEventListener("htmx:pushedIntoHistory", function () {
    var from = leaving, before = leavingState, list = urlWithOpen(null), depth = 0;
    leaving = leavingState = null;
    if (!openFromUrl()) return;
    if (from === list) depth = 1;
    else if (before && before.openedFrom === list) depth = (before.depth || 1) + 1;
    if (depth) history.replaceState({ htmx: true, openedFrom: list, depth: depth }, "", location.pathname + location.search);
  });
  /* htmx rewrites the state of the entry it leaves ({htmx: true}, at the same address) before each
     push, and of the entry it comes to on Back / Forward: what the entry was opened from is kept
     through those rewrites (a rewrite to another address is another entry's business, and drops it). */
  var replaceState = history.replaceState;
  history.replaceState = function (state, title, url) {
    var from = history.state && history.state.openedFrom;
    var same = url == null || new URL(url, location.href).href === location.href;
    if (from && same && state && state.htmx && !state.openedFrom) {
      state = { htmx: true, openedFrom: from, depth: history.state.depth || 1 };
    }
    return replaceState.call(history, state, title, url);
  };
  /* Back to the list's entry without htmx restoring it: the list on screen is the one the person
     has been working in (rows loaded, marks made, scrolled), newer than the snapshot htmx took
     when the message opened. htmx's own handler of the next step through history is set aside
     for that one step (it is a property htmx sets, window.onpopstate); any other step, or none
     within a second, puts it back. then: once back on the list's entry, after the browser has put
     back the window's scroll it kept for that entry (on a phone, where the list scrolls in the
     window: from before the message was opened, or from another page's visit). */
  function backQuietly(list, steps, then) {
    var htmxHandler = window.onpopstate, done = false;
    function putBack() { if (!done) { done = true; window.onpopstate = htmxHandler; } }
    window.onpopstate = function (event) {
      putBack();
      if (location.pathname + location.search === list) {
        snapshotsUnder(list);
        if (then) window.setTimeout(then, 0);
        return;
      }
      if (htmxHandler) htmxHandler.call(window, event);
    };
    window.setTimeout(putBack, 1000);
    history.go(-steps);
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
  /* The density control (#density) was used: restyle the list in place (the choice is saved). */
  document.body.addEventListener("densityChanged", function (event) {
    var density = (event.detail || {}).density, box = inbox();
    if (!box || !density) return;
    box.dataset.density = density;
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

  /* A row's link opens its message in the reader pane: one listener for the whole list, not htmx
     set up on each of fifty links at every swap. The link names its pane (hx-target), how it goes
     in (hx-swap) and the address it pushes (hx-push-url), which htmx reads from it as the source;
     a click with a modifier key opens the full page in a new tab, as any link's would. */
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("#rows .msg-link") : null;
    if (!link || !window.htmx || event.defaultPrevented || event.button !== 0 ||
        event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    htmx.ajax("GET", link.getAttribute("href"), {
      source: link, target: link.getAttribute("hx-target"), swap: link.getAttribute("hx-swap"),
    });
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
  document.addEventListener("htmx:afterSwap", function (event) {
    // The reader may show another message now (a row, newer / older): highlight its row.
    var message = document.querySelector("#reader .message[data-message-id]");
    if (message && message.dataset.messageId !== openId) markOpen(message.dataset.messageId);
    // Another view of the list starts at its top. At wide screens the list scrolls in its own
    // pane, which the swap leaves where it was: 200 rows down, the new view showed its 88th row
    // and the sentinel there loaded two more pages nobody asked for. (Back / Forward put the
    // pane back where the view was: htmx:historyRestore below.)
    var target = event.detail && event.detail.target, pane = document.querySelector(".list-pane");
    if (target && target.id === "results" && pane) pane.scrollTop = 0;
  });
  /* --- History: Back / Forward restore a view that agrees with its address ------------------
     htmx restores the body from its snapshot (taken when the next address was pushed, so it holds
     the list, heading and counts of this view), but a snapshot is innerHTML: the filters' ticked
     boxes, radios and typed values are properties it cannot hold, and the reader pane is caught
     as it was while the next message loaded. So after every restore the form is set from the
     address, the pane follows ?open= (closed, or showing that message), the counts reload (the
     section's "load" trigger) and the title follows them. A restore the server answered (cache
     miss) is already right; the same steps are harmless there. */
  function filtersFromUrl(search) {
    var form = document.getElementById("filters");
    if (!form) return;
    var params = new URLSearchParams(search === undefined ? location.search : search);
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
  window.helpdeskFiltersFromUrl = filtersFromUrl;
  /* A count's link (Unread, Awaiting reply, Received, Sent, a mail account) switches the view in
     place, as the filters do: the form takes the link's filters and asks for the list (one history
     entry, the form in step), and focus comes back to that count once the counts are drawn again.
     It was a whole page load, with focus on <body> at the top of the page. A click that opens a
     new tab or window is the browser's. */
  var facetToFocus = null;
  function facetLinks() { return Array.prototype.slice.call(document.querySelectorAll("#counts .facets a[href]")); }
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("#counts .facets a[href]");
    var form = document.getElementById("filters");
    if (!link || !form || !window.htmx || event.defaultPrevented) return;
    if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
    var url = new URL(link.href, location.href);
    if (url.origin !== location.origin || url.pathname !== location.pathname) return;
    event.preventDefault();
    facetToFocus = facetLinks().indexOf(link);
    filtersFromUrl(url.search);
    htmx.trigger(form, "submit");
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    var target = (event.detail && event.detail.target) || event.target;
    if (facetToFocus === null || !target || target.id !== "counts") return;
    var links = facetLinks(), active = document.activeElement;
    if (!links.length) return; // "Counting…": the counts themselves come next
    var link = links[facetToFocus];
    facetToFocus = null;
    if (link && (!active || active === document.body)) link.focus();
  });
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
  /* The message in a restored reader pane says read or unread as it is now too: its buttons are
     asked again with the same mark (marking a message as it already is changes nothing). */
  function readerFollowsMarks() {
    var message = document.querySelector("#reader .message[data-message-id]");
    var actions = message && message.querySelector("#message-actions");
    if (!actions || !window.htmx) return;
    var id = message.dataset.messageId, mark = null;
    storedMarks().forEach(function (m) { if (m[0] === id) mark = m[1]; });
    var shownUnread = !!actions.querySelector(".read-state.is-unread");
    if (mark === null || shownUnread === (mark === 1)) return;
    var item = row(id), url = item && (mark === 1 ? item.dataset.unreadUrl : item.dataset.readUrl);
    if (url) htmx.ajax("POST", url, { source: actions, target: actions, swap: "outerHTML" });
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
      keepNothing = true;
      pendingSnapshots = [];
      try { sessionStorage.removeItem(HISTORY_KEY); } catch (e) { /* private mode */ }
    }
  });
  // A page the browser kept whole (back-forward cache) is brought up to date the same way.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) applyMarks();
  });

  /* --- History snapshots, filed once the page is idle -------------------------------------------
     Before each new address (a filter, a message opened) htmx copied the page and rewrote its whole
     cache of views in sessionStorage (every kept view as one JSON string): 12-20 ms of the click,
     before the new list could be drawn (docs/rendering.md). The body says hx-history="false", so
     htmx takes no snapshot of its own; this file takes the page's markup at the moments htmx would
     (a response about to change the address: htmx:beforeHistoryUpdate; Back / Forward about to
     show another view: htmx:historyCacheHit / htmx:historyCacheMiss) and files it in htmx's cache,
     in htmx's format, once the new view is drawn and nothing else waits. htmx restores from that
     cache as before (https://htmx.org/docs/#history); a view not filed yet, or no longer kept, is
     asked of the server, as htmx asks for any view it does not hold. The list's own scroll (it
     scrolls in its pane at wide screens) is kept with the view. */
  var HISTORY_KEY = "htmx-history-cache", pendingSnapshots = [];
  function historyPath(path) { // htmx's normalizePath: the cache's key for an address
    try { var url = new URL(path, location.href); path = url.pathname + url.search; } catch (e) { /* as given */ }
    return path === "/" ? path : path.replace(/\/+$/, "");
  }
  function takeSnapshot() {
    var path;
    try { path = sessionStorage.getItem("htmx-current-path-for-history"); } catch (e) { return; }
    var pane = document.querySelector(".list-pane");
    pendingSnapshots.push({
      url: historyPath(path || location.pathname + location.search),
      content: document.body.innerHTML,
      title: document.title,
      scroll: window.scrollY,
      listScroll: pane ? pane.scrollTop : 0,
      focus: window.helpdeskFocusNote ? window.helpdeskFocusNote() : "", // below, with the rest of focus
    });
    if (pendingSnapshots.length === 1) { // once the new view is drawn and the page is idle
      if (window.requestIdleCallback) window.requestIdleCallback(fileSnapshots, { timeout: 2000 });
      else window.setTimeout(fileSnapshots, 200);
    }
  }
  // As htmx files a view: without its request marks (a class, a control it disabled meanwhile).
  // Nor inline styles: this page sets none, but a browser extension (or a test driver's screenshot)
  // may, and put back by Back each is what the policy refuses (style-src), an error each. They go
  // from the markup as text, inside tags only (a tag's "<" is never in text or in an attribute's
  // value as the browser writes them: https://html.spec.whatwg.org/#escapingString); parsed, the
  // policy refused them there too.
  var STYLE_IN_TAG = /(<[a-zA-Z][^<>]*?)\sstyle="[^"]*"/g;
  function cleanSnapshot(html) {
    if (html.indexOf(" style=") >= 0) html = html.replace(STYLE_IN_TAG, "$1");
    var busy = (window.htmx && htmx.config.requestClass) || "htmx-request";
    if (html.indexOf(busy) < 0 && html.indexOf("data-disabled-by-htmx") < 0) return html;
    var copy = document.createElement("template");
    copy.innerHTML = html;
    copy.content.querySelectorAll("." + busy).forEach(function (el) { el.classList.remove(busy); });
    copy.content.querySelectorAll("[data-disabled-by-htmx]").forEach(function (el) { el.removeAttribute("disabled"); });
    return copy.innerHTML;
  }
  function keptViews() { // the views filed for Back, oldest first ([] when none or unreadable)
    var cache;
    try { cache = JSON.parse(sessionStorage.getItem(HISTORY_KEY) || "[]"); } catch (e) { return []; }
    return Array.isArray(cache) ? cache : [];
  }
  // This page was loaded by Back or Forward (not htmx's popstate: a new document).
  function loadedByHistory() {
    var navigation = window.performance && performance.getEntriesByType && performance.getEntriesByType("navigation")[0];
    return !!navigation && navigation.type === "back_forward";
  }
  function fileSnapshots() {
    var taken = pendingSnapshots;
    pendingSnapshots = [];
    if (!taken.length) return;
    var keep = Math.max(0, (window.htmx && htmx.config.historyCacheSize) || 0), cache = keptViews();
    taken.forEach(function (item) {
      item.content = cleanSnapshot(item.content);
      cache = cache.filter(function (old) { return old.url !== item.url; });
      cache.push(item);
    });
    cache = cache.slice(Math.max(0, cache.length - keep));
    while (cache.length) { // as htmx does: the oldest views go first when storage is full
      try { sessionStorage.setItem(HISTORY_KEY, JSON.stringify(cache)); return; } catch (e) { cache.shift(); }
    }
    try { sessionStorage.removeItem(HISTORY_KEY); } catch (e) { /* private mode */ }
  }
  /* Signing out forgets what this tab kept of the inbox, the views for Back and the marks: on a
     shared computer, Back after signing out restored the mail htmx had kept for the next person
     at the desk. A page for nobody signed in (the sign-in page, where an expired session also
     lands) forgets them too. */
  var keepNothing = false; // this page is being left after signing out or "Mark all": no snapshot of it
  function forgetKept() {
    keepNothing = true;
    pendingSnapshots = [];
    [HISTORY_KEY, MARKS_KEY].forEach(function (key) {
      try { sessionStorage.removeItem(key); } catch (e) { /* private mode */ }
    });
  }
  document.addEventListener("submit", function (event) {
    if (event.target.matches && event.target.matches("form.sign-out")) forgetKept();
  });
  if (!document.querySelector("form.sign-out")) forgetKept();
  // Back / Forward before the page was idle: what is waiting is filed first (a capturing listener
  // runs before htmx's window.onpopstate, which reads the cache).
  window.addEventListener("popstate", fileSnapshots, true);
  /* Leaving the inbox for another page (a customer's conversation, the accounts): the view as it
     is now is filed too, and Back to it (a new page load: private pages are kept out of the
     browser's back-forward cache) puts it back as htmx does on Back within the inbox, with the
     rows scrolled in, the open message and the place in the list; without it, Back showed the
     first page at its top, without the message that was open. */
  window.addEventListener("pagehide", function (event) {
    if (event.persisted || keepNothing || !document.getElementById("rows")) return;
    takeSnapshot();
    fileSnapshots();
  });
  function restoreLeftView() {
    if (!loadedByHistory() || !window.htmx || !document.getElementById("rows")) return false;
    var path = historyPath(location.pathname + location.search), item = null;
    keptViews().forEach(function (kept) { if (kept && kept.url === path) item = kept; });
    if (!item || !item.content) return false;
    document.body.innerHTML = item.content;
    if (item.title) document.title = item.title;
    htmx.process(document.body);
    htmx.trigger(document.body, "htmx:load"); // as after htmx's own restore: times drawn, counts asked again
    window.setTimeout(function () { window.scrollTo(0, item.scroll || 0); }, 0);
    htmx.trigger(document.body, "htmx:historyRestore", { path: path, item: item });
    return true;
  }
  document.body.addEventListener("htmx:beforeHistoryUpdate", takeSnapshot);
  document.body.addEventListener("htmx:historyCacheHit", takeSnapshot);
  document.body.addEventListener("htmx:historyCacheMiss", takeSnapshot);
  document.addEventListener("htmx:historyRestore", function (event) {
    var current = document.querySelector("#rows > li.current");
    currentId = current ? current.dataset.id : null;
    openId = null;
    filtersFromUrl();
    applyMarks();
    if (document.getElementById("reader") && document.getElementById("reader").dataset.openUrl) loadOpenMessage();
    else { readerFromUrl(); readerFollowsMarks(); }
    var item = event.detail && event.detail.item, pane = document.querySelector(".list-pane");
    if (item && pane && item.listScroll) pane.scrollTop = item.listScroll;
    // The row last worked on stays in sight (the layout may have changed with the pane closed);
    // after htmx puts the window's scroll back (its own next tick).
    if (current && !openId) window.setTimeout(function () { if (current.isConnected) current.scrollIntoView({ block: "nearest" }); }, 0);
  });
  // A view htmx no longer holds is asked of the server: meanwhile the form already says the address.
  document.body.addEventListener("htmx:historyCacheMiss", function () { filtersFromUrl(); });
  // A counts answer for a view already left (its section was replaced meanwhile) is dropped:
  // it would put the old view's numbers in the title.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (target && target.id === "counts" && !document.body.contains(target)) event.detail.shouldSwap = false;
  });

  /* The filters' errors: a new list brings its own request's errors out of band, and only those
     (templates/jinja2/inbox/parts.html), so what an earlier request said goes as the list arrives.
     The control an error is about says aria-invalid while the error shows. */
  function describedControls(slot) {
    return document.querySelectorAll('input[aria-describedby~="' + slot.id + '"], select[aria-describedby~="' +
      slot.id + '"], textarea[aria-describedby~="' + slot.id + '"]');
  }
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (!target || target.id !== "results" || !event.detail.shouldSwap) return;
    document.querySelectorAll("p.field-error").forEach(function (slot) {
      if (!slot.firstChild && !slot.hasAttribute("role")) return;
      slot.textContent = "";
      slot.removeAttribute("role");
    });
    document.querySelectorAll("#filters [aria-invalid]").forEach(function (control) {
      control.removeAttribute("aria-invalid");
    });
  });
  document.addEventListener("htmx:oobAfterSwap", function (event) {
    var slot = event.detail.target;
    if (!slot || !slot.classList || !slot.classList.contains("field-error")) return;
    slot = document.getElementById(slot.id) || slot; // the swapped-in element
    if (!slot.textContent.trim()) return;
    describedControls(slot).forEach(function (control) { control.setAttribute("aria-invalid", "true"); });
  });

  /* Markup being replaced: htmx walks every element it removes, one event each (a page of rows is
     ~1,000 elements, ~15 ms; the counts with fifty accounts ~230). The rows and the counts' contents
     hold nothing htmx must release (no timers, observers or htmx attributes: only the rows' links'
     own listeners, which go with them), so they leave first, in one step; the elements htmx set up
     (#counts itself, the sentinel #more) are still left to htmx. This runs during the swap, after
     the history snapshot: Back still finds them. */
  var PLAIN_CHILDREN = { rows: ":scope > li.msg", counts: ":scope > *" };
  document.addEventListener("htmx:beforeCleanupElement", function (event) {
    var el = event.target;
    var box = el.id === "bulk" ? el.querySelector("#rows") : el;
    var items = box && PLAIN_CHILDREN[box.id] ? box.querySelectorAll(PLAIN_CHILDREN[box.id]) : [];
    if (!items.length) return;
    var range = document.createRange();
    range.setStartBefore(items[0]);
    range.setEndAfter(items[items.length - 1]);
    range.deleteContents();
  });

  /* Dates typed digit by digit: Chromium reports each step of the year as a whole date
     (0002-11-20, 0020-11-20, 0202-11-20, 2026-11-20), each a change, which would filter (and add
     a history entry) four times. A typed date is sent once typing pauses or the field is left, and
     never with a year of fewer than four digits; a date picked from the calendar goes at once. */
  var DATE_PAUSE_MS = 600;
  function partialDate(input) {
    return input.value !== "" && !/^[1-9][0-9]{3}-/.test(input.value);
  }
  function settleDate(input) {
    window.clearTimeout(input.dateTimer);
    input.dateTimer = null;
    if (partialDate(input)) return;
    input.dateSettled = true;
    input.dispatchEvent(new Event("change", { bubbles: true }));
    input.dateSettled = false;
  }
  document.addEventListener("keydown", function (event) {
    if (event.target.type === "date") event.target.typedAt = Date.now();
  }, true);
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (input.type !== "date" || !input.form || input.form.id !== "filters" || input.dateSettled) return;
    var typed = Date.now() - (input.typedAt || 0) < 250;
    if (!typed && !partialDate(input)) return; // picked: as it is
    event.stopPropagation(); // htmx listens on the form, after this (capture on the document)
    window.clearTimeout(input.dateTimer);
    input.dateTimer = window.setTimeout(function () { settleDate(input); }, DATE_PAUSE_MS);
  }, true);
  document.addEventListener("focusout", function (event) {
    if (event.target.type === "date" && event.target.dateTimer) settleDate(event.target);
  }, true);
  /* A date the browser cannot read (31 Nov, a month alone) has no value: the form goes without it
     (novalidate), and the field says so, once the list it asked for is drawn (a new list empties
     the messages beside the filters). */
  function unreadableDates() {
    var form = document.getElementById("filters");
    if (!form) return;
    form.querySelectorAll('input[type="date"]').forEach(function (input) {
      var error = document.getElementById("err-" + input.name), bad = !!(input.validity && input.validity.badInput);
      if (!error || (!bad && !error.dataset.unreadable)) return;
      if (bad) {
        var label = form.querySelector('label[for="' + input.id + '"]');
        error.textContent = "“" + (label ? label.textContent.trim() : input.name) + "” is not a whole date, so it is not used.";
        error.dataset.unreadable = "1";
        error.setAttribute("role", "alert");
        input.setAttribute("aria-invalid", "true");
      } else {
        error.textContent = "";
        delete error.dataset.unreadable;
        error.removeAttribute("role");
        input.removeAttribute("aria-invalid");
      }
    });
  }
  document.addEventListener("htmx:afterSettle", unreadableDates);

  /* A change of the filters that asks for the view already on screen, or already on its way, is
     not sent again: leaving the search box after its results came (its change event) added a
     second history entry of the same view, and Enter right after typing sent the search twice
     (htmx aborted the first). htmx:confirm comes before hx-sync acts. */
  function filtersQuery(form) {
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, name) {
      if (typeof value === "string" && value !== "") params.append(name, value);
    });
    params.sort();
    return params.toString();
  }
  function shownQuery() {
    var params = new URLSearchParams(window.location.search);
    params.delete("open");
    params.sort();
    return params.toString();
  }
  document.addEventListener("htmx:confirm", function (event) {
    var form = event.detail.elt;
    if (!form || form.id !== "filters") return;
    var query = filtersQuery(form);
    var inFlight = form.classList.contains("htmx-request") && form.dataset.asking !== undefined;
    if (query === (inFlight ? form.dataset.asking : shownQuery())) {
      event.preventDefault();
      return;
    }
    form.dataset.asking = query;
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

  // Whatever htmx brings in (rows loaded by scrolling, an outerHTML swap, an out-of-band part):
  // htmx:load fires on each new element, swapped target or not.
  document.addEventListener("htmx:load", function (event) {
    renderTimes(event.detail.elt);
  });
  /* The counts beside the list are asked once the list is painted (the frame after it is in the
     page): the list is what the person waits for, and the counts' answer and swap would compete
     with it for that frame. */
  document.addEventListener("htmx:load", function (event) {
    var elt = event.detail.elt;
    var counts = elt && elt.id === "counts" ? elt : elt && elt.querySelector ? elt.querySelector("#counts") : null;
    if (!counts || !/\bpainted\b/.test(counts.getAttribute("hx-trigger") || "")) return;
    requestAnimationFrame(function () {
      window.setTimeout(function () { if (counts.isConnected) htmx.trigger(counts, "painted"); }, 0);
    });
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
    } else if (event.target.matches && event.target.matches("#rows input.select")) {
      syncSelectAll();
    }
  });
  /* "Select" says what is ticked: all the rows shown, some (mixed), or none. Rows loaded by
     scrolling come unticked, so after "Select" ticked fifty it says "some", not "all". */
  function syncSelectAll() {
    var all = document.getElementById("select-all");
    if (!all) return;
    var boxes = document.querySelectorAll("#rows input.select"), ticked = 0;
    boxes.forEach(function (box) { if (box.checked) ticked += 1; });
    all.checked = boxes.length > 0 && ticked === boxes.length;
    all.indeterminate = ticked > 0 && ticked < boxes.length;
  }
  document.addEventListener("htmx:afterSettle", function (event) {
    if (document.getElementById("select-all")) syncSelectAll();
  });
  // The reader's Close (and Esc): back to the list, focus on the row that was open.
  function closeReaderToRow() {
    var was = openId, item = was && row(was), link = item && item.querySelector(".msg-link");
    // In sight whole (its scroll margin clears the top bar), also after the browser's own scroll
    // restoring of a Back (closeReader): a row half under the top bar, or 2,000 px away, was not.
    function inSight() { if (item && item.isConnected) item.scrollIntoView({ block: "nearest" }); }
    if (!closeReader(false, inSight)) return false;
    if (link) { setCurrent(item); link.focus({ preventScroll: false }); inSight(); }
    else { // a message the list does not show (read since, in an unread view): the list's heading, not <body>
      var title = document.querySelector("#results .list-title");
      if (title) { if (!title.hasAttribute("tabindex")) title.setAttribute("tabindex", "-1"); title.focus(); }
    }
    return true;
  }
  document.addEventListener("click", function (event) {
    var close = event.target.closest && event.target.closest("#reader [data-close-reader]");
    if (close) closeReaderToRow();
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

  /* --- A filter's list walked by its arrow keys ---------------------------------------------
     Chromium (not on macOS) changes a closed <select>'s value at each arrow key and fires "change"
     each time: the form would load a view for every mail account passed on the way to the one
     wanted. A change that comes right after a key is held until the keys stop (KEYED_PAUSE ms),
     Enter, or focus leaves the list; a pick by pointer, from the open list or on a phone goes at once. */
  var KEYED_PAUSE = 700;
  var keyedAt = 0, held = null, heldTimer = null, releasing = false;
  function releaseHeld() {
    clearTimeout(heldTimer);
    var select = held;
    held = null;
    if (!select) return;
    releasing = true;
    try { select.dispatchEvent(new Event("change", { bubbles: true })); } finally { releasing = false; }
  }
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (!target.matches || !target.matches("#filters select")) return;
    if (event.key === "Enter" && held === target) { event.preventDefault(); releaseHeld(); return; }
    if (event.key.length === 1 || /^(Arrow|Page|Home|End)/.test(event.key)) keyedAt = Date.now();
  }, true);
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (releasing || !target.matches || !target.matches("#filters select") || Date.now() - keyedAt > 150) return;
    event.stopImmediatePropagation(); // before htmx, which listens on the form
    held = target;
    clearTimeout(heldTimer);
    heldTimer = setTimeout(releaseHeld, KEYED_PAUSE);
  }, true);
  document.addEventListener("focusout", function (event) { if (held && event.target === held) releaseHeld(); }, true);

  /* --- Keyboard ----------------------------------------------------------------------------- */
  // Where a letter is text (a search, a date, a select's type-ahead), not a shortcut. A checkbox or
  // a radio takes no letters: on a row's box the list's shortcuts work as on its link.
  function typing(target) {
    if (!target || !target.tagName) return false;
    var tag = target.tagName.toLowerCase();
    if (tag === "input") return !/^(checkbox|radio)$/i.test(target.type);
    return tag === "textarea" || tag === "select" || target.isContentEditable;
  }
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var dialog = document.getElementById("shortcuts");
    if (event.key === "Escape" && dialog && dialog.open) return; // the dialog's own: it closes, the message stays
    if (event.key === "Escape") {
      if (typing(event.target) && event.target.id === "id_q") {
        // Out of the search, back to the list (its row last worked on, else its first): not to <body>.
        var item = current() || document.querySelector("#rows > li.msg"), link = item && item.querySelector(".msg-link");
        if (link) { event.preventDefault(); setCurrent(item); link.focus(); }
        return;
      }
      if (closeReaderToRow()) event.preventDefault(); // focus on the row, not lost to <body>
      return;
    }
    // Enter on a row's checkbox opens its message, as on the row (the shortcuts say so); the
    // browser would submit the bulk form with its first button, "Mark read".
    if (event.key === "Enter" && event.target.matches && event.target.matches("#rows input.select")) {
      event.preventDefault();
      openRow(event.target.closest("li.msg"));
      return;
    }
    if (typing(event.target) || (dialog && dialog.open)) return;
    if (!document.getElementById("rows") && "jkux".indexOf(event.key) >= 0) return; // not on the list
    switch (event.key) {
      case "j": move(1); break;
      case "k": move(-1); break;
      // On a row (its link or its box), the arrows step through the list as j / k do, not the page.
      case "ArrowDown": case "ArrowUp":
        if (event.shiftKey || !(event.target.closest && event.target.closest("#rows"))) return;
        move(event.key === "ArrowDown" ? 1 : -1);
        break;
      case "Enter":
        if (!current()) return;
        if (event.target.closest && event.target.closest("a, button") && !event.target.closest("#rows")) return;
        openRow(current());
        break;
      case "u": toggleUnread(current()); break;
      case "x": {
        var row = current(), box = row && row.querySelector("input.select");
        if (box) { box.checked = !box.checked; syncSelectAll(); }
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

  /* On a phone the open message covers the whole screen: what is under it takes no focus and is
     not read out (inert) until it closes, or the screen grows wide enough to show both. The live
     region stays outside, to be heard. */
  var coverQuery = window.matchMedia("(max-width: 760px)"), LIVE = "[aria-live], [role=status], [role=alert]";
  function makeInert(el) {
    // A dialog is shown above everything (the shortcuts, "?"): never under the reader.
    if (el.inert || /^(SCRIPT|STYLE|TEMPLATE|DIALOG)$/.test(el.tagName) || el.matches(LIVE)) return;
    if (el.querySelector(LIVE)) { Array.prototype.forEach.call(el.children, makeInert); return; }
    el.inert = true;
    el.setAttribute("data-under-reader", "");
  }
  // Marked as well as inert: a view restored from a snapshot taken while the reader covered the
  // screen holds the attributes, and is set free the same way.
  var lastCover = null;
  function followReaderCover(whole) { // whole: look at the page again (it was replaced), not only the pane
    var box = inbox(), reader = document.getElementById("reader");
    var cover = !!(box && reader && box.classList.contains("reading") && coverQuery.matches);
    if (whole !== true && cover === lastCover) return; // (htmx changes classes many times a click)
    lastCover = cover;
    var marked = document.querySelectorAll("[data-under-reader]");
    if (cover && marked.length) return;
    marked.forEach(function (el) { el.inert = false; el.removeAttribute("data-under-reader"); });
    for (var node = cover ? reader : null; node && node.parentElement && node !== document.body; node = node.parentElement) {
      Array.prototype.forEach.call(node.parentElement.children, function (other) { if (other !== node) makeInert(other); });
    }
  }
  // The pane opening or closing (a class), a view restored whole (the body's children replaced).
  new MutationObserver(function () { followReaderCover(false); }).observe(document.body, { attributes: true, attributeFilter: ["class"], subtree: true });
  new MutationObserver(function () { followReaderCover(true); }).observe(document.body, { childList: true });
  if (coverQuery.addEventListener) coverQuery.addEventListener("change", function () { followReaderCover(false); });
  // What folds away on a phone (the filters, the counts) unfolds when the screen grows wide,
  // where nothing offers to open it.
  function unfoldWhenWide() {
    if (coverQuery.matches) return;
    ["more-filters", "more-counts"].forEach(function (id) { var d = document.getElementById(id); if (d) d.open = true; });
  }
  if (coverQuery.addEventListener) coverQuery.addEventListener("change", unfoldWhenWide);
  document.addEventListener("htmx:historyRestore", unfoldWhenWide);
  /* The folded filters' summary says how many are set ("Filters · 2 in use", as the server wrote
     it), kept true as they change: one a control (the two dates are one). What is sent counts: a
     name typed in the customer field and not chosen is not a filter. */
  function filtersInUse() {
    var out = document.getElementById("filters-in-use");
    var body = document.querySelector("#more-filters .more-filters-body");
    if (!out || !body) return;
    var n = 0;
    Array.prototype.forEach.call(body.querySelectorAll(".field"), function (control) {
      var set = Array.prototype.some.call(control.querySelectorAll("input[name], select[name]"), function (el) {
        if (el.disabled) return false;
        if (el.type === "checkbox" || el.type === "radio") return el.checked && el.value !== "";
        return el.value.trim() !== "";
      });
      if (set) n += 1;
    });
    var text = n ? " · " + n + " in use" : "";
    if (out.textContent !== text) out.textContent = text;
  }
  ["change", "input", "filtersRestored", "htmx:historyRestore"].forEach(function (type) {
    document.addEventListener(type, filtersInUse);
  });
  /* A phone folds the filters on every page, the list first. A filter the server refused unfolds
     them, so its message beside the control is seen. */
  function foldFilters() {
    var more = document.getElementById("more-filters");
    if (!more || !coverQuery.matches) return;
    more.open = !!more.querySelector('.field-error[role="alert"], [aria-invalid="true"]');
  }

  function start() {
    window.setInterval(function () { renderTimes(document); }, 30000);
    if (restoreLeftView()) return; // the view left for another page: its restore's handlers did the rest
    renderTimes(document);
    followReaderCover(true);
    // A page loaded again by Back (after another page) may get the browser's remembered form state
    // of another entry: the address decides.
    if (loadedByHistory() && document.getElementById("filters")) filtersFromUrl();
    var open = document.querySelector("#rows > li.open");
    if (open) { openId = open.dataset.id; currentId = openId; }
    loadOpenMessage();
    filtersInUse();
    foldFilters();
    // And the counts (with Mark all) fold away on a phone until asked for.
    var counts = document.getElementById("more-counts");
    if (counts && coverQuery.matches) counts.open = false;
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();

/* --- Accessibility: focus after swaps, the one live region, the skip link ----------------------
   Focus never falls to <body> after an htmx swap and a poll never moves it:
   * controls that are swapped keep a stable id (#message-mark, #message-prev / #message-next,
     #accounts-tab-*, #sync-now-*, #live-banner); htmx refocuses an element with the same id itself,
     and htmx:afterSettle below does it for what htmx missed;
   * when the control used is gone (the end of Newer / Older, the new-messages banner, "Older
     messages", a disabled Sync now), focus goes to the nearest sensible place, said per case below;
   * a message opened from the list puts focus on its subject, so the next Tab is in the reader.
   #announcer (templates/jinja2/chrome.html, in both layouts) is the page's only live region: "25 new messages", "814 match",
   a bulk mark's result, a read/unread change, a sync's change of status. */
(function () {
  "use strict";
  var announcer = function () { return document.getElementById("announcer"); };
  var lastSaid = "";
  function announce(text) {
    var region = announcer();
    if (!region || !text) return;
    // The same words twice in a row are still read: clear, then write on the next frame.
    region.textContent = "";
    lastSaid = text;
    window.setTimeout(function () { if (lastSaid === text) region.textContent = text; }, 60);
  }
  window.helpdeskAnnounce = announce;

  function lost() {
    var active = document.activeElement;
    return !active || active === document.body || active === document.documentElement || !active.isConnected;
  }
  function focusQuietly(el) {
    if (!el) return false;
    // A heading (the list's title, a message's subject) takes focus only from here: tabindex -1.
    if (/^H[1-6]$/.test(el.tagName) && !el.hasAttribute("tabindex")) el.setAttribute("tabindex", "-1");
    el.focus({ preventScroll: false });
    return document.activeElement === el;
  }
  function listTitle() { return document.querySelector("#results .list-title"); }

  /* Back or Forward: where the focus was when the view was filed (a control's id, or the row it
     was in, its link or its box; noted with the view, in app.js's history above) is where it is
     put again, so a keyboard's place is not lost to <body>. Nothing noted, or gone: the open
     message's subject once it is in, else the list's heading. Never taken from where it is. */
  function focusNote(el) {
    var row = el.closest && el.closest("#rows > li.msg");
    if (row) return "row:" + row.dataset.id + (el.matches("input.select") ? ":box" : "");
    return el.id || "";
  }
  // The last place focused: on a phone the reader covers the list (inert) as a row opens, and
  // focus has already left the row by the time htmx files the list.
  var lastNote = "";
  document.addEventListener("focusin", function (event) { if (event.target && event.target.closest) lastNote = focusNote(event.target); });
  window.helpdeskFocusNote = function () { return lost() ? lastNote : focusNote(document.activeElement); };
  var subjectWhenLoaded = false;
  function restoreFocus(note) {
    if (!lost()) return;
    var el = null;
    if (note && note.indexOf("row:") === 0) {
      var parts = note.split(":"), row = document.getElementById("msg-" + parts[1]);
      el = row && row.querySelector(parts[2] === "box" ? "input.select" : ".msg-link");
    } else if (note) {
      el = document.getElementById(note);
    }
    if (el && !(el.closest && el.closest("[inert]"))) {
      el.focus({ preventScroll: true }); // the view's scroll is put back as it was
      if (document.activeElement === el) return;
    }
    var box = document.getElementById("inbox");
    if (box && box.classList.contains("reading")) {
      if (!focusQuietly(document.querySelector("#reader #message-subject"))) subjectWhenLoaded = true; // on its way
      return;
    }
    var title = listTitle();
    if (title) {
      if (!title.hasAttribute("tabindex")) title.setAttribute("tabindex", "-1");
      title.focus({ preventScroll: true });
    }
  }
  document.addEventListener("htmx:historyRestore", function (event) {
    var item = event.detail && event.detail.item, note = item && item.focus;
    window.setTimeout(function () { restoreFocus(note); }, 0); // after the scroll is put back
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    if (!subjectWhenLoaded || !event.detail.target || event.detail.target.id !== "reader") return;
    subjectWhenLoaded = false;
    if (lost()) focusQuietly(document.querySelector("#reader #message-subject"));
  });
  function firstRowLink(after) {
    var rows = document.querySelectorAll("#rows > li.msg");
    for (var i = 0; i < rows.length; i++) {
      if (after && !after.has(rows[i].dataset.id)) return rows[i].querySelector(".msg-link");
      if (!after) return rows[i].querySelector(".msg-link");
    }
    return null;
  }

  /* What had focus before a swap and what caused it, kept with the request (polls overlap). Taken
     when the request starts and again before the swap: a control hidden while loading ("Older
     messages" under .htmx-request) has already lost focus by the time the answer comes. */
  function noteFocus(event) {
    var active = document.activeElement, target = event.detail.target, xhr = event.detail.xhr;
    if (!xhr) return;
    var inside = active && active !== document.body && target && (target === active || target.contains(active));
    if (xhr.helpdeskFocus && xhr.helpdeskFocus.inside && !inside) return; // keep what the start saw
    var elt = event.detail.requestConfig ? event.detail.requestConfig.elt : event.detail.elt;
    xhr.helpdeskFocus = {
      id: inside ? active.id : "",
      inside: !!inside,
      rel: inside && active.getAttribute ? active.getAttribute("rel") || "" : "",
      card: inside && active.closest ? (active.closest(".sync-card") || {}).id || "" : "",
      rowsBefore: new Set(Array.prototype.map.call(document.querySelectorAll("#rows > li.msg"), function (r) { return r.dataset.id; })),
      wasMore: !!(target && target.id === "more"),
      wasBanner: !!(elt && elt.id === "live-banner"),
      wasEarlier: !!(elt && elt.closest && elt.closest(".thread-earlier")),
      openedRow: !!(elt && elt.classList && elt.classList.contains("msg-link")),
    };
  }
  document.addEventListener("htmx:beforeRequest", noteFocus);
  document.addEventListener("htmx:beforeSwap", noteFocus);

  document.addEventListener("htmx:afterSettle", function (event) {
    var was = event.detail.xhr && event.detail.xhr.helpdeskFocus;
    if (!was) return;
    event.detail.xhr.helpdeskFocus = null;
    // A message opened from the list (a row's link, Enter, a click): its subject takes focus.
    if (was.openedRow && event.detail.target && event.detail.target.id === "reader") {
      focusQuietly(document.querySelector("#reader #message-subject"));
      return;
    }
    if (!was.inside || !lost()) return; // focus was elsewhere, or is still where it was
    if (was.id && focusQuietly(document.getElementById(was.id))) return;
    if (was.rel) { // Newer / Older at the end of the view: the other one, else the subject
      var other = document.getElementById(was.rel === "prev" ? "message-next" : "message-prev");
      if (focusQuietly(other) || focusQuietly(document.getElementById("message-subject"))) return;
    }
    if (was.wasMore) { // "Older messages": the first of the rows it brought
      if (focusQuietly(firstRowLink(was.rowsBefore))) return;
    }
    if (was.wasEarlier) { // a customer's "Earlier messages" (gone with the swap): the first message it brought
      var first = document.querySelector("article.bubble");
      if (first) { first.setAttribute("tabindex", "-1"); if (focusQuietly(first)) return; }
    }
    if (was.wasBanner) { // the new-messages banner: the newest message
      if (focusQuietly(firstRowLink(null)) || focusQuietly(listTitle())) return;
    }
    if (was.card) { // a sync card redrawn with its button disabled: its heading, never <body>
      var card = document.getElementById(was.card);
      if (card && focusQuietly(card.querySelector("h2[tabindex]"))) return;
    }
    if (listTitle() && event.detail.target && event.detail.target.closest &&
        event.detail.target.closest("#results")) focusQuietly(listTitle());
  });

  /* "Older messages" pressed (Enter or a click): load the next page in place, as scrolling does. */
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("#more > a");
    if (!link || !window.htmx || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    htmx.trigger(document.getElementById("more"), "intersect");
  });

  /* The skip link goes straight to the first (or the current) message when there is a list. */
  document.addEventListener("click", function (event) {
    var skip = event.target.closest && event.target.closest("#skip-to-messages");
    if (!skip) return;
    var link = document.querySelector("#rows > li.msg.current .msg-link") || firstRowLink(null);
    if (link) { event.preventDefault(); link.focus(); }
  });

  /* --- What is said --------------------------------------------------------------------------- */
  var countsAfterFilter = false;
  document.addEventListener("htmx:beforeRequest", function (event) {
    var target = event.detail.target;
    if (target && target.id === "results") countsAfterFilter = true;
  });
  function plural(n, word) { return n + " " + word + (n === "1" ? "" : "s"); }
  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.target;
    if (!target) return;
    // The counts of a new view (not their reload after a mark): "814 match".
    if (target.id === "counts" && countsAfterFilter) {
      countsAfterFilter = false;
      var total = target.querySelector(".counts-total .num");
      if (total) announce(total.textContent.trim() + " match");
    }
  });
  // The live poll: say the number once when it changes, not at every poll. The counts and the
  // title follow it then ("(985) Inbox" in the tab, as a mail client's): the list itself waits
  // for "show" (#counts listens for newMessages: templates/jinja2/inbox/parts.html).
  var lastLive = "";
  document.addEventListener("htmx:afterSettle", function () {
    var banner = document.getElementById("live-banner");
    var text = banner ? banner.textContent.replace(/\s+/g, " ").replace(/\s*—\s*show\s*$/, "").trim() : "";
    if (text && text !== lastLive) {
      announce(text);
      if (window.htmx) htmx.trigger(document.body, "newMessages");
    }
    lastLive = text;
  });
  // A bulk mark's result ("Marked 2 messages read.") lands in #status out of band (read once the
  // swap is done: an out-of-band swap's own events fire on the element it replaced).
  document.addEventListener("htmx:afterRequest", function (event) {
    var elt = event.detail.elt;
    if (!event.detail.successful || !elt || !elt.closest || !elt.closest("#bulk")) return;
    window.setTimeout(function () {
      var status = document.getElementById("status");
      if (status && status.textContent.trim()) announce(status.textContent.trim());
    }, 30);
  });
  // A mark a person made (the reader's Mark read / unread, u): "Marked unread". Opening a message
  // also marks it read, through a GET: that is not said.
  document.addEventListener("htmx:afterRequest", function (event) {
    var config = event.detail.requestConfig, xhr = event.detail.xhr;
    if (!config || config.verb !== "post" || !xhr || !event.detail.successful) return;
    var header = xhr.getResponseHeader("HX-Trigger");
    if (!header || header.indexOf("messageMarked") < 0) return;
    try {
      var detail = JSON.parse(header).messageMarked || {};
      announce("Marked " + (detail.unread ? "unread" : "read"));
    } catch (e) { /* not JSON: nothing to say */ }
  });
  // A sync card whose status changed between two polls.
  var syncSaid = {};
  function noteSyncCards(speak) {
    document.querySelectorAll(".sync-card .sync-run[data-announce]").forEach(function (run) {
      var card = run.closest(".sync-card"), text = run.dataset.announce;
      if (speak && syncSaid[card.id] !== undefined && syncSaid[card.id] !== text) {
        announce(text);
        // A messages run that ended (either way): the top bar's "Synced N ago" or "Sync failing"
        // asks again now, not at its next half-minute (it said "Synced just now" beside a failure).
        if (card.id === "sync-card-messages" && run.closest("[data-status=success], [data-status=failed]") && window.htmx) {
          htmx.trigger(document.body, "messagesRunEnded");
        }
      }
      syncSaid[card.id] = text;
    });
  }
  document.addEventListener("htmx:afterSettle", function () { noteSyncCards(true); });

  function loaded() {
    noteSyncCards(false);
    // A form's result after its page reloaded ("Marked 40 messages read.", an Unlock, a Sync now
    // without htmx): focus goes to it rather than to the top of the page, unless the page put it
    // somewhere already.
    if (lost()) focusQuietly(document.getElementById("flash"));
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", loaded);
  else loaded();
})();

/* --- Requests that fail: said in words, recovered from alone ------------------------------------
   A request htmx makes may find no server (a restart, the network gone) or an error page. That was
   silent: a filter clicked stayed ticked above the old list, a mark did nothing, and nobody knew.
   Now a notice at the foot of the screen says what happened (and the page's live region reads
   it); the filter form goes back to the view on screen (its address); the polls go on, and the
   first request answered again takes the notice away and says so. A session that ended or a page
   out of date are the server's to answer (HX-Redirect, HX-Refresh: inbox/ops/middleware.py, errors.py). */
(function () {
  "use strict";
  var notice = null;
  function say(text) { if (window.helpdeskAnnounce) window.helpdeskAnnounce(text); }
  function show(text) {
    if (!notice || !document.body.contains(notice)) {
      notice = document.createElement("p");
      notice.id = "trouble";
      notice.className = "trouble";
      document.body.appendChild(notice);
    }
    var changed = notice.hidden || notice.textContent !== text;
    notice.textContent = text;
    notice.hidden = false;
    if (changed) say(text);
  }
  function clear() {
    if (!notice || notice.hidden) return;
    notice.hidden = true;
    say("The help desk answers again.");
  }
  function failed(event) {
    var xhr = event.detail.xhr, status = xhr ? xhr.status : 0;
    var text;
    if (!status) text = "The help desk does not answer (no connection, or it is restarting), so nothing was changed. It keeps trying.";
    else if (status === 429) text = "Too many requests just now, so nothing was changed: wait a moment and try again.";
    else if (status >= 500) text = "The help desk could not do that (error " + status + "), so nothing was changed. Try again in a moment.";
    else text = "That was refused (error " + status + "), so nothing was changed.";
    show(text);
    var elt = event.detail.elt;
    if (elt && elt.closest && elt.closest("#filters") && window.helpdeskFiltersFromUrl) window.helpdeskFiltersFromUrl();
  }
  document.addEventListener("htmx:sendError", failed);
  document.addEventListener("htmx:responseError", failed);
  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.successful) clear();
  });
})();

/* --- A customer's conversation opens where the person is going ----------------------------------
   It reads oldest first, as a chat does, so the latest message is at its foot: a page opened
   afresh shows that foot, not the oldest of the page at the top (thousands of pixels away on a
   long page). Opened at a message (?at=<Id>, the reader's links carry #m-<Id> too), that message
   is brought into sight and marked (:target). Back, Forward and a reload keep the place the
   browser restores. */
(function () {
  "use strict";
  var thread = document.querySelector(".customer-page .thread");
  if (!thread || location.hash) return;
  var navigation = window.performance && performance.getEntriesByType && performance.getEntriesByType("navigation")[0];
  if (navigation && navigation.type !== "navigate") return;
  var params = new URLSearchParams(location.search), at = params.get("at");
  if (params.has("at")) { // not found: the page's notice, at its top, says so
    if (/^\d+$/.test(at) && document.getElementById("m-" + at)) location.replace("#m-" + at); // in sight, the :target
    return;
  }
  if (params.has("before")) return; // an earlier page (or a bad link): its notice is at the top
  var end = document.getElementById("latest");
  if (end) end.scrollIntoView({ block: "end" });
})();
