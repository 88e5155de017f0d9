// Keeps what a user has typed in a chat's composer in this tab's sessionStorage, one draft
// per user and chat, so that it survives a reload and a session that ended: after signing
// in again (the login page comes back to the chat) the box holds it again. A send the
// server accepted clears it (the composer it sends back marks its box data-draft-sent).
(function () {
  "use strict";
  var user = document.body.getAttribute("data-user");
  if (!user) {
    return;
  }

  function keyOf(box) {
    var panel = box.closest("[data-panel-chat]");
    return panel ? "chatdesk:draft:" + user + ":" + panel.getAttribute("data-panel-chat") : null;
  }

  function store(key, value) {
    try {
      if (value.trim()) {
        window.sessionStorage.setItem(key, value);
      } else {
        window.sessionStorage.removeItem(key);
      }
    } catch (error) {
      // Storage off or full: the draft lives only in the page, as before.
    }
  }

  function restore(root) {
    if (!root || !root.querySelectorAll) {
      return;
    }
    Array.prototype.forEach.call(root.querySelectorAll("textarea.cdp-textarea"), function (box) {
      var key = keyOf(box);
      if (key === null) {
        return;
      }
      if (box.hasAttribute("data-draft-sent")) {
        box.removeAttribute("data-draft-sent");
        store(key, "");
        return;
      }
      var kept = null;
      try {
        kept = window.sessionStorage.getItem(key);
      } catch (error) {
        kept = null;
      }
      if (kept && !box.value && !box.disabled) {
        box.value = kept;
      }
    });
  }

  document.addEventListener("input", function (event) {
    var box = event.target;
    if (box && box.matches && box.matches("textarea.cdp-textarea")) {
      var key = keyOf(box);
      if (key !== null) {
        store(key, box.value);
      }
    }
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    restore(event.detail.target && event.detail.target.closest ? event.detail.target.closest(".cdp") || document : document);
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () {
      restore(document);
    });
  } else {
    restore(document);
  }
})();
