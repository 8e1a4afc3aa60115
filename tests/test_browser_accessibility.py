"""Accessibility: every page of the browser tests at desktop and phone width, and the harness itself.

The ``page`` fixture (tests/browser.py) runs axe-core after every load and htmx swap of every browser
test. This walk adds the phone width (375×812, where tables scroll and the menu collapses) and the
pages no other browser test opens (detail pages, programmes, members, tokens, errors).
"""

import pytest
from django.core.management import call_command
from django.test import RequestFactory
from playwright.sync_api import expect

from contracts.models import RFP, Contract
from cro_cmo import views
from sponsors.models import Program
from tests.browser import DESKTOP, MOBILE, screenshot, sign_in
from tests.test_browser_award import closed_rfp
from vendors.models import Certification, ServiceOffering, Site

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PASSWORD = "demo-password"
PLANTED = """<!doctype html><html lang="en"><head><title>Planted</title></head><body><main>
<h1>Planted violations</h1>
<img src="/static/img/favicon.svg">
<p style="color:#aaa;background:#fff">Pale grey text on white.</p>
<a href="#nowhere">A same-page link to nothing</a>
<div class="too-wide" style="width:2000px">Wider than any screen (+ 8px of body margin).</div>
</main></body></html>"""


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", vendors=10, verbosity=0)


def as_user(page, email):
    page.context.clear_cookies()
    sign_in(page, email, PASSWORD)
    page.wait_for_url("**/dashboard/")


def visit(page, url, shot=None, status=200):
    """Open ``url`` (audited on load by the fixture); ``shot`` names a screenshot per viewport width."""
    response = page.goto(url)
    assert response.status == status, f"{url} answered {response.status}, not {status}"
    if shot:
        screenshot(page, f"{shot}-{page.viewport_size['width']}")
    return response


def walk_shared(page):
    """The pages and states the other browser tests open (at desktop width, audited there already)."""
    visit(page, "/", "landing")
    sign_in(page, "alice@acme.test", "not-her-password")  # the sign-in form with its error
    expect(page.get_by_text("do not match an account")).to_be_visible()

    as_user(page, "alice@acme.test")
    visit(page, "/dashboard/", "dashboard-alice")
    visit(page, "/vendors/", "directory")
    page.fill("#q", "sterile fill-finish")
    page.get_by_role("button", name="Go").click()
    expect(page.locator("#result-status")).to_contain_text("for “sterile fill-finish”")  # announced
    open_filters(page)
    page.check("#f-country-DE")
    expect(page.locator("#result-status")).to_have_text("2 vendors for “sterile fill-finish”, 1 filter applied")
    page.wait_for_function("() => !document.querySelector('.htmx-request')")
    screenshot(page, f"directory-search-{page.viewport_size['width']}")
    close_filters(page)
    visit(page, "/vendors/?q=xyzzy+nonexistent")
    visit(page, "/vendors/?category=not-a-category")
    visit(page, "/vendors/helix-manufacturing/", "vendor-profile")
    visit(page, "/vendors/compare/?v=helix-manufacturing&v=rheinland-sterile", "compare")

    # A vendor admin: her profile with its edit links and history, and forms with their errors.
    as_user(page, "carol@northwind.test")
    visit(page, "/vendors/northwind-clinical/")
    visit(page, "/vendors/northwind-clinical/edit/")
    visit(page, "/vendors/offerings/new/")
    page.select_option("#id_category", label="Clinical Trials")
    page.get_by_role("button", name="Save").click()  # one per category: a form-wide error
    expect(page.get_by_test_id("error-summary")).to_contain_text("already has an offering in this category")
    offering = ServiceOffering.objects.get(vendor__slug="northwind-clinical", category__code="clinical-trials")
    visit(page, f"/vendors/offerings/{offering.pk}/edit/")
    page.fill("#id_price_min", "900000")
    page.fill("#id_price_max", "1000")
    page.get_by_role("button", name="Save").click()  # a field error, linked from the summary
    expect(page.locator("#id_price_max_error")).to_be_visible()
    screenshot(page, f"form-errors-{page.viewport_size['width']}")
    visit(page, "/vendors/certificates/new/")
    # Self-service: the dashboard's "what is missing", the catalogue preview with old → new, "Verified" explained.
    visit(page, "/dashboard/", "dashboard-vendor")
    visit(page, "/vendors/catalogue/", "catalogue-import")
    csv = b"category,lead_time_weeks,description\nclinical-trials,99,Changed\nquality-control,2,\n"
    page.set_input_files("#id_file", files=[{"name": "c.csv", "mimeType": "text/csv", "buffer": csv}])
    page.get_by_role("button", name="Check file").click()
    expect(page.get_by_test_id("catalogue-counts")).to_be_visible()
    screenshot(page, f"catalogue-preview-{page.viewport_size['width']}")
    visit(page, "/vendors/about/verified/", "verified")

    as_user(page, "nick@northwind.test")  # a vendor viewer meets the 403 page
    visit(page, "/vendors/northwind-clinical/edit/", status=403)


def open_filters(page):
    """Phones: the directory's facets open in a panel from the "Filters" button (audited open)."""
    button = page.get_by_test_id("filters-button")
    if button.is_visible():
        button.click()
        expect(page.locator("#directory-filters.show:not(.showing)")).to_be_visible()  # slid in
        page.a11y.check()


def close_filters(page):
    if page.get_by_test_id("filters-button").is_visible():
        page.get_by_role("button", name="Show results").click()
        expect(page.locator("#directory-filters")).to_be_hidden()


def walk_directory(page):
    """The directory's second-pass pages at this width: the sourcing manager's search (capability, EU GMP,
    a site in the EU), the facets' panel on a phone, the profile marking the matching site, a past date."""
    search = "/vendors/?kind=cmo&capability=sterile-fill-finish&certification=gmp&authority=ema-eu&region=eu-eea"
    visit(page, search, "directory-eu-gmp")
    open_filters(page)
    screenshot(page, f"directory-eu-gmp-filters-{page.viewport_size['width']}")
    close_filters(page)
    visit(page, "/vendors/cedar-biopharma/?region=eu-eea", "vendor-profile-site-match")
    visit(page, "/vendors/?certification=gmp&authority=fda&valid_on=2020-01-01&site_country=US")
    visit(page, "/vendors/?q=lyophilization&region=asia-pacific")


def walk_more(page):
    """Pages no other browser test opens: detail pages, programmes, members, tokens, errors."""
    helix_site = Site.objects.filter(vendor__slug="helix-manufacturing").first()
    helix_certificate = Certification.objects.filter(vendor__slug="helix-manufacturing").exclude(site=None).first()
    helix_offering = ServiceOffering.objects.filter(vendor__slug="helix-manufacturing").first()
    programme = Program.objects.get(code="ACM-101")

    page.context.clear_cookies()
    visit(page, "/accounts/signup/")
    visit(page, "/accounts/password_reset/")
    visit(page, "/no-such-page/", "404", status=404)
    # The 500 page as the handler renders it, served at a URL of the live server so its CSS loads.
    body = views.server_error(RequestFactory().get("/")).content
    page.route("**/__server-error__", lambda route: route.fulfill(status=500, body=body, content_type="text/html"))
    visit(page, "/__server-error__", "500", status=500)
    expect(page.get_by_role("heading", name="Something went wrong on our side")).to_be_visible()

    as_user(page, "alice@acme.test")
    walk_directory(page)
    visit(page, "/vendors/compare/")
    # The compare selection: "Compare with…" on two profiles — the directory with its tray, then the compare page
    # of the selection (remove buttons, differences, the qualification rows), audited on each load.
    for slug in ("helix-manufacturing", "rheinland-sterile"):
        visit(page, f"/vendors/{slug}/")
        page.get_by_role("button", name="Compare with…").click()
    page.wait_for_url("**/vendors/compare/")
    expect(page.get_by_test_id("vendor-column")).to_have_count(2)
    screenshot(page, f"compare-selection-{page.viewport_size['width']}")
    page.get_by_role("link", name="Show only the rows that differ").click()
    expect(page.get_by_test_id("differs").first).to_be_visible()
    visit(page, helix_site.get_absolute_url(), "site-detail")
    visit(page, helix_certificate.get_absolute_url(), "certificate-detail")
    visit(page, helix_offering.get_absolute_url(), "offering-detail")
    visit(page, "/programs/", "programme-list")
    visit(page, programme.get_absolute_url(), "programme-detail")
    visit(page, f"/programs/{programme.pk}/edit/")
    visit(page, "/notifications/")
    visit(page, "/notifications/preferences/", "notification-preferences")
    page.fill("#id_time_zone", "Mars/Olympus")  # the form with its error, audited after the reload
    page.get_by_role("button", name="Save preferences").click()
    expect(page.get_by_test_id("error-summary")).to_contain_text("Not a time zone name")
    visit(page, "/accounts/members/", "members")
    visit(page, "/accounts/tokens/")
    visit(page, "/accounts/password_change/")
    # The comparison of each of Acme's RFPs that has one to show: sealed and open (a note), closed (score
    # sheets), awarded (scores fixed).
    for rfp in RFP.objects.filter(sponsor__slug="acme-pharma", state__in=["published", "closed", "awarded"]):
        visit(page, f"/rfps/{rfp.pk}/compare/", f"rfp-compare-{rfp.state}")
    # The award's confirmation with the override box (Orbital is in qualification), and the closed RFP's rows.
    closed = closed_rfp()
    visit(page, closed.get_absolute_url(), "rfp-closed-actions")
    visit(page, f"/rfps/proposals/{closed.proposals.get(vendor__slug='orbital-cdmo').pk}/award/", "award-confirm")
    # Contracts: the list, and the page of the contract the award made (both parties open it below).
    visit(page, "/contracts/", "contract-list")
    contract = Contract.objects.filter(sponsor__slug="acme-pharma", vendor__slug="northwind-clinical").first()
    visit(page, contract.get_absolute_url(), "contract-detail")
    walk_alerts(page)

    as_user(page, "carol@northwind.test")
    visit(page, "/dashboard/")
    visit(page, "/vendors/sites/new/")
    site = Site.objects.filter(vendor__slug="northwind-clinical").first()
    visit(page, f"/vendors/sites/{site.pk}/delete/")
    visit(page, "/vendors/catalogue/")
    visit(page, "/contracts/", "contract-list-vendor")
    visit(page, contract.get_absolute_url(), "contract-detail-vendor")


def walk_alerts(page):
    """Alice's alerts (``seed_demo`` runs the checks): the list, filtered, one alert's page with the form, its
    refusal and the acknowledgement; the sponsor's settings with the check thresholds and an error; then a
    vendor's alerts (certificates)."""
    from alerts.models import Alert
    from sponsors.models import Sponsor

    visit(page, "/alerts/", "alert-list")
    visit(page, "/alerts/?status=all&severity=critical&severity=warning")
    alert = Alert.objects.filter(sponsor__slug="acme-pharma", audience="sponsor", acknowledged_at=None).first()
    visit(page, alert.get_absolute_url(), "alert-detail")
    page.get_by_role("button", name="Acknowledge").click()  # no comment: refused, said on the page
    expect(page.get_by_role("alert").filter(has_text="not acknowledged")).to_be_visible()
    page.fill("#id_comment", "Chasing the vendor for a new date.")
    page.get_by_role("button", name="Acknowledge").click()
    expect(page.get_by_test_id("acknowledged")).to_contain_text("Acknowledged by")
    acme = Sponsor.objects.get(slug="acme-pharma")
    visit(page, f"/sponsors/{acme.pk}/edit/", "sponsor-settings")
    page.fill("#id_budget_warning_percent", "120")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("error-summary")).to_contain_text("Budget warning at")
    as_user(page, "erin@orbital.test")
    visit(page, "/alerts/", "alert-list-vendor")


def test_every_page_at_desktop_and_phone_width(new_page, demo):
    """Phone width: every page. Desktop: the pages the other browser tests (audited too) do not open."""
    phone = new_page(MOBILE)
    walk_shared(phone)
    walk_more(phone)
    desktop = new_page(DESKTOP)
    walk_more(desktop)
    assert len(set(phone.a11y.checked_urls)) >= 30, phone.a11y.checked_urls
    assert len(set(desktop.a11y.checked_urls)) >= 18, desktop.a11y.checked_urls
    # Findings (if any) fail this test at teardown, listed by rule, impact, element, URL and width.


def test_the_skip_link_is_the_first_stop_and_moves_to_the_content(page):
    page.goto("/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()  # shown once focused
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()


def test_compare_checkboxes_are_named_after_their_vendor(page, demo):
    as_user(page, "alice@acme.test")
    page.goto("/vendors/")
    page.get_by_role("checkbox", name="Compare Helix Manufacturing").check()
    expect(page.locator("#cmp-helix-manufacturing")).to_be_checked()
    facets = page.get_by_role("group", name="Country")  # a fieldset with its legend
    expect(facets.get_by_role("checkbox")).not_to_have_count(0)


def test_the_harness_reports_a_planted_violation(page, live_server):
    page.route("**/planted/", lambda route: route.fulfill(body=PLANTED, content_type="text/html"))
    page.goto("/planted/")
    page.a11y.ensure_checked()  # the check runs beside the test; wait for its verdict
    found = {finding.rule: finding for finding in page.a11y.findings.values()}
    assert {"image-alt", "color-contrast", "dangling-fragment-link", "horizontal-overflow"} <= found.keys()
    assert found["image-alt"].impact == "critical"
    assert found["image-alt"].targets == ("img",)
    assert found["image-alt"].url == f"{live_server.url}/planted/"
    assert "contrast of 2.32" in found["color-contrast"].detail
    assert found["dangling-fragment-link"].targets == ('a[href="#nowhere"]',)
    assert "div.too-wide reaches 2008px of 1360px" in found["horizontal-overflow"].detail

    # The fixture's teardown check is what fails the test, naming rule, impact, element, URL and width.
    with pytest.raises(pytest.fail.Exception) as failure:
        page.a11y.assert_clean()
    message = str(failure.value)
    assert f"image-alt (critical) at {live_server.url}/planted/ [1360px]: img" in message
    assert "color-contrast (serious)" in message

    page.goto("/")  # leave the planted page, and forget it, so this test's own teardown passes
    page.a11y.findings.clear()
