// The agent workspace: which chat is open, its unread badge, the back button on phones and
// the transfer dialog. htmx does the fetching (live.js says when); every address comes
// from the page (the rows' links, data-home-url, data-open-url), none is written here.
// The waiting times are the server's words: the lists are read again every minute.
(function () {
  "use strict";
  var ws = document.getElementById("workspace");
  if (!ws) {
    return;
  }
  var selected = ws.getAttribute("data-selected") || null;
  var seenVersion = null; // the open chat's row, as the lists last showed it
  var narrow = window.matchMedia("(max-width: 760px)");
  var flash = document.getElementById("agent-flash");

  function rowLink(id) {
    return id === null
      ? null
      : document.querySelector('#agent-lists a.ws-open[data-chat-id="' + id + '"]');
  }

  function rowVersion(id) {
    var link = rowLink(id);
    return link ? link.getAttribute("data-version") : "gone";
  }

  function markSelection() {
    var links = document.querySelectorAll("#agent-lists a.ws-open");
    for (var i = 0; i < links.length; i++) {
      if (links[i].getAttribute("data-chat-id") === selected) {
        links[i].setAttribute("aria-current", "true");
      } else {
        links[i].removeAttribute("aria-current");
      }
    }
  }

  function chatShown() {
    return selected !== null && (!narrow.matches || ws.classList.contains("ws-chat-open"));
  }

  // The open chat has been read: its badge goes, and the chat's reader (an hx-post in the
  // open chat's bar) tells the server.
  function readOpenChat() {
    var link = rowLink(selected);
    var badge = link && link.querySelector(".ws-unread");
    var reader = document.querySelector("#agent-chat [data-chat-reader]");
    if (!badge || !reader || !chatShown() || !window.htmx) {
      return;
    }
    badge.remove();
    window.htmx.trigger(reader, "cdp:read");
  }

  function select(link) {
    selected = link.getAttribute("data-chat-id");
    ws.setAttribute("data-selected", selected);
    ws.setAttribute("data-open-url", link.getAttribute("hx-get"));
    ws.classList.add("ws-chat-open");
    markSelection();
    window.history.replaceState(null, "", link.getAttribute("href"));
  }

  function back() {
    var was = rowLink(selected);
    selected = null;
    seenVersion = null;
    ws.setAttribute("data-selected", "");
    ws.classList.remove("ws-chat-open");
    markSelection();
    window.history.replaceState(null, "", ws.getAttribute("data-home-url"));
    if (was) {
      was.focus();
    }
  }

  function reloadOpenChat() {
    var url = ws.getAttribute("data-open-url");
    if (selected !== null && url && window.htmx) {
      window.htmx.ajax("GET", url, {
        target: "#agent-chat",
        swap: "innerHTML",
      });
    }
  }

  // Choosing a row: htmx fetches the chat; the row is marked at once.
  ws.addEventListener("click", function (event) {
    var link = event.target.closest("a.ws-open");
    if (link && !event.ctrlKey && !event.metaKey && !event.shiftKey) {
      select(link);
      return;
    }
    if (event.target.closest("[data-ws-back]")) {
      back();
    }
  });

  document.body.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (!target) {
      return;
    }
    if (target.id === "agent-lists") {
      markSelection();
      if (selected !== null) {
        var version = rowVersion(selected);
        if (version !== seenVersion) {
          // The open chat changed hands or state: show what it is now.
          seenVersion = version;
          closeDialogs();
          reloadOpenChat();
        }
        readOpenChat();
      }
    } else if (target.id === "agent-chat") {
      seenVersion = rowVersion(selected);
      if (narrow.matches && event.detail.requestConfig && event.detail.requestConfig.verb === "get") {
        document.getElementById("agent-chat").focus();
      }
    } else if (target.id === "agent-transfer-host") {
      openDialog(target.querySelector("dialog"));
    }
  });

  // The open chat's reader is set up by htmx once the swap has settled.
  document.body.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.target;
    if (target && target.id === "agent-chat") {
      readOpenChat();
    }
  });

  // The transfer dialog is the assign fragment (GET /chats/<id>/assign/): a <dialog> of
  // its own, swapped into #agent-transfer-host and opened as a modal here.
  function say(sentence, isError) {
    var p = document.createElement("p");
    p.className = isError ? "alert alert-error ws-flash-text" : "ws-notice ws-flash-text";
    if (isError) {
      p.setAttribute("role", "alert");
    }
    p.textContent = sentence;
    flash.replaceChildren(p);
  }

  function closeDialogs() {
    var open = document.querySelectorAll("#agent-transfer-host dialog");
    for (var i = 0; i < open.length; i++) {
      if (open[i].open) {
        open[i].close();
      }
    }
  }

  function openDialog(dialog) {
    if (!dialog || dialog.open) {
      return;
    }
    var opener = document.querySelector("[data-ws-transfer]");
    dialog.addEventListener("close", function () {
      dialog.remove();
      if (opener && document.contains(opener)) {
        opener.focus();
      }
    });
    dialog.addEventListener("click", function (event) {
      if (event.target.closest("[data-assign-close]")) {
        dialog.close();
      }
    });
    dialog.showModal();
    var start = dialog.querySelector("select, input:not([type=hidden]), textarea");
    if (start) {
      start.focus();
    }
  }

  // The assign fragment says desk:assigned (HX-Trigger) when the chat went.
  document.body.addEventListener("desk:assigned", function (event) {
    var detail = event.detail;
    var message = typeof detail === "string" ? detail : (detail && detail.value) || "";
    if (message) {
      say(message, false);
    }
    window.setTimeout(closeDialogs, 0);
  });

  document.body.addEventListener("htmx:responseError", function (event) {
    var target = event.detail.target;
    if (target && target.id === "agent-transfer-host") {
      var xhr = event.detail.xhr;
      say(
        xhr && xhr.status === 404
          ? "This chat cannot be transferred from here: it is no longer yours."
          : "The transfer dialog could not be loaded; try again.",
        true
      );
    }
  });

  if (selected !== null) {
    seenVersion = rowVersion(selected);
    markSelection();
    readOpenChat();
  }
})();
