// The supervisor console's behaviour beside htmx, and the assign dialog (which the agent
// workspace can use too: include this script and swap GET /chats/<id>/assign/ anywhere).
//
// - The console's state is the page's query string (tab, agent, state, chat): a live
//   refresh of #supervisor-lists asks for the lists with it, so the selection stays.
// - Ticket checkboxes survive a live refresh; bulk buttons follow the selection.
// - Selecting a chat marks its row (aria-current) and, on a narrow screen, shows the panel
//   with a Back button.
// - The assign dialog opens as a modal <dialog>: focus stays inside (Tab wraps), Esc and
//   Cancel close it, success (the desk:assigned event) closes it and says so.
(function () {
  "use strict";

  function consoleEl() {
    return document.getElementById("sv-console");
  }

  // --- The lists keep the selection ------------------------------------------------------

  var checked = [];

  document.addEventListener("htmx:configRequest", function (event) {
    var elt = event.detail.elt;
    if (elt && elt.id === "supervisor-lists" && event.detail.verb === "get") {
      var base = event.detail.path.split("?")[0];
      event.detail.path = base + (window.location.search || "");
    }
  });

  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (target && target.id === "supervisor-lists") {
      checked = Array.prototype.map.call(
        target.querySelectorAll("input.sv-check:checked"),
        function (box) {
          return box.value;
        }
      );
    }
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (target && target.id === "supervisor-lists") {
      checked.forEach(function (value) {
        var box = target.querySelector('input.sv-check[value="' + value + '"]');
        if (box) {
          box.checked = true;
        }
      });
      updateBulk();
    }
    if (target && target.id === "chat-panel") {
      var root = consoleEl();
      if (root) {
        root.classList.add("has-chat");
      }
    }
    openDialogs(target);
  });

  // --- Bulk selection --------------------------------------------------------------------

  function updateBulk() {
    var form = document.getElementById("sv-bulk");
    if (!form) {
      return;
    }
    var boxes = form.querySelectorAll("input.sv-check");
    var picked = form.querySelectorAll("input.sv-check:checked").length;
    form.querySelectorAll("[data-sv-needs-selection]").forEach(function (button) {
      button.disabled = picked === 0;
    });
    var label = form.querySelector("[data-sv-selected]");
    if (label) {
      label.textContent = picked === 0 ? "None selected" : picked + " selected";
    }
    var all = form.querySelector("[data-sv-check-all]");
    if (all) {
      all.checked = boxes.length > 0 && picked === boxes.length;
      all.indeterminate = picked > 0 && picked < boxes.length;
    }
  }

  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!(box instanceof HTMLInputElement)) {
      return;
    }
    if (box.hasAttribute("data-sv-check-all") && box.form) {
      box.form.querySelectorAll("input.sv-check").forEach(function (one) {
        one.checked = box.checked;
      });
    }
    if (box.classList.contains("sv-check") || box.hasAttribute("data-sv-check-all")) {
      updateBulk();
    }
  });

  // After an action the selection has done its job.
  document.addEventListener("htmx:afterRequest", function (event) {
    var elt = event.detail.elt;
    if (elt && elt.id === "sv-bulk" && event.detail.successful) {
      checked = [];
      elt.querySelectorAll("input.sv-check:checked").forEach(function (box) {
        box.checked = false;
      });
      updateBulk();
    }
  });

  // --- Selecting a chat ------------------------------------------------------------------

  function markSelected(chatId) {
    document.querySelectorAll(".sv-row").forEach(function (row) {
      var mine = row.getAttribute("data-chat-id") === String(chatId);
      row.classList.toggle("is-selected", mine);
      var link = row.querySelector(".sv-open");
      if (link) {
        if (mine) {
          link.setAttribute("aria-current", "true");
        } else {
          link.removeAttribute("aria-current");
        }
      }
    });
  }

  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (!target) {
      return;
    }
    var open = target.closest(".sv-open, [data-sv-open]");
    if (open) {
      var row = open.closest(".sv-row");
      if (row) {
        markSelected(row.getAttribute("data-chat-id"));
      }
      return;
    }
    if (target.closest("[data-sv-back]")) {
      var root = consoleEl();
      if (root) {
        root.classList.remove("has-chat");
      }
      var params = new URLSearchParams(window.location.search);
      var chat = params.get("chat");
      params.delete("chat");
      var query = params.toString();
      window.history.pushState({}, "", window.location.pathname + (query ? "?" + query : ""));
      var link = chat && document.getElementById("open-" + chat);
      if (link) {
        link.focus();
      }
      markSelected(null);
      return;
    }
    var close = target.closest("[data-assign-close]");
    if (close) {
      var dialog = close.closest("dialog");
      if (dialog) {
        dialog.close();
      }
    }
  });

  // --- The assign dialog -----------------------------------------------------------------

  var opener = null;

  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    if (elt && !elt.closest("dialog")) {
      opener = elt;
    }
  });

  function focusables(dialog) {
    return Array.prototype.filter.call(
      dialog.querySelectorAll(
        "a[href], button:not([disabled]), input:not([disabled]):not([type=hidden]), " +
          "select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex='-1'])"
      ),
      function (el) {
        return el.offsetParent !== null || el === document.activeElement;
      }
    );
  }

  function openDialogs(root) {
    if (!root || !root.querySelectorAll) {
      return;
    }
    var dialogs = root.matches && root.matches("dialog[data-assign-dialog]") ? [root] : [];
    root.querySelectorAll("dialog[data-assign-dialog]").forEach(function (d) {
      dialogs.push(d);
    });
    dialogs.forEach(function (dialog) {
      if (dialog.open || dialog.hasAttribute("data-ready")) {
        return;
      }
      dialog.setAttribute("data-ready", "");
      var returnTo = opener;
      dialog.addEventListener("close", function () {
        dialog.remove();
        if (returnTo && document.contains(returnTo)) {
          returnTo.focus();
        }
      });
      dialog.addEventListener("keydown", function (event) {
        if (event.key !== "Tab") {
          return;
        }
        var items = focusables(dialog);
        if (items.length === 0) {
          return;
        }
        var first = items[0];
        var last = items[items.length - 1];
        if (event.shiftKey && document.activeElement === first) {
          event.preventDefault();
          last.focus();
        } else if (!event.shiftKey && document.activeElement === last) {
          event.preventDefault();
          first.focus();
        }
      });
      dialog.showModal();
      var start = dialog.querySelector("select, input:not([type=hidden]), textarea");
      if (start) {
        start.focus();
      }
    });
  }

  document.addEventListener("desk:assigned", function (event) {
    var message = typeof event.detail === "string" ? event.detail : (event.detail && event.detail.value) || "";
    var status = document.getElementById("sv-status");
    if (status && message) {
      status.innerHTML = "";
      var note = document.createElement("p");
      note.className = "sv-note sv-note-ok";
      note.textContent = message;
      status.appendChild(note);
    }
    document.querySelectorAll("dialog[data-assign-dialog]").forEach(function (dialog) {
      // Close once the answer is swapped in, so focus returns to a settled page.
      window.setTimeout(function () {
        if (dialog.open) {
          dialog.close();
        }
      }, 0);
    });
  });
})();
