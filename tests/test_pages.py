"""Pages show values, not storage: detail pages, list columns, history; and the branded 404 and 500."""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.template import engines
from django.test import RequestFactory
from django.urls import include, path
from django.utils import timezone
from django.utils.dateformat import format as date_format

from cro_cmo import views
from cro_cmo.templatetags.display import money
from vendors.models import Certification, ServiceCategory, ServiceOffering, Site

pytestmark = pytest.mark.django_db
NBSP = "\u00a0"
# What storage looks like on a page: a time with microseconds and an offset, an ISO date.
RAW_TIMESTAMP = re.compile(r"\d{2}:\d{2}:\d{2}\.\d+|\+00:00")
RAW_DATE = re.compile(r"\b20\d\d-\d\d-\d\d\b")


def visible_text(html: str) -> str:
    """The page without attributes (a <time datetime="…"> keeps its ISO value for machines)."""
    return re.sub(r"<[^>]+>", " ", html)


def local(moment) -> str:
    return date_format(timezone.localtime(moment), "j M Y, H:i")


# --- the money filter --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        (Decimal("45000000.00"), "USD", f"USD{NBSP}45,000,000.00"),
        (Decimal("1234.5"), "EUR", f"EUR{NBSP}1,234.50"),
        (Decimal("0"), "GBP", f"GBP{NBSP}0.00"),
        ("12500.00", "", "12,500.00"),  # as the history stores it: a string, no currency
        (None, "USD", "—"),
        ("", "", "—"),
        ("not a number", "", "not a number"),
    ],
)
def test_money_is_grouped_with_two_places_and_its_currency(amount, currency, shown):
    assert money(amount, currency) == shown


def test_money_filter_in_a_template():
    template = engines["django"].from_string("{% load display %}{{ amount|money:currency }}")
    assert template.render({"amount": Decimal("9876543.21"), "currency": "CHF"}) == f"CHF{NBSP}9,876,543.21"


# --- detail pages ------------------------------------------------------------------------------


def test_programme_page_shows_money_labels_and_dates(personas, browser_client_for):
    program = personas.program_a
    program.budget_cap, program.budget_currency, program.phase = Decimal("45000000.00"), "USD", "phase-3"
    program.save()
    response = browser_client_for(personas.sponsor_a_admin).get(program.get_absolute_url())
    assert response.status_code == 200
    html = response.text
    assert f"USD{NBSP}45,000,000.00" in html
    assert "45000000" not in html  # neither the detail row nor the history shows the stored form
    assert "Phase III" in html and "phase-3" not in visible_text(html)
    assert ">Budget currency<" not in html  # shown with the amount, not as a row of its own
    assert local(program.updated) in html
    assert not RAW_TIMESTAMP.search(visible_text(html))
    assert "Sponsor A" in html


def test_programme_list_shows_the_budget_with_its_currency(personas, browser_client_for):
    program = personas.program_a
    program.budget_cap, program.budget_currency = Decimal("1500000"), "EUR"
    program.save()
    html = browser_client_for(personas.sponsor_a_admin).get("/programs/").text
    assert f"EUR{NBSP}1,500,000.00" in html
    assert "1500000" not in html


def test_site_page_links_its_vendor_and_names_the_country(personas, browser_client_for):
    site = Site.objects.create(vendor=personas.vendor_x, name="X lab", city="Leeds", country="GB")
    response = browser_client_for(personas.vendor_x_admin).get(site.get_absolute_url())
    assert response.status_code == 200
    html = response.text
    assert f'<a href="{personas.vendor_x.get_absolute_url()}">Vendor X</a>' in html
    assert "United Kingdom" in html
    assert local(site.created) in html
    assert not RAW_TIMESTAMP.search(visible_text(html))
    # The history names the vendor too, not its id ("Vendor: 2").
    assert not re.search(rf"Vendor:\s*(<[^>]+>\s*)*{personas.vendor_x.pk}\b", html)
    # Its editors get the edit and delete buttons of this site.
    assert f'href="/vendors/sites/{site.pk}/edit/"' in html
    assert f'href="/vendors/sites/{site.pk}/delete/"' in html


def test_site_page_for_a_sponsor_has_no_edit_buttons(personas, browser_client_for):
    site = Site.objects.create(vendor=personas.vendor_x, name="X lab", city="Leeds", country="GB")
    html = browser_client_for(personas.sponsor_a_admin).get(site.get_absolute_url()).text
    assert "X lab" in html
    assert "/edit/" not in html and "/delete/" not in html


def test_certificate_page_shows_dates_labels_and_links(personas, browser_client_for, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    site = Site.objects.create(vendor=personas.vendor_x, name="X lab", city="Leeds", country="GB")
    certification = Certification(
        vendor=personas.vendor_x, site=site, type="gmp", authority="mhra", number="UK-GMP-123",
        issued_on=date(2024, 3, 1), expires_on=date(2027, 3, 1),
    )  # fmt: skip
    certification.document.save("gmp.pdf", ContentFile(b"%PDF-1.4\n%%EOF\n"), save=False)
    certification.save()
    response = browser_client_for(personas.sponsor_a_admin).get(certification.get_absolute_url())
    assert response.status_code == 200
    html = response.text
    text = visible_text(html)
    assert "1 Mar 2024" in text and "1 Mar 2027" in text
    assert not RAW_DATE.search(text) and not RAW_TIMESTAMP.search(text)
    assert certification.get_type_display() in html and certification.get_authority_display() in html
    assert f'<a href="{site.get_absolute_url()}">{site}</a>' in html
    assert f'<a href="{personas.vendor_x.get_absolute_url()}">Vendor X</a>' in html
    # The document through the view that checks access; never its storage path or stored name.
    assert f'<a href="/vendors/certificates/{certification.pk}/document/">Download PDF</a>' in html
    assert certification.document.name not in html and "gmp.pdf" not in html


def test_offering_page_shows_the_price_range_capabilities_and_yes_no(personas, browser_client_for):
    category = ServiceCategory.objects.get(code="clinical-trials")
    capability = category.capabilities.first()
    site = Site.objects.create(vendor=personas.vendor_x, name="X lab", city="Leeds", country="GB")
    offering = ServiceOffering.objects.create(
        vendor=personas.vendor_x, category=category, price_min=Decimal("12500"), price_max=Decimal("250000.5"),
        currency="EUR", lead_time_weeks=6,
    )  # fmt: skip
    offering.capabilities.add(capability)
    offering.sites.add(site)
    html = browser_client_for(personas.sponsor_a_admin).get(offering.get_absolute_url()).text
    assert f"EUR{NBSP}12,500.00" in html and f"EUR{NBSP}250,000.50" in html
    assert "12500" not in html and "250000" not in html
    assert capability.name in html
    assert f'<a href="{site.get_absolute_url()}">{site}</a>' in html
    assert re.search(r"<dt>Active</dt><dd>Yes</dd>", html)


def test_empty_values_are_a_dash(personas, browser_client_for):
    site = Site.objects.create(vendor=personas.vendor_x, name="X lab", city="Leeds", country="GB", activities="")
    html = browser_client_for(personas.sponsor_a_admin).get(site.get_absolute_url()).text
    assert re.search(r"<dt>What is made or done there</dt><dd>—</dd>", html)


# --- error pages -------------------------------------------------------------------------------


def boom(request):
    raise RuntimeError("planted failure")


urlpatterns = [path("boom/", boom), path("", include("cro_cmo.urls"))]
handler404 = "cro_cmo.views.page_not_found"
handler500 = "cro_cmo.views.server_error"


def test_404_is_branded_with_a_way_back(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    html = response.text
    assert "Page not found" in html
    assert 'href="#main">Skip to main content' in html  # the site's layout
    assert 'href="/"' in html and 'href="/accounts/login/"' in html


def test_404_for_a_signed_in_user_offers_the_dashboard_and_the_directory(personas, browser_client_for):
    html = browser_client_for(personas.sponsor_a_admin).get("/programs/999999/").text
    assert "Page not found" in html
    assert 'href="/dashboard/">Go to your dashboard' in html and 'href="/vendors/">Search' in html


def test_api_404_stays_json(client):
    response = client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


@pytest.mark.urls("tests.test_pages")
def test_500_is_branded_and_makes_no_database_query(client, django_assert_num_queries):
    client.raise_request_exception = False
    with django_assert_num_queries(0):
        response = client.get("/boom/")
    assert response.status_code == 500
    html = response.text
    assert "Something went wrong on our side" in html
    assert 'href="#main">Skip to main content' in html and 'href="/vendors/"' in html
    assert "planted failure" not in html and "Traceback" not in html


@pytest.mark.urls("tests.test_pages")
def test_500_for_a_signed_in_user_shows_the_signed_out_shell(personas, browser_client_for):
    client = browser_client_for(personas.sponsor_a_admin)
    client.raise_request_exception = False
    response = client.get("/boom/")
    assert response.status_code == 500
    assert "Something went wrong" in response.text
    assert personas.sponsor_a_admin.email not in response.text  # no user, no request context


def test_500_handler_renders_without_request_context(django_assert_num_queries):
    request = RequestFactory().get("/anything/")  # no session, no user: as bare as a failed request gets
    with django_assert_num_queries(0):
        response = views.server_error(request)
    assert response.status_code == 500
    assert b"Something went wrong on our side" in response.content


@pytest.mark.urls("tests.test_pages")
def test_the_debug_page_only_with_debug(client, settings):
    client.raise_request_exception = False
    settings.DEBUG = True
    assert "planted failure" in client.get("/boom/").text  # Django's technical page
    settings.DEBUG = False
    assert "planted failure" not in client.get("/boom/").text
