// The chat panel and the notifications bell, beside htmx: tabs, the composer's keys, the
// contact-window countdown, the template preview, the @-mention listbox's keys, and the
// bell's menu.
//
// What refreshes is declared in the fragments (hx-trigger="desk:message-ID from:body" and
// the like: live.js fires per-chat event names), and so is every request: the
// suggestions, the bell and marking read are hx-get / hx-post with server-rendered
// answers, the CSRF token comes from <body hx-headers>, and no address is written here.
// The rest is delegated from the document, so panels swapped in later need no setup.
(function () {
  "use strict";
  var selectedTabs = {}; // chat id -> the tab last chosen, kept across panel refreshes

  // A refusal (400/403/404/409) comes back as a fragment with the reason: show it.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    var target = event.detail.target;
    if (status >= 400 && status < 500 && target && target.closest && target.closest(".cdp, #chat-panel")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // --- Setting up what was loaded: tabs, scroll, countdown, preview ------------------------

  function scrollToNewest(transcript) {
    transcript.scrollTop = transcript.scrollHeight;
  }

  function setUp(root) {
    if (!root || !root.querySelectorAll) {
      return;
    }
    var found = root.matches && root.matches(".cdp") ? [root] : [];
    found = found.concat(Array.prototype.slice.call(root.querySelectorAll(".cdp")));
    found.forEach(function (panel) {
      var chosen = selectedTabs[panel.getAttribute("data-panel-chat")];
      if (chosen) {
        var tab = panel.querySelector('[role=tab][data-tab="' + chosen + '"]');
        if (tab) {
          selectTab(tab, false);
        }
      }
    });
    var panelsHere = found.length ? found : [root.closest ? root.closest(".cdp") : null];
    panelsHere.forEach(function (panel) {
      var count = panel && panel.querySelector("[data-comment-count]");
      if (count) {
        count.textContent = String(panel.querySelectorAll(".cdp-comment").length);
      }
    });
    var transcripts = root.matches && root.matches(".cdp-transcript") ? [root] : [];
    transcripts = transcripts.concat(Array.prototype.slice.call(root.querySelectorAll(".cdp-transcript")));
    transcripts.forEach(scrollToNewest);
    transcripts.forEach(markRead);
    Array.prototype.forEach.call(root.querySelectorAll(".cdp-preview-body"), renderPreview);
    tick();
  }

  // The chat's own agent has read what the page shows them: the panel's reader (an
  // hx-post, only on the chat page of its own agent) tells the server. A GET never marks
  // anything read.
  function markRead(transcript) {
    var panel = transcript.closest(".cdp");
    var reader = panel && panel.querySelector("[data-chat-reader]");
    if (!reader || !window.htmx || document.visibilityState === "hidden") {
      return;
    }
    window.htmx.trigger(reader, "cdp:read");
  }

  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.target;
    if (target && target.classList && target.classList.contains("cdp-transcript")) {
      scrollToNewest(target);
    }
    var panel = target && target.closest ? target.closest(".cdp") : null;
    setUp(panel && panel.isConnected ? panel : document);
  });

  // --- Tabs (WAI-ARIA tabs: arrows, Home and End move between them) -----------------------

  function selectTab(tab, focus) {
    var list = tab.closest("[role=tablist]");
    var panel = tab.closest(".cdp");
    Array.prototype.forEach.call(list.querySelectorAll("[role=tab]"), function (other) {
      var selected = other === tab;
      other.setAttribute("aria-selected", selected ? "true" : "false");
      other.tabIndex = selected ? 0 : -1;
      var body = document.getElementById(other.getAttribute("aria-controls"));
      if (body) {
        body.hidden = !selected;
      }
    });
    if (panel) {
      selectedTabs[panel.getAttribute("data-panel-chat")] = tab.getAttribute("data-tab");
      var transcript = panel.querySelector(".cdp-transcript");
      if (transcript && tab.getAttribute("data-tab") === "transcript") {
        scrollToNewest(transcript);
      }
    }
    if (focus) {
      tab.focus();
    }
  }

  document.addEventListener("click", function (event) {
    var tab = event.target.closest && event.target.closest(".cdp [role=tab]");
    if (tab) {
      selectTab(tab, true);
      return;
    }
    var go = event.target.closest && event.target.closest(".cdp [data-go-tab]");
    if (go) {
      var panel = go.closest(".cdp");
      var target = panel.querySelector('[role=tab][data-tab="' + go.getAttribute("data-go-tab") + '"]');
      if (target) {
        selectTab(target, false);
        var box = panel.querySelector("textarea[name=body]");
        if (box) {
          box.focus();
        }
      }
    }
  });

  document.addEventListener("keydown", function (event) {
    var tab = event.target.closest && event.target.closest(".cdp [role=tab]");
    if (!tab) {
      return;
    }
    var tabs = Array.prototype.slice.call(tab.closest("[role=tablist]").querySelectorAll("[role=tab]"));
    var index = tabs.indexOf(tab);
    var next = null;
    if (event.key === "ArrowRight") {
      next = tabs[(index + 1) % tabs.length];
    } else if (event.key === "ArrowLeft") {
      next = tabs[(index - 1 + tabs.length) % tabs.length];
    } else if (event.key === "Home") {
      next = tabs[0];
    } else if (event.key === "End") {
      next = tabs[tabs.length - 1];
    }
    if (next) {
      event.preventDefault();
      selectTab(next, true);
    }
  });

  // --- Composer: Enter sends, Shift+Enter is a new line -----------------------------------

  document.addEventListener("keydown", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("textarea[data-enter-sends]")) {
      return;
    }
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      if (box.value.trim() && box.form) {
        box.form.requestSubmit();
      }
    }
  });

  // --- The contact window's countdown -------------------------------------------------------

  function two(n) {
    return n < 10 ? "0" + n : String(n);
  }

  function tick() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-window-expires]"), function (line) {
      var expires = Date.parse(line.getAttribute("data-window-expires"));
      var left = Math.max(0, Math.floor((expires - Date.now()) / 1000));
      var out = line.querySelector("[data-countdown]");
      if (out) {
        out.textContent = two(Math.floor(left / 3600)) + ":" + two(Math.floor((left % 3600) / 60)) + ":" + two(left % 60);
      }
      if (left === 0 && !line.hasAttribute("data-expired")) {
        // The window just shut: the composer becomes the template picker.
        line.setAttribute("data-expired", "");
        var panel = line.closest(".cdp");
        if (panel && window.htmx) {
          window.htmx.trigger(panel, "cdp:refresh");
        }
      }
    });
  }
  window.setInterval(tick, 1000);

  // --- Template preview: the body with the variables filled in, as text -------------------

  function renderPreview(preview) {
    var form = preview.closest("form");
    var body = preview.getAttribute("data-template-body") || "";
    var values = {};
    if (form) {
      Array.prototype.forEach.call(form.querySelectorAll("[data-variable]"), function (input) {
        values[input.getAttribute("data-variable")] = input.value;
      });
    }
    preview.textContent = "";
    var pattern = /\{\{\s*(\d+)\s*\}\}/g;
    var at = 0;
    var match;
    while ((match = pattern.exec(body)) !== null) {
      preview.appendChild(document.createTextNode(body.slice(at, match.index)));
      var mark = document.createElement("mark");
      var value = values[match[1]];
      mark.className = value ? "cdp-var cdp-var-filled" : "cdp-var";
      mark.textContent = value || "{{" + match[1] + "}}";
      preview.appendChild(mark);
      at = pattern.lastIndex;
    }
    preview.appendChild(document.createTextNode(body.slice(at)));
  }

  document.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches("[data-variable]")) {
      var form = event.target.closest("form");
      var preview = form && form.parentNode.querySelector(".cdp-preview-body");
      if (preview) {
        renderPreview(preview);
      }
    }
  });

  // --- @-mentions: a listbox of who can see the chat ----------------------------------------
  //
  // The box asks for its suggestions itself (hx-get, on cdp:mention): this only works out
  // the word after the @ at the caret, which htmx cannot, and drives the listbox's keys.

  function mentionTerm(box) {
    var before = box.value.slice(0, box.selectionStart);
    var match = /(^|[^\w.@+-])@([\w.@+-]*)$/.exec(before);
    return match ? { term: match[2], start: before.length - match[2].length - 1 } : null;
  }

  function listFor(box) {
    return document.getElementById(box.getAttribute("aria-controls"));
  }

  function boxFor(list) {
    return document.querySelector('textarea[data-mentions][aria-controls="' + list.id + '"]');
  }

  function closeMentions(box) {
    var list = listFor(box);
    if (list) {
      list.hidden = true;
      list.textContent = "";
    }
    box.setAttribute("aria-expanded", "false");
    box.removeAttribute("aria-activedescendant");
  }

  function activeOption(box) {
    var id = box.getAttribute("aria-activedescendant");
    return id ? document.getElementById(id) : null;
  }

  function highlight(box, option) {
    var list = listFor(box);
    Array.prototype.forEach.call(list.querySelectorAll("[role=option]"), function (other) {
      other.setAttribute("aria-selected", other === option ? "true" : "false");
    });
    box.setAttribute("aria-activedescendant", option.id);
    option.scrollIntoView({ block: "nearest" });
  }

  function insertMention(box, username) {
    var found = mentionTerm(box);
    if (!found) {
      return;
    }
    var end = box.selectionStart;
    var text = "@" + username + " ";
    box.value = box.value.slice(0, found.start) + text + box.value.slice(end);
    var caret = found.start + text.length;
    box.setSelectionRange(caret, caret);
    closeMentions(box);
    box.focus();
  }

  document.addEventListener("input", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("textarea[data-mentions]")) {
      return;
    }
    var found = mentionTerm(box);
    var term = document.getElementById(box.id.replace(/-comment$/, "-mention-q"));
    if (!found || !term || !window.htmx) {
      closeMentions(box);
      return;
    }
    term.value = found.term;
    window.htmx.trigger(box, "cdp:mention");
  });

  // The options arrived (server-rendered): show them, or nothing if the @ has gone since.
  document.addEventListener("htmx:afterSwap", function (event) {
    var list = event.detail.target;
    if (!list || !list.matches || !list.matches(".cdp-mentions")) {
      return;
    }
    var box = boxFor(list);
    if (!box) {
      return;
    }
    var first = list.querySelector("[role=option]");
    if (!first || !mentionTerm(box)) {
      closeMentions(box);
      return;
    }
    list.hidden = false;
    box.setAttribute("aria-expanded", "true");
    highlight(box, first);
  });

  document.addEventListener("mousedown", function (event) {
    var option = event.target.closest && event.target.closest(".cdp-mentions [role=option]");
    if (!option) {
      return;
    }
    var box = boxFor(option.closest(".cdp-mentions"));
    if (box) {
      event.preventDefault(); // keep the focus in the textarea
      insertMention(box, option.getAttribute("data-username"));
    }
  });

  document.addEventListener("keydown", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("textarea[data-mentions]")) {
      return;
    }
    if (box.getAttribute("aria-expanded") !== "true") {
      return;
    }
    var options = Array.prototype.slice.call(listFor(box).querySelectorAll("[role=option]"));
    var index = options.indexOf(activeOption(box));
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      var step = event.key === "ArrowDown" ? 1 : -1;
      highlight(box, options[(index + step + options.length) % options.length]);
    } else if (event.key === "Enter" || event.key === "Tab") {
      var option = activeOption(box);
      if (option) {
        event.preventDefault();
        insertMention(box, option.getAttribute("data-username"));
      }
    } else if (event.key === "Escape") {
      event.preventDefault();
      closeMentions(box);
    }
  });

  document.addEventListener("focusout", function (event) {
    var box = event.target;
    if (box.matches && box.matches("textarea[data-mentions]")) {
      window.setTimeout(function () {
        if (document.activeElement !== box) {
          closeMentions(box);
        }
      }, 150);
    }
  });

  // --- The bell: its menu opens and closes here; htmx reloads it ---------------------------
  //
  // The bell reloads itself (hx-get on desk:notification) and says whether its menu is open
  // with its #cdp-bell-open field, which this keeps; mark read and mark all read are hx-post.

  function bell() {
    return document.getElementById("cdp-bell");
  }

  function openBell(open) {
    var root = bell();
    if (!root) {
      return;
    }
    root.querySelector(".cdp-bell-button").setAttribute("aria-expanded", open ? "true" : "false");
    root.querySelector(".cdp-bell-menu").hidden = !open;
    var field = document.getElementById("cdp-bell-open");
    if (field) {
      field.value = open ? "1" : "0";
    }
  }

  function isBellOpen() {
    var root = bell();
    return !!root && root.querySelector(".cdp-bell-button").getAttribute("aria-expanded") === "true";
  }

  document.addEventListener("click", function (event) {
    var root = bell();
    if (!root) {
      return;
    }
    var button = event.target.closest && event.target.closest(".cdp-bell-button");
    if (button) {
      openBell(!isBellOpen());
      return;
    }
    if (!root.contains(event.target)) {
      openBell(false);
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && isBellOpen()) {
      openBell(false);
      bell().querySelector(".cdp-bell-button").focus();
    }
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () {
      setUp(document);
    });
  } else {
    setUp(document);
  }
})();
