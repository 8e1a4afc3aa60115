"""Comparing vendors: a selection that survives searching and paging, "Compare with…" on a profile, the compare
page (differences marked, prices per currency, certificates with authority and expiry, the sponsor's own
qualification) and its XLSX and CSV exports, in a fixed number of queries."""

import csv
import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from sponsors.models import VendorQualification
from tests.factories import VendorFactory
from vendors.models import Capability, Certification, ServiceCategory, ServiceOffering, Site

pytestmark = pytest.mark.django_db

SELECTION = reverse("vendor-compare-selection")
COMPARE = reverse("vendor-compare")
EXTRA = [f"extra-{n:02}" for n in range(1, 9)]  # "Extra 01" … "Extra 08"


@pytest.fixture
def scene(personas):
    """Vendor X (EUR, EMA GMP, an expired ISO 9001, a site in Limerick) and Vendor Y (USD, FDA GMP, Boston), each
    qualified by both sponsors differently, plus eight plain vendors to fill a selection and page through."""
    p = personas
    today = timezone.localdate()
    fdf = ServiceCategory.objects.get(code="finished-dosage-forms")
    capabilities = list(Capability.objects.filter(category=fdf).order_by("name")[:2])
    p.limerick = Site.objects.create(vendor=p.vendor_x, name="Limerick fill-finish", city="Limerick", country="IE")
    Site.objects.create(vendor=p.vendor_y, name="Boston lab", city="Boston", country="US")
    x_offering = ServiceOffering.objects.create(
        vendor=p.vendor_x, category=fdf, lead_time_weeks=6, price_min=Decimal("10000"), price_max=Decimal("50000"),
        currency="EUR",
    )  # fmt: skip
    x_offering.capabilities.set(capabilities)
    y_offering = ServiceOffering.objects.create(
        vendor=p.vendor_y, category=fdf, lead_time_weeks=6, price_min=Decimal("20000"), price_max=Decimal("80000"),
        currency="USD",
    )  # fmt: skip
    y_offering.capabilities.set(capabilities[:1])
    p.x_gmp_expires = today + timedelta(days=400)
    p.x_iso_expired = today - timedelta(days=10)
    Certification.objects.create(vendor=p.vendor_x, site=p.limerick, type="gmp", authority="ema",
                                 issued_on=today - timedelta(days=300), expires_on=p.x_gmp_expires)  # fmt: skip
    Certification.objects.create(vendor=p.vendor_x, type="iso-9001", authority="iso-body",
                                 issued_on=today - timedelta(days=800), expires_on=p.x_iso_expired)  # fmt: skip
    Certification.objects.create(vendor=p.vendor_y, type="gmp", authority="fda",
                                 issued_on=today - timedelta(days=100), expires_on=today + timedelta(days=700))  # fmt: skip
    VendorQualification.objects.create(
        sponsor=p.sponsor_a, vendor=p.vendor_x, status="approved", msa_reference="QZ-A-MSA"
    )
    VendorQualification.objects.create(sponsor=p.sponsor_b, vendor=p.vendor_x, status="disqualified", msa_reference="QZ-B-MSA")  # fmt: skip
    for slug in EXTRA:
        VendorFactory(slug=slug, name=slug.replace("-", " ").title(), hq_country="FR", kind="cmo")
    return p


def login(client, user):
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def page_slugs(response) -> list[str]:
    return [v.slug for v in response.context["page"].object_list]


def tray(response) -> list[str]:
    """The names in the compare tray of a directory page (or of the tray htmx gets back)."""
    html = response.content.decode()
    match = re.search(r'data-selected="([^"]*)"', html)
    assert match, "no compare tray on the page"
    return match.group(1).split()


def checked(response) -> set[str]:
    html = response.content.decode()
    return set(re.findall(r'name="v" value="([^"]+)" id="cmp-[^"]+" form="compare-form" checked', html))


def flash(response) -> str:
    return " ".join(str(m) for m in response.context["messages"]) if response.context else ""


def selected(client) -> list[str]:
    return tray(client.get(reverse("vendor-list")))


# --- the selection ------------------------------------------------------------------------------------------


def test_ticks_survive_a_filter_change_and_page_two(client, scene):
    client = login(client, scene.sponsor_a_admin)
    first = client.get(reverse("vendor-list"), {"page_size": 3, "sort": "name"})
    shown = page_slugs(first)
    assert shown == ["extra-01", "extra-02", "extra-03"] and tray(first) == []
    back = "/vendors/?page_size=3&sort=name"
    # Without JavaScript: tick one and save (the tray's button); the page comes back with the box ticked.
    response = client.post(SELECTION, {"shown": shown, "v": ["extra-02"], "next": back}, follow=True)
    assert response.redirect_chain == [(back, 302)]
    assert tray(response) == ["extra-02"] and checked(response) == {"extra-02"}

    # Page 2: extra-02 stays picked (the tray says so) and a tick there adds to it, not replaces it.
    second = client.get(reverse("vendor-list"), {"page_size": 3, "sort": "name", "page": 2})
    assert page_slugs(second) == ["extra-04", "extra-05", "extra-06"]
    assert tray(second) == ["extra-02"] and checked(second) == set()
    client.post(SELECTION, {"shown": page_slugs(second), "v": ["extra-05"], "next": back})

    # A filter change (htmx swaps the results): the tray and the boxes still show both.
    filtered = client.get(reverse("vendor-list"), {"kind": "cmo", "page_size": 20}, headers={"HX-Request": "true"})
    assert tray(filtered) == ["extra-02", "extra-05"] and checked(filtered) == {"extra-02", "extra-05"}
    assert "Compare (2)" in filtered.content.decode()
    # Unticking on page 1 leaves page 2's pick alone.
    client.post(SELECTION, {"shown": shown, "next": back})
    assert selected(client) == ["extra-05"]
    # And the compare page compares the selection.
    client.post(SELECTION, {"add": "vendor-x"})
    compared = client.get(COMPARE)
    assert [v.slug for v in compared.context["comparison"].vendors] == ["extra-05", "vendor-x"]


def test_an_htmx_tick_answers_with_the_tray_and_remove_takes_one_out(client, scene):
    client = login(client, scene.sponsor_a_admin)
    htmx = {"HX-Request": "true"}
    response = client.post(SELECTION, {"shown": ["vendor-x", "vendor-y"], "v": ["vendor-x", "vendor-y"]}, headers=htmx)
    assert response.status_code == 200 and tray(response) == ["vendor-x", "vendor-y"]
    assert 'id="compare-tray"' in response.content.decode() and "<html" not in response.content.decode()
    response = client.post(SELECTION, {"remove": "vendor-x"}, headers=htmx)
    assert tray(response) == ["vendor-y"]
    assert 'data-unticked="vendor-x"' in response.content.decode()  # app.js unticks its box on the page
    # Without JavaScript: the tray's ✕ button posts the same and comes back to the directory.
    client.post(SELECTION, {"add": "vendor-x"})
    response = client.post(SELECTION, {"remove": "vendor-y", "next": "/vendors/?q=x"}, follow=True)
    assert response.redirect_chain == [("/vendors/?q=x", 302)] and tray(response) == ["vendor-x"]
    assert "Taken out of your comparison: Vendor Y." in flash(response)
    # Clear empties it, even with boxes ticked on the page.
    client.post(SELECTION, {"clear": "1", "shown": ["vendor-x"], "v": ["vendor-x"]})
    assert selected(client) == []
    # Somewhere else: an outside "next" is not followed.
    assert client.post(SELECTION, {"add": "vendor-x", "next": "https://evil.test/"}).url == reverse("vendor-list")


def test_the_seventh_vendor_is_refused_with_a_message(client, scene):
    client = login(client, scene.sponsor_a_admin)
    client.post(SELECTION, {"add": EXTRA[:6]})
    assert selected(client) == EXTRA[:6]
    response = client.post(SELECTION, {"add": "vendor-x"}, follow=True)
    assert selected(client) == EXTRA[:6]
    assert "You can compare at most 6 vendors: Vendor X was not added. Remove a vendor from the comparison first." in (
        flash(response)
    )
    # The htmx tick: the tray says it in an alert (announced), and still lists six, so the box is unticked again.
    response = client.post(
        SELECTION, {"shown": ["vendor-x", "vendor-y"], "v": ["vendor-x", "vendor-y"]}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert tray(response) == EXTRA[:6]
    assert re.search(r'role="alert"[^>]*>You can compare at most 6 vendors: Vendor X, Vendor Y were not added', html)
    assert "That is the most (6): remove one to pick another." in html


def test_compare_with_on_a_profile_leads_to_the_directory_then_the_compare_page(client, scene):
    client = login(client, scene.sponsor_a_admin)
    profile = client.get(reverse("vendor-detail", kwargs={"slug": "vendor-x"})).content.decode()
    assert re.search(r'name="add" value="vendor-x"><input type="hidden" name="go" value="auto">', profile)
    assert "Compare with…</button>" in profile
    # Nothing picked yet: to the directory, with X in the tray and a word on what to do next.
    response = client.post(SELECTION, {"add": "vendor-x", "go": "auto"}, follow=True)
    assert response.redirect_chain == [(reverse("vendor-list"), 302)]
    assert tray(response) == ["vendor-x"]
    assert "Added to your comparison: Vendor X." in flash(response)
    assert "Now tick another vendor in the directory to compare with." in flash(response)
    # Y's profile: with X already picked, straight to the comparison of both.
    response = client.post(SELECTION, {"add": "vendor-y", "go": "auto"}, follow=True)
    assert response.redirect_chain == [(COMPARE, 302)]
    assert [v.name for v in response.context["comparison"].vendors] == ["Vendor X", "Vendor Y"]
    assert "Added to your comparison: Vendor Y." in flash(response)
    # The page offers Remove per vendor (it shows the selection) — and removing comes back here.
    response = client.post(SELECTION, {"remove": "vendor-x", "next": COMPARE}, follow=True)
    assert response.redirect_chain == [(COMPARE, 302)]
    assert "Pick at least two vendors" in response.content.decode()


# --- the compare page ---------------------------------------------------------------------------------------


def rows(response) -> dict:
    return {(s.title, r.label): r for s in response.context["comparison"].sections for r in s.rows}


def test_rows_where_the_vendors_differ_are_marked_in_words(client, scene):
    client = login(client, scene.sponsor_a_admin)
    response = client.get(COMPARE, {"v": ["vendor-x", "vendor-y"]})
    found = rows(response)
    assert found[("Overview", "Kind")].differs  # CRO vs CMO
    assert not found[("Overview", "Headquarters")].differs  # both GB
    assert not found[("Services", "Finished Dosage Forms: lead time")].differs  # 6 weeks each
    html = response.content.decode()
    marked = re.findall(r'<tr class="compare-differs" data-testid="compare-row" data-differs="true">\s*<th scope="row">([^<]+) '
                        r'<span class="badge text-bg-warning" data-testid="differs">Differs</span>', html)  # fmt: skip
    assert "Kind" in marked and "Headquarters" not in marked and "Finished Dosage Forms: lead time" not in marked
    assert len(marked) == response.context["comparison"].differing
    # "Only the rows that differ" drops the alike rows.
    only = client.get(COMPARE, {"v": ["vendor-x", "vendor-y"], "only": "differences"}).content.decode()
    assert '<th scope="row">Kind' in only and '<th scope="row">Headquarters' not in only


def test_prices_in_two_currencies_are_shown_apart_and_never_added(client, scene):
    client = login(client, scene.sponsor_a_admin)
    response = client.get(COMPARE, {"v": ["vendor-x", "vendor-y"]})
    found = rows(response)
    eur = found[("Indicative prices", "Finished Dosage Forms (EUR)")].texts
    usd = found[("Indicative prices", "Finished Dosage Forms (USD)")].texts
    assert eur == ["EUR 10,000 – 50,000", "Priced in USD"]
    assert usd == ["Priced in EUR", "USD 20,000 – 80,000"]
    html = response.content.decode()
    assert "Prices are in EUR, USD: shown per currency, never converted or added up." in html
    assert "30,000" not in html and "130,000" not in html  # no sum across currencies anywhere


def test_certificates_show_authority_and_expiry_and_the_expired_one_is_marked(client, scene):
    client = login(client, scene.sponsor_a_admin)
    response = client.get(COMPARE, {"v": ["vendor-x", "vendor-y"]})
    found = rows(response)
    until = scene.x_gmp_expires.strftime("%-d %b %Y")
    expired = scene.x_iso_expired.strftime("%-d %b %Y")
    assert found[("Certificates", "GMP")].texts == [
        f"EMA (EU) · valid until {until} · Limerick",
        f"FDA (US) · valid until {(timezone.localdate() + timedelta(days=700)).strftime('%-d %b %Y')}",
    ]
    assert found[("Certificates", "ISO 9001")].texts == [
        f"Accredited ISO certification body · expired {expired} (expired)",
        "—",
    ]
    html = response.content.decode()
    assert (
        f'Accredited ISO certification body · expired {expired} <span class="badge text-bg-danger">Expired</span>'
        in html
    )
    assert found[("Sites", "Countries")].texts == ["Ireland", "United States of America"]


def export_text(response) -> str:
    """The text of a CSV or XLSX download (every cell of every sheet)."""
    if response["Content-Type"].startswith("text/csv"):
        return response.content.decode("utf-8-sig")
    workbook = load_workbook(io.BytesIO(response.content))
    return "\n".join(str(c.value) for sheet in workbook for row in sheet.iter_rows() for c in row if c.value)


@pytest.mark.parametrize(
    "persona, sees, never",
    [
        ("sponsor_a_admin", ["Approved", "QZ-A-MSA"], ["Disqualified", "QZ-B-MSA"]),
        ("sponsor_a_viewer", ["Approved", "QZ-A-MSA"], ["Disqualified", "QZ-B-MSA"]),
        ("sponsor_b_admin", ["Disqualified", "QZ-B-MSA"], ["Approved", "QZ-A-MSA"]),
        ("vendor_x_admin", [], ["Approved", "Disqualified", "QZ-A-MSA", "QZ-B-MSA", "Our qualification"]),
        ("vendor_y_admin", [], ["Approved", "Disqualified", "QZ-A-MSA", "QZ-B-MSA", "Our qualification"]),
    ],
)
def test_the_qualification_is_the_users_own_sponsors_on_the_page_and_in_both_exports(
    client, scene, persona, sees, never
):
    client = login(client, getattr(scene, persona))
    query = {"v": ["vendor-x", "vendor-y"]}
    for url in (COMPARE, reverse("vendor-compare-xlsx"), reverse("vendor-compare-csv")):
        response = client.get(url, query)
        assert response.status_code == 200
        text = export_text(response) if url != COMPARE else response.content.decode()
        for word in sees:
            assert word in text, f"{persona} misses {word} in {url}"
        for word in never:
            assert word not in text, f"{persona} sees {word} in {url}"
    # The selection's exports are the same (a vendor's own selection too).
    client.post(SELECTION, {"add": ["vendor-x", "vendor-y"]})
    assert export_text(client.get(reverse("vendor-compare-csv"))) == export_text(
        client.get(reverse("vendor-compare-csv"), query)
    )


def test_xlsx_and_csv_hold_the_pages_rows(client, scene):
    Site.objects.create(vendor=scene.vendor_y, name='=HYPERLINK("https://evil.test")', city="Denver", country="US")
    client = login(client, scene.sponsor_a_admin)
    query = {"v": ["vendor-x", "vendor-y"]}
    page = client.get(COMPARE, query).context["comparison"]
    csv_response = client.get(reverse("vendor-compare-csv"), query)
    assert csv_response["Content-Disposition"] == 'attachment; filename="vendor-comparison.csv"'
    table = list(csv.reader(io.StringIO(csv_response.content.decode("utf-8-sig"))))
    assert table[0] == ["Section", "Aspect", "Vendor X", "Vendor Y", "Differs"]
    expected = [[s.title, r.label, *r.texts, "differs" if r.differs else ""] for s in page.sections for r in s.rows]
    assert table[1:] == expected
    assert [
        "Indicative prices",
        "Finished Dosage Forms (EUR)",
        "EUR 10,000 – 50,000",
        "Priced in USD",
        "differs",
    ] in table
    assert ["Our qualification", "Status", "Approved", "Not qualified by us", "differs"] in table

    xlsx = client.get(reverse("vendor-compare-xlsx"), query)
    assert xlsx["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(xlsx.content))["Comparison"]
    cells = [[c.value or "" for c in row] for row in sheet.iter_rows(min_row=2)]
    assert cells[0] == table[0]
    # Same rows; multi-line cells are lines in the workbook and "; "-joined in the CSV.
    assert [[v.replace("\n", "; ") for v in row] for row in cells[1:]] == table[1:]
    differing = next(row for row in sheet.iter_rows(min_row=3) if row[1].value == "Kind")
    assert differing[-1].value == "differs" and differing[0].fill.fgColor.rgb.endswith("FFF3CD")
    # A cell that would run as a formula stays text in both files.
    site_cell = next(c for row in sheet.iter_rows() for c in row if c.value and "HYPERLINK" in str(c.value))
    assert site_cell.data_type == "s"
    sites_row = next(row for row in table if row[1] == "Sites")
    assert sites_row[3].startswith("Boston, United States of America (Boston lab); Denver")
    assert all(not cell.startswith("=") for row in table for cell in row)


def test_a_vendor_out_of_sight_or_unknown_is_ignored_and_one_vendor_asks_for_another(client, scene):
    client = login(client, scene.vendor_x_admin)
    response = client.get(COMPARE, {"v": ["vendor-x", "no-such-vendor"]})
    assert [v.slug for v in response.context["comparison"].vendors] == ["vendor-x"]
    assert "Pick at least two vendors to compare" in response.content.decode()
    assert client.get(reverse("vendor-compare-csv")).url == COMPARE  # nothing picked: nothing to export


# --- queries ------------------------------------------------------------------------------------------------


def test_the_compare_page_and_exports_run_the_same_queries_for_two_and_six_vendors(client, scene):
    for slug in EXTRA[:4]:
        vendor = VendorFactory(slug=slug)
        Site.objects.create(vendor=vendor, name=f"{slug} plant", city="Lyon", country="FR")
        offering = ServiceOffering.objects.create(
            vendor=vendor,
            category=ServiceCategory.objects.get(code="packaging"),
            currency="EUR",
            price_min=1,
            price_max=2,
        )
        offering.capabilities.set(Capability.objects.filter(category__code="packaging")[:2])
        Certification.objects.create(vendor=vendor, type="gmp", authority="national", issued_on=timezone.localdate())
    client = login(client, scene.sponsor_a_admin)
    two, six = ["vendor-x", "vendor-y"], ["vendor-x", "vendor-y", *EXTRA[:4]]
    for url in (COMPARE, reverse("vendor-compare-xlsx"), reverse("vendor-compare-csv")):
        counts = []
        for slugs in (two, six):
            client.get(url, {"v": slugs})  # warm the session and caches alike
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url, {"v": slugs})
            assert response.status_code == 200
            counts.append(len(queries))
        assert counts[0] == counts[1], f"{url}: {counts[0]} queries for 2 vendors, {counts[1]} for 6"
        assert counts[1] <= 12  # session, user, vendors, 4 prefetches, qualifications, chrome
    # The directory with a full tray costs one query more than with none, whatever the tray holds.
    client.get(reverse("vendor-list"))  # the facet index catches up with the new vendors on the first search
    directory = []
    for picks in ([], two, six):
        client.post(SELECTION, {"clear": "1", "add": picks})
        with CaptureQueriesContext(connection) as queries:
            client.get(reverse("vendor-list"))
        directory.append(len(queries))
    assert directory[1] == directory[2] == directory[0] + 1
