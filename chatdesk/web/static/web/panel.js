// The chat panel and the notifications bell: tabs, live refreshes, the composer's keys,
// the contact-window countdown, the template preview, @-mentions, and the bell's menu.
//
// The panel (<section class="cdp" data-panel-chat="ID">) is an htmx fragment; live.js fires
// desk:chat / desk:comment / desk:notification / desk:resync on <body> (they do not bubble,
// so they are heard there), and this file turns the ones about a shown chat into htmx
// refreshes of the part that changed. The rest is delegated from the document, so panels
// swapped in later need no setup. Text from customers is only ever put into the page as
// text (textContent), never as markup.
(function () {
  "use strict";
  var REFRESH_DEBOUNCE_MS = 120;
  var selectedTabs = {}; // chat id -> the tab last chosen, kept across panel refreshes
  var timers = {};

  function panels(chatId) {
    var selector = chatId == null ? ".cdp[data-panel-chat]" : '.cdp[data-panel-chat="' + chatId + '"]';
    return Array.prototype.slice.call(document.querySelectorAll(selector));
  }

  function later(key, fn) {
    window.clearTimeout(timers[key]);
    timers[key] = window.setTimeout(fn, REFRESH_DEBOUNCE_MS);
  }

  // --- Live refreshes -------------------------------------------------------------------

  function refreshPart(panel, selector) {
    var part = panel.querySelector(selector);
    if (part && window.htmx) {
      window.htmx.trigger(part, "panel:refresh");
    }
  }

  function refreshPanel(panel) {
    if (!window.htmx || !panel.isConnected) {
      return;
    }
    var chatId = panel.getAttribute("data-panel-chat");
    var box = panel.querySelector("textarea[name=text]");
    var draft = box ? box.value : "";
    var comment = panel.querySelector("textarea[name=body]");
    var note = comment ? comment.value : "";
    window.htmx
      .ajax("GET", panel.getAttribute("data-panel-url"), { target: panel, swap: "outerHTML" })
      .then(function () {
        var fresh = panels(chatId)[0];
        if (!fresh) {
          return;
        }
        var newBox = fresh.querySelector("textarea[name=text]");
        if (newBox && draft && !newBox.value) {
          newBox.value = draft;
        }
        var newComment = fresh.querySelector("textarea[name=body]");
        if (newComment && note && !newComment.value) {
          newComment.value = note;
        }
      });
  }

  document.body.addEventListener("desk:chat", function (event) {
    var frame = event.detail || {};
    panels(frame.chat_id).forEach(function (panel) {
      if (String(frame.type).indexOf("chat.") === 0) {
        later("panel" + frame.chat_id, function () {
          refreshPanel(panel);
        });
      } else {
        later("transcript" + frame.chat_id, function () {
          refreshPart(panel, ".cdp-transcript");
        });
      }
    });
  });

  document.body.addEventListener("desk:comment", function (event) {
    var frame = event.detail || {};
    panels(frame.chat_id).forEach(function (panel) {
      later("comments" + frame.chat_id, function () {
        refreshPart(panel, ".cdp-comment-list");
      });
    });
  });

  document.body.addEventListener("desk:resync", function () {
    panels(null).forEach(refreshPanel);
    refreshBell(false);
  });

  document.body.addEventListener("desk:notification", function () {
    later("bell", function () {
      refreshBell(false);
    });
  });

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

  // The chat's own agent has read what the page shows them: tell the server (a POST; a GET
  // never marks anything read).
  function markRead(transcript) {
    var url = transcript.getAttribute("data-read-url");
    if (!url || document.visibilityState === "hidden") {
      return;
    }
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken() },
    });
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
        if (panel) {
          refreshPanel(panel);
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

  var mentionRequest = 0;

  function mentionTerm(box) {
    var before = box.value.slice(0, box.selectionStart);
    var match = /(^|[^\w.@+-])@([\w.@+-]*)$/.exec(before);
    return match ? { term: match[2], start: before.length - match[2].length - 1 } : null;
  }

  function listFor(box) {
    return document.getElementById(box.getAttribute("aria-controls"));
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

  function showMentions(box, users) {
    var list = listFor(box);
    list.textContent = "";
    if (!users.length) {
      closeMentions(box);
      return;
    }
    users.forEach(function (user, index) {
      var option = document.createElement("li");
      option.id = list.id + "-" + index;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", "false");
      option.setAttribute("data-username", user.username);
      var name = document.createElement("span");
      name.className = "cdp-mention-name";
      name.textContent = user.name;
      var handle = document.createElement("span");
      handle.className = "cdp-mention-handle";
      handle.textContent = "@" + user.username;
      option.appendChild(name);
      option.appendChild(handle);
      option.addEventListener("mousedown", function (event) {
        event.preventDefault(); // keep the focus in the textarea
        insertMention(box, user.username);
      });
      list.appendChild(option);
    });
    list.hidden = false;
    box.setAttribute("aria-expanded", "true");
    highlight(box, list.querySelector("[role=option]"));
  }

  document.addEventListener("input", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("textarea[data-mentions-url]")) {
      return;
    }
    var found = mentionTerm(box);
    if (!found) {
      closeMentions(box);
      return;
    }
    var request = ++mentionRequest;
    var url = box.getAttribute("data-mentions-url") + "?q=" + encodeURIComponent(found.term);
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.ok ? response.json() : { users: [] };
      })
      .then(function (data) {
        if (request === mentionRequest && mentionTerm(box)) {
          showMentions(box, data.users || []);
        }
      })
      .catch(function () {
        closeMentions(box);
      });
  });

  document.addEventListener("keydown", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("textarea[data-mentions-url]")) {
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
    if (box.matches && box.matches("textarea[data-mentions-url]")) {
      window.setTimeout(function () {
        if (document.activeElement !== box) {
          closeMentions(box);
        }
      }, 150);
    }
  });

  // --- The bell -----------------------------------------------------------------------------

  function bell() {
    return document.getElementById("cdp-bell");
  }

  function csrfToken() {
    var input =
      document.querySelector("#cdp-bell input[name=csrfmiddlewaretoken]") ||
      document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function openBell(open) {
    var root = bell();
    if (!root) {
      return;
    }
    root.querySelector(".cdp-bell-button").setAttribute("aria-expanded", open ? "true" : "false");
    root.querySelector(".cdp-bell-menu").hidden = !open;
  }

  function isBellOpen() {
    var root = bell();
    return !!root && root.querySelector(".cdp-bell-button").getAttribute("aria-expanded") === "true";
  }

  function replaceBell(html, open) {
    var root = bell();
    if (!root) {
      return;
    }
    var holder = document.createElement("template");
    holder.innerHTML = html.trim();
    var fresh = holder.content.querySelector("#cdp-bell");
    if (!fresh) {
      return;
    }
    var hadFocus = root.contains(document.activeElement);
    root.replaceWith(fresh);
    openBell(open);
    if (hadFocus) {
      fresh.querySelector(".cdp-bell-button").focus();
    }
  }

  function refreshBell(keepOpen) {
    var root = bell();
    if (!root) {
      return;
    }
    var open = keepOpen || isBellOpen();
    fetch(root.getAttribute("data-bell-url"), {
      credentials: "same-origin",
      headers: { "HX-Request": "true" },
    })
      .then(function (response) {
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (html !== null) {
          replaceBell(html, open);
        }
      })
      .catch(function () {});
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
    var link = event.target.closest && event.target.closest("#cdp-bell a[data-read-url]");
    if (link) {
      fetch(link.getAttribute("data-read-url"), {
        method: "POST",
        credentials: "same-origin",
        keepalive: true,
        headers: { "X-CSRFToken": csrfToken() },
      }).catch(function () {});
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

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("#cdp-bell [data-bell-form]")) {
      return;
    }
    event.preventDefault();
    fetch(form.action, {
      method: "POST",
      credentials: "same-origin",
      body: new FormData(form),
      headers: { "X-CSRFToken": csrfToken(), "HX-Request": "true" },
    })
      .then(function (response) {
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (html !== null) {
          replaceBell(html, true);
        }
      })
      .catch(function () {});
  });

  function start() {
    setUp(document);
    // The page renders the bell empty; its count and list come from the server now.
    var root = bell();
    if (root && root.hasAttribute("data-bell-pending")) {
      refreshBell(false);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
