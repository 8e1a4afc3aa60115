"""The vendor directory in a real browser: search with facets, profile, compare, self-service editing."""

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tests.browser import screenshot, sign_in
from vendors.models import Certification, ServiceOffering, Vendor

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PASSWORD = "demo-password"


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", vendors=10, verbosity=0)


def shot(page, name):
    """``screenshot``, then drop the empty ``style=""`` Playwright's caret hiding leaves on every input.

    Left in place, htmx's settle step copies them onto the swapped-in inputs with setAttribute, which
    the CSP (style-src 'self') reports as console errors that no real visitor would ever cause.
    """
    screenshot(page, name)
    page.evaluate("() => document.querySelectorAll('[style=\"\"]').forEach((el) => el.removeAttribute('style'))")


def signed_in(page, email):
    """Sign in as ``email`` in a fresh session (cookies of any earlier user dropped)."""
    page.context.clear_cookies()
    sign_in(page, email, PASSWORD)
    page.wait_for_url("**/dashboard/")


def card_names(page):
    return [
        name.strip() for name in page.locator("[data-testid=vendor-card] [data-testid=vendor-name]").all_inner_texts()
    ]


def watch_htmx(page):
    """Count htmx requests in flight (window.__pending) so a test can wait until the directory is settled."""
    page.evaluate(
        """() => {
            window.__pending = 0;
            document.body.addEventListener("htmx:beforeRequest", () => window.__pending++);
            document.body.addEventListener("htmx:afterRequest", () => window.__pending--);
        }"""
    )


def htmx_settled(page):
    page.wait_for_function("() => window.__pending === 0")


def search(page, words):
    """Type words into the directory search and submit; wait until htmx has swapped in their results.

    Clicking "Go" sends two identical requests (the input's ``change`` and the form's ``submit``), so
    wait for both before touching the results.
    """
    watch_htmx(page)
    page.fill("#q", words)
    page.get_by_role("button", name="Go").click()
    expect(page.locator("#directory-results")).to_contain_text(f"for “{words}”")
    htmx_settled(page)


def test_search_and_facets_update_the_results_in_place(page, demo):
    signed_in(page, "alice@acme.test")
    page.goto("/vendors/")
    page.evaluate("window.__marker = 1")  # survives only if the page is never reloaded

    search(page, "sterile fill-finish")
    assert "q=sterile" in page.url
    assert page.evaluate("window.__marker") == 1
    unfiltered = int(page.locator("[data-testid=result-count]").inner_text())
    assert unfiltered >= 3  # Lyon Aseptic (FR) is among them until the country filter narrows

    page.check("#f-country-DE")
    page.wait_for_url(re.compile(r"country=DE"))
    expect(page.locator("[data-testid=result-count]")).to_have_text("2")
    assert page.evaluate("window.__marker") == 1
    names = card_names(page)
    assert set(names[:2]) == {"Rheinland Sterile Solutions", "Helix Manufacturing"}
    assert "Bavaria Oral Solids" not in names
    assert "Lyon Aseptic" not in names
    # The sidebar was swapped out of band: its counts describe the current results.
    dosage_count = page.locator("label[for=f-category-finished-dosage-forms] .facet-count")
    expect(dosage_count).to_have_text("2")
    expect(page.locator("#f-country-DE")).to_be_checked()
    expect(page.locator("#directory-spinner")).to_have_css("opacity", "0")  # faded out: the search is done
    shot(page, "directory-search")

    # Unticking widens again, still without a reload.
    page.uncheck("#f-country-DE")
    page.wait_for_url(lambda url: "country=DE" not in url)
    expect(page.locator("[data-testid=result-count]")).to_have_text(str(unfiltered))
    assert page.evaluate("window.__marker") == 1

    # The chip of an active filter removes it too.
    page.check("#f-country-DE")
    expect(page.locator("[data-testid=result-count]")).to_have_text("2")
    page.locator("[aria-label='Active filters'] a[title='Remove this filter']").click()
    page.wait_for_url(lambda url: "country=DE" not in url and "q=sterile" in url)
    expect(page.locator("[data-testid=result-count]")).to_have_text(str(unfiltered))
    assert "Lyon Aseptic" in card_names(page)
    assert page.console_errors == []


def test_a_search_typed_on_the_directory_is_ranked_by_best_match(page, demo):
    signed_in(page, "alice@acme.test")
    page.goto("/vendors/")
    search(page, "sterile fill-finish")
    expect(page.locator("#sort")).to_have_value("relevance")
    assert "sort=name" not in page.url


def test_a_facet_ticked_while_results_are_loading_is_kept(page, demo):
    signed_in(page, "alice@acme.test")
    page.goto("/vendors/")
    watch_htmx(page)
    held, release = [], []

    def hold(route):  # keep directory requests waiting until the test lets them through
        if release:
            route.continue_()
        else:
            held.append(route)

    page.route(lambda url: "/vendors/?" in url, hold)
    page.fill("#q", "sterile fill-finish")
    page.get_by_role("button", name="Go").click()
    page.wait_for_function("() => window.__pending > 0")  # the search is on its way (and held)
    page.check("#f-country-DE")  # the visitor does not wait for the results
    release.append(True)
    for route in held:
        route.continue_()
    htmx_settled(page)
    expect(page.locator("#f-country-DE")).to_be_checked()
    expect(page.locator("[data-testid=result-count]")).to_have_text("2")
    assert "country=DE" in page.url


def test_empty_results_say_how_to_widen_the_search(page, demo):
    signed_in(page, "alice@acme.test")
    page.goto("/vendors/")
    search(page, "xyzzy nonexistent")
    no_results = page.locator("[data-testid=no-results]")
    expect(no_results).to_be_visible()
    expect(no_results).to_contain_text("Widen the search")
    expect(page.locator("[data-testid=result-count]")).to_have_text("0")
    shot(page, "directory-empty")
    assert page.console_errors == []


def test_an_unknown_category_code_is_reported_not_a_server_error(page, demo):
    signed_in(page, "alice@acme.test")
    response = page.goto("/vendors/?category=not-a-category")
    assert response.status == 200
    expect(page.get_by_text("Some filters are not valid")).to_be_visible()
    expect(page.locator("[data-testid=vendor-card]")).to_have_count(0)
    shot(page, "directory-invalid-filter")
    assert page.console_errors == []


def test_a_sponsor_reads_a_vendor_profile(page, demo):
    signed_in(page, "alice@acme.test")
    page.goto("/vendors/helix-manufacturing/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Helix Manufacturing")

    services = page.locator(".card", has=page.locator(".card-header", has_text="Services"))
    expect(services.get_by_role("heading", name="CMO services")).to_be_visible()
    expect(services.locator("[data-testid=offering]")).to_have_count(3)
    expect(services.get_by_role("heading", name="Finished Dosage Forms")).to_be_visible()

    sites = page.locator(".card", has=page.locator(".card-header", has_text="Sites"))
    expect(sites).to_contain_text("Munich, Germany")
    expect(sites).to_contain_text("Frankfurt, Germany")

    certificates = page.locator("[data-testid=certificate]")
    expired = certificates.filter(has_text="ISO 9001")
    expect(expired.locator("[data-status]")).to_have_text("Expired")
    expiring = certificates.filter(has_text="FDA (US)")
    expect(expiring.locator("[data-status]")).to_have_text("Expiring soon")
    valid = certificates.filter(has_text="National competent authority (EU)")
    expect(valid.locator("[data-status]")).to_have_text("Valid")

    expect(page.get_by_role("button", name="Compare with…")).to_be_visible()
    expect(page.get_by_role("link", name="Edit profile")).to_have_count(0)
    expect(page.get_by_role("link", name="Add offering")).to_have_count(0)
    shot(page, "vendor-profile")
    assert page.console_errors == []


def test_a_sponsor_compares_two_vendors_from_the_directory(page, demo):
    signed_in(page, "alice@acme.test")
    page.goto("/vendors/")
    watch_htmx(page)
    page.check("#cmp-helix-manufacturing")
    page.check("#cmp-rheinland-sterile")
    htmx_settled(page)  # each tick is saved at once (a navigation would abort the post: a console error)
    page.get_by_role("button", name="Compare selected").click()
    page.wait_for_url("**/vendors/compare/")
    table = page.locator("[data-testid=comparison]")
    expect(table).to_be_visible()
    expect(table.locator("thead th[scope=col] > a")).to_have_text(
        ["Helix Manufacturing", "Rheinland Sterile Solutions"]
    )
    expect(table).to_contain_text("Sterile fill-finish")
    iso_row = table.locator("tr", has=page.locator("th", has_text="ISO 9001"))
    expect(iso_row.locator("td").first).to_contain_text("Expired")
    expect(iso_row.locator("td").last).to_have_text("—none")
    shot(page, "vendor-compare")
    assert page.console_errors == []


def test_a_vendor_admin_edits_her_profile_and_sponsors_find_it_at_once(page, demo):
    signed_in(page, "carol@northwind.test")
    page.goto("/vendors/northwind-clinical/")
    page.get_by_role("link", name="Edit profile").click()
    page.wait_for_url("**/vendors/northwind-clinical/edit/")
    new_description = "Phase I–III oncology and CNS trials across Europe and the US, with in-house data management."
    page.fill("#id_description", new_description)
    shot(page, "vendor-edit-form")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/vendors/northwind-clinical/")
    expect(page.locator("p.lead")).to_have_text(new_description)
    expect(page.get_by_role("alert")).to_contain_text("Northwind Clinical")
    expect(page.get_by_role("alert")).to_contain_text("saved")

    # A second Clinical Trials offering is refused: she edits the one she has.
    page.get_by_role("link", name="Add offering").click()
    page.wait_for_url("**/vendors/offerings/new/")
    page.select_option("#id_category", label="Clinical Trials")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("already has an offering in this category")).to_be_visible()
    assert (
        ServiceOffering.objects.filter(vendor__slug="northwind-clinical", category__code="clinical-trials").count() == 1
    )

    northwind = Vendor.objects.get(slug="northwind-clinical")
    assert "rare" not in f"{northwind.description} {northwind.search_tags} {northwind.search_text}".lower()
    page.goto("/vendors/northwind-clinical/")
    clinical_trials = page.locator("[data-testid=offering]", has=page.get_by_role("heading", name="Clinical Trials"))
    clinical_trials.get_by_role("link", name="Edit").click()
    page.wait_for_url("**/vendors/offerings/*/edit/")
    # The form lists the capabilities of the offering's own category (grouped; only that group shows).
    clinical = page.locator("[data-testid=capability-group][data-category-name='Clinical Trials']")
    clinical.get_by_label("Rare disease", exact=True).check()
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/vendors/northwind-clinical/")
    expect(clinical_trials).to_contain_text("Rare disease")
    shot(page, "vendor-profile-edited")
    assert page.console_errors == []

    signed_in(page, "alice@acme.test")
    page.goto("/vendors/")
    search(page, "rare disease")
    assert "Northwind Clinical" in card_names(page)
    assert page.console_errors == []


def test_bad_offering_and_certificate_input_is_refused_with_a_reason(page, demo):
    signed_in(page, "carol@northwind.test")
    page.goto("/vendors/northwind-clinical/")
    clinical_trials = page.locator("[data-testid=offering]", has=page.get_by_role("heading", name="Clinical Trials"))
    price_before = clinical_trials.locator(".small.text-muted").inner_text()
    assert "Indicative price:" in price_before

    clinical_trials.get_by_role("link", name="Edit").click()
    page.wait_for_url("**/vendors/offerings/*/edit/")
    page.fill("#id_price_min", "900000")
    page.fill("#id_price_max", "1000")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#id_price_max_error")).to_have_text(
        "The price range is reversed: “from” must not exceed “to”."
    )
    summary_link = page.get_by_test_id("error-summary").get_by_role("link", name="Indicative price to")
    summary_link.click()  # the summary leads to the field
    expect(page.locator("#id_price_max")).to_be_focused()
    page.goto("/vendors/northwind-clinical/")
    expect(clinical_trials.locator(".small.text-muted")).to_have_text(price_before)

    certificates_before = Certification.objects.filter(vendor__slug="northwind-clinical").count()
    page.get_by_role("link", name="Add certificate").click()
    page.wait_for_url("**/vendors/certificates/new/")
    page.select_option("#id_type", "gcp")
    page.select_option("#id_authority", "mhra")
    page.fill("#id_issued_on", "2024-03-01")
    page.fill("#id_expires_on", "2027-03-01")
    page.set_input_files(
        "#id_document",
        files=[{"name": "certificate.pdf", "mimeType": "application/pdf", "buffer": b"Just text, no PDF inside.\n"}],
    )
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#id_document_error")).to_contain_text("The file is not a PDF")
    expect(page.get_by_test_id("error-summary").get_by_role("link", name="Document")).to_have_attribute(
        "href", "#id_document"
    )
    assert Certification.objects.filter(vendor__slug="northwind-clinical").count() == certificates_before
    shot(page, "certificate-error")
    assert page.console_errors == []


def test_a_vendor_viewer_cannot_edit_the_profile(page, demo):
    signed_in(page, "nick@northwind.test")
    page.goto("/vendors/northwind-clinical/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Northwind Clinical")
    expect(page.get_by_role("link", name="Edit profile")).to_have_count(0)
    expect(page.get_by_role("link", name="Add offering")).to_have_count(0)
    assert page.console_errors == []

    response = page.goto("/vendors/northwind-clinical/edit/")
    assert response.status == 403
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    shot(page, "vendor-edit-forbidden")
    # The only console entry allowed is Chromium's note of the 403 document itself.
    assert [e for e in page.console_errors if "status of 403" not in e] == []


def open_filters(page):
    """On a phone the facets sit in a panel behind the "Filters" button; on a desktop they are always shown."""
    button = page.get_by_test_id("filters-button")
    if button.is_visible():
        button.click()
        expect(page.locator("#directory-filters.show:not(.showing)")).to_be_visible()  # slid in


def tick(page, selector):
    """Tick a facet and wait until htmx has swapped in the narrowed results (and the facets)."""
    page.check(selector)
    htmx_settled(page)
    expect(page.locator(selector)).to_be_checked()


def test_alice_finds_eu_gmp_sterile_fill_finish_cmos_with_an_eu_site_in_one_search(page, demo):
    signed_in(page, "alice@acme.test")
    page.goto("/vendors/")
    watch_htmx(page)
    # Kind comes first; the capability list is complete and narrows as she types into its own box.
    expect(page.locator("fieldset.facet-group legend").first).to_have_text("Vendor kind")
    tick(page, "#f-kind-cmo")
    capability_box = page.get_by_label("Find a capability")
    capability_box.fill("sterile")
    capabilities = page.locator("fieldset[data-facet=capability] [data-facet-option]")
    expect(capabilities.filter(visible=True)).to_have_count(1)
    expect(capabilities.filter(visible=True)).to_contain_text("Sterile fill-finish")
    tick(page, "#f-capability-sterile-fill-finish")
    expect(page.get_by_label("Find a capability")).to_have_value("sterile")  # kept across the swap
    tick(page, "#f-certification-gmp")
    tick(page, "#f-authority-ema-eu")
    tick(page, "#f-region-eu-eea")
    for param in (
        "kind=cmo",
        "capability=sterile-fill-finish",
        "certification=gmp",
        "authority=ema-eu",
        "region=eu-eea",
    ):
        assert param in page.url
    names = card_names(page)
    assert {"Cedar BioPharma", "Helix Manufacturing", "Rheinland Sterile Solutions", "Lyon Aseptic"} <= set(names)
    assert "Mesa Parenterals" not in names  # GMP by FDA only, and no site in the EU
    cedar = page.locator("[data-testid=vendor-card]", has_text="Cedar BioPharma")
    expect(cedar.get_by_test_id("matching-sites")).to_contain_text("Limerick, Ireland")
    expect(cedar).to_contain_text("GMP · EU · to")
    expect(page.locator("#result-status")).to_contain_text("5 filters applied")
    shot(page, "directory-alice-eu-gmp")
    # The profile marks the site that answered the search.
    cedar.get_by_role("link", name="Cedar BioPharma").click()
    page.wait_for_url("**/vendors/cedar-biopharma/?region=eu-eea")
    expect(page.get_by_test_id("site-match")).to_have_count(1)
    expect(page.locator("li", has=page.get_by_test_id("site-match"))).to_contain_text("Limerick")
    assert page.console_errors == []


def test_on_a_phone_the_filters_open_from_a_button_above_the_results(new_page, demo):
    from tests.browser import MOBILE

    page = new_page(MOBILE)
    signed_in(page, "alice@acme.test")
    page.goto("/vendors/?q=lyophilization")
    watch_htmx(page)
    facets = page.locator("#facets")
    expect(facets).to_be_hidden()
    button = page.get_by_test_id("filters-button")
    results_top = page.locator("[data-testid=result-count]").bounding_box()["y"]
    assert button.bounding_box()["y"] < results_top < 900  # results start on the first screen
    assert {"Helix Manufacturing", "Lyon Aseptic"} <= set(card_names(page))  # the other spelling
    open_filters(page)
    shot(page, "directory-phone-filters")
    tick(page, "#f-region-eu-eea")
    page.get_by_role("button", name="Show results").click()
    expect(facets).to_be_hidden()
    expect(button).to_contain_text("1")
    assert "region=eu-eea" in page.url
    shot(page, "directory-phone-results")
    assert page.console_errors == []
