// The live preview under the post form (templates/_macros.html, post_form).
//
// The draft goes to the server's own renderer (POST /preview, with the form's
// CSRF token), so the preview is exactly the HTML a saved post gets; nothing
// renders Markdown here. Without this script the box stays hidden and the
// form posts as usual.
(function () {
  "use strict";

  // Wait for a pause in typing rather than render every keystroke.
  var DELAY_MS = 300;

  var box = document.querySelector("[data-preview-url]");
  var form = box && document.getElementById(box.dataset.previewForm);
  var draft = form && form.elements.namedItem("body");
  var token = form && form.elements.namedItem("csrf_token");
  if (!draft || !token) {
    return;
  }
  var output = box.querySelector(".post-body");
  var error = box.querySelector(".post-preview-error");
  var timer = null;
  // The number of the newest request: an answer to an older one, which a
  // slow network may deliver last, is stale and dropped.
  var latest = 0;

  function show(html, message) {
    // The HTML was sanitized by the server, as the saved post's is.
    output.innerHTML = html;
    error.textContent = message;
    box.hidden = html === "" && message === "";
  }

  function render() {
    var ticket = ++latest;
    if (draft.value.trim() === "") {
      show("", "");
      return;
    }
    var data = new URLSearchParams();
    data.set("body", draft.value);
    data.set("csrf_token", token.value);
    fetch(box.dataset.previewUrl, {
      method: "POST",
      body: data,
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    })
      .then(function (response) {
        return response.json().then(function (answer) {
          return { ok: response.ok, answer: answer };
        });
      })
      .then(function (result) {
        // Sent before a newer draft was: that one's answer decides.
        var stale = ticket !== latest;
        if (!stale && result.ok && typeof result.answer.html === "string") {
          show(result.answer.html, "");
        } else if (!stale) {
          // The server says why: too long, an expired page, signed out.
          show("", String(result.answer.message || "No preview."));
        }
        announce(stale, false);
      })
      .catch(function () {
        // Offline, or an answer that is not JSON: keep what is shown; the
        // form itself still works.
        announce(ticket !== latest, true);
      });
  }

  // Tells scripts that build on the preview (and the browser tests) that an
  // answer came: shown, or dropped as stale, or failed.
  function announce(stale, failed) {
    box.dispatchEvent(
      new CustomEvent("quarty:preview", { detail: { stale: stale, failed: failed } })
    );
  }

  draft.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(render, DELAY_MS);
  });
  // A form shown again with its errors, or an edit, starts with text.
  if (draft.value.trim() !== "") {
    render();
  }
})();
