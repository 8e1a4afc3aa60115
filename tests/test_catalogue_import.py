"""Vendor self-service bulk update of the service catalogue: CSV/XLSX → preview with row errors → apply all or nothing."""

import csv
import io
import re
import time
import zipfile
from decimal import Decimal

import openpyxl
import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from audit.models import HistoryEntry
from vendors.catalogue import COLUMNS, MAX_BYTES, MAX_COLUMNS, MAX_ROWS, catalogue_apply, catalogue_parse
from vendors.models import Capability, ServiceCategory, ServiceOffering, Site
from vendors.views import CATALOGUE_SESSION_KEY as SESSION_KEY

pytestmark = pytest.mark.django_db

IMPORT_URL = "/vendors/catalogue/"
EXPORT_URL = "/vendors/catalogue/export/"
HEADER = "category,capabilities,description,lead_time_weeks,price_min,price_max,currency,sites,active"


@pytest.fixture
def sites(personas):
    """Two sites of vendor X and one of vendor Y."""
    return {
        "london": Site.objects.create(
            vendor=personas.vendor_x, name="London Clinical Ops", city="London", country="GB"
        ),
        "berlin": Site.objects.create(vendor=personas.vendor_x, name="Berlin Office", city="Berlin", country="DE"),
        "y_plant": Site.objects.create(vendor=personas.vendor_y, name="Y Plant", city="Basel", country="CH"),
    }


@pytest.fixture
def existing(personas, sites):
    """Vendor X already offers clinical trials (Phase I, Berlin)."""
    offering = ServiceOffering.objects.create(
        vendor=personas.vendor_x,
        category=ServiceCategory.objects.get(code="clinical-trials"),
        description="Early phase only.",
        lead_time_weeks=10,
    )
    offering.capabilities.set([Capability.objects.get(slug="phase-i")])
    offering.sites.set([sites["berlin"]])
    return offering


@pytest.fixture
def vendor_client(browser_client_for, personas):
    return browser_client_for(personas.vendor_x_admin)


def client_for(user) -> Client:
    """A separate browser for ``user`` (the ``client`` fixture is shared, and logging in again clears its session)."""
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def csv_file(text: str, name: str = "catalogue.csv", encoding: str = "utf-8") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(encoding), content_type="text/csv")


def xlsx_file(rows: list[list], name: str = "catalogue.xlsx") -> SimpleUploadedFile:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="application/vnd.ms-excel")


def upload(client, file):
    return client.post(IMPORT_URL, {"file": file})


def apply(client):
    return client.post(IMPORT_URL, {"action": "apply"})


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def offering_state(vendor) -> list[tuple]:
    """Everything a catalogue import may change, comparable before and after."""
    return [
        (
            o.category.code,
            o.description,
            o.lead_time_weeks,
            o.price_min,
            o.price_max,
            o.currency,
            o.is_active,
            sorted(c.slug for c in o.capabilities.all()),
            sorted(s.name for s in o.sites.all()),
        )
        for o in ServiceOffering.objects.filter(vendor=vendor).order_by("category__position")
    ]


def offering_history_count() -> int:
    return HistoryEntry.objects.filter(content_type__model="serviceoffering").count()


VALID_CSV = (
    HEADER + "\n"
    "clinical-trials,Phase III; site-monitoring,Phase II-III in Europe,12,100000,250000.50,eur,London Clinical Ops,yes\n"
    'data-management,EDC build;Biostatistics,"EDC, stats",6,,,,London Clinical Ops; Berlin Office,\n'
)


# --- The happy path ------------------------------------------------------------------------------


def test_valid_csv_preview_then_apply_creates_and_updates(personas, existing, sites, vendor_client):
    before_history = offering_history_count()

    response = upload(vendor_client, csv_file(VALID_CSV))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Apply 2 changes" in page
    assert 'data-testid="catalogue-row-2"' in page and 'data-testid="catalogue-row-3"' in page
    preview = response.context["preview"]
    assert [row.action for row in preview.rows] == ["update", "create"]
    assert [row.errors for row in preview.rows] == [[], []]
    assert preview.rows[0].cleaned["capabilities"] == "phase-iii; site-monitoring"
    # The preview writes nothing; the cleaned rows wait in the session.
    assert ServiceOffering.objects.filter(vendor=personas.vendor_x).count() == 1
    assert offering_history_count() == before_history
    stored = vendor_client.session[SESSION_KEY]
    assert stored["vendor_id"] == personas.vendor_x.pk
    assert [row["number"] for row in stored["rows"]] == [2, 3]

    response = apply(vendor_client)

    assert response.status_code == 302
    assert response["Location"] == personas.vendor_x.get_absolute_url()
    assert SESSION_KEY not in vendor_client.session
    trials = ServiceOffering.objects.get(vendor=personas.vendor_x, category__code="clinical-trials")
    assert trials.pk == existing.pk
    assert trials.description == "Phase II-III in Europe"
    assert trials.lead_time_weeks == 12
    assert (trials.price_min, trials.price_max, trials.currency) == (Decimal("100000"), Decimal("250000.50"), "EUR")
    assert sorted(trials.capabilities.values_list("slug", flat=True)) == ["phase-iii", "site-monitoring"]
    assert list(trials.sites.all()) == [sites["london"]]
    data = ServiceOffering.objects.get(vendor=personas.vendor_x, category__code="data-management")
    assert data.is_active and data.price_min is None and data.currency == ""
    assert data.description == "EDC, stats"
    assert sorted(data.capabilities.values_list("slug", flat=True)) == ["biostatistics", "edc-build"]
    assert set(data.sites.all()) == {sites["london"], sites["berlin"]}
    # History: who, why, what changed.
    entries = HistoryEntry.objects.for_object(trials)
    change = entries.filter(action="changed", changes__has_key="lead_time_weeks").get()
    assert change.actor == personas.vendor_x_admin
    assert change.reason == "Catalogue import"
    assert change.changes["lead_time_weeks"] == [10, 12]
    assert entries.filter(changes__has_key="capabilities", reason="Catalogue import").exists()
    created = HistoryEntry.objects.for_object(data).get(action="created")
    assert created.actor == personas.vendor_x_admin and created.reason == "Catalogue import"
    # The success message is shown on the next page.
    messages = messages_of(response)
    assert messages == ["Catalogue imported: 2 offerings saved (1 new, 1 changed)."]


def test_get_shows_the_upload_form_and_the_export_link(vendor_client):
    response = vendor_client.get(IMPORT_URL)

    assert response.status_code == 200
    page = response.content.decode()
    assert 'enctype="multipart/form-data"' in page
    assert 'name="file"' in page
    assert reverse("catalogue-export") in page
    assert "style=" not in page.split("<main", 1)[1]
    assert "<script>" not in page and "<script " not in page.split("<main", 1)[1]


def test_semicolon_delimited_csv_with_bom_and_decimal_comma(personas, sites, vendor_client):
    text = (
        "Category;Capabilities;Price_Min;Price_Max;Currency;Lead time weeks\n"
        'regulatory-affairs;"IND/CTA; ectd-publishing";1500,50;2000;GBP;4\n'
    )
    response = upload(vendor_client, SimpleUploadedFile("cat.csv", "\ufeff".encode() + text.encode()))

    preview = response.context["preview"]
    assert preview.is_valid, preview.error_messages()
    apply(vendor_client)
    offering = ServiceOffering.objects.get(vendor=personas.vendor_x, category__code="regulatory-affairs")
    assert (offering.price_min, offering.price_max, offering.currency) == (Decimal("1500.50"), Decimal("2000"), "GBP")
    assert offering.lead_time_weeks == 4
    assert sorted(offering.capabilities.values_list("slug", flat=True)) == ["ectd-publishing", "ind-cta"]


def test_excel_sep_line_names_the_delimiter(personas, vendor_client):
    preview = upload(vendor_client, csv_file("sep=;\r\ncategory;lead_time_weeks\r\ndata-management;3\r\n")).context[
        "preview"
    ]

    assert preview.is_valid, preview.error_messages()
    assert [row.number for row in preview.rows] == [2]
    assert preview.rows[0].instance.lead_time_weeks == 3


def test_preview_of_an_update_names_the_changed_columns(personas, existing, vendor_client):
    response = upload(
        vendor_client,
        csv_file("category,capabilities,description,lead_time_weeks\nclinical-trials,Phase I,Early phase only.,11\n"),
    )

    row = response.context["preview"].rows[0]
    assert row.changes == ["lead_time_weeks"]
    assert row.diffs == [("lead_time_weeks", "10 wk", "11 wk")]
    assert row.status == "changed"
    page = response.content.decode()
    diff = re.search(r'data-column="lead_time_weeks">(.*?)</li>', page, re.S).group(1)
    assert re.sub(r"\s+|<[^>]+>", " ", diff).split() == [
        "lead_time_weeks",
        ":",
        "was",
        "10",
        "wk",
        "→",
        "now",
        "11",
        "wk",
    ]
    assert page.count('data-testid="catalogue-diff"') == 1  # the unchanged cells are not listed


def test_columns_left_out_keep_their_values(personas, existing, vendor_client):
    upload(vendor_client, csv_file("category,lead_time_weeks\nclinical-trials,14\n"))
    apply(vendor_client)

    existing.refresh_from_db()
    assert existing.lead_time_weeks == 14
    assert existing.description == "Early phase only."
    assert list(existing.capabilities.values_list("slug", flat=True)) == ["phase-i"]
    assert existing.sites.count() == 1


def test_xlsx_works_with_numeric_and_boolean_cells(personas, sites, vendor_client):
    file = xlsx_file(
        [
            ["Category", "Capabilities", "Lead_Time_Weeks", "Price_Min", "Price_Max", "Currency", "Sites", "Active"],
            ["clinical-trials", "Phase III;Oncology", 8, 1500.5, 90000, "USD", "Berlin Office", True],
            [None, None, None, None, None, None, None, None],
            ["project-management", "Vendor oversight", None, None, None, None, None, False],
        ]
    )
    response = upload(vendor_client, file)

    preview = response.context["preview"]
    assert preview.is_valid, preview.error_messages()
    assert [row.number for row in preview.rows] == [2, 4]
    assert apply(vendor_client).status_code == 302
    trials = ServiceOffering.objects.get(vendor=personas.vendor_x, category__code="clinical-trials")
    assert (trials.lead_time_weeks, trials.price_min, trials.price_max) == (8, Decimal("1500.50"), Decimal("90000"))
    assert sorted(trials.capabilities.values_list("slug", flat=True)) == ["oncology", "phase-iii"]
    assert list(trials.sites.all()) == [sites["berlin"]]
    pm = ServiceOffering.objects.get(vendor=personas.vendor_x, category__code="project-management")
    assert pm.is_active is False


def test_xlsx_row_errors_carry_the_spreadsheet_row_number(personas, vendor_client):
    file = xlsx_file(
        [
            ["category", "lead_time_weeks"],
            ["clinical-trials", 4],
            [],
            ["data-management", "two"],
        ]
    )
    response = upload(vendor_client, file)

    preview = response.context["preview"]
    assert not preview.is_valid
    assert [(row.number, row.errors) for row in preview.invalid_rows] == [
        (4, [("lead_time_weeks", "“two” is not a whole number of weeks.")])
    ]


# --- One bad row: shown with row and column; nothing is saved -------------------------------------


BAD_ROWS = [
    pytest.param("clinical-trials,,,,200,100,EUR,,", "price_max", "reversed", id="reversed-price-range"),
    pytest.param("cooking,,,,,,,,", "category", "Unknown category “cooking”", id="unknown-category"),
    pytest.param(
        "data-management,Tablets,,,,,,,", "capabilities", "Not capabilities of Data Management", id="foreign-capability"
    ),
    pytest.param("data-management,no-such-thing,,,,,,,", "capabilities", "Unknown capability", id="unknown-capability"),
    pytest.param(
        "data-management,,,,,,,Y Plant,", "sites", "Not sites of Vendor X: Y Plant", id="site-of-another-vendor"
    ),
    pytest.param("data-management,,,,,,,Atlantis,", "sites", "no site named “Atlantis”", id="unknown-site"),
    pytest.param(
        "finished-dosage-forms,,,,,,,,",
        "category",
        "A CRO cannot offer Finished Dosage Forms",
        id="cmo-category-for-cro",
    ),
    pytest.param("data-management,,,soon,,,,,", "lead_time_weeks", "not a whole number", id="bad-lead-time"),
    pytest.param("data-management,,,-3,,,,,", "lead_time_weeks", "not a whole number", id="negative-lead-time"),
    pytest.param("data-management,,,999,,,,,", "lead_time_weeks", "less than or equal to 520", id="lead-time-too-long"),
    pytest.param("data-management,,,,12k,,EUR,,", "price_min", "not a number", id="bad-price"),
    pytest.param("data-management,,,,NaN,,EUR,,", "price_min", "not a number", id="nan-price"),
    pytest.param("data-management,,,,-5,,EUR,,", "price_min", "greater than or equal to 0", id="negative-price"),
    pytest.param("data-management,,,,1.234,,EUR,,", "price_min", "2 decimal places", id="too-many-decimals"),
    pytest.param("data-management,,,,100,,,,", "currency", "needs a currency", id="price-without-currency"),
    pytest.param("data-management,,,,100,,XYZ,,", "currency", "not a valid choice", id="unknown-currency"),
    pytest.param("data-management,,,,,,,,maybe", "active", "not yes or no", id="bad-active"),
    pytest.param("clinical-trials,,,,,,,,", "category", "already in row 2", id="duplicate-category"),
    pytest.param(",Phase III,,,,,,,", "category", "Required", id="missing-category"),
]


@pytest.mark.parametrize(("bad_row", "column", "message"), BAD_ROWS)
def test_one_bad_row_is_reported_and_nothing_is_applied(
    personas, existing, sites, vendor_client, bad_row, column, message
):
    text = HEADER + "\nclinical-trials,Phase III,Good row,5,,,,,\n" + bad_row + "\n"
    state, history = offering_state(personas.vendor_x), offering_history_count()

    response = upload(vendor_client, csv_file(text))

    assert response.status_code == 200
    preview = response.context["preview"]
    assert not preview.is_valid
    assert preview.rows[0].errors == []
    [bad] = preview.invalid_rows
    assert bad.number == 3
    assert any(error.column == column and message in error.message for error in bad.errors), bad.errors
    page = response.content.decode()
    assert "table-danger" in page and f"<strong>{column}</strong>" in page
    assert "Apply" not in page
    assert SESSION_KEY not in vendor_client.session

    response = apply(vendor_client)

    assert response.status_code == 302 and response["Location"] == IMPORT_URL
    with pytest.raises(ValidationError):
        catalogue_apply(actor=personas.vendor_x_admin, vendor=personas.vendor_x, preview=preview)
    assert offering_state(personas.vendor_x) == state
    assert offering_history_count() == history


def test_all_errors_of_a_row_are_collected(personas, vendor_client):
    text = HEADER + "\ndata-management,Tablets,,soon,300,200,EUR,Atlantis,maybe\n"
    preview = upload(vendor_client, csv_file(text)).context["preview"]

    columns = {error.column for error in preview.rows[0].errors}
    assert columns == {"capabilities", "lead_time_weeks", "price_max", "sites", "active"}


def test_data_changed_between_preview_and_apply_saves_nothing(personas, existing, sites, vendor_client):
    """Apply re-validates inside its transaction: the first (still valid) row is not saved either."""
    upload(vendor_client, csv_file(VALID_CSV))
    sites["berlin"].delete()  # row 3 names it
    state, history = offering_state(personas.vendor_x), offering_history_count()

    response = apply(vendor_client)

    assert response.status_code == 200
    assert response.context["preview"].invalid_rows[0].number == 3
    assert "no site named “Berlin Office”" in response.content.decode()
    assert offering_state(personas.vendor_x) == state
    assert ServiceOffering.objects.filter(vendor=personas.vendor_x).count() == 1
    assert offering_history_count() == history
    assert SESSION_KEY not in vendor_client.session


def test_catalogue_apply_rechecks_inside_the_transaction(personas, existing, sites):
    preview = catalogue_parse(vendor=personas.vendor_x, uploaded_file=csv_file(VALID_CSV))
    assert preview.is_valid
    sites["london"].delete()
    state = offering_state(personas.vendor_x)

    with pytest.raises(ValidationError) as info:
        catalogue_apply(actor=personas.vendor_x_admin, vendor=personas.vendor_x, preview=preview)

    assert "Row 2, sites" in " ".join(info.value.messages)
    assert offering_state(personas.vendor_x) == state


def test_catalogue_apply_checks_the_actor(personas):
    preview = catalogue_parse(vendor=personas.vendor_x, uploaded_file=csv_file("category\ndata-management\n"))

    for actor in (personas.vendor_x_viewer, personas.vendor_y_admin, personas.sponsor_a_admin):
        with pytest.raises(PermissionDenied):
            catalogue_apply(actor=actor, vendor=personas.vendor_x, preview=preview)
    assert not ServiceOffering.objects.exists()


def test_catalogue_apply_refuses_another_vendors_preview(personas, sites):
    preview = catalogue_parse(vendor=personas.vendor_y, uploaded_file=csv_file("category\npackaging\n"))
    assert preview.is_valid

    with pytest.raises(ValidationError):
        catalogue_apply(actor=personas.vendor_x_admin, vendor=personas.vendor_x, preview=preview)
    assert not ServiceOffering.objects.exists()


def test_apply_without_a_stored_preview_goes_back_to_upload(personas, vendor_client):
    response = apply(vendor_client)

    assert response.status_code == 302 and response["Location"] == IMPORT_URL
    assert "no checked catalogue file" in " ".join(messages_of(response))


def test_a_stored_preview_of_another_vendor_is_not_applied(personas):
    y_client = client_for(personas.vendor_y_admin)
    upload(y_client, csv_file("category\npackaging\n"))
    stolen = y_client.session[SESSION_KEY]
    x_client = client_for(personas.vendor_x_admin)
    session = x_client.session
    session[SESSION_KEY] = stolen
    session.save()

    response = apply(x_client)

    assert response.status_code == 302 and response["Location"] == IMPORT_URL
    assert not ServiceOffering.objects.exists()


def test_a_new_upload_discards_the_pending_preview(personas, vendor_client):
    upload(vendor_client, csv_file("category\ndata-management\n"))
    assert SESSION_KEY in vendor_client.session
    upload(vendor_client, csv_file("category\ncooking\n"))

    assert SESSION_KEY not in vendor_client.session
    assert apply(vendor_client)["Location"] == IMPORT_URL
    assert not ServiceOffering.objects.exists()


# --- File-level problems: a clear form error, never a 500 ----------------------------------------


def _too_large() -> SimpleUploadedFile:
    row = "data-management,,," + "x" * 1000 + ",,,,,\n"
    return csv_file(HEADER + "\n" + row * 2200)


def _fake_pdf(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(
        name, b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", content_type="application/pdf"
    )


FILE_ERRORS = [
    pytest.param(
        lambda: csv_file("category,colour,price\nclinical-trials,red,1\n"),
        "Unknown columns: colour, price",
        id="unknown-columns",
    ),
    pytest.param(lambda: csv_file(""), "The submitted file is empty", id="empty-file"),
    pytest.param(lambda: csv_file("\n\n  \n"), "The file is empty", id="blank-lines"),
    pytest.param(lambda: csv_file(HEADER + "\n"), "no data rows", id="header-only"),
    pytest.param(lambda: csv_file("description\nOnly text\n"), "no “category” column", id="no-category-column"),
    pytest.param(lambda: csv_file("category,Category\nx,y\n"), "given twice: category", id="duplicate-column"),
    pytest.param(lambda: csv_file(HEADER + "\n", name="catalogue.txt"), "not a CSV or XLSX file", id="txt"),
    pytest.param(lambda: _fake_pdf("certificate.pdf"), "not a CSV or XLSX file", id="pdf"),
    pytest.param(lambda: _fake_pdf("catalogue.csv"), "is a PDF document", id="pdf-named-csv"),
    pytest.param(lambda: SimpleUploadedFile("old.xls", b"\xd0\xcf\x11\xe0"), "Save the Excel file as .xlsx", id="xls"),
    pytest.param(
        lambda: SimpleUploadedFile("broken.xlsx", b"not a zip at all"), "not a valid Excel workbook", id="broken-xlsx"
    ),
    pytest.param(
        lambda: SimpleUploadedFile("broken.xlsx", b"PK\x03\x04garbage"), "not a valid Excel workbook", id="corrupt-zip"
    ),
    pytest.param(lambda: csv_file("category\nclinical-trials é\n", encoding="latin-1"), "not UTF-8", id="not-utf8"),
    pytest.param(lambda: csv_file("category\n" + "clinical-trials\n" * 501), "more than 500 rows", id="too-many-rows"),
    pytest.param(_too_large, "at most 2 MB", id="too-large"),
]


@pytest.mark.parametrize(("make_file", "message"), FILE_ERRORS)
def test_unusable_files_get_a_clear_form_error(personas, vendor_client, make_file, message):
    response = upload(vendor_client, make_file())

    assert response.status_code == 200
    assert response.context["preview"] is None
    errors = response.context["form"].errors["file"]
    assert any(message in error for error in errors), errors
    assert "invalid-feedback" in response.content.decode()
    assert SESSION_KEY not in vendor_client.session
    assert not ServiceOffering.objects.exists()


def test_upload_without_a_file_is_a_form_error(vendor_client):
    response = vendor_client.post(IMPORT_URL, {})

    assert response.status_code == 200
    assert "file" in response.context["form"].errors


def test_value_in_a_column_without_header_is_a_row_error(vendor_client):
    preview = upload(vendor_client, csv_file("category,description\ndata-management,ok,stray\n")).context["preview"]

    assert preview.rows[0].errors == [("", "A value in column 3 has no header: “stray”.")]


# --- Who may import ------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [IMPORT_URL, EXPORT_URL])
def test_viewer_is_refused_with_403(personas, browser_client_for, url):
    client = browser_client_for(personas.vendor_x_viewer)

    response = client.get(url)

    assert response.status_code == 403
    assert "viewer" in response.content.decode()


def test_viewer_cannot_post_an_upload_or_apply(personas, browser_client_for):
    client = browser_client_for(personas.vendor_x_viewer)

    assert upload(client, csv_file("category\ndata-management\n")).status_code == 403
    assert apply(client).status_code == 403
    assert not ServiceOffering.objects.exists()


@pytest.mark.parametrize("persona", ["sponsor_a_admin", "sponsor_a_viewer"])
@pytest.mark.parametrize("url", [IMPORT_URL, EXPORT_URL])
def test_sponsors_get_404(personas, browser_client_for, persona, url):
    client = browser_client_for(getattr(personas, persona))

    assert client.get(url).status_code == 404
    assert client.post(url, {"file": csv_file("category\ndata-management\n")}).status_code in (404, 405)
    assert not ServiceOffering.objects.exists()


def test_platform_staff_without_a_vendor_get_404(personas, browser_client_for):
    client = browser_client_for(personas.staff)
    response = client.get(IMPORT_URL)
    assert response.status_code == 404
    page = response.content.decode()
    assert "Page not found" in page and 'type="file"' not in page  # the 404 page, no upload form
    assert client.post(IMPORT_URL, {"file": csv_file("category\ndata-management\n")}).status_code == 404
    assert not ServiceOffering.objects.exists()


@pytest.mark.parametrize("url", [IMPORT_URL, EXPORT_URL])
def test_anonymous_is_sent_to_login(client, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_a_vendor_imports_into_its_own_catalogue_only(personas, sites, browser_client_for):
    client = browser_client_for(personas.vendor_y_admin)
    upload(client, csv_file("category,capabilities\npackaging,Vials\n"))
    apply(client)

    assert ServiceOffering.objects.get().vendor == personas.vendor_y
    assert not ServiceOffering.objects.filter(vendor=personas.vendor_x).exists()


# --- Export, and the round trip ------------------------------------------------------------------


def test_export_is_a_csv_with_header_and_one_row_per_offering(personas, existing, sites, vendor_client):
    ServiceOffering.objects.create(
        vendor=personas.vendor_x,
        category=ServiceCategory.objects.get(code="regulatory-affairs"),
        description='=HYPERLINK("http://evil")',
        price_min=Decimal("10.00"),
        price_max=Decimal("20.00"),
        currency="EUR",
        is_active=False,
    )
    ServiceOffering.objects.create(vendor=personas.vendor_y, category=ServiceCategory.objects.get(code="packaging"))

    response = vendor_client.get(EXPORT_URL)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == 'attachment; filename="vendor-x-catalogue.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == list(COLUMNS)
    assert rows[1:] == [
        ["clinical-trials", "Phase I", "Early phase only.", "10", "", "", "", "Berlin Office", "yes"],
        ["regulatory-affairs", "", '\'=HYPERLINK("http://evil")', "", "10.00", "20.00", "EUR", "", "no"],
    ]


def test_reimporting_the_export_changes_nothing(personas, existing, sites, vendor_client):
    upload(vendor_client, csv_file(VALID_CSV))
    apply(vendor_client)
    ServiceOffering.objects.create(
        vendor=personas.vendor_x,
        category=ServiceCategory.objects.get(code="regulatory-affairs"),
        description="-- formula-looking text\nwith a second line",
        is_active=False,
    )
    state, history = offering_state(personas.vendor_x), offering_history_count()
    exported = vendor_client.get(EXPORT_URL).content

    response = upload(vendor_client, SimpleUploadedFile("vendor-x-catalogue.csv", exported))

    preview = response.context["preview"]
    assert preview.is_valid, preview.error_messages()
    assert [row.action for row in preview.rows] == ["update", "update", "update"]
    assert [row.changes for row in preview.rows] == [[], [], []]
    assert [row.status for row in preview.rows] == ["unchanged"] * 3
    assert preview.counts == {"new": 0, "changed": 0, "unchanged": 3, "error": 0}
    page = response.content.decode()
    assert 'data-testid="catalogue-nothing"' in page and 'data-testid="catalogue-apply"' not in page
    # Applying anyway (a stale form) saves nothing and says so.
    response = apply(vendor_client)
    assert response.status_code == 302
    assert messages_of(response) == [
        "Catalogue imported: 0 offerings saved (0 new, 0 changed); 3 unchanged rows left as they were."
    ]
    assert offering_state(personas.vendor_x) == state
    assert offering_history_count() == history


def test_export_of_an_empty_catalogue_is_a_header_only_template(personas, vendor_client):
    response = vendor_client.get(EXPORT_URL)

    assert response.content.decode("utf-8-sig").splitlines() == [",".join(COLUMNS)]


# --- The directory sees the import at once -------------------------------------------------------


def test_directory_lists_the_vendor_under_an_imported_capability(personas, vendor_client):
    upload(vendor_client, csv_file("category,capabilities\nclinical-trials,Phase III\n"))
    sponsor = client_for(personas.sponsor_a_admin)
    assert "Vendor X" not in sponsor.get("/vendors/?capability=phase-iii").content.decode()

    apply(vendor_client)

    response = sponsor.get("/vendors/?capability=phase-iii")
    assert response.status_code == 200
    assert "Vendor X" in response.content.decode()
    assert "Vendor Y" not in response.content.decode()


# --- Bounded work: bytes, rows, columns and unpacked size are checked before the rows are kept ----------


def _xlsx_bytes(cells: dict[str, object]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for ref, value in cells.items():
        sheet[ref] = value
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _rewrite_zip(data: bytes, change) -> bytes:
    """A copy of a zip with ``change(name, content) -> content`` applied to each member (and extra members)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info.filename, change(info.filename, source.read(info.filename)))
    return out.getvalue()


def _timed_upload(client, file) -> tuple[object, float]:
    started = time.perf_counter()
    response = upload(client, file)
    return response, time.perf_counter() - started


def file_errors(response) -> list[str]:
    assert response.status_code == 200
    assert response.context["preview"] is None
    return response.context["form"].errors["file"]


def test_a_header_that_made_the_sniffer_quadratic_is_read_in_linear_time(vendor_client):
    # 64 KB of ,"  — csv.Sniffer took 4.7 s at 32 KB and four times that at 64 KB.
    response, seconds = _timed_upload(vendor_client, csv_file(',"' * 32_768 + "\nx\n"))
    assert seconds < 3
    assert response.status_code == 200
    assert response.context["preview"] is None  # a clear file error (no usable header), not a hung worker


def test_delimiter_comes_from_the_header_line_only(personas, vendor_client):
    text = "category;description\ndata-management;EDC, stats, and more, with, commas\n"
    preview = upload(vendor_client, csv_file(text)).context["preview"]
    assert preview.is_valid
    assert preview.rows[0].instance.description == "EDC, stats, and more, with, commas"


def test_tab_delimited_csv(personas, vendor_client):
    preview = upload(vendor_client, csv_file("category\tlead_time_weeks\ndata-management\t4\n")).context["preview"]
    assert preview.is_valid
    assert preview.rows[0].instance.lead_time_weeks == 4


def test_xlsx_with_one_cell_a_million_rows_down_is_refused_before_reading_rows(vendor_client):
    data = _xlsx_bytes({"A1": "category", "A2": "data-management", "A1048576": "x"})
    assert len(data) < 10_000
    response, seconds = _timed_upload(vendor_client, SimpleUploadedFile("far.xlsx", data))
    assert seconds < 3
    assert any("used range runs to row 1,048,576" in error for error in file_errors(response))


def test_xlsx_that_hides_its_size_is_stopped_by_the_row_loop(vendor_client):
    """Without a <dimension> element the declared size is unknown: the row loop stops at the limit itself."""
    data = _xlsx_bytes({"A1": "category", "A2": "data-management", "A1048576": "x"})
    without_dimension = _rewrite_zip(
        data, lambda name, content: re.sub(rb"<dimension [^>]*/>", b"", content) if "worksheets/" in name else content
    )
    response, seconds = _timed_upload(vendor_client, SimpleUploadedFile("far.xlsx", without_dimension))
    assert seconds < 3
    assert any("runs past line 1,001" in error for error in file_errors(response))


def test_xlsx_wider_than_the_column_limit_is_refused(vendor_client):
    data = _xlsx_bytes({"A1": "category", "A2": "data-management", "AZ2": "x"})
    assert any(
        "52 columns wide" in error for error in file_errors(upload(vendor_client, SimpleUploadedFile("w.xlsx", data)))
    )


def test_xlsx_zip_bomb_is_refused_by_its_unpacked_size(vendor_client):
    data = _xlsx_bytes({"A1": "category", "A2": "data-management"})
    bomb = _rewrite_zip(
        data, lambda name, content: content + b" " * (25 * 1024 * 1024) if name == "xl/theme/theme1.xml" else content
    )
    assert len(bomb) < MAX_BYTES
    response, seconds = _timed_upload(vendor_client, SimpleUploadedFile("bomb.xlsx", bomb))
    assert seconds < 3
    assert any("unpacks to more than 20 MB" in error for error in file_errors(response))


def test_a_million_empty_lines_stop_at_the_line_limit(vendor_client):
    text = "category\ndata-management\n" + "\n" * 1_500_000
    response, seconds = _timed_upload(vendor_client, csv_file(text))
    assert seconds < 3
    assert any("runs past line 1,001" in error for error in file_errors(response))


def test_a_csv_row_with_too_many_values_is_refused(vendor_client):
    row = "data-management" + ",x" * 40
    assert any(
        "values in 41 columns" in error for error in file_errors(upload(vendor_client, csv_file(f"category\n{row}\n")))
    )


def test_empty_cells_padding_a_row_do_not_count_as_columns(personas, vendor_client):
    text = "category" + "," * 60 + "\ndata-management" + "," * 60 + "\n"
    assert upload(vendor_client, csv_file(text)).context["preview"].is_valid


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("price_min", "1e400", "“1e400” is not a number"),
        ("price_min", "9" * 5000, "is too large: at most 14 digits before the decimal point"),
        ("price_max", "1" + "0" * 14, "is too large"),
        ("price_min", "NaN", "is not a number"),
        ("price_min", "Infinity", "is not a number"),
        ("price_min", "٣", "is not a number"),
        ("price_min", "0." + "1" * 5000, "has too many digits"),
        ("lead_time_weeks", "9" * 5000, "is not a whole number of weeks"),
        ("lead_time_weeks", "²", "is not a whole number of weeks"),
    ],
)
def test_numbers_out_of_any_range_are_row_errors(personas, vendor_client, column, value, message):
    text = f"category,{column},currency\ndata-management,{value},EUR\n"
    preview = upload(vendor_client, csv_file(text)).context["preview"]
    assert not preview.is_valid
    errors = [error for error in preview.rows[0].errors if error.column == column]
    assert errors and message in errors[0].message, preview.rows[0].errors
    assert len(errors[0].message) < 150  # the value is shortened in the message, never echoed whole


def test_largest_price_the_column_holds_is_accepted(personas, vendor_client):
    text = "category,price_min,price_max,currency\ndata-management,0,99999999999999.99,EUR\n"
    preview = upload(vendor_client, csv_file(text)).context["preview"]
    assert preview.is_valid, preview.error_messages()
    assert preview.rows[0].instance.price_max == Decimal("99999999999999.99")


def test_description_over_the_model_cap_is_a_row_error(personas, vendor_client):
    text = "category,description\ndata-management," + "x" * 5001 + "\n"
    preview = upload(vendor_client, csv_file(text)).context["preview"]
    assert preview.rows[0].errors == [("description", "Ensure this value has at most 5000 characters (it has 5001).")]


def test_the_form_states_the_limits(vendor_client):
    page = vendor_client.get(IMPORT_URL).content.decode()
    assert f"CSV or XLSX, at most 2 MB, {MAX_ROWS} rows and {MAX_COLUMNS} columns" in page
    assert f"at most\n          2 MB, {MAX_ROWS} rows and {MAX_COLUMNS} columns" in page
