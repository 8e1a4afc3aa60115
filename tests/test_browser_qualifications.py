"""Qualifications and shortlists in a real browser: a sponsor qualifies a vendor from its profile, sees the
badge and the "qualified by us" facet on the directory, shortlists from the directory; a vendor sees none of it."""

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tests.browser import MOBILE, screenshot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PASSWORD = "demo-password"
# Words of the sponsor's private records: none may reach a vendor's page.
PRIVATE_WORDS = re.compile(r"qualif|shortlist|qualified by us", re.IGNORECASE)


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", vendors=10, verbosity=0)


def shot(page, name):
    """Screenshot, then drop the empty ``style=""`` the caret hiding leaves (CSP noise on the next htmx swap)."""
    screenshot(page, name)
    page.evaluate("() => document.querySelectorAll('[style=\"\"]').forEach((el) => el.removeAttribute('style'))")


def signed_in(page, email):
    page.context.clear_cookies()
    sign_in(page, email, PASSWORD)
    page.wait_for_url("**/dashboard/")


def card(page, name):
    return page.locator("[data-testid=vendor-card]", has=page.get_by_role("link", name=name, exact=True))


def test_a_sponsor_qualifies_and_shortlists_a_vendor(page, demo):
    signed_in(page, "alice@acme.test")

    # From the profile: not qualified yet, so "Record qualification".
    page.goto("/vendors/lyon-aseptic/")
    expect(page.get_by_test_id("qualification-badge")).to_have_text("Not qualified by us")
    page.get_by_role("link", name="Record qualification").click()
    expect(page.locator("#id_vendor")).to_have_value("lyon-aseptic")
    page.select_option("#id_status", "in_qualification")
    page.fill("#id_reason", "Questionnaire received.")
    page.get_by_role("button", name=re.compile("Save")).click()
    expect(page.locator(".alert-success, [role=status]").first).to_be_visible()
    expect(page.get_by_test_id("qualification-badge").first).to_contain_text("In qualification")

    # Approving it is a change: without a reason the form refuses, with one it is kept.
    page.get_by_role("link", name="Edit").click()
    page.select_option("#id_status", "approved")
    page.get_by_role("button", name=re.compile("Save")).click()
    expect(page.locator("#id_reason")).to_have_class(re.compile("is-invalid"))
    expect(page.get_by_text("Say why", exact=False).first).to_be_visible()
    shot(page, "qualification-reason-required")
    page.select_option("#id_status", "approved")
    page.fill("#id_reason", "On-site audit passed, no major findings.")
    page.get_by_role("button", name=re.compile("Save")).click()
    expect(page.get_by_test_id("qualification-badge").first).to_contain_text("Approved")
    expect(page.locator("body")).to_contain_text("On-site audit passed, no major findings.")  # the history panel
    shot(page, "qualification-detail")

    # The directory card carries the badge; the facet narrows to the vendors Acme approved.
    page.goto("/vendors/?q=sterile%20fill-finish")
    expect(card(page, "Lyon Aseptic").get_by_test_id("qualification-badge")).to_have_text("Qualification: Approved")
    expect(card(page, "Helix Manufacturing").get_by_test_id("qualification-badge")).to_have_text(
        "Qualification: Conditionally approved"
    )
    expect(card(page, "Rheinland Sterile Solutions").get_by_test_id("qualification-badge")).to_have_text(
        "Qualification: Disqualified"
    )
    page.locator("[data-facet=qualified] input[value=true]").check()
    page.wait_for_url(re.compile(r"qualified=true"))
    expect(page.get_by_test_id("result-count")).to_have_text("2")
    names = page.locator("[data-testid=vendor-card] [data-testid=vendor-name]").all_inner_texts()
    assert sorted(n.strip() for n in names) == ["Helix Manufacturing", "Lyon Aseptic"]
    shot(page, "directory-qualified-by-us")

    # A second shortlist, then Lyon Aseptic onto it from its directory card.
    page.goto("/shortlists/new/")
    page.fill("#id_name", "Lyophilisation backups")
    page.get_by_role("button", name=re.compile("Save")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Lyophilisation backups")
    page.goto("/vendors/?qualified=true")
    lyon = card(page, "Lyon Aseptic")
    lyon.get_by_label("Shortlist for Lyon Aseptic").select_option(label="Lyophilisation backups")
    lyon.get_by_role("button", name="Add to shortlist").click()
    expect(page.get_by_text("Added to “Lyophilisation backups”: Lyon Aseptic.")).to_be_visible()
    assert "qualified=true" in page.url  # back where the user was
    page.goto("/shortlists/")
    page.get_by_role("link", name="Lyophilisation backups").click()
    rows = page.get_by_test_id("shortlist-vendors").locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Lyon Aseptic")
    expect(rows.first.get_by_test_id("qualification-badge")).to_have_text("Qualification: Approved")
    shot(page, "shortlist-detail")
    assert page.console_errors == []


def test_the_directory_at_phone_width_keeps_badge_and_shortlist_in_reach(new_page, demo):
    page = new_page(MOBILE)
    signed_in(page, "alice@acme.test")
    page.goto("/vendors/?qualified=true")
    helix = card(page, "Helix Manufacturing")
    expect(helix.get_by_test_id("qualification-badge")).to_be_visible()
    expect(helix.get_by_role("button", name=re.compile("Add to"))).to_be_visible()
    shot(page, "directory-qualified-mobile")


def test_a_vendor_sees_no_qualification_or_shortlist_anywhere(page, demo):
    signed_in(page, "carol@northwind.test")
    seen = []
    for url in ["/vendors/", "/vendors/?q=sterile", "/vendors/northwind-clinical/", "/vendors/helix-manufacturing/"]:
        page.goto(url)
        seen.append(url)
        assert not PRIVATE_WORDS.search(page.locator("body").inner_text()), url
    expect(page.locator("[data-facet=qualified]")).to_have_count(0)
    expect(page.get_by_test_id("qualification-badge")).to_have_count(0)

    # Every page the nav and the user menu lead to.
    page.goto("/dashboard/")
    hrefs = page.eval_on_selector_all("nav a[href^='/']", "links => links.map((a) => a.getAttribute('href'))")
    targets = sorted({h for h in hrefs if not h.startswith(("/api/", "/admin/", "/accounts/logout"))})
    assert "/rfps/" in targets and "/vendors/northwind-clinical/" in targets
    for url in targets:
        response = page.goto(url)
        assert response.status == 200, url
        assert not PRIVATE_WORDS.search(page.locator("body").inner_text()), url
        seen.append(url)
    assert len(seen) >= 8, seen
    # Typed by hand, the sponsors' private pages are out of her reach (404, as for any such page).
    for url in ["/qualifications/", "/qualifications/new/", "/shortlists/", "/shortlists/new/"]:
        assert page.goto(url).status == 404, url
    assert [e for e in page.console_errors if "status of 404" not in e] == []
