// Keeps one live connection to the desk while a signed-in page is open: that connection is
// what makes an agent "online" for routing. It pings every 20 s and reconnects with
// backoff; the server closes with 4401 when the session has ended.
(function () {
  "use strict";
  var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
  var url = scheme + window.location.host + "/ws/events";
  var delay = 1000;
  var pinger = null;

  function connect() {
    var socket = new WebSocket(url);
    socket.onopen = function () {
      delay = 1000;
      document.documentElement.setAttribute("data-live", "on");
      pinger = window.setInterval(function () {
        if (socket.readyState === WebSocket.OPEN) {
          socket.send(JSON.stringify({ type: "ping" }));
        }
      }, 20000);
    };
    socket.onclose = function (event) {
      window.clearInterval(pinger);
      document.documentElement.setAttribute("data-live", "off");
      if (event.code === 4401) {
        return;
      }
      window.setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }

  connect();
})();
