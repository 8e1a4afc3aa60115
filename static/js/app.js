// cro_cmo: small progressive enhancements; loaded as a file because CSP forbids inline scripts.
(function () {
  "use strict";

  // Sign-up: show the vendor-kind or sponsor-type field only for the chosen organisation kind.
  function syncSignup() {
    const chosen = document.querySelector('input[name="organisation_kind"]:checked');
    document.querySelectorAll("[data-show-for]").forEach(function (el) {
      el.classList.toggle("hidden", !chosen || el.dataset.showFor !== chosen.value);
    });
  }

  // Forms that ask before a destructive action: <form data-confirm="Remove this member?">
  document.addEventListener("submit", function (event) {
    const message = event.target.dataset && event.target.dataset.confirm;
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  });

  // Selects that submit their form on change: <select data-autosubmit>
  document.addEventListener("change", function (event) {
    if (event.target.matches('input[name="organisation_kind"]')) {
      syncSignup();
    }
    if (event.target.matches("[data-autosubmit]")) {
      event.target.form.requestSubmit();
    }
  });

  document.addEventListener("DOMContentLoaded", syncSignup);
})();
