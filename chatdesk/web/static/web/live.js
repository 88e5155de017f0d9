// Keeps one live connection to the desk while a signed-in page is open: that connection is
// what makes an agent "online" for routing. It pings every 20 s and reconnects with
// backoff; the server closes with 4401 when the session has ended.
//
// Each event becomes DOM events on <body>, for htmx (hx-trigger="desk:lists from:body"):
//   desk:event    every event; detail is the frame {seq, type, chat_id, data}
//   desk:chat     chat.* and message.* events (likewise desk:comment, desk:notification,
//                 desk:presence); detail is the frame
//   desk:chat-ID, desk:message-ID, desk:comment-ID
//                 the same, for one chat: chat.*, message.* and comment.* events of chat ID,
//                 so a fragment declares hx-trigger="desk:message-5 from:body" (the
//                 Content-Security-Policy forbids hx-trigger filters: they need eval)
//   desk:presence-ID
//                 presence.* events about user ID
//   desk:lists    the chat lists may have changed (chat.* or message.created): at most once
//                 per 300 ms, and always after the last event of a burst
//   desk:resync   too much was missed to catch up: every live fragment reloads
// The page renders the newest seq into <body data-live-seq>. The first connection asks for
// every event after it (?since=N), each reconnection for every event after the last one
// received, so nothing that happens after the page was read is missed.
//
// While the connection is lost a banner says so ("Live updates lost — reconnecting…"), and
// says "Live updates are back" for a few seconds once it returns; when the session has
// ended it says so, with a way to sign in again and come back to this page.
(function () {
  "use strict";
  var PING_EVERY_MS = 20000;
  var LISTS_AT_MOST_EVERY_MS = 300;
  var FIRST_DELAY_MS = 1000;
  var MAX_DELAY_MS = 30000;
  var CLOSE_UNAUTHENTICATED = 4401;
  var BACK_SHOWN_MS = 4000;
  var LOST = "Live updates lost \u2014 reconnecting\u2026";
  var BACK = "Live updates are back";
  var ENDED = "Your session has ended: live updates stopped. ";
  var FAMILIES = {
    chat: "chat",
    message: "chat",
    comment: "comment",
    notification: "notification",
    presence: "presence",
  };

  // Per-chat (and per-user) names, by the event type's first word.
  var PER_CHAT = { chat: true, message: true, comment: true };

  // The page says where the stream is (<body data-live-url>); the host is the page's own.
  var path = document.body.getAttribute("data-live-url");
  if (!path) {
    return;
  }
  var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
  var url = scheme + window.location.host + path;
  var delay = FIRST_DELAY_MS;
  var socket = null;
  var pinger = null;
  var retry = null;
  var stopped = false;
  var connectedBefore = false;
  var listsTimer = null;
  var listsFiredAt = 0;

  // One banner for the connection's state, made here (role=status: read out politely).
  var banner = null;
  var backTimer = null;
  var lost = false;

  function showBanner(text, kind) {
    if (banner === null) {
      banner = document.createElement("div");
      banner.className = "live-banner";
      banner.setAttribute("role", "status");
      banner.setAttribute("aria-live", "polite");
      banner.setAttribute("data-live-banner", "");
      document.body.appendChild(banner);
    }
    window.clearTimeout(backTimer);
    banner.textContent = text;
    banner.classList.toggle("is-back", kind === "back");
    banner.hidden = false;
    return banner;
  }

  function connectionLost() {
    if (!lost) {
      lost = true;
      showBanner(LOST, "lost");
    }
  }

  function connectionBack() {
    if (!lost) {
      return;
    }
    lost = false;
    showBanner(BACK, "back");
    backTimer = window.setTimeout(function () {
      banner.hidden = true;
    }, BACK_SHOWN_MS);
  }

  function sessionEnded() {
    var here = window.location.pathname + window.location.search;
    var link = document.createElement("a");
    link.href = document.body.getAttribute("data-login-url") + "?next=" + encodeURIComponent(here);
    link.textContent = "Sign in again";
    showBanner(ENDED, "lost").appendChild(link);
  }

  function fire(name, detail) {
    document.body.dispatchEvent(new CustomEvent(name, { detail: detail || null }));
  }

  // Trailing throttle: a burst of events costs one refresh per 300 ms, and the last
  // refresh always starts after the last event arrived, so it shows that event too.
  function listsChanged() {
    if (listsTimer !== null) {
      return;
    }
    var wait = Math.max(0, listsFiredAt + LISTS_AT_MOST_EVERY_MS - Date.now());
    listsTimer = window.setTimeout(function () {
      listsTimer = null;
      listsFiredAt = Date.now();
      fire("desk:lists");
    }, wait);
  }

  // <body data-live-seq> holds the page's place in the stream: rendered by the server, then
  // the seq of the last event received. Absent when the page did not say, or after a resync.
  function lastSeq() {
    var value = document.body.getAttribute("data-live-seq");
    return value !== null && /^\d+$/.test(value) ? value : null;
  }

  function receive(frame) {
    if (frame.type === "pong" || frame.type === "error") {
      return;
    }
    if (frame.type === "resync") {
      // The lists are read afresh, so the old place is worth nothing: replaying from it
      // again would only fall behind again. Until the next event brings a seq, a
      // reconnection starts from now and reads the lists afresh once more.
      document.body.removeAttribute("data-live-seq");
      fire("desk:resync", frame);
      return;
    }
    if (typeof frame.seq === "number") {
      document.body.setAttribute("data-live-seq", String(frame.seq));
    }
    fire("desk:event", frame);
    var first = frame.type.split(".")[0];
    var family = FAMILIES[first];
    if (family) {
      fire("desk:" + family, frame);
    }
    if (PER_CHAT[first] && typeof frame.chat_id === "number") {
      fire("desk:" + first + "-" + frame.chat_id, frame);
    }
    var about = frame.data && frame.data.user_id;
    if (first === "presence" && typeof about === "number") {
      fire("desk:presence-" + about, frame);
    }
    if (frame.type.indexOf("chat.") === 0 || frame.type === "message.created") {
      listsChanged();
    }
  }

  function connect() {
    retry = null;
    var since = lastSeq();
    var current = new WebSocket(since === null ? url : url + "?since=" + since);
    socket = current;
    current.onopen = function () {
      delay = FIRST_DELAY_MS;
      document.documentElement.setAttribute("data-live", "on");
      connectionBack();
      pinger = window.setInterval(function () {
        if (current.readyState === WebSocket.OPEN) {
          current.send(JSON.stringify({ type: "ping" }));
        }
      }, PING_EVERY_MS);
      if (connectedBefore && since === null) {
        // Back without knowing where we were: what happened meanwhile is unknown.
        fire("desk:resync");
      }
      connectedBefore = true;
    };
    current.onmessage = function (message) {
      var frame;
      try {
        frame = JSON.parse(message.data);
      } catch (error) {
        return;
      }
      if (frame && typeof frame.type === "string") {
        receive(frame);
      }
    };
    current.onclose = function (event) {
      dropped(event.code);
    };
  }

  function dropped(code) {
    socket = null;
    window.clearInterval(pinger);
    document.documentElement.setAttribute("data-live", "off");
    if (leaving) {
      stopped = true;
      return;
    }
    if (code === CLOSE_UNAUTHENTICATED) {
      stopped = true;
      sessionEnded();
      return;
    }
    connectionLost();
    retry = window.setTimeout(connect, delay);
    delay = Math.min(delay * 2, MAX_DELAY_MS);
  }

  // Signing out (a form marked data-signs-out) leaves the page: neither the stream's close
  // nor a fragment answered after the session ended may then send the browser to the
  // sign-in page a second time, asked to come back here.
  var leaving = false;
  document.addEventListener(
    "submit",
    function (event) {
      if (event.target instanceof HTMLFormElement && event.target.hasAttribute("data-signs-out")) {
        leaving = true;
      }
    },
    true
  );
  ["htmx:beforeRequest", "htmx:beforeOnLoad"].forEach(function (name) {
    document.addEventListener(name, function (event) {
      if (leaving) {
        event.preventDefault();
      }
    });
  });

  // Off the network the socket is dead, though the browser may take a minute to notice:
  // let it go now, and come back as soon as the network does rather than after a backoff.
  window.addEventListener("offline", function () {
    if (socket !== null) {
      var dead = socket;
      dead.onclose = dead.onmessage = null;
      dead.close();
      dropped(null);
    }
  });
  window.addEventListener("online", function () {
    if (!stopped && retry !== null) {
      window.clearTimeout(retry);
      delay = FIRST_DELAY_MS;
      connect();
    }
  });

  // Once the document is parsed and the scripts before this one (htmx) have set up their
  // listeners, so that no event replayed on connecting goes unheard.
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", connect);
  } else {
    connect();
  }
})();
