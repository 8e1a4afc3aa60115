"""Vendor self-service in a real browser: the offering form's capabilities follow the chosen category,
Cancel goes back where the vendor came from, the dashboard's "what is missing" card leads to the fix."""

import shutil
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tests.browser import screenshot, sign_in
from vendors.models import ServiceCategory, ServiceOffering, Vendor

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PASSWORD = "demo-password"
SHOTS = Path("/tmp/shots_self")


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", vendors=10, verbosity=0)


def shot(page, name):
    path = screenshot(page, name)
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, SHOTS / path.name)


def visible_groups(page) -> list[str]:
    return page.locator("[data-capability-group]:visible").evaluate_all("els => els.map(e => e.dataset.categoryName)")


def test_offering_form_lists_only_the_chosen_categorys_capabilities(page, demo):
    vendor = Vendor.objects.get(slug="northwind-clinical")
    taken = set(ServiceOffering.objects.filter(vendor=vendor).values_list("category_id", flat=True))
    free = [c for c in ServiceCategory.objects.filter(side__in=vendor.sides).order_by("position") if c.pk not in taken]
    assert len(free) >= 1, "the demo vendor offers every category of its side"
    first, second = free[0], ServiceCategory.objects.filter(side__in=vendor.sides).exclude(pk=free[0].pk).first()
    page.context.clear_cookies()
    sign_in(page, "carol@northwind.test", PASSWORD)
    page.wait_for_url("**/dashboard/")
    page.goto(vendor.get_absolute_url())
    page.get_by_role("link", name="Add offering").click()
    page.wait_for_url("**/offerings/new/")

    # No category yet: no capability shown, and the note says why.
    assert visible_groups(page) == []
    expect(page.locator("[data-capability-note]")).to_have_text("Choose a category above to see its capabilities.")

    page.select_option("#id_category", str(first.pk))
    assert visible_groups(page) == [first.name]
    expect(page.locator("[data-capability-note]")).to_contain_text(f"The capabilities of {first.name}")
    capability = first.capabilities.order_by("name").first()
    page.get_by_label(capability.name, exact=True).check()
    shot(page, "offering-form-category")

    # Another category: its own list; the first one's tick is hidden and disabled, so never sent.
    page.select_option("#id_category", str(second.pk))
    assert visible_groups(page) == [second.name]
    assert page.locator(f'input[name="capabilities"][value="{capability.pk}"]').is_disabled()
    page.select_option("#id_category", str(first.pk))
    expect(page.get_by_label(capability.name, exact=True)).to_be_checked()

    # Cancel goes back to the profile the form was opened from.
    page.get_by_test_id("cancel").click()
    page.wait_for_url(f"**{vendor.get_absolute_url()}")

    page.goto("/vendors/offerings/new/")
    page.select_option("#id_category", str(first.pk))
    page.get_by_label(capability.name, exact=True).check()
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(f"**{vendor.get_absolute_url()}")
    offering = ServiceOffering.objects.get(vendor=vendor, category=first)
    assert list(offering.capabilities.values_list("pk", flat=True)) == [capability.pk]
    assert page.console_errors == []


def test_dashboard_card_leads_to_what_is_missing_and_cancel_comes_back(page, demo):
    page.context.clear_cookies()
    sign_in(page, "carol@northwind.test", PASSWORD)
    page.wait_for_url("**/dashboard/")
    card = page.get_by_test_id("vendor-profile-card")
    expect(card.get_by_test_id("completeness-summary")).to_contain_text("offerings priced")
    shot(page, "vendor-dashboard-missing")
    fix = card.get_by_test_id("completeness-missing").get_by_role("link").first
    if fix.count():
        fix.click()
        page.get_by_test_id("cancel").click()
        page.wait_for_url("**/dashboard/")
    page.goto("/vendors/catalogue/")
    expect(page.get_by_role("link", name="Import catalogue")).to_have_attribute("aria-current", "page")
    expect(page.get_by_test_id("catalogue-export-xlsx")).to_be_visible()
    assert page.console_errors == []
