// The channel's add page: show the settings and secrets of the chosen kind only.
(function () {
  "use strict";
  function sync(select) {
    document.querySelectorAll("fieldset.channel-kind").forEach(function (fieldset) {
      fieldset.hidden = !fieldset.classList.contains("kind-" + select.value);
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var select = document.querySelector("select[name=kind]");
    if (!select) {
      return;
    }
    select.addEventListener("change", function () {
      sync(select);
    });
    sync(select);
  });
})();
