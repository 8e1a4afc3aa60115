"""The browser shell as a person sees it: landing, sign-in, dashboard, with screenshots."""

import pytest
from django.core.management import call_command

from tests.browser import screenshot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", verbosity=0)


def test_landing_page_has_the_search_box(page):
    page.goto("/")
    assert page.locator("input[name=q]").is_visible()
    screenshot(page, "landing")
    assert page.console_errors == []  # a CSP violation would show here


def test_alice_signs_in_and_sees_her_dashboard(page, demo):
    page.goto("/accounts/login/")
    screenshot(page, "login")
    sign_in(page, "alice@acme.test", "demo-password")
    page.wait_for_url("**/dashboard/")
    assert page.get_by_text("Good to see you, Alice").is_visible()
    assert page.get_by_text("ACM-101").is_visible()
    screenshot(page, "dashboard-alice")
    assert page.console_errors == []


def test_a_wrong_password_says_so(page, demo):
    sign_in(page, "alice@acme.test", "not-her-password")
    assert page.get_by_text("do not match an account").is_visible()


def test_every_demo_user_can_sign_in(page, demo):
    for email in [
        "alice@acme.test",
        "bob@borealis.test",
        "carol@northwind.test",
        "dave@helix.test",
        "erin@orbital.test",
    ]:
        sign_in(page, email, "demo-password")
        page.wait_for_url("**/dashboard/")
        page.context.clear_cookies()
