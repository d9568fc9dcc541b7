// Progressive enhancement only: every page works without this file.
// "Resend code" counts down until the server will accept another send.
(function () {
  "use strict";
  document.querySelectorAll("button[data-resend-at]").forEach(function (button) {
    var at = Date.parse(button.getAttribute("data-resend-at"));
    if (isNaN(at)) { return; }
    var label = button.getAttribute("data-label");
    var wait = button.getAttribute("data-wait");
    function tick() {
      var seconds = Math.ceil((at - Date.now()) / 1000);
      if (seconds > 0) {
        button.disabled = true;
        button.textContent = wait.replace("{seconds}", String(seconds));
        window.setTimeout(tick, 1000);
      } else {
        button.disabled = false;
        button.textContent = label;
      }
    }
    tick();
  });
})();
