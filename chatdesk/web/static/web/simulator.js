/* The customer simulator's behaviour. The page works without it (plain forms); with it,
   Enter sends, the conversation stays scrolled to the bottom as htmx refreshes it, and
   "New customer" picks a number. Kept out of the page: its CSP forbids inline scripts. */
(function () {
  "use strict";

  var NEAR_BOTTOM = 72; // px: closer than this to the end counts as "at the bottom"
  var MAX_COMPOSER_HEIGHT = 140;

  var followBottom = true; // whether the next conversation swap should scroll to the end
  var justSent = false; // the customer just sent: show their message whatever the scroll
  var refocusComposer = false;
  var conversationSwapped = false;

  function byId(id) {
    return document.getElementById(id);
  }

  function isAtBottom(element) {
    return element.scrollHeight - element.scrollTop - element.clientHeight < NEAR_BOTTOM;
  }

  function scrollToBottom() {
    var scroller = byId("sim-scroll");
    if (scroller) {
      scroller.scrollTop = scroller.scrollHeight;
    }
  }

  function fitComposer() {
    var textarea = byId("sim-text");
    if (!textarea) {
      return;
    }
    textarea.style.height = "auto";
    textarea.style.height = Math.min(textarea.scrollHeight + 2, MAX_COMPOSER_HEIGHT) + "px";
  }

  function randomNewCustomer() {
    var digits = "";
    var values = new Uint32Array(7);
    window.crypto.getRandomValues(values);
    for (var i = 0; i < values.length; i += 1) {
      digits += String(values[i] % 10);
    }
    return "+2782" + digits;
  }

  function elementOf(event) {
    return event.detail && (event.detail.elt || event.detail.target);
  }

  function tickClock() {
    var clock = document.querySelector("[data-clock]");
    if (clock) {
      // The desk's clock, as the server wrote it: in the page's zone, not the browser's.
      var zone = clock.getAttribute("data-time-zone") || undefined;
      try {
        clock.textContent = new Intl.DateTimeFormat("en-GB", {
          hour: "2-digit",
          minute: "2-digit",
          hourCycle: "h23",
          timeZone: zone,
        }).format(new Date());
      } catch (unknownZone) {
        // Leave the server's time in place.
      }
    }
  }

  // Enter sends; Shift+Enter (or an input method composing a character) makes a new line.
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (!target || target.id !== "sim-text" || event.key !== "Enter") {
      return;
    }
    if (event.shiftKey || event.isComposing || event.keyCode === 229) {
      return;
    }
    event.preventDefault();
    if (target.value.trim() && target.form) {
      target.form.requestSubmit();
    }
  });

  document.addEventListener("input", function (event) {
    if (event.target && event.target.id === "sim-text") {
      fitComposer();
    }
  });

  // "New customer": a number the desk has never seen, then the name to go with it.
  document.addEventListener("click", function (event) {
    var button = event.target && event.target.closest && event.target.closest("[data-new-customer]");
    if (!button) {
      return;
    }
    var phone = byId("sim-phone");
    var name = byId("sim-name");
    if (!phone || !name) {
      return; // let the form ask the server instead
    }
    event.preventDefault();
    phone.value = randomNewCustomer();
    phone.removeAttribute("aria-invalid");
    name.value = "";
    name.focus();
  });

  // The poll (a POST: the phone's receipts move the desk's statuses) says whether the
  // customer can see the screen: a hidden tab receives messages (delivered) but does not
  // read them.
  document.addEventListener("htmx:configRequest", function (event) {
    var element = elementOf(event);
    if (element && element.id === "sim-conversation" && document.hidden) {
      event.detail.parameters.hidden = "1";
    }
  });

  document.addEventListener("htmx:beforeRequest", function (event) {
    var element = elementOf(event);
    if (element && element.id === "sim-composer") {
      justSent = true;
      refocusComposer = true;
    }
  });

  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (!target) {
      return;
    }
    // A refused message (422) comes back as the composer with the reason: show it.
    if (target.id === "sim-composer" && event.detail.xhr.status === 422) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
      justSent = false;
    }
    if (target.id === "sim-conversation" && event.detail.shouldSwap) {
      var scroller = byId("sim-scroll");
      followBottom = justSent || !scroller || isAtBottom(scroller);
      conversationSwapped = true;
    }
  });

  document.addEventListener("htmx:afterSwap", function () {
    if (conversationSwapped) {
      conversationSwapped = false;
      if (followBottom) {
        scrollToBottom();
      }
      justSent = false;
    }
    if (refocusComposer && byId("sim-text")) {
      refocusComposer = false;
      fitComposer();
      byId("sim-text").focus();
    }
  });

  function start() {
    scrollToBottom();
    fitComposer();
    tickClock();
    window.setInterval(tickClock, 15000);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
