// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";

  // Tell the server the browser's time zone, so that pages show times in it (honnin/localtime.py).
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    var current = document.cookie.split("; ").filter(function (c) { return c.indexOf("tz=") === 0; })[0];
    if (zone && /^[A-Za-z0-9_+\-\/]{1,64}$/.test(zone) && current !== "tz=" + zone) {
      document.cookie = "tz=" + zone + "; Path=/; Max-Age=31536000; SameSite=Lax" +
        (location.protocol === "https:" ? "; Secure" : "");
    }
  } catch (e) { /* no Intl: the server uses the language's time zone */ }

  // "You can ask for a new code in N seconds" counts down, then becomes the resend button.
  // The server rendered the sentence (and hid the button) for the seconds left when it
  // answered; counting from then keeps a wrong clock on either side out of it.
  document.querySelectorAll("p.resend-wait[data-seconds]").forEach(function (wait) {
    var form = wait.parentNode.querySelector("form.resend-form");
    var until = Date.now() + Number(wait.getAttribute("data-seconds")) * 1000;
    function tick() {
      var seconds = Math.ceil((until - Date.now()) / 1000);
      if (seconds > 0) {
        // the catalog's two forms for this language (English: 1 / other; Japanese: one form)
        var text = wait.getAttribute(seconds === 1 ? "data-one" : "data-other");
        wait.textContent = text.replace("{seconds}", String(seconds));
        window.setTimeout(tick, ((until - Date.now()) % 1000) || 1000);  // at the next whole second
      } else {
        wait.hidden = true;
        if (form) { form.hidden = false; }
      }
    }
    tick();
  });

  // The password meter: how strong the password being typed is, and why, as the server's
  // rules judge it (POST /password/strength: the same rules as when the form is sent).
  document.querySelectorAll("input[data-strength-flow]").forEach(function (input) {
    var form = input.form;
    var meter = document.getElementById(input.getAttribute("data-strength-meter"));
    if (!form || !meter) { return; }
    var bar = meter.querySelector("meter");
    var reason = meter.querySelector(".strength-reason");
    var email = form.querySelector("input[name=email]");
    var timer = null;
    var asked = 0;
    function ask() {
      var body = new URLSearchParams();
      body.set("csrf", form.querySelector("input[name=csrf]").value);
      body.set("flow", input.getAttribute("data-strength-flow"));
      body.set("password", input.value);
      if (email) { body.set("email", email.value); }
      var mine = ++asked;
      fetch("/password/strength", { method: "POST", body: body, credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (answer) {
          if (!answer || mine !== asked) { return; }  // an older answer, or refused: say nothing
          bar.hidden = false;
          bar.value = answer.score;
          meter.setAttribute("data-score", String(answer.score));
          reason.textContent = answer.reason;
        })
        .catch(function () { /* the form still works: the server judges it when sent */ });
    }
    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(ask, 300);
    });
  });
  // Passkeys (WebAuthn). A form marked data-passkey="get" or "create" carries the options
  // the server made for this flow (their challenge is the flow's, spent by the first answer);
  // its button asks the browser, and the answer is posted as the form's "credential". A form
  // also marked data-autofill asks at once, quietly, for the passkeys the browser lists under
  // the name field (conditional mediation); pressing the button stops that and asks aloud.
  // Shown only where the browser can do this: without it the page works as before.
  var pk = window.PublicKeyCredential;
  var quiet = null;
  // "Next time, sign in with a passkey": offered only where this browser can make one
  document.querySelectorAll("[data-passkey-offer]").forEach(function (offer) {
    if (pk && pk.parseCreationOptionsFromJSON) { offer.hidden = false; }
  });  // the autofill request, stopped before the button asks
  document.querySelectorAll("form[data-passkey]").forEach(function (form) {
    if (!pk || !pk.parseRequestOptionsFromJSON) { return; }
    var creating = form.getAttribute("data-passkey") === "create";
    var options = JSON.parse(form.getAttribute("data-options"));
    var error = form.querySelector("[data-passkey-error]");
    function send(credential, how) {
      form.querySelector("input[name=credential]").value = JSON.stringify(credential.toJSON());
      form.querySelector("input[name=mediation]").value = how;
      form.submit();
    }
    function fail() {
      if (error) { error.hidden = false; }
    }
    form.hidden = false;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (quiet) { quiet.abort(); quiet = null; }
      if (error) { error.hidden = true; }
      var asked = creating
        ? navigator.credentials.create({ publicKey: pk.parseCreationOptionsFromJSON(options) })
        : navigator.credentials.get({ publicKey: pk.parseRequestOptionsFromJSON(options) });
      asked.then(function (credential) { send(credential, "button"); }, fail);
    });
    if (creating || !form.hasAttribute("data-autofill") || !pk.isConditionalMediationAvailable) {
      return;
    }
    pk.isConditionalMediationAvailable().then(function (available) {
      if (!available) { return; }
      quiet = new AbortController();
      navigator.credentials.get({
        mediation: "conditional",
        signal: quiet.signal,
        publicKey: pk.parseRequestOptionsFromJSON(options)
      }).then(function (credential) { send(credential, "autofill"); }, function () {
        /* stopped for the button, or nothing chosen: the name field works as before */
      });
    });
  });
})();
