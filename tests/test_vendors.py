"""The vendor directory and catalogue: search, facets, access rules, self-service and bad input."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import HistoryEntry
from vendors import demo
from vendors.api import SiteViewSet
from vendors.models import Capability, Certification, ServiceCategory, ServiceOffering, Site, Vendor
from vendors.services import vendor_search_refresh

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def directory(personas):
    """The hand-made demo vendors plus 12 generated ones, on top of the personas."""
    demo.seed(generated=12)
    return personas


def category(code):
    return ServiceCategory.objects.get(code=code)


def capability(slug):
    return Capability.objects.get(slug=slug)


def names(response):
    return [v.name for v in response.context["page"].object_list]


# --- search and facets -------------------------------------------------------------------------


def test_sterile_fill_finish_in_germany_finds_the_right_cmos_first(directory, browser_client_for):
    client = browser_client_for(directory.sponsor_a_admin)
    response = client.get("/vendors/", {"q": "sterile fill-finish", "country": "DE"})
    assert response.status_code == 200
    found = names(response)
    assert set(found[:2]) == {"Rheinland Sterile Solutions", "Helix Manufacturing"}
    assert "Bavaria Oral Solids" not in found  # German, but no sterile work
    assert "Lyon Aseptic" not in found  # sterile, but French


def test_search_ranks_name_and_capability_hits_above_description_hits(directory, browser_client_for):
    found = names(browser_client_for(directory.sponsor_a_admin).get("/vendors/", {"q": "sterile fill-finish"}))
    assert found[0] in {"Rheinland Sterile Solutions", "Helix Manufacturing", "Lyon Aseptic"}
    assert "Bavaria Oral Solids" not in found


def test_facet_counts_follow_the_other_filters(directory, browser_client_for):
    response = browser_client_for(directory.sponsor_a_admin).get(
        "/vendors/", {"q": "sterile fill-finish", "country": "DE"}
    )
    facets = response.context["result"].facets
    category_counts = {f.value: f.count for f in facets["category"]}
    assert category_counts["finished-dosage-forms"] == 2
    assert "clinical-trials" not in category_counts  # no vendor left there: the option is hidden
    # The country facet ignores the country filter itself, so other countries stay selectable.
    country_counts = {f.value: f.count for f in facets["country"]}
    assert country_counts["DE"] == 2 and country_counts["FR"] >= 1
    assert next(f for f in facets["country"] if f.value == "DE").selected


def test_filters_combine_or_within_and_across(directory, browser_client_for):
    client = browser_client_for(directory.sponsor_a_admin)
    one = set(names(client.get("/vendors/", {"category": "clinical-trials", "page_size": 100})))
    both = set(names(client.get("/vendors/", {"category": ["clinical-trials", "api-production"], "page_size": 100})))
    narrowed = set(names(client.get("/vendors/", {"category": "clinical-trials", "country": "GB", "page_size": 100})))
    assert one < both
    assert narrowed <= one and "Northwind Clinical" in narrowed


def test_certification_filter_counts_only_valid_certificates(directory, browser_client_for):
    helix = Vendor.objects.get(slug="helix-manufacturing")
    client = browser_client_for(directory.sponsor_a_admin)
    assert "Helix Manufacturing" in names(client.get("/vendors/", {"certification": "gmp", "page_size": 100}))
    # Helix's ISO 9001 expired 30 days ago: it must not count as certified.
    assert helix.certifications.get(type="iso-9001").status == "expired"
    assert "Helix Manufacturing" not in names(client.get("/vendors/", {"certification": "iso-9001", "page_size": 100}))


def test_unknown_category_code_is_a_clear_message_not_a_500(directory, browser_client_for, api_client_for):
    response = browser_client_for(directory.sponsor_a_admin).get("/vendors/", {"category": "not-a-category"})
    assert response.status_code == 200
    assert "Some filters are not valid" in response.text
    assert "not-a-category" in response.text
    api = api_client_for(directory.sponsor_a_admin).get("/api/v1/vendors/", {"category": "not-a-category"})
    assert api.status_code == 400
    assert "category" in api.json()


def test_empty_results_say_how_to_widen(directory, browser_client_for):
    response = browser_client_for(directory.sponsor_a_admin).get("/vendors/", {"q": "xyzzy", "country": "DE"})
    assert 'data-testid="no-results"' in response.text
    assert "Widen the search" in response.text


def test_htmx_request_gets_results_and_out_of_band_facets_only(directory, browser_client_for):
    response = browser_client_for(directory.sponsor_a_admin).get("/vendors/", {"q": "sterile"}, HTTP_HX_REQUEST="true")
    assert "<html" not in response.text
    assert 'id="facets" hx-swap-oob="innerHTML"' in response.text
    assert 'data-testid="vendor-card"' in response.text


def test_directory_query_count_does_not_grow_with_page_size(directory, browser_client_for):
    client = browser_client_for(directory.sponsor_a_admin)
    params = {"q": "services", "country": "DE", "category": "finished-dosage-forms"}
    counts = []
    for page_size in (2, 5, 50):
        client.get("/vendors/", {**params, "page_size": page_size})  # warm caches (content types, sessions)
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/vendors/", {"page_size": page_size})
        assert response.status_code == 200
        counts.append(len(queries))
    assert len(set(counts)) == 1, counts
    # A sponsor's page also counts "qualified by us" and reads the user's shortlists: one query each.
    assert counts[0] <= 17, counts


def test_api_search_ranks_and_filters_like_the_browser(directory, api_client_for):
    response = api_client_for(directory.sponsor_a_admin).get(
        "/api/v1/vendors/", {"q": "sterile fill-finish", "country": "DE"}
    )
    assert response.status_code == 200
    assert {row["name"] for row in response.json()["results"][:2]} == {
        "Rheinland Sterile Solutions",
        "Helix Manufacturing",
    }


def test_directory_needs_sign_in(client):
    response = client.get("/vendors/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/vendors/"


# --- profile and compare -------------------------------------------------------------------------


def test_profile_groups_offerings_and_shows_certificate_status(directory, browser_client_for):
    response = browser_client_for(directory.sponsor_a_admin).get("/vendors/orbital-cdmo/")
    assert response.status_code == 200
    text = response.text
    assert "CRO services" in text and "CMO services" in text  # a CDMO offers both
    assert "Cork" in text
    assert "Compare with" in text and "Edit profile" not in text


def test_compare_two_to_six_vendors(directory, browser_client_for):
    client = browser_client_for(directory.sponsor_a_admin)
    response = client.get("/vendors/compare/", {"v": ["helix-manufacturing", "rheinland-sterile", "lyon-aseptic"]})
    assert response.status_code == 200
    labels = [row.label for row in response.context["comparison"].rows]
    assert "Finished Dosage Forms: lead time" in labels and "GMP" in labels
    assert [v.slug for v in response.context["comparison"].vendors] == [
        "helix-manufacturing",
        "rheinland-sterile",
        "lyon-aseptic",
    ]
    assert "at least two" in client.get("/vendors/compare/", {"v": "helix-manufacturing"}).text
    seven = ["helix-manufacturing", "rheinland-sterile", "lyon-aseptic", "orbital-cdmo", "northwind-clinical",
             "bavaria-oral-solids", "cedar-biopharma"]  # fmt: skip
    many = client.get("/vendors/compare/", {"v": seven})
    assert "at most 6" in many.text and len(many.context["comparison"].vendors) == 6


# --- self-service -------------------------------------------------------------------------------


def offering_form(offering, **changes):
    data = {
        "category": offering.category_id,
        "capabilities": [c.pk for c in offering.capabilities.all()],
        "description": offering.description,
        "lead_time_weeks": offering.lead_time_weeks or "",
        "price_min": offering.price_min or "",
        "price_max": offering.price_max or "",
        "currency": offering.currency,
        "sites": [s.pk for s in offering.sites.all()],
        "is_active": "on" if offering.is_active else "",
    }
    data.update(changes)
    return data


def test_vendor_edits_an_offering_and_the_directory_shows_it_at_once(directory, browser_client_for):
    carol_client = browser_client_for(directory.vendor_x_admin)
    offering = ServiceOffering.objects.create(vendor=directory.vendor_x, category=category("clinical-trials"))
    rare = capability("rare-disease")
    response = carol_client.post(
        f"/vendors/offerings/{offering.pk}/edit/", offering_form(offering, capabilities=[rare.pk])
    )
    assert response.status_code == 302
    assert list(offering.capabilities.all()) == [rare]
    entry = HistoryEntry.objects.for_object(offering).first()
    assert entry.actor == directory.vendor_x_admin and entry.changes["capabilities"] == [[], [rare.pk]]
    sponsor_client = browser_client_for(directory.sponsor_a_admin)
    assert "Vendor X" in names(sponsor_client.get("/vendors/", {"capability": "rare-disease"}))
    assert "Vendor X" in names(sponsor_client.get("/vendors/", {"q": "rare disease"}))


def test_reversed_price_range_is_refused_in_browser_and_api(directory, browser_client_for, api_client_for):
    offering = ServiceOffering.objects.create(
        vendor=directory.vendor_x, category=category("clinical-trials"), price_min=100, price_max=200, currency="EUR"
    )
    response = browser_client_for(directory.vendor_x_admin).post(
        f"/vendors/offerings/{offering.pk}/edit/", offering_form(offering, price_min="900000", price_max="1000")
    )
    assert response.status_code == 200
    assert "The price range is reversed" in response.text
    api = api_client_for(directory.vendor_x_admin).patch(
        f"/api/v1/offerings/{offering.pk}/", {"price_min": "900000", "price_max": "1000"}, format="json"
    )
    assert api.status_code == 400 and "reversed" in str(api.json())
    offering.refresh_from_db()
    assert (offering.price_min, offering.price_max) == (Decimal("100.00"), Decimal("200.00"))


def test_offering_rules_across_relations(directory, api_client_for):
    client = api_client_for(directory.vendor_x_admin)
    other_site = Site.objects.create(vendor=directory.vendor_y, name="Y plant", city="Basel", country="CH")
    response = client.post(
        "/api/v1/offerings/",
        {"category": "clinical-trials", "capabilities": ["hpapi"], "sites": [other_site.pk]},
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert "capabilities" in body and "sites" in body
    cmo_category = client.post("/api/v1/offerings/", {"category": "api-production"}, format="json")
    assert cmo_category.status_code == 400 and "category" in cmo_category.json()
    assert not ServiceOffering.objects.filter(vendor=directory.vendor_x).exists()


def test_one_offering_per_vendor_and_category(directory, api_client_for):
    client = api_client_for(directory.vendor_x_admin)
    first = client.post("/api/v1/offerings/", {"category": "clinical-trials"}, format="json")
    assert first.status_code == 201
    assert ServiceOffering.objects.get(pk=first.json()["id"]).vendor == directory.vendor_x
    again = client.post("/api/v1/offerings/", {"category": "clinical-trials"}, format="json")
    assert again.status_code == 400
    [rule] = [c for c in ServiceOffering._meta.constraints if c.name == "offering_one_per_vendor_and_category"]
    assert again.json() == {"non_field_errors": [rule.violation_error_message]}
    assert ServiceOffering.objects.filter(vendor=directory.vendor_x, category__code="clinical-trials").count() == 1


def test_vendor_is_set_by_the_server(directory, api_client_for):
    response = api_client_for(directory.vendor_x_admin).post(
        "/api/v1/sites/",
        {"name": "Leeds lab", "city": "Leeds", "country": "GB", "vendor": directory.vendor_y.pk},
        format="json",
    )
    assert response.status_code == 201
    assert Site.objects.get(pk=response.json()["id"]).vendor == directory.vendor_x


def test_vendor_viewer_cannot_edit(directory, browser_client_for, api_client_for):
    client = browser_client_for(directory.vendor_x_viewer)
    assert client.get("/vendors/vendor-x/edit/").status_code == 403
    assert "Edit profile" not in client.get("/vendors/vendor-x/").text
    api = api_client_for(directory.vendor_x_viewer).patch(
        f"/api/v1/vendors/{directory.vendor_x.pk}/", {"name": "Hacked"}
    )
    assert api.status_code == 403


def test_vendor_y_cannot_edit_vendor_x(directory, browser_client_for, api_client_for):
    site = Site.objects.create(vendor=directory.vendor_x, name="X lab", city="Leeds", country="GB")
    client = api_client_for(directory.vendor_y_admin)
    assert client.patch(f"/api/v1/vendors/{directory.vendor_x.pk}/", {"name": "Hacked"}).status_code == 404
    assert client.patch(f"/api/v1/sites/{site.pk}/", {"city": "Hacked"}).status_code == 404
    assert client.delete(f"/api/v1/sites/{site.pk}/").status_code == 404
    browser = browser_client_for(directory.vendor_y_admin)
    assert browser.get("/vendors/vendor-x/edit/").status_code == 404
    assert browser.post(f"/vendors/sites/{site.pk}/delete/").status_code == 404
    assert Vendor.objects.get(pk=directory.vendor_x.pk).name == "Vendor X" and Site.objects.filter(pk=site.pk).exists()


def test_sponsor_cannot_create_vendor_records(directory, api_client_for):
    response = api_client_for(directory.sponsor_a_admin).post(
        "/api/v1/sites/", {"name": "S", "city": "C", "country": "GB"}, format="json"
    )
    assert response.status_code == 403
    assert response.json() == {"detail": SiteViewSet.owner_required_message.format(kind="vendor")}
    assert not Site.objects.filter(name="S").exists()


def certificate_post(**overrides):
    data = {
        "type": "gmp",
        "authority": "mhra",
        "number": "UK-GMP-1",
        "issued_on": "2025-01-01",
        "expires_on": "2028-01-01",
    }
    data.update(overrides)
    return data


def test_certificate_upload_accepts_a_pdf(directory, browser_client_for, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client = browser_client_for(directory.vendor_x_admin)
    response = client.post(
        "/vendors/certificates/new/", {**certificate_post(), "document": SimpleUploadedFile("gmp.pdf", PDF)}
    )
    assert response.status_code == 302
    certification = Certification.objects.get(vendor=directory.vendor_x)
    assert (certification.type, certification.number, certification.expires_on) == ("gmp", "UK-GMP-1", date(2028, 1, 1))
    download = browser_client_for(directory.sponsor_a_admin).get(f"/vendors/certificates/{certification.pk}/document/")
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    assert b"".join(download.streaming_content) == PDF  # the very file uploaded


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("gmp.pdf", b"just text, not a pdf"), "The file is not a PDF"),
        (SimpleUploadedFile("gmp.docx", PDF), "File extension"),
        (SimpleUploadedFile("huge.pdf", PDF + b"0" * (50 * 1024 * 1024)), "at most 10 MB"),
    ],
)
def test_certificate_upload_refuses_non_pdf_and_oversized_files(
    directory, browser_client_for, settings, tmp_path, upload, message
):
    settings.MEDIA_ROOT = tmp_path
    response = browser_client_for(directory.vendor_x_admin).post(
        "/vendors/certificates/new/", {**certificate_post(), "document": upload}
    )
    assert response.status_code == 200
    assert message in response.text
    assert not Certification.objects.filter(vendor=directory.vendor_x).exists()
    assert not any(tmp_path.rglob("*.pdf"))


def test_certificate_must_expire_after_issue(directory, api_client_for):
    response = api_client_for(directory.vendor_x_admin).post(
        "/api/v1/certifications/", certificate_post(issued_on="2026-01-01", expires_on="2025-01-01"), format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"expires_on": ["A certificate must expire after it was issued."]}
    assert not Certification.objects.filter(vendor=directory.vendor_x).exists()


def test_certificate_status_is_computed_from_expiry(directory):
    today = timezone.localdate()

    def make(days):
        expires = today + timedelta(days=days)
        return Certification(
            vendor=directory.vendor_x, type="gmp", authority="mhra", issued_on=date(2020, 1, 1), expires_on=expires
        )

    assert make(200).status == "valid"
    assert make(90).status == "expiring"
    assert make(0).status == "expiring"
    assert make(-1).status == "expired"


def test_staff_verification_shows_a_badge(directory, client):
    client.force_login(directory.staff, backend="django.contrib.auth.backends.ModelBackend")
    response = client.post(
        "/admin/vendors/vendor/", {"action": "verify", "_selected_action": [directory.vendor_x.pk]}, follow=True
    )
    assert response.status_code == 200
    vendor = Vendor.objects.get(pk=directory.vendor_x.pk)
    assert vendor.is_verified
    assert HistoryEntry.objects.for_object(vendor).first().actor == directory.staff
    client.force_login(directory.sponsor_a_admin, backend="django.contrib.auth.backends.ModelBackend")
    assert "✓ Verified" in client.get("/vendors/vendor-x/").text


def test_search_refresh_is_set_based(directory):
    ids = list(Vendor.objects.values_list("pk", flat=True))
    with CaptureQueriesContext(connection) as queries:
        vendor_search_refresh(ids)
    assert len(queries) <= 8, [q["sql"][:80] for q in queries.captured_queries]


def test_reference_data_is_read_only_in_the_api(directory, api_client_for):
    client = api_client_for(directory.vendor_x_admin)
    categories = client.get("/api/v1/service-categories/").json()["results"]
    assert [c["code"] for c in categories] == [
        "clinical-trials", "data-management", "regulatory-affairs", "project-management",
        "api-production", "finished-dosage-forms", "packaging", "quality-control",
    ]  # fmt: skip
    assert client.post("/api/v1/service-categories/", {"code": "x", "name": "X"}).status_code == 405
    assert client.get("/api/v1/capabilities/", {"category": "packaging"}).json()["count"] >= 5


def test_seed_demo_has_a_living_directory(directory):
    assert Vendor.objects.filter(kind="cro").exists() and Vendor.objects.filter(kind="cdmo").exists()
    assert Vendor.objects.values("hq_country").distinct().count() >= 10
    today = timezone.localdate()
    assert Certification.objects.filter(expires_on__lt=today).exists()
    assert Certification.objects.filter(expires_on__gte=today, expires_on__lte=today + timedelta(days=90)).exists()
    assert ServiceCategory.objects.exclude(offerings__isnull=False).count() == 0  # every category offered


def test_offering_and_capability_filters_take_codes_and_slugs(directory, api_client_for):
    client = api_client_for(directory.sponsor_a_admin)
    params = {"category": "finished-dosage-forms", "capability": "sterile-fill-finish", "page_size": 500}
    rows = client.get("/api/v1/offerings/", params).json()["results"]
    assert rows and all(
        r["category"] == "finished-dosage-forms" and "sterile-fill-finish" in r["capabilities"] for r in rows
    )
    assert client.get("/api/v1/offerings/", {"category": "nope"}).status_code == 400
    assert client.get("/api/v1/capabilities/", {"category": "nope"}).status_code == 400


def test_deleting_a_site_is_recorded_on_the_offerings_it_delivered(directory, browser_client_for):
    site = Site.objects.create(vendor=directory.vendor_x, name="X lab", city="Leeds", country="GB")
    offering = ServiceOffering.objects.create(vendor=directory.vendor_x, category=category("clinical-trials"))
    offering.sites.add(site)
    response = browser_client_for(directory.vendor_x_admin).post(
        f"/vendors/sites/{site.pk}/delete/", {"reason": "Closed"}
    )
    assert response.status_code == 302
    entry = HistoryEntry.objects.for_object(offering).first()
    assert entry.changes == {"sites": [[site.pk], []]} and entry.reason == "Closed"
    assert HistoryEntry.objects.filter(object_id=str(site.pk), action="deleted", content_type__model="site").exists()


def test_history_panel_shows_labels_not_codes(directory, browser_client_for):
    client = browser_client_for(directory.vendor_x_admin)
    vendor = directory.vendor_x
    data = {
        "name": vendor.name,
        "kind": "cro",
        "hq_country": "DE",
        "description": "",
        "website": "",
        "founded_year": "",
        "headcount_band": "",
    }
    assert client.post("/vendors/vendor-x/edit/", data).status_code == 302
    page = client.get("/vendors/vendor-x/").text
    assert "Germany" in page and "United Kingdom" in page  # GB → DE, shown by name
    assert "Id:" not in page
