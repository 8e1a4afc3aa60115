// cro_cmo: small progressive enhancements; loaded as a file because CSP forbids inline scripts.
(function () {
  "use strict";

  // Offering form: only the chosen category's capabilities (<fieldset data-capability-groups>). Without
  // JavaScript every group shows, with a note; here the other groups are hidden and their boxes disabled,
  // so a box ticked under a category left behind is never sent (the server refuses it anyway).
  function syncCapabilities() {
    document.querySelectorAll("fieldset[data-capability-groups]").forEach(function (fieldset) {
      const select = fieldset.form && fieldset.form.querySelector('select[name="category"]');
      if (!select) return;
      let shown = null;
      fieldset.querySelectorAll("[data-capability-group]").forEach(function (group) {
        const match = group.dataset.capabilityGroup === select.value;
        group.classList.toggle("hidden", !match);
        group.querySelectorAll("input").forEach(function (input) { input.disabled = !match; });
        const heading = group.querySelector("[data-capability-heading]");
        if (heading) heading.classList.toggle("visually-hidden", match);
        if (match) shown = group;
      });
      const note = fieldset.querySelector("[data-capability-note]");
      if (note) {
        note.textContent = shown
          ? "The capabilities of " + shown.dataset.categoryName + "; choosing another category shows its own."
          : "Choose a category above to see its capabilities.";
      }
    });
  }

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
    if (event.target.matches('select[name="category"]')) {
      syncCapabilities();
    }
    if (event.target.matches("[data-autosubmit]")) {
      event.target.form.requestSubmit();
    }
  });

  // Directory facets with many options (<fieldset data-facet-search="Capability">): a box that narrows the
  // list as one types. Added here, so without JavaScript the full list shows. The box has no name (it is
  // never sent) and its change events stay inside it (the form searches on change in #facets). What was
  // typed is kept when htmx swaps the facets in again.
  const facetFilters = {};
  function filterFacet(fieldset, text) {
    const words = text.trim().toLowerCase();
    let heading = null;
    let headingShown = false;
    fieldset.querySelectorAll("[data-facet-heading], [data-facet-option]").forEach(function (el) {
      if (el.hasAttribute("data-facet-heading")) {
        if (heading) heading.classList.toggle("hidden", !headingShown);
        heading = el;
        headingShown = false;
        return;
      }
      const checked = el.querySelector("input").checked;
      const shown = !words || checked || el.textContent.toLowerCase().includes(words);
      el.classList.toggle("hidden", !shown);
      headingShown = headingShown || shown;
    });
    if (heading) heading.classList.toggle("hidden", !headingShown);
  }
  function enhanceFacets() {
    document.querySelectorAll("fieldset[data-facet-search]").forEach(function (fieldset) {
      if (fieldset.querySelector(".facet-filter")) return;
      const key = fieldset.dataset.facet;
      const id = "facet-filter-" + key;
      const wrapper = document.createElement("div");
      wrapper.className = "facet-filter px-3 pt-2";
      const label = document.createElement("label");
      label.className = "visually-hidden";
      label.htmlFor = id;
      label.textContent = "Find a " + fieldset.dataset.facetSearch.toLowerCase();
      const input = document.createElement("input");
      input.type = "search";
      input.id = id;
      input.className = "form-control form-control-sm";
      input.placeholder = "Find…";
      input.autocomplete = "off";
      input.value = facetFilters[key] || "";
      input.addEventListener("input", function () {
        facetFilters[key] = input.value;
        filterFacet(fieldset, input.value);
      });
      input.addEventListener("change", function (event) { event.stopPropagation(); });
      input.addEventListener("keyup", function (event) { event.stopPropagation(); });
      input.addEventListener("keydown", function (event) {
        if (event.key === "Enter") event.preventDefault();
      });
      wrapper.append(label, input);
      fieldset.querySelector("legend").after(wrapper);
      fieldset.classList.add("facet-searchable");
      if (input.value) filterFacet(fieldset, input.value);
    });
  }

  // Directory compare tray (templates/vendors/_compare_tray.html): after a tick or a remove posts and the tray
  // comes back, the boxes of the vendors it refused (a 7th) or removed are unticked — only those, so a tick made
  // while an earlier post was on its way stays; a remove button that disappeared hands the focus to the tray's
  // heading instead of the page's top.
  let trayFocus = false;
  document.addEventListener("htmx:beforeRequest", function (event) {
    trayFocus = Boolean(event.detail.elt.closest && event.detail.elt.closest("#compare-tray"));
  });
  document.addEventListener("htmx:afterSettle", function () {
    const tray = document.getElementById("compare-tray");
    if (!tray) return;
    const unticked = (tray.dataset.unticked || "").split(" ");
    tray.dataset.unticked = "";
    document.querySelectorAll('input[type="checkbox"][form="compare-form"]').forEach(function (box) {
      if (unticked.includes(box.value)) box.checked = false;
    });
    if (trayFocus) {
      trayFocus = false;
      document.getElementById("compare-tray-heading").focus();
    }
  });

  document.addEventListener("DOMContentLoaded", syncSignup);
  document.addEventListener("DOMContentLoaded", syncCapabilities);
  document.addEventListener("DOMContentLoaded", enhanceFacets);
  document.addEventListener("htmx:afterSettle", enhanceFacets);
})();
