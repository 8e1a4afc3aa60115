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

  document.addEventListener("DOMContentLoaded", syncSignup);
  document.addEventListener("DOMContentLoaded", enhanceFacets);
  document.addEventListener("htmx:afterSettle", enhanceFacets);
})();
