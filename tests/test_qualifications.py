"""Sponsors' qualifications of vendors and shortlists: reasons in history, audit reports, the directory's
badge and facet, and the rule that a vendor never sees any sponsor's record of it."""

import re
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import HistoryEntry
from cro_cmo.api.urls import router
from sponsors.models import QUALIFICATION_REASON_REQUIRED, QualificationDocument, ShortlistEntry, VendorQualification
from sponsors.services import qualification_save
from tests.factories import VendorFactory
from tests.test_access_table import browser_routes, client_for

pytestmark = pytest.mark.django_db

PLAIN_PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
ACTIVE_PDF = b"%PDF-1.4\n1 0 obj << /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >> endobj\n%%EOF\n"
SECRETS = ["QZQ-NOTES-A", "QZQ-NOTES-B", "QZQA-MSA", "QZQB-MSA", "Audit report QZD", "Shortlist QZS"]


def browser(world, name):
    return client_for(world, name, None, browser=True)


# --- reason for every change ----------------------------------------------------------------------


def test_a_change_without_a_reason_is_refused_and_with_one_it_is_in_the_history(world):
    qualification = VendorQualification.objects.get(pk=world["qualification_a_x"].pk)
    qualification.status = "disqualified"
    with pytest.raises(ValidationError) as refused:
        qualification_save(actor=world["sponsor_a_admin"], qualification=qualification, reason="  ")
    assert refused.value.message_dict == {"reason": [QUALIFICATION_REASON_REQUIRED]}
    assert VendorQualification.objects.get(pk=qualification.pk).status == "approved"

    qualification_save(actor=world["sponsor_a_admin"], qualification=qualification, reason="Failed re-audit")
    entry = HistoryEntry.objects.for_object(qualification).first()
    assert entry.reason == "Failed re-audit"
    assert entry.changes["status"] == ["approved", "disqualified"]
    assert entry.actor == world["sponsor_a_admin"]


def test_a_save_that_changes_nothing_needs_no_reason_and_records_nothing(world):
    qualification = VendorQualification.objects.get(pk=world["qualification_a_x"].pk)
    before = HistoryEntry.objects.for_object(qualification).count()
    qualification_save(actor=world["sponsor_a_admin"], qualification=qualification, reason="", m2m={"sites": []})
    assert HistoryEntry.objects.for_object(qualification).count() == before


def test_a_change_of_sites_alone_needs_a_reason(world):
    qualification = VendorQualification.objects.get(pk=world["qualification_a_x"].pk)
    with pytest.raises(ValidationError):
        qualification_save(
            actor=world["sponsor_a_admin"], qualification=qualification, reason="", m2m={"sites": [world["site_x"]]}
        )


def test_api_patch_needs_a_reason_and_keeps_it(world, api_client_for):
    client = api_client_for(world["sponsor_a_admin"])
    url = f"/api/v1/qualifications/{world['qualification_a_x'].pk}/"
    refused = client.patch(url, {"status": "in_qualification"}, format="json")
    assert refused.status_code == 400
    assert refused.json() == {"reason": [QUALIFICATION_REASON_REQUIRED]}
    ok = client.patch(url, {"status": "in_qualification", "reason": "Change of site"}, format="json")
    assert ok.status_code == 200 and ok.json()["status"] == "in_qualification"
    history = client.get(f"{url}history/").json()["results"]
    assert history[0]["reason"] == "Change of site"


def test_api_create_sets_the_sponsor_from_the_caller_and_refuses_a_second_record(world, api_client_for):
    client = api_client_for(world["sponsor_a_admin"])
    created = client.post(
        "/api/v1/qualifications/",
        {"vendor": world["vendor_y"].pk, "status": "in_qualification", "sponsor": world["sponsor_b"].pk},
        format="json",
    )
    assert created.status_code == 201, created.json()
    assert created.json()["sponsor"] == world["sponsor_a"].pk
    again = client.post("/api/v1/qualifications/", {"vendor": world["vendor_y"].pk}, format="json")
    assert again.status_code == 400
    assert "already has a qualification record" in str(again.json())


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"last_audit_on": "2025-06-01", "next_audit_due": "2025-05-01", "reason": "x"}, "next_audit_due"),
        ({"notes": "n" * 5_001, "reason": "x"}, "notes"),
        ({"status": "unknown", "reason": "x"}, "status"),
        ({"vendor": 0, "reason": "x"}, "vendor"),
    ],
)
def test_api_bad_input_is_a_field_error(world, api_client_for, body, field):
    client = api_client_for(world["sponsor_a_admin"])
    response = client.patch(f"/api/v1/qualifications/{world['qualification_a_x'].pk}/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_sites_of_another_vendor_are_refused(world, api_client_for):
    client = api_client_for(world["sponsor_a_admin"])
    response = client.patch(
        f"/api/v1/qualifications/{world['qualification_a_x'].pk}/",
        {"sites": [world["site_y"].pk], "reason": "scope"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {"sites": ["Choose sites of the qualified vendor only."]}


def test_browser_edit_asks_for_the_reason(world):
    client = browser(world, "sponsor_a_admin")
    url = reverse("qualification-edit", kwargs={"pk": world["qualification_a_x"].pk})
    form = {"status": "disqualified", "risk": "high", "notes": "x"}
    response = client.post(url, form)
    assert response.status_code == 200
    assert QUALIFICATION_REASON_REQUIRED in response.content.decode()
    response = client.post(url, {**form, "reason": "Warning letter"})
    assert response.status_code == 302
    assert HistoryEntry.objects.for_object(world["qualification_a_x"]).first().reason == "Warning letter"


def test_recording_from_a_profile_preselects_the_vendor(world):
    client = browser(world, "sponsor_a_admin")
    page = client.get(reverse("vendor-detail", kwargs={"slug": "vendor-y"})).content.decode()
    assert f"{reverse('qualification-add')}?vendor=vendor-y" in page
    form = client.get(f"{reverse('qualification-add')}?vendor=vendor-y").content.decode()
    assert re.search(r'<option value="vendor-y" selected>', form)
    response = client.post(reverse("qualification-add"), {"vendor": "vendor-y", "status": "in_qualification"})
    assert response.status_code == 302
    assert VendorQualification.objects.get(vendor=world["vendor_y"]).sponsor == world["sponsor_a"]


# --- audit reports ---------------------------------------------------------------------------------


def test_an_audit_report_with_active_content_is_refused(world):
    client = browser(world, "sponsor_a_admin")
    url = reverse("qualification-document-add", kwargs={"pk": world["qualification_a_x"].pk})
    before = QualificationDocument.objects.count()
    response = client.post(url, {"title": "Bad", "file": SimpleUploadedFile("a.pdf", ACTIVE_PDF)}, follow=True)
    assert "active content" in response.content.decode()
    assert QualificationDocument.objects.count() == before
    response = client.post(url, {"title": "Audit 2025", "file": SimpleUploadedFile("a.pdf", PLAIN_PDF)}, follow=True)
    assert "Audit 2025" in response.content.decode()
    assert QualificationDocument.objects.filter(title="Audit 2025").exists()


def test_an_audit_report_downloads_only_to_the_sponsor_as_an_attachment(world):
    url = reverse("qualificationdocument-file", kwargs={"pk": world["qualification_doc_a"].pk})
    response = browser(world, "sponsor_a_viewer").get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert b"".join(response.streaming_content) == PLAIN_PDF
    for persona in ["vendor_x_admin", "sponsor_b_admin"]:
        assert browser(world, persona).get(url).status_code == 404


# --- directory, profile, compare -------------------------------------------------------------------


def _badge(html: str) -> list[str]:
    return re.findall(r'data-testid="qualification-badge"[^>]*>([^<]*)<', html)


def test_each_sponsor_sees_its_own_status_and_a_vendor_none(world):
    directory = reverse("vendor-list")
    assert "Qualification: Approved" in _badge(browser(world, "sponsor_a_admin").get(directory).content.decode())
    assert "Qualification: Disqualified" in _badge(browser(world, "sponsor_b_admin").get(directory).content.decode())
    for persona in ["vendor_x_admin", "vendor_y_admin"]:
        html = browser(world, persona).get(directory).content.decode()
        assert _badge(html) == [] and "Qualified by us" not in html
    profile = reverse("vendor-detail", kwargs={"slug": "vendor-x"})
    assert _badge(browser(world, "sponsor_a_admin").get(profile).content.decode()) == ["Qualification: Approved"]
    assert _badge(browser(world, "vendor_x_admin").get(profile).content.decode()) == []
    compare = reverse("vendor-compare") + "?v=vendor-x&v=vendor-y"
    assert "Qualification: Approved" in browser(world, "sponsor_a_admin").get(compare).content.decode()


def test_the_qualified_by_us_facet_counts_only_the_users_sponsor(world, api_client_for):
    html = browser(world, "sponsor_a_admin").get(reverse("vendor-list") + "?qualified=true").content.decode()
    cards = re.findall(r'<h2 class="h5 mb-1"><a data-testid="vendor-name" href="[^"]+">([^<]+)</a>', html)
    assert cards == ["Vendor X"]
    assert re.search(r"Qualified by us</span><span class=\"badge text-bg-light facet-count\">1<", html)
    # Sponsor B disqualified vendor X: "qualified by us" finds nobody for B, in the browser and the API.
    html_b = browser(world, "sponsor_b_admin").get(reverse("vendor-list") + "?qualified=true").content.decode()
    assert 'data-testid="vendor-card"' not in html_b
    api = api_client_for(world["sponsor_b_admin"]).get("/api/v1/vendors/?qualified=true").json()
    assert api["results"] == []
    api_a = api_client_for(world["sponsor_a_admin"]).get("/api/v1/vendors/?qualified=true").json()
    assert [row["slug"] for row in api_a["results"]] == ["vendor-x"]


def _directory_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("vendor-list") + "?page_size=100").status_code == 200
    return len(queries)


def test_the_directory_runs_the_same_number_of_queries_whatever_the_number_of_qualifications(world):
    client = browser(world, "sponsor_a_admin")
    _directory_queries(client)  # warm caches (content types, sessions)
    few = _directory_queries(client)
    for n in range(12):
        vendor = VendorFactory(name=f"Extra vendor {n}")
        VendorQualification.objects.create(sponsor=world["sponsor_a"], vendor=vendor, status="approved")
    _directory_queries(client)  # the facet index catches up with the new vendors (qualifications are not in it)
    assert _directory_queries(client) == few


# --- shortlists ------------------------------------------------------------------------------------


def test_adding_from_the_directory_and_removing(world):
    client = browser(world, "sponsor_a_admin")
    shortlist = world["shortlist_a"]
    response = client.post(
        reverse("shortlist-add-vendors"), {"shortlist": shortlist.pk, "v": ["vendor-y"], "next": "/vendors/?q=Y"}
    )
    assert response.status_code == 302 and response["Location"] == "/vendors/?q=Y"
    entry = ShortlistEntry.objects.get(shortlist=shortlist, vendor=world["vendor_y"])
    assert entry.added_by == world["sponsor_a_admin"]
    page = client.get(shortlist.get_absolute_url()).content.decode()
    assert "Vendor Y" in page and "Qualification: Approved" in page  # vendor X's status, on the shortlist page
    client.post(reverse("shortlist-remove-vendor", kwargs={"pk": shortlist.pk}), {"v": "vendor-y"})
    assert not ShortlistEntry.objects.filter(shortlist=shortlist, vendor=world["vendor_y"]).exists()


@pytest.mark.parametrize(
    ("persona", "status"), [("sponsor_b_admin", 404), ("vendor_x_admin", 404), ("sponsor_a_viewer", 403)]
)
def test_nobody_else_adds_to_a_shortlist(world, persona, status):
    response = browser(world, persona).post(
        reverse("shortlist-add-vendors"), {"shortlist": world["shortlist_a"].pk, "v": ["vendor-y"]}
    )
    assert response.status_code == status
    assert not ShortlistEntry.objects.filter(vendor=world["vendor_y"]).exists()


@pytest.mark.parametrize("shortlist", ["", "abc", "9" * 40, "²"])
def test_a_bad_shortlist_id_is_404_not_500(world, shortlist):
    entries = ShortlistEntry.objects.count()
    response = browser(world, "sponsor_a_admin").post(reverse("shortlist-add-vendors"), {"shortlist": shortlist})
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()
    assert ShortlistEntry.objects.count() == entries


def test_api_add_and_remove(world, api_client_for):
    client = api_client_for(world["sponsor_a_admin"])
    url = f"/api/v1/shortlists/{world['shortlist_a'].pk}/"
    added = client.post(f"{url}add/", {"vendors": [world["vendor_y"].pk]}, format="json")
    assert added.status_code == 200
    assert {row["vendor_slug"] for row in added.json()["entries"]} == {"vendor-x", "vendor-y"}
    assert client.post(f"{url}add/", {"vendors": []}, format="json").status_code == 400
    removed = client.post(f"{url}remove/", {"vendors": [world["vendor_x"].pk]}, format="json")
    assert [row["vendor_slug"] for row in removed.json()["entries"]] == ["vendor-y"]


# --- sponsor profile -------------------------------------------------------------------------------


def test_the_sponsor_profile_is_edited_by_its_admins_only(world):
    url = reverse("sponsor-edit", kwargs={"pk": world["sponsor_a"].pk})
    assert browser(world, "sponsor_a_viewer").get(url).status_code == 403
    response = browser(world, "sponsor_a_admin").post(
        url, {"name": "Sponsor A renamed", "type": "biotech", "country": "DE", "default_currency": "EUR",
              "due_soon_days": "14", "overdue_escalation_days": "14", "budget_warning_percent": "80",
              "burn_ahead_points": "15", "contract_ending_days": "60", "certificate_expiring_days": "90",
              "requalification_days": "30", "rfp_reminder_days": "3"},
    )  # fmt: skip
    assert response.status_code == 302
    world["sponsor_a"].refresh_from_db()
    assert (world["sponsor_a"].name, world["sponsor_a"].due_soon_days) == ("Sponsor A renamed", 14)
    page = browser(world, "sponsor_a_viewer").get(world["sponsor_a"].get_absolute_url()).content.decode()
    assert "Sponsor A renamed" in page and "14" in page


# --- a vendor never sees a trace ------------------------------------------------------------------


def _vendor_reachable_urls(world) -> list[str]:
    urls = ["/" + pattern for pattern, _, _, params in browser_routes() if not params]
    urls += [reverse("vendor-detail", kwargs={"slug": s}) for s in ["vendor-x", "vendor-y"]]
    urls += [reverse("vendor-compare") + "?v=vendor-x&v=vendor-y", reverse("vendor-list") + "?qualified=true"]
    urls += [f"/api/v1/{prefix}/?page_size=100" for prefix, _, _ in router.registry]
    for prefix, viewset, _ in router.registry:
        for obj in [o for o in world.values() if type(o) is viewset.queryset.model]:
            urls += [f"/api/v1/{prefix}/{obj.pk}/", f"/api/v1/{prefix}/{obj.pk}/history/"]
    return urls


@pytest.mark.parametrize("persona", ["vendor_x_admin", "vendor_x_viewer"])
def test_no_page_or_json_a_vendor_reaches_shows_any_sponsors_qualification(world, api_client_for, persona):
    # Make the history and notifications of the qualification as rich as possible first.
    qualification = VendorQualification.objects.get(pk=world["qualification_a_x"].pk)
    qualification.notes += " changed"
    qualification_save(actor=world["sponsor_a_admin"], qualification=qualification, reason="QZQ-REASON")
    leaks = []
    for client in [browser(world, persona), api_client_for(world[persona])]:
        for url in _vendor_reachable_urls(world):
            response = client.get(url)
            if response.status_code >= 500:
                leaks.append(f"{url}: {response.status_code}")
                continue
            if response.get("Content-Type", "").startswith(("text/html", "application/json")):
                body = response.content.decode()
                leaks += [f"{url} shows {s}" for s in [*SECRETS, "QZQ-REASON"] if s in body]
                if "Qualification:" in body or "qualification-badge" in body:
                    leaks.append(f"{url} shows a qualification badge")
    assert leaks == []


def test_the_demo_has_qualifications_in_several_states():
    from sponsors import demo as sponsors_demo
    from vendors import demo as vendors_demo

    sponsors = sponsors_demo.seed()
    vendors = vendors_demo.seed(generated=0)
    sponsors_demo.seed_sourcing(sponsors, vendors)
    sponsors_demo.seed_sourcing(sponsors, vendors)  # idempotent
    acme = VendorQualification.objects.filter(sponsor__slug="acme-pharma")
    assert {"approved", "disqualified", "conditionally_approved"} <= set(acme.values_list("status", flat=True))
    assert acme.filter(next_audit_due__lt=date.today()).exists()
    assert ShortlistEntry.objects.filter(shortlist__sponsor__slug="acme-pharma").count() == 3
