/* The customer field: a combobox with a list of suggestions (WAI-ARIA APG "list autocomplete"
   https://www.w3.org/WAI/ARIA/apg/patterns/combobox/). The markup is the customer control of
   templates/jinja2/inbox/parts.html; htmx fetches the options (GET /customers/lookup/?q=, debounced) into
   #customer-results; this file adds the typed text to that request, the keyboard (Down / Up move,
   Enter chooses, Esc closes then restores the text), the polite status of how many match, and puts
   the chosen customer's number in the hidden input the filter form sends (customer=<CoworkerId>),
   then tells the form (a "change" event), which applies it as any filter; a company chosen goes
   to the form's company field (company=<name>) instead. The text input itself is
   never sent with the filters (its own "change" is stopped here): the URL carries the number only.
   Without this file the text input is customer=<number>, as before. No inline handlers (CSP). */
(function () {
  "use strict";

  var SELECTOR = 'input[role="combobox"][data-combo-input]';
  var SAY_AFTER_MS = 600; // a pause in typing before the number of matches is read aloud

  function isCombo(el) { return !!(el && el.matches && el.matches(SELECTOR)); }
  function field(input) { return input.closest("[data-combo]"); }
  function hidden(input) { return field(input).querySelector('input[type="hidden"]'); }
  function panel(input) { return document.getElementById(input.getAttribute("hx-target").replace("#", "")); }
  function listbox(input) { return document.getElementById(input.getAttribute("aria-controls")); }
  function status(input) { return field(input).querySelector(".combo-status"); }
  function options(input) {
    var box = listbox(input);
    return box ? Array.prototype.slice.call(box.querySelectorAll('[role="option"]')) : [];
  }
  function active(input) {
    var id = input.getAttribute("aria-activedescendant");
    return id ? document.getElementById(id) : null;
  }
  function isOpen(input) { var p = panel(input); return !!p && !p.hidden; }

  /* The page as served works without JavaScript (the text input is customer=<number>); from here on
     the hidden input carries the number and the text input shows the customer's name. */
  function enhance(input) {
    if (input.dataset.enhanced) return;
    input.dataset.enhanced = "1";
    var value = hidden(input);
    value.name = input.getAttribute("name") || "customer";
    value.disabled = false;
    value.value = input.dataset.value || "";
    input.removeAttribute("name");
    if (input.dataset.value) input.value = input.dataset.label || input.dataset.value;
    remember(input, input.value, value.value);
  }
  function enhanceAll(root) {
    if (!root || !root.querySelectorAll) return;
    if (isCombo(root)) enhance(root);
    root.querySelectorAll(SELECTOR).forEach(enhance);
  }
  /* What the field shows for the filter in force, kept in attributes too: htmx's history snapshots
     copy the markup, not the inputs' live values. */
  function remember(input, label, number) {
    input.dataset.chosen = label;
    input.setAttribute("value", label);
    input.dataset.label = label;
    input.dataset.value = number;
    var value = hidden(input);
    value.value = number;
    value.setAttribute("value", number);
    var clear = field(input).querySelector("[data-combo-clear]");
    if (clear) clear.hidden = !number;
  }

  // How many match, kept beside the field and read aloud by the page's one live region
  // (#announcer, static/js/app.js): the field has no live region of its own. The suggestions
  // follow each keystroke; the count is said once typing pauses, not once a keystroke.
  var sayLater = null;
  function say(input, text) {
    var region = status(input);
    if (!region || region.textContent === text) return;
    region.textContent = text;
    window.clearTimeout(sayLater);
    if (text && window.helpdeskAnnounce) sayLater = window.setTimeout(function () { window.helpdeskAnnounce(text); }, SAY_AFTER_MS);
  }
  function setActive(input, option) {
    options(input).forEach(function (o) {
      o.setAttribute("aria-selected", o === option ? "true" : "false");
      o.classList.toggle("active", o === option);
    });
    if (option) {
      input.setAttribute("aria-activedescendant", option.id);
      keepInView(panel(input), option);
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }
  /* The suggestions never scroll themselves (static/css/app.css): bring the active one into the
     window if it is out of it (a short screen), vertically only. */
  function keepInView(box, option) {
    var rect = option.getBoundingClientRect();
    if (rect.top < 0 || rect.bottom > window.innerHeight) option.scrollIntoView({ block: "nearest", inline: "nearest" });
  }
  function open(input) {
    var p = panel(input);
    if (!p) return;
    p.hidden = false;
    input.setAttribute("aria-expanded", options(input).length ? "true" : "false");
  }
  function close(input) {
    var p = panel(input);
    if (p) p.hidden = true;
    input.setAttribute("aria-expanded", "false");
    setActive(input, null);
  }
  function lookup(input) { if (window.htmx) htmx.trigger(input, "customerLookup"); }

  /* The filter form applies the number (its hx-trigger listens for "change"). A customer chosen
     drops the company filter, as a company chosen drops the customer: one person is narrower than
     any company, and a company they are not at left the list empty. */
  function companyField(input) { return document.getElementById(field(input).dataset.companyField || ""); }
  function apply(input, label, number) {
    var changed = hidden(input).value !== number, company = companyField(input);
    remember(input, label, number);
    input.value = label;
    if (number && company && company.value) { company.value = ""; changed = true; }
    if (changed) hidden(input).dispatchEvent(new Event("change", { bubbles: true }));
  }
  function choose(input, option) {
    // A suggestion still on its way is stale now: its answer is dropped when it comes (htmx:afterSwap
    // below, its text no longer the field's). Not aborted: htmx logs an abort as an error.
    close(input);
    if (option.dataset.company !== undefined) return chooseCompany(input, option.dataset.company);
    apply(input, option.dataset.label, option.dataset.value);
    say(input, option.dataset.label + " chosen");
  }
  /* A company: the form's company field takes its name and the customer is cleared (everyone of
     the company, not one of them); one "change", from the company field, applies both. */
  function chooseCompany(input, name) {
    var company = companyField(input);
    if (!company) return;
    remember(input, "", "");
    input.value = "";
    company.value = name;
    company.dispatchEvent(new Event("change", { bubbles: true }));
    say(input, "Company " + name + " chosen");
  }
  /* Enter on typed text, no option highlighted: the one customer it matches is chosen. When it
     matches several (five people can share a name), none is picked behind the person's back: the
     suggestions open with the first highlighted, and a second Enter (or the arrows) chooses. */
  function chooseIfOnly(input, all) {
    if (all.length === 1) return choose(input, all[0]);
    open(input);
    setActive(input, all[0]);
    say(input, "Choose one: " + (listbox(input).dataset.status || all.length + " customers match"));
  }
  /* Typed text that no option was chosen for: a number (or nothing) is the filter; anything else
     goes back to what the filter is (returns false: the text still needs a choice). */
  function commitText(input, revert) {
    var text = input.value.trim();
    var number = /^#?(\d{1,19})$/.exec(text);
    if (text === "") { apply(input, "", ""); return true; }
    if (number) { apply(input, number[1], number[1]); return true; }
    if (text === input.dataset.chosen) return true;
    if (revert) {
      input.value = input.dataset.chosen || "";
      say(input, "No customer chosen for “" + text + "”" + (input.value ? ": still " + input.value : ""));
    }
    return false;
  }

  /* The options' request carries the typed text (the text input has no name: never a filter). */
  document.addEventListener("htmx:configRequest", function (event) {
    var input = event.detail.elt;
    if (!isCombo(input)) return;
    var text = input.value.trim();
    if (!text) { event.preventDefault(); close(input); say(input, ""); return; }
    // A debounced request that fires after a choice (the text is now the chosen name): not asked for.
    var asked = event.detail.triggeringEvent && event.detail.triggeringEvent.type === "customerLookup";
    if (text === input.dataset.chosen && !asked) { event.preventDefault(); return; }
    input.dataset.asking = text;
    var params = event.detail.parameters;
    if (params instanceof FormData) params.set("q", text); else params.q = text;
  });
  // Typing while suggestions are on their way: htmx waits for them and then asks for the text
  // typed last (hx-sync "queue last"; "replace" aborted them, and htmx logs an abort as an error).
  // The same text already on its way (a key asked before the typing pause did): not asked again.
  // htmx:confirm comes before hx-sync acts; htmx:configRequest after.
  document.addEventListener("htmx:confirm", function (event) {
    var input = event.detail.elt;
    if (isCombo(input) && input.dataset.asking && input.dataset.asking === input.value.trim()) event.preventDefault();
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var input = event.detail.elt;
    if (isCombo(input)) delete input.dataset.asking; // answered, failed or aborted
  });
  /* A second answer to the text on show (a lookup queued behind the first asks again) keeps the
     option the person has highlighted: it reset it, and their next Enter asked "which one?" again. */
  function comboOf(target) { return target && document.querySelector(SELECTOR + '[hx-target="#' + target.id + '"]'); }
  document.addEventListener("htmx:beforeSwap", function (event) {
    var input = comboOf(event.detail.target);
    if (!input) return;
    var current = fresh(input) && isOpen(input) ? active(input) : null;
    if (current) input.dataset.keep = current.id;
    else delete input.dataset.keep;
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    var input = comboOf(event.detail.target);
    if (!input) return;
    var keep = input.dataset.keep ? document.getElementById(input.dataset.keep) : null;
    delete input.dataset.keep;
    var box = listbox(input);
    if (!box || box.dataset.query !== input.value.trim().slice(0, 100)) return close(input); // stale
    say(input, box.dataset.status || "");
    setActive(input, null);
    var pending = input.dataset.pending, all = options(input);
    delete input.dataset.pending;
    if (document.activeElement !== input) return close(input);
    if (pending === "choose" && all.length) return chooseIfOnly(input, all);
    open(input);
    if ((pending === "first" || pending === "last") && all.length) setActive(input, all[pending === "first" ? 0 : all.length - 1]);
    else if (keep && all.indexOf(keep) >= 0) setActive(input, keep);
  });

  /* Whether the options on show answer the text in the field now (typing makes them stale until
     the next answer: a key pressed meanwhile waits for it, see "pending"). */
  function fresh(input) {
    var box = listbox(input);
    return !!box && box.dataset.query === input.value.trim().slice(0, 100);
  }
  function whenAnswered(input, action) {
    input.dataset.pending = action;
    lookup(input);
  }

  document.addEventListener("keydown", function (event) {
    var input = event.target;
    if (!isCombo(input) || event.ctrlKey || event.metaKey) return;
    var upToDate = fresh(input), all = upToDate ? options(input) : [], current = upToDate ? active(input) : null;
    var at = all.indexOf(current), text = input.value.trim();
    switch (event.key) {
      case "ArrowDown":
      case "ArrowUp": {
        event.preventDefault();
        event.stopPropagation();
        var down = event.key === "ArrowDown";
        if (!text) return;
        if (!upToDate) { whenAnswered(input, down ? "first" : "last"); return; }
        if (!all.length) return;
        if (!isOpen(input)) { open(input); if (event.altKey) return; } // Alt+Down opens without moving
        var next = at < 0 ? (down ? 0 : all.length - 1) : (at + (down ? 1 : -1) + all.length) % all.length;
        setActive(input, all[next]);
        return;
      }
      case "Enter":
        event.preventDefault(); // never the form's own submit: the filter is applied by apply()
        event.stopPropagation();
        if (isOpen(input) && current) choose(input, current);
        else if (!text || /^#?\d+$/.test(text) || text === input.dataset.chosen) { close(input); commitText(input, false); }
        else if (upToDate && all.length) chooseIfOnly(input, all);
        else if (!upToDate) whenAnswered(input, "choose");
        return;
      case "Escape":
        if (isOpen(input)) {
          close(input);
        } else if (input.value !== (input.dataset.chosen || "")) {
          input.value = input.dataset.chosen || "";
        } else {
          return; // nothing of ours to undo: the page's Esc (close the reader) applies
        }
        event.preventDefault();
        event.stopPropagation();
        return;
      case "Tab":
        // Leaving the field accepts what it shows as chosen: the highlighted option, or the one
        // customer the typed text matches (the focus moves on either way). Text matching several
        // or none goes back to the filter's customer on leaving (focusout), and says so.
        if (isOpen(input) && current) choose(input, current);
        else if (upToDate && text && text !== input.dataset.chosen && all.length === 1) choose(input, all[0]);
        else close(input);
        return;
      default:
    }
  }, true);

  /* Choosing with the pointer: the press keeps the focus in the text input. */
  document.addEventListener("mousedown", function (event) {
    if (event.target.closest && event.target.closest("[data-combo] .combo-panel")) event.preventDefault();
  });
  document.addEventListener("click", function (event) {
    var clear = event.target.closest && event.target.closest("[data-combo] [data-combo-clear]");
    if (clear) {
      var box = field(clear).querySelector(SELECTOR);
      if (box) { close(box); apply(box, "", ""); say(box, "Customer cleared"); box.focus(); }
      return;
    }
    var option = event.target.closest && event.target.closest('[data-combo] [role="option"]');
    if (!option) return;
    var input = field(option).querySelector(SELECTOR);
    if (input) { choose(input, option); input.focus(); }
  });
  /* The text input's own "change" (on leaving it after typing) is not a filter change. */
  document.addEventListener("change", function (event) {
    if (isCombo(event.target)) event.stopPropagation();
  }, true);
  document.addEventListener("focusout", function (event) {
    var input = event.target;
    if (!isCombo(input)) return;
    close(input);
    commitText(input, true);
    // Tab from a field just emptied goes to its ×, which emptying hid: on to the control after it.
    var next = event.relatedTarget;
    if (!next || !next.hidden || !next.matches || !next.matches("[data-combo-clear]")) return;
    window.setTimeout(function () {
      if (document.activeElement === document.body || document.activeElement === next) focusAfter(next);
    }, 0);
  });
  function focusAfter(element) {
    var controls = document.querySelectorAll("a[href], button, input, select, textarea, [tabindex]");
    for (var i = 0; i < controls.length; i++) {
      var control = controls[i];
      if (!(element.compareDocumentPosition(control) & Node.DOCUMENT_POSITION_FOLLOWING)) continue;
      if (control.disabled || control.tabIndex < 0 || control.type === "hidden" || !control.getClientRects().length) continue;
      control.focus();
      return;
    }
  }

  /* Back / Forward: htmx puts back a snapshot of the page taken when it was left, and the field
     may show another customer than the address names. The address wins; the name is asked of the
     lookup (the customer's number finds them first). */
  function followAddress(input) {
    var number = new URLSearchParams(location.search).get("customer") || "";
    if (!/^\d*$/.test(number)) number = "";
    close(input);
    if (number === hidden(input).value && number === (input.dataset.value || "")) return;
    remember(input, number, number);
    input.value = number;
    if (!number || !window.fetch) return;
    fetch(input.getAttribute("hx-get") + "?q=" + encodeURIComponent(number), { headers: { "HX-Request": "true" } })
      .then(function (response) { return response.ok ? response.text() : ""; })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var option = doc.querySelector('[role="option"][data-value="' + number + '"]');
        if (option && hidden(input).value === number && input.value === number) {
          remember(input, option.dataset.label, number);
          input.value = option.dataset.label;
        }
      })
      .catch(function () { /* the number stays: it is the filter */ });
  }
  document.addEventListener("htmx:historyRestore", function () {
    document.querySelectorAll(SELECTOR).forEach(function (input) { enhance(input); followAddress(input); });
  });

  document.addEventListener("htmx:load", function (event) { enhanceAll(event.detail.elt); });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", function () { enhanceAll(document); });
  else enhanceAll(document);
})();
