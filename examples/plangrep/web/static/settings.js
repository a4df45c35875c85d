// Enhancements of the settings page; every feature works without them.
// - Forms with data-confirm ask in a dialog and, if confirmed, submit with
//   confirmed=yes (without this script the server shows a confirmation step).
// - Buttons with data-copy copy the named field to the clipboard.
// - The plaintext key is wiped from the page when it is left, so that the
//   back/forward cache cannot show it again.
"use strict";

document.addEventListener("submit", function (e) {
  var form = e.target;
  var question = form.getAttribute("data-confirm");
  var field = form.querySelector('input[name="confirmed"]');
  if (!question || !field || field.value === "yes") {
    return;
  }
  e.preventDefault();
  if (window.confirm(question)) {
    field.value = "yes";
    form.submit();
  }
});

function copyField(button) {
  var input = document.getElementById(button.getAttribute("data-copy"));
  var status = document.getElementById("copy-status");
  if (!input || !input.value) {
    return;
  }
  var done = function (ok) {
    button.textContent = ok ? "Copied" : "Copy";
    if (status) {
      status.textContent = ok ? "Copied to the clipboard." : "Copy failed: select the key and copy it by hand.";
    }
    if (ok) {
      window.setTimeout(function () { button.textContent = "Copy"; }, 2000);
    }
  };
  input.focus();
  input.select();
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(input.value).then(function () { done(true); }, function () {
      done(document.execCommand("copy"));
    });
  } else {
    done(document.execCommand("copy"));
  }
}

document.querySelectorAll("[data-copy]").forEach(function (button) {
  button.hidden = false;
  button.addEventListener("click", function () { copyField(button); });
});

window.addEventListener("pagehide", function () {
  document.querySelectorAll("[data-secret]").forEach(function (input) {
    input.value = "";
    input.removeAttribute("value");
    input.placeholder = "No longer shown";
  });
  document.querySelectorAll("[data-copy]").forEach(function (button) { button.disabled = true; });
});
