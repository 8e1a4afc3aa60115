"""Vendor self-service that respects the vendor's time, and the trust signals sponsors read (issue #11, 5–6).

The offering form lists the capabilities by category (the browser shows only the chosen one's:
tests/test_browser_vendors_self.py); a file chosen on a form that fails elsewhere is kept; "Cancel"
goes back where the user came from; the catalogue preview shows old → new and counts only changes;
XLSX beside CSV; "Verified" explained; completeness on the profile and what is missing on the dashboard.
"""

import io
import re
from datetime import date
from decimal import Decimal

import openpyxl
import pytest
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from cro_cmo import upload_stash
from tests.factories import ProgramFactory
from vendors.completeness import vendor_completeness
from vendors.models import Capability, Certification, ServiceCategory, ServiceOffering, Site

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def client_for(user) -> Client:
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


@pytest.fixture
def files(settings, tmp_path):
    """Uploads and the stash in a directory of this test's own."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.VAR_DIR = tmp_path / "var"
    return tmp_path


def cancel_href(response) -> str:
    match = re.search(
        r'<a class="btn btn-outline-secondary" href="([^"]*)" data-testid="cancel">Cancel</a>', response.text
    )
    assert match, "no Cancel link on the page"
    return match.group(1).replace("&amp;", "&")


def certificate_post(**overrides) -> dict:
    data = {
        "type": "gmp",
        "authority": "mhra",
        "number": "UK-GMP-1",
        "issued_on": "2025-01-01",
        "expires_on": "2028-01-01",
    }
    data.update(overrides)
    return data


# --- The offering form: capabilities of the chosen category ----------------------------------------


def test_offering_form_groups_the_capabilities_of_the_vendors_side_by_category(personas):
    response = client_for(personas.vendor_x_admin).get("/vendors/offerings/new/")

    page = response.text
    groups = re.findall(r'data-capability-group="(\d+)" data-category-name="([^"]+)"', page)
    cro = ServiceCategory.objects.filter(side="cro").order_by("position")
    assert [(int(pk), name) for pk, name in groups] == [(c.pk, c.name) for c in cro]  # no CMO category for a CRO
    # Each group holds exactly its category's capabilities, labelled by name alone.
    for category in cro:
        block = page.split(f'data-capability-group="{category.pk}"', 1)[1].split("data-capability-group=", 1)[0]
        values = sorted(int(v) for v in re.findall(r'name="capabilities" value="(\d+)"', block))
        assert values == sorted(category.capabilities.values_list("pk", flat=True))
    assert "tick only capabilities of the category chosen above" in page  # the note for browsers without JS
    assert "style=" not in page.split("<main", 1)[1] and "<script>" not in page


def test_offering_form_refuses_a_capability_of_another_category(personas):
    trials = ServiceCategory.objects.get(code="clinical-trials")
    edc = Capability.objects.get(slug="edc-build")  # Data Management
    phase_one = Capability.objects.get(slug="phase-i")

    response = client_for(personas.vendor_x_admin).post(
        "/vendors/offerings/new/", {"category": trials.pk, "capabilities": [phase_one.pk, edc.pk], "is_active": "on"}
    )

    assert response.status_code == 200
    assert "Not capabilities of Clinical Trials: EDC build." in response.text
    assert not ServiceOffering.objects.filter(vendor=personas.vendor_x).exists()
    # A capability of the other side (CMO) is not even a choice for a CRO.
    sterile = Capability.objects.get(slug="sterile-fill-finish")
    response = client_for(personas.vendor_x_admin).post(
        "/vendors/offerings/new/", {"category": trials.pk, "capabilities": [sterile.pk]}
    )
    assert "Select a valid choice" in response.text
    assert not ServiceOffering.objects.filter(vendor=personas.vendor_x).exists()


def test_offering_saved_with_its_own_categorys_capabilities(personas):
    trials = ServiceCategory.objects.get(code="clinical-trials")
    picked = list(Capability.objects.filter(slug__in=["phase-i", "oncology"]))

    response = client_for(personas.vendor_x_admin).post(
        "/vendors/offerings/new/", {"category": trials.pk, "capabilities": [c.pk for c in picked], "is_active": "on"}
    )

    assert response.status_code == 302
    offering = ServiceOffering.objects.get(vendor=personas.vendor_x)
    assert set(offering.capabilities.all()) == set(picked)


# --- An upload survives a validation error -------------------------------------------------------


def test_certificate_file_is_kept_after_an_error_elsewhere_and_saved_with_the_corrected_form(personas, files):
    client = client_for(personas.vendor_x_admin)

    response = client.post(
        "/vendors/certificates/new/",
        {**certificate_post(expires_on="2024-01-01"), "document": SimpleUploadedFile("uk gmp.pdf", PDF)},
    )

    assert response.status_code == 200
    assert "A certificate must expire after it was issued." in response.text
    token = re.search(r'name="document__kept" value="([^"]+)"', response.text).group(1)
    # Said at the field, with the file's name.
    helptext = re.search(r'id="id_document_helptext">(.*?)</div>', response.text, re.S).group(1)
    assert "Kept from your last attempt: <strong>uk gmp.pdf</strong>" in helptext
    assert len(list((files / "var" / "upload-stash").glob("*.upload"))) == 1
    assert not Certification.objects.exists()

    response = client.post("/vendors/certificates/new/", {**certificate_post(), "document__kept": token})

    assert response.status_code == 302
    certification = Certification.objects.get(vendor=personas.vendor_x)
    with certification.document.open("rb") as stored:
        assert stored.read() == PDF
    assert certification.document.name.endswith("uk_gmp.pdf") or certification.document.name.endswith("uk gmp.pdf")
    assert list((files / "var" / "upload-stash").glob("*.upload")) == []  # the stash is emptied once saved


def test_a_kept_file_survives_a_second_error_and_a_new_file_replaces_it(personas, files):
    client = client_for(personas.vendor_x_admin)
    first = client.post(
        "/vendors/certificates/new/",
        {**certificate_post(expires_on="2024-01-01"), "document": SimpleUploadedFile("old.pdf", PDF)},
    )
    token = re.search(r'name="document__kept" value="([^"]+)"', first.text).group(1)

    second = client.post("/vendors/certificates/new/", {**certificate_post(issued_on=""), "document__kept": token})
    assert second.status_code == 200
    assert re.search(r'name="document__kept" value="([^"]+)"', second.text).group(1) == token
    assert "Kept from your last attempt: <strong>old.pdf</strong>" in second.text

    newer = PDF.replace(b"1.4", b"1.7")
    third = client.post(
        "/vendors/certificates/new/",
        {**certificate_post(), "document__kept": token, "document": SimpleUploadedFile("new.pdf", newer)},
    )
    assert third.status_code == 302
    with Certification.objects.get().document.open("rb") as stored:
        assert stored.read() == newer


def test_an_invalid_file_is_not_kept_but_asked_for_again_at_its_field(personas, files):
    response = client_for(personas.vendor_x_admin).post(
        "/vendors/certificates/new/",
        {**certificate_post(expires_on="2024-01-01"), "document": SimpleUploadedFile("gmp.pdf", b"not a pdf")},
    )

    assert response.status_code == 200
    assert re.search(r'id="id_document_error">.*The file is not a PDF', response.text, re.S)
    assert "document__kept" not in response.text
    assert not (files / "var" / "upload-stash").exists() or not any((files / "var" / "upload-stash").iterdir())


def test_a_kept_file_token_works_only_for_its_user_and_unaltered(personas, files):
    owner = client_for(personas.vendor_x_admin)
    response = owner.post(
        "/vendors/certificates/new/",
        {**certificate_post(expires_on="2024-01-01"), "document": SimpleUploadedFile("gmp.pdf", PDF)},
    )
    token = re.search(r'name="document__kept" value="([^"]+)"', response.text).group(1)
    # Vendor Y replays X's token: ignored (a certificate without a document, no file of X's).
    response = client_for(personas.vendor_y_admin).post(
        "/vendors/certificates/new/", {**certificate_post(), "document__kept": token}
    )
    assert response.status_code == 302
    assert not Certification.objects.get(vendor=personas.vendor_y).document
    # A forged token naming the stash key with another signature is ignored too.
    key = signing.loads(token, salt=upload_stash.SALT)["k"]
    forged = signing.dumps({"k": key, "n": "x.pdf", "u": personas.vendor_x_admin.pk, "f": "document"}, salt="other")
    response = owner.post("/vendors/certificates/new/", {**certificate_post(number="2"), "document__kept": forged})
    assert response.status_code == 302
    assert not Certification.objects.get(vendor=personas.vendor_x).document


def test_stashed_files_expire(personas, files, monkeypatch):
    upload = SimpleUploadedFile("gmp.pdf", PDF)
    token = upload_stash.stash_upload(user=personas.vendor_x_admin, field="document", uploaded=upload)
    assert upload_stash.restore_upload(token, user=personas.vendor_x_admin, field="document").read() == PDF
    assert upload_stash.restore_upload(token, user=personas.vendor_x_admin, field="other") is None
    monkeypatch.setattr(upload_stash, "MAX_AGE", -1)
    assert upload_stash.restore_upload(token, user=personas.vendor_x_admin, field="document") is None


# --- Cancel returns where the user came from ----------------------------------------------------


def test_cancel_returns_to_the_referring_page_of_this_site(world, personas):
    client = client_for(personas.vendor_x_admin)
    offering = world["offering_x"]
    url = f"/vendors/offerings/{offering.pk}/edit/"

    from_dashboard = client.get(url, HTTP_REFERER="http://testserver/dashboard/")
    assert cancel_href(from_dashboard) == "/dashboard/"
    assert 'name="next" value="/dashboard/"' in from_dashboard.text  # carried through a failed submit
    from_search = client.get(url + "?next=/vendors/%3Fq%3Dtrials%26page%3D2")
    assert cancel_href(from_search) == "/vendors/?q=trials&page=2"
    # Another site, a scheme-relative URL, javascript: — never; the offering's own page instead.
    for referer in ("https://evil.example/phish", "//evil.example/", "javascript:alert(1)"):
        assert cancel_href(client.get(url, HTTP_REFERER=referer)) == offering.get_absolute_url()
    assert cancel_href(client.get(url + "?next=https://evil.example/")) == offering.get_absolute_url()
    # After a validation error the form still knows where the user came from.
    failed = client.post(url, {"category": "", "next": "/dashboard/"}, HTTP_REFERER=f"http://testserver{url}")
    assert failed.status_code == 200 and cancel_href(failed) == "/dashboard/"


def test_cancel_without_a_referrer_goes_to_the_object_or_the_profile(world, personas):
    client = client_for(personas.vendor_x_admin)

    assert cancel_href(client.get("/vendors/sites/new/")) == personas.vendor_x.get_absolute_url()
    assert cancel_href(client.get("/vendors/certificates/new/")) == personas.vendor_x.get_absolute_url()
    site = world["site_x"]
    assert cancel_href(client.get(f"/vendors/sites/{site.pk}/edit/")) == site.get_absolute_url()
    assert cancel_href(client.get(f"/vendors/sites/{site.pk}/delete/")) == site.get_absolute_url()
    back = client.get(f"/vendors/sites/{site.pk}/delete/", HTTP_REFERER="http://testserver/vendors/vendor-x/")
    assert cancel_href(back) == "/vendors/vendor-x/"


def test_cancel_applies_to_every_generic_form(personas):
    program = ProgramFactory(sponsor=personas.sponsor_a)
    client = client_for(personas.sponsor_a_admin)

    assert cancel_href(client.get(f"/programs/{program.pk}/edit/", HTTP_REFERER="http://testserver/programs/")) == (
        "/programs/"
    )
    assert cancel_href(client.get(f"/programs/{program.pk}/edit/")) == program.get_absolute_url()
    assert cancel_href(client.get("/programs/new/")) == "/dashboard/"


# --- Whose items: another vendor's are out of reach, viewers change nothing ------------------------


def test_vendor_y_cannot_see_or_edit_vendor_xs_records_and_viewers_cannot_edit(world, personas, files):
    other = client_for(personas.vendor_y_admin)
    for record in (world["offering_x"], world["site_x"], world["cert_x"]):
        kind = {"serviceoffering": "offerings", "site": "sites", "certification": "certificates"}[
            record._meta.model_name
        ]
        for action in ("edit", "delete"):
            assert other.get(f"/vendors/{kind}/{record.pk}/{action}/").status_code == 404
        assert other.post(f"/vendors/{kind}/{record.pk}/edit/", {"description": "taken"}).status_code == 404
        assert client_for(personas.vendor_x_viewer).get(f"/vendors/{kind}/{record.pk}/edit/").status_code == 403
    world["offering_x"].refresh_from_db()
    assert world["offering_x"].description == "QZX trials"
    # Vendor X's offering's capabilities cannot be sent to Y's form, nor X's sites.
    packaging = ServiceCategory.objects.get(code="packaging")
    response = other.get("/vendors/offerings/new/")
    assert f'value="{world["site_x"].pk}"' not in response.text.split('name="sites"', 1)[-1].split("</fieldset>")[0]
    assert f'data-capability-group="{packaging.pk}"' in response.text


def test_catalogue_exports_are_the_vendors_own(world, personas):
    assert client_for(personas.sponsor_a_admin).get("/vendors/catalogue/export/xlsx/").status_code == 404
    assert client_for(personas.vendor_x_viewer).get("/vendors/catalogue/export/xlsx/").status_code == 403
    workbook = openpyxl.load_workbook(
        io.BytesIO(client_for(personas.vendor_y_admin).get("/vendors/catalogue/export/xlsx/").content)
    )
    descriptions = [row[2] for row in workbook.active.iter_rows(min_row=2, values_only=True)]
    assert descriptions == ["QZY packs"]  # Y's catalogue only, never X's


# --- Catalogue: XLSX export beside CSV, counts of changes, the navigation ----------------------------


def test_xlsx_export_has_the_csv_columns_and_imports_back_unchanged(personas):
    x = personas.vendor_x
    site = Site.objects.create(vendor=x, name="Leeds Unit", city="Leeds", country="GB")
    trials = ServiceOffering.objects.create(
        vendor=x, category=ServiceCategory.objects.get(code="clinical-trials"), description="=HYPERLINK(\"http://evil\")",
        lead_time_weeks=8, price_min=Decimal("1500.50"), price_max=Decimal("90000"), currency="EUR",
    )  # fmt: skip
    trials.capabilities.set(Capability.objects.filter(slug__in=["phase-i", "oncology"]))
    trials.sites.set([site])
    client = client_for(personas.vendor_x_admin)

    response = client.get("/vendors/catalogue/export/xlsx/")

    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response["Content-Disposition"] == 'attachment; filename="vendor-x-catalogue.xlsx"'
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    csv_header = client.get("/vendors/catalogue/export/").content.decode("utf-8-sig").splitlines()[0].split(",")
    assert list(rows[0]) == csv_header
    assert rows[1] == (
        "clinical-trials", "Oncology; Phase I", '=HYPERLINK("http://evil")', 8, 1500.5, 90000, "EUR", "Leeds Unit", "yes",
    )  # fmt: skip
    assert sheet["C2"].data_type == "s"  # text, never a formula
    # The export is a ready-made import file: nothing to apply.
    preview = client.post("/vendors/catalogue/", {"file": SimpleUploadedFile("c.xlsx", response.content)})
    assert preview.context["preview"].counts == {"new": 0, "changed": 0, "unchanged": 1, "error": 0}
    assert 'data-testid="catalogue-apply"' not in preview.text


def test_preview_counts_only_rows_that_change_and_shows_old_and_new(personas):
    x = personas.vendor_x
    ServiceOffering.objects.create(
        vendor=x, category=ServiceCategory.objects.get(code="clinical-trials"), lead_time_weeks=10, description="Same"
    )
    ServiceOffering.objects.create(
        vendor=x, category=ServiceCategory.objects.get(code="data-management"), lead_time_weeks=4, currency="EUR",
        price_min=Decimal("100"),
    )  # fmt: skip
    text = (
        "category,lead_time_weeks,description,price_min,currency\n"
        "clinical-trials,10,Same,,\n"  # unchanged
        "data-management,6,,100,EUR\n"  # lead time 4 → 6 (description "" → "" too)
        "regulatory-affairs,3,New,,\n"  # new
        "project-management,x,,,\n"  # error
    )
    response = client_for(personas.vendor_x_admin).post(
        "/vendors/catalogue/", {"file": SimpleUploadedFile("c.csv", text.encode())}
    )

    preview = response.context["preview"]
    assert preview.counts == {"new": 1, "changed": 1, "unchanged": 1, "error": 1}
    assert [row.status for row in preview.rows] == ["unchanged", "changed", "new", "error"]
    assert preview.rows[1].diffs == [("lead_time_weeks", "4 wk", "6 wk")]
    assert preview.rows[2].diffs == [("description", "", "New"), ("lead_time_weeks", "", "3 wk")]
    counts = re.sub(r"<[^>]+>|\s+", " ", response.text.split('data-testid="catalogue-counts">', 1)[1].split("</p>")[0])
    assert counts.split() == ["1", "new", "1", "changed", "1", "unchanged", "1", "with", "errors"]
    assert 'data-status="changed"' in response.text and "was </span>4 wk" in response.text


def test_apply_writes_only_the_rows_that_change(personas):
    x = personas.vendor_x
    unchanged = ServiceOffering.objects.create(
        vendor=x, category=ServiceCategory.objects.get(code="clinical-trials"), lead_time_weeks=10
    )
    before = unchanged.updated
    client = client_for(personas.vendor_x_admin)
    client.post(
        "/vendors/catalogue/",
        {"file": SimpleUploadedFile("c.csv", b"category,lead_time_weeks\nclinical-trials,10\ndata-management,2\n")},
    )

    response = client.post("/vendors/catalogue/", {"action": "apply"}, follow=True)

    assert "Catalogue imported: 1 offering saved (1 new, 0 changed); 1 unchanged row left as it was." in response.text
    unchanged.refresh_from_db()
    assert unchanged.updated == before
    assert ServiceOffering.objects.get(vendor=x, category__code="data-management").lead_time_weeks == 2


def test_the_import_page_is_in_the_navigation_of_vendor_people_who_act(personas):
    link = 'href="/vendors/catalogue/"'
    assert link in client_for(personas.vendor_x_admin).get("/vendors/").text
    assert link not in client_for(personas.vendor_x_viewer).get("/vendors/").text
    assert link not in client_for(personas.sponsor_a_admin).get("/vendors/").text
    page = client_for(personas.vendor_x_admin).get("/vendors/catalogue/").text
    assert 'aria-current="page">Import catalogue' in page
    assert 'href="/vendors/catalogue/export/xlsx/"' in page and 'href="/vendors/catalogue/export/"' in page


# --- Trust: "Verified" explained, completeness on the profile and the dashboard ----------------------


def test_the_verified_badge_links_to_the_page_that_says_what_it_means(personas, client):
    personas.vendor_x.verified_at = timezone.now()
    personas.vendor_x.save()
    profile = client_for(personas.sponsor_a_admin).get("/vendors/vendor-x/").text
    assert re.search(r'<a class="badge badge-verified[^"]*" href="/vendors/about/verified/"', profile)
    assert 'data-testid="verified-badge"' not in client_for(personas.sponsor_a_admin).get("/vendors/vendor-y/").text
    # The directory's cards link the badge to the same page, for the verified vendor only.
    directory = client_for(personas.sponsor_a_admin).get("/vendors/").text
    badges = re.findall(
        r'<a data-testid="vendor-name" href="/vendors/([a-z0-9-]+)/[^"]*">[^<]*</a>\s*<a class="badge badge-verified[^"]*" href="/vendors/about/verified/"',
        directory,
    )
    assert badges == ["vendor-x"]

    page = client.get("/vendors/about/verified/")  # public: nothing on it is private
    assert page.status_code == 200
    assert "checked by cro_cmo platform staff" in page.text
    assert "Not a check of the certificates." in page.text and "Not a qualification." in page.text


def test_the_demo_has_verified_vendors_and_reseeding_keeps_their_date(personas):
    from vendors import demo
    from vendors.models import Vendor

    demo.seed(generated=0)
    verified = dict(Vendor.objects.filter(verified_at__isnull=False).values_list("slug", "verified_at"))
    assert set(verified) == set(demo.VERIFIED_DEMO_VENDORS)
    page = client_for(personas.sponsor_a_admin).get("/vendors/", {"q": "Helix"}).text
    assert re.search(r'<a class="badge badge-verified[^"]*" href="/vendors/about/verified/"', page)
    demo.seed(generated=0)
    assert dict(Vendor.objects.filter(verified_at__isnull=False).values_list("slug", "verified_at")) == verified


@pytest.fixture
def catalogue(personas):
    """Vendor X: 3 active offerings (2 priced), 1 inactive unpriced one, 2 sites, 3 certificates (1 with a PDF)."""
    x = personas.vendor_x
    codes = ["clinical-trials", "data-management", "regulatory-affairs", "project-management"]
    offerings = [ServiceOffering.objects.create(vendor=x, category=ServiceCategory.objects.get(code=c)) for c in codes]
    for offering in offerings[:2]:
        offering.price_min, offering.currency = Decimal("1000"), "EUR"
        offering.save()
    offerings[3].is_active = False
    offerings[3].save()
    for name in ("Leeds", "Kraków"):
        Site.objects.create(vendor=x, name=name, city=name, country="GB")
    certificates = [
        Certification.objects.create(vendor=x, type=t, authority="mhra", issued_on=date(2024, 1, 1))
        for t in ("gcp", "glp", "iso-9001")
    ]
    certificates[0].document.save("gcp.pdf", io.BytesIO(PDF), save=True)
    return offerings, certificates


def test_profile_shows_how_complete_it_is_to_everyone(catalogue, personas, files):
    for user in (personas.sponsor_a_admin, personas.vendor_x_admin):
        page = client_for(user).get("/vendors/vendor-x/").text
        summary = re.search(r'data-testid="completeness-summary">([^<]*)<', page).group(1)
        assert summary == "2 of 3 offerings priced; 2 sites; 1 of 3 certificates with a document."
    assert 'value="63"' in page  # (2 priced + 1 document + offerings + sites) of (3 + 3 + 2)


def test_vendor_dashboard_asks_for_what_is_missing_with_a_link_to_each(catalogue, personas, files):
    offerings, certificates = catalogue

    page = client_for(personas.vendor_x_admin).get("/dashboard/").text

    missing = page.split('data-testid="completeness-missing">', 1)[1].split("</ul>", 1)[0]
    links = re.findall(r'<li class="mb-1">([^<]*) <a href="([^"]+)">([^<]+)</a></li>', missing)
    assert links == [
        ("Regulatory Affairs: no indicative price.", f"/vendors/offerings/{offerings[2].pk}/edit/",
         "Add a price to Regulatory Affairs"),
        ("GLP (MHRA (UK)): no certificate document.", f"/vendors/certificates/{certificates[1].pk}/edit/",
         "Upload the PDF of GLP (MHRA (UK))"),
        ("ISO 9001 (MHRA (UK)): no certificate document.", f"/vendors/certificates/{certificates[2].pk}/edit/",
         "Upload the PDF of ISO 9001 (MHRA (UK))"),
    ]  # fmt: skip
    # A viewer sees what is missing, without links to forms she may not use.
    viewer = client_for(personas.vendor_x_viewer).get("/dashboard/").text
    assert "Regulatory Affairs: no indicative price." in viewer and "Add a price to" not in viewer
    # Sponsors have no such card.
    assert 'data-testid="completeness-missing"' not in client_for(personas.sponsor_a_admin).get("/dashboard/").text


def test_an_empty_profile_asks_for_an_offering_and_a_site(personas):
    page = client_for(personas.vendor_y_admin).get("/dashboard/").text
    assert '<a href="/vendors/offerings/new/">Add an offering</a>' in page
    assert '<a href="/vendors/sites/new/">Add a site</a>' in page
    assert "0 of 0 offerings priced; 0 sites; 0 of 0 certificates with a document." in page


def test_completeness_reads_in_three_queries_whatever_the_catalogue(catalogue, personas, django_assert_num_queries):
    with django_assert_num_queries(3):
        small = vendor_completeness(vendor=personas.vendor_x)
    for index in range(30):
        Certification.objects.create(vendor=personas.vendor_x, type="gmp", authority="fda", issued_on=date(2024, 1, 1),
                                     number=str(index))  # fmt: skip
    with django_assert_num_queries(3):
        large = vendor_completeness(vendor=personas.vendor_x)
    assert (small.certificates, large.certificates, large.documented) == (3, 33, 1)
    assert len(large.missing) == len(small.missing) + 30
