"""Documents: the upload check (type by content, size, active PDFs, Office macros, zip bombs), versions by
title with their SHA-256, the history entry, who may upload what and when, sealed proposals' files, the
download headers, the browser form's messages and the ``documents`` API."""

import hashlib
import io
import zipfile
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from audit.models import HistoryEntry
from contracts import services
from contracts.models import RFP, Document
from contracts.services.documents import (
    ADDENDUM_EVENT,
    CONTRACT_DOCUMENTS_CLOSED,
    DOCUMENT_FILE_REQUIRED,
    DOCUMENT_TITLE_REQUIRED,
    NOT_CONTRACT_PARTY,
    RFP_DOCUMENTS_CLOSED,
    document_upload,
)
from cro_cmo import uploads
from cro_cmo.services import TransitionError
from notifications.models import OutboxEvent
from tests.factories import ContractFactory, MilestoneFactory

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
ACTIVE_PDF = (
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >> endobj\n%%EOF\n"
)
EXE = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
    + b"\x00" * 64
    + b"This program cannot be run in DOS mode."
)
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
WORD_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
EXCEL_MACRO_MAIN = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
WORD_MACRO_MAIN = "application/vnd.ms-word.document.macroEnabled.main+xml"


def ooxml(main_type: str, main_part: str = "word/document.xml", extra: dict | None = None) -> bytes:
    """A minimal Office Open XML package: [Content_Types].xml declaring the main part, and that part."""
    types = (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        'content-types"><Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/{main_part}" ContentType="{main_type}"/></Types>'
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", types)
        archive.writestr(main_part, "<document>Scope of work</document>")
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


def refusal(name: str, data: bytes) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        uploads.document_check(upload(name, data))
    return caught.value.messages


# --- The content check -------------------------------------------------------------------------------------


def test_each_accepted_type_is_recognised_by_content_with_a_fitting_name():
    found = {
        name: (checked.content_type, checked.filename)
        for name, data in [
            ("scope.pdf", PDF), ("scope.docx", ooxml(WORD_MAIN)),
            ("prices.xlsx", ooxml("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                                  "xl/workbook.xml")),
            ("deck.pptx", ooxml("application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
                                "ppt/presentation.xml")),
            ("site.png", PNG), ("site.jpeg", JPEG), ("budget.csv", "Item;Price\nVials;1 200 €\n".encode()),
            ("notes", "Plain notes, UTF-8: déjà vu\n".encode()), ("scan.bin", PNG),
        ]
        for checked in [uploads.document_check(upload(name, data))]
    }  # fmt: skip
    assert found == {
        "scope.pdf": (uploads.PDF, "scope.pdf"),
        "scope.docx": (uploads.DOCX, "scope.docx"),
        "prices.xlsx": (uploads.XLSX, "prices.xlsx"),
        "deck.pptx": (uploads.PPTX, "deck.pptx"),
        "site.png": (uploads.PNG, "site.png"),
        "site.jpeg": (uploads.JPEG, "site.jpeg"),
        "budget.csv": (uploads.CSV, "budget.csv"),
        "notes": (uploads.TEXT, "notes.txt"),
        "scan.bin": (uploads.PNG, "scan.bin.png"),  # the content decides; the name gets a fitting extension
    }


def test_a_program_renamed_pdf_is_refused_naming_what_is_accepted():
    assert refusal("invoice.pdf", EXE) == [uploads.TYPE_REFUSED]
    assert "a PDF, a Word, Excel or PowerPoint document (.docx, .xlsx, .pptx)" in uploads.TYPE_REFUSED


def test_a_pdf_with_javascript_is_refused_saying_what_it_runs():
    (message,) = refusal("scope.pdf", ACTIVE_PDF)
    assert message == uploads.PDF_ACTIVE.format(found="JavaScript, an action run on opening")


@pytest.mark.parametrize(
    "name,data",
    [
        ("scope.docm", ooxml(WORD_MACRO_MAIN, extra={"word/vbaProject.bin": b"\xd0\xcf\x11\xe0macro"})),
        ("prices.xlsm", ooxml(EXCEL_MACRO_MAIN, "xl/workbook.xml")),  # the content type alone says so
        ("renamed.docx", ooxml(WORD_MAIN, extra={"word/vbaProject.bin": b"\xd0\xcf\x11\xe0macro"})),
    ],
)
def test_macro_enabled_office_documents_are_refused(name, data):
    assert refusal(name, data) == [uploads.OFFICE_MACROS]


def test_a_zip_bomb_is_refused_before_any_member_is_unpacked():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml", f'<Types><Override PartName="/word/document.xml" ContentType="{WORD_MAIN}"/></Types>'
        )
        archive.writestr("word/document.xml", b"\x00" * (20 * 1024 * 1024))  # 20 MB of zeros: ~20 KB zipped
    data = buffer.getvalue()
    assert len(data) < 100 * 1024
    assert refusal("bomb.docx", data) == [uploads.ZIP_TOO_LARGE]


def test_zips_that_are_not_office_documents_are_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("payload.exe", EXE)
    assert refusal("archive.docx", buffer.getvalue()) == [uploads.TYPE_REFUSED]
    assert refusal("broken.docx", b"PK\x03\x04" + b"garbage" * 10) == [uploads.OFFICE_BROKEN]
    # Declares a main part it does not contain.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "[Content_Types].xml", f'<Types><Override PartName="/word/document.xml" ContentType="{WORD_MAIN}"/></Types>'
        )
    assert refusal("hollow.docx", buffer.getvalue()) == [uploads.OFFICE_BROKEN]


def test_an_empty_file_an_oversize_file_and_non_utf8_text_are_refused(settings):
    assert refusal("empty.pdf", b"") == [uploads.FILE_EMPTY]
    settings.DOCUMENT_MAX_BYTES = 1024 * 1024
    assert refusal("big.txt", b"a" * (1024 * 1024 + 512 * 1024)) == [
        "The file is 1.5 MB; documents may be at most 1 MB."
    ]
    assert refusal("latin1.csv", "Prix;Qté\n".encode("latin-1")) == [uploads.TEXT_NOT_UTF8]


def test_the_default_size_limit_is_25_mb(settings):
    del settings.DOCUMENT_MAX_BYTES
    assert uploads.document_max_bytes() == 25 * 1024 * 1024


@pytest.mark.parametrize(
    "name,content_type,expected",
    [
        ("../../etc/passwd", uploads.TEXT, "passwd.txt"),
        ("C:\\Users\\ann\\Scope v2.PDF", uploads.PDF, "Scope v2.pdf"),
        ("\u202eevil\u202cfdp.exe", uploads.PDF, "evilfdp.exe.pdf"),  # no right-to-left override tricks
        ('a<b>:"c"|?*.csv', uploads.CSV, "a_b___c____.csv"),
        ("...", uploads.PNG, "document.png"),
        ("x" * 300 + ".pdf", uploads.PDF, "x" * 116 + ".pdf"),
    ],
)
def test_download_names_are_safe(name, content_type, expected):
    assert uploads.safe_filename(name, content_type) == expected


# --- Versions, hash, history --------------------------------------------------------------------------------


def test_the_same_title_adds_a_version_with_its_own_hash_and_history(world):
    rfp, alice = world["rfp_a"], world["sponsor_a_admin"]
    second = PDF.replace(b"Catalog", b"Catalog /Lang (en)")
    v2 = document_upload(actor=alice, target=rfp, title="RFP attachment QZDR", file=upload("scope-v2.pdf", second))
    other = document_upload(actor=alice, target=rfp, title="Annex B", file=upload("annex.csv", b"a,b\n1,2\n"))
    assert (v2.version, other.version) == (2, 1)
    assert (v2.sha256, v2.size) == (hashlib.sha256(second).hexdigest(), len(second))
    with v2.file.open("rb") as stored:
        assert stored.read() == second
    assert (other.content_type, other.filename, other.uploaded_by) == (uploads.CSV, "annex.csv", alice)
    assert list(rfp.documents.order_by("title", "-version").values_list("title", "version")) == [
        ("Annex B", 1), ("RFP attachment QZDR", 2), ("RFP attachment QZDR", 1)
    ]  # fmt: skip
    entry = HistoryEntry.objects.for_object(rfp).filter(changes__has_key="document").order_by("id")[1]
    assert entry.action == "changed" and entry.actor == alice
    assert entry.changes["document"] == [
        "RFP attachment QZDR v1",
        f"RFP attachment QZDR v2: scope-v2.pdf (SHA-256 {v2.sha256[:12]}…)",
    ]
    assert entry.reason == "Document uploaded: RFP attachment QZDR, version 2."


def test_an_addendum_to_a_published_rfp_tells_the_invitees_without_the_ceiling(world):
    before = OutboxEvent.objects.filter(event_type=ADDENDUM_EVENT).count()
    document_upload(
        actor=world["sponsor_a_admin"], target=world["rfp_a"], title="Addendum 1", file=upload("a.pdf", PDF)
    )
    (event,) = OutboxEvent.objects.filter(event_type=ADDENDUM_EVENT)[before:]
    assert (event.vendor, event.sponsor) == (world["vendor_x"], None)
    assert event.title == "RFP addendum: Alpha RFP QZRA"
    assert "“Addendum 1” (version 1)" in event.body
    assert "424242" not in f"{event.title} {event.body} {event.payload}"
    # A draft's attachments are no addendum: nobody has been sent the RFP yet.
    document_upload(
        actor=world["sponsor_a_admin"], target=world["rfp_a_draft"], title="Scope", file=upload("s.pdf", PDF)
    )
    assert OutboxEvent.objects.filter(event_type=ADDENDUM_EVENT).count() == before + 1


def test_a_missing_title_or_file_is_a_field_error(world):
    with pytest.raises(ValidationError) as caught:
        document_upload(actor=world["sponsor_a_admin"], target=world["rfp_a"], title="  ", file=None)
    assert caught.value.message_dict == {"title": [DOCUMENT_TITLE_REQUIRED], "file": [DOCUMENT_FILE_REQUIRED]}


def test_a_refused_file_leaves_nothing_behind(world):
    rfp = world["rfp_a"]
    count = rfp.documents.count()
    with pytest.raises(ValidationError) as caught:
        document_upload(actor=world["sponsor_a_admin"], target=rfp, title="Malware", file=upload("x.pdf", EXE))
    assert caught.value.message_dict == {"file": [uploads.TYPE_REFUSED]}
    assert rfp.documents.count() == count


# --- Who may upload what, and when ---------------------------------------------------------------------------


def test_the_vendor_cannot_add_files_after_the_deadline(world):
    RFP.objects.filter(pk=world["rfp_a"].pk).update(response_deadline=timezone.now() - timedelta(minutes=1))
    proposal = world["proposal_a_x"]
    proposal.refresh_from_db()
    with pytest.raises(TransitionError) as caught:
        document_upload(actor=world["vendor_x_admin"], target=proposal, title="Late", file=upload("l.pdf", PDF))
    assert str(caught.value) == services.DEADLINE_PASSED


def test_the_sponsor_cannot_attach_files_to_a_closed_rfp(world):
    rfp = services.rfp_close(actor=world["sponsor_a_admin"], rfp=world["rfp_a"])
    with pytest.raises(TransitionError) as caught:
        document_upload(actor=world["sponsor_a_admin"], target=rfp, title="Late", file=upload("l.pdf", PDF))
    assert str(caught.value) == RFP_DOCUMENTS_CLOSED


def test_each_side_uploads_only_to_its_own_records(world):
    attempts = [
        (world["vendor_x_admin"], world["rfp_a"], services.NOT_SPONSOR_MEMBER),
        (world["sponsor_a_viewer"], world["rfp_a"], services.NOT_SPONSOR_MEMBER),
        (world["sponsor_b_admin"], world["rfp_a"], services.NOT_SPONSOR_MEMBER),
        (world["sponsor_a_admin"], world["proposal_a_x"], services.NOT_VENDOR_MEMBER),
        (world["vendor_x_viewer"], world["proposal_a_x"], services.NOT_VENDOR_MEMBER),
        (world["vendor_y_admin"], world["proposal_a_x"], services.NOT_VENDOR_MEMBER),
    ]
    refused = []
    for actor, target, _ in attempts:
        with pytest.raises(PermissionDenied) as caught:
            document_upload(actor=actor, target=target, title="Nope", file=upload("n.pdf", PDF))
        refused.append(str(caught.value))
    assert refused == [message for _, _, message in attempts]


def test_both_parties_add_documents_to_a_contract_until_it_is_completed(world):
    contract = ContractFactory(sponsor=world["sponsor_a"], vendor=world["vendor_x"], state="active")
    milestone = MilestoneFactory(contract=contract)
    by_sponsor = document_upload(
        actor=world["sponsor_a_admin"], target=contract, title="Signed MSA", file=upload("m.pdf", PDF)
    )
    by_vendor = document_upload(
        actor=world["vendor_x_admin"], target=milestone, title="Report", file=upload("r.pdf", PDF)
    )
    assert (by_sponsor.contract, by_vendor.milestone) == (contract, milestone)
    with pytest.raises(PermissionDenied) as caught:
        document_upload(actor=world["vendor_y_admin"], target=contract, title="X", file=upload("x.pdf", PDF))
    assert str(caught.value) == NOT_CONTRACT_PARTY
    contract.state = "completed"
    contract.save()
    with pytest.raises(TransitionError) as caught:
        document_upload(actor=world["vendor_x_admin"], target=milestone, title="Late", file=upload("l.pdf", PDF))
    assert str(caught.value) == CONTRACT_DOCUMENTS_CLOSED.format(state="completed")


def test_a_sealed_proposals_files_open_to_the_sponsor_only_when_the_rfp_closes(
    world, api_client_for, browser_client_for
):
    document = world["document_proposal_a_x"]
    sponsor_api, sponsor_browser = (
        api_client_for(world["sponsor_a_admin"]),
        browser_client_for(world["sponsor_a_admin"]),
    )

    def sourcing_titles():  # the world's files on the RFP and the proposal (not those on A–X's contract)
        listed = sponsor_api.get("/api/v1/documents/").json()["results"]
        return sorted(row["title"] for row in listed if row["rfp"] or row["proposal"])

    assert sourcing_titles() == ["RFP attachment QZDR"]
    assert sponsor_api.get(f"/api/v1/documents/{document.pk}/download/").status_code == 404
    assert sponsor_browser.get(reverse("document-download", args=[document.pk])).status_code == 404

    services.rfp_close(actor=world["sponsor_a_admin"], rfp=world["rfp_a"])
    assert sourcing_titles() == ["Proposal file QZDP", "RFP attachment QZDR"]
    opened = sponsor_browser.get(reverse("document-download", args=[document.pk]))
    assert opened.status_code == 200
    assert hashlib.sha256(b"".join(opened.streaming_content)).hexdigest() == document.sha256


# --- Browser: panel, upload form, download -------------------------------------------------------------------


def test_the_download_is_an_attachment_of_the_detected_type_without_sniffing(world, browser_client_for):
    document = world["document_rfp_a"]
    response = browser_client_for(world["vendor_x_viewer"]).get(reverse("document-download", args=[document.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="scope.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"
    body = b"".join(response.streaming_content)
    assert hashlib.sha256(body).hexdigest() == document.sha256
    text = document_upload(
        actor=world["sponsor_a_admin"], target=world["rfp_a"], title="Notes", file=upload("n.txt", b"hi\n")
    )
    assert (
        browser_client_for(world["vendor_x_admin"]).get(reverse("document-download", args=[text.pk]))["Content-Type"]
        == "text/plain; charset=utf-8"
    )


def test_vendor_y_gets_404_for_the_documents_and_their_uploads(world, browser_client_for, api_client_for):
    browser, api = browser_client_for(world["vendor_y_admin"]), api_client_for(world["vendor_y_admin"])
    statuses = [
        browser.get(reverse("document-download", args=[world["document_rfp_a"].pk])).status_code,
        browser.get(reverse("document-download", args=[world["document_proposal_a_x"].pk])).status_code,
        browser.post(reverse("document-upload-proposal", args=[world["proposal_a_x"].pk]),
                     {"title": "Mine", "file": upload("m.pdf", PDF)}).status_code,
        browser.post(reverse("document-upload-rfp", args=[world["rfp_a"].pk]),
                     {"title": "Mine", "file": upload("m.pdf", PDF)}).status_code,
        api.get(f"/api/v1/documents/{world['document_rfp_a'].pk}/").status_code,
        api.get(f"/api/v1/documents/{world['document_rfp_a'].pk}/download/").status_code,
    ]  # fmt: skip
    assert statuses == [404] * 6
    assert api.get("/api/v1/documents/").json()["results"] == []
    refused = api.post("/api/v1/documents/", {"proposal": world["proposal_a_x"].pk, "title": "Mine",
                                              "file": upload("m.pdf", PDF)}, format="multipart")  # fmt: skip
    assert refused.status_code == 400 and "proposal" in refused.json()
    assert not Document.objects.filter(title="Mine").exists()


def _post_upload(client, url, **data):
    response = client.post(url, data, follow=True)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize(
    "title,file,message",
    [
        ("Big", ("big.pdf", PDF + b"%" * (2 * 1024 * 1024)), "The file is 2.0 MB; documents may be at most 1 MB."),
        ("Exe", ("setup.pdf", EXE), uploads.TYPE_REFUSED),
        ("Active", ("active.pdf", ACTIVE_PDF), uploads.PDF_ACTIVE.format(found="JavaScript, an action run on opening")),
        ("Macro", ("m.xlsm", ooxml(EXCEL_MACRO_MAIN, "xl/workbook.xml")), uploads.OFFICE_MACROS),
        ("Empty", ("empty.pdf", b""), uploads.FILE_EMPTY),
        ("", ("scope.pdf", PDF), DOCUMENT_TITLE_REQUIRED),
        ("No file", None, DOCUMENT_FILE_REQUIRED),
    ],
)
def test_the_upload_form_says_what_is_wrong_on_the_rfp_page(world, browser_client_for, settings, title, file, message):
    settings.DOCUMENT_MAX_BYTES = 1024 * 1024
    rfp = world["rfp_a"]
    count = Document.objects.count()
    data = {"title": title}
    if file is not None:
        data["file"] = upload(*file)
    html = _post_upload(
        browser_client_for(world["sponsor_a_admin"]), reverse("document-upload-rfp", args=[rfp.pk]), **data
    )
    assert escape("The document was not uploaded: " + message) in html
    assert Document.objects.count() == count


def test_the_panel_lists_versions_and_offers_the_form_to_those_who_may_upload(world, browser_client_for):
    rfp, alice = world["rfp_a"], world["sponsor_a_admin"]
    html = _post_upload(browser_client_for(alice), reverse("document-upload-rfp", args=[rfp.pk]),
                        title="RFP attachment QZDR", file=upload("scope-v2.pdf", PDF + b"% v2\n"))  # fmt: skip
    assert escape("“RFP attachment QZDR” uploaded as version 2.") in html
    v1, v2 = rfp.documents.filter(title="RFP attachment QZDR").order_by("version")
    assert 'data-testid="document-upload"' in html and '<option value="RFP attachment QZDR">' in html
    assert f'<code class="sha256" title="SHA-256 {v2.sha256}">{v2.sha256}</code>' in html
    assert "1 earlier version" in html and reverse("document-download", args=[v1.pk]) in html
    # The invited vendor reads the attachments on the same page, without a form.
    vendor_html = browser_client_for(world["vendor_x_admin"]).get(rfp.get_absolute_url()).content.decode()
    assert "scope-v2.pdf" in vendor_html and reverse("document-download", args=[v2.pk]) in vendor_html
    assert 'data-testid="document-upload"' not in vendor_html
    # The vendor's proposal page: its file and its form; after the deadline, why not.
    proposal_url = reverse("proposal-edit", args=[world["proposal_a_x"].pk])
    proposal_html = browser_client_for(world["vendor_x_admin"]).get(proposal_url).content.decode()
    assert "offer.pdf" in proposal_html and 'data-testid="document-upload"' in proposal_html
    RFP.objects.filter(pk=rfp.pk).update(response_deadline=timezone.now() - timedelta(minutes=1))
    late_html = browser_client_for(world["vendor_x_admin"]).get(proposal_url).content.decode()
    assert 'data-testid="document-upload"' not in late_html and escape(services.DEADLINE_PASSED) in late_html


def test_a_milestones_panel_has_its_own_anchor_and_heading(world, browser_client_for, rf):
    from django.template import Context, Template

    contract = ContractFactory(sponsor=world["sponsor_a"], vendor=world["vendor_x"], state="active")
    milestone = MilestoneFactory(contract=contract, name="Batch 1 released")
    client = browser_client_for(world["vendor_x_admin"])
    response = client.post(reverse("document-upload-milestone", args=[milestone.pk]),
                           {"title": "Certificate of analysis", "file": upload("coa.pdf", PDF)})  # fmt: skip
    assert response.status_code == 302 and response["Location"].endswith(f"#documents-milestone-{milestone.pk}")
    assert milestone.documents.get().title == "Certificate of analysis"
    request = rf.get("/")
    request.user = world["vendor_x_admin"]
    html = Template("{% load documents %}{% documents_panel milestone %}").render(
        Context({"request": request, "milestone": milestone})
    )
    assert f'id="documents-milestone-{milestone.pk}"' in html and "Documents: Batch 1 released" in html
    assert "coa.pdf" in html and 'data-testid="document-upload"' in html


def test_viewers_get_403_on_the_upload(world, browser_client_for):
    response = browser_client_for(world["sponsor_a_viewer"]).post(
        reverse("document-upload-rfp", args=[world["rfp_a"].pk]), {"title": "x", "file": upload("x.pdf", PDF)}
    )
    assert response.status_code == 403
    assert not Document.objects.filter(title="x").exists()


# --- API ----------------------------------------------------------------------------------------------------


def test_the_api_uploads_lists_filters_and_downloads(world, api_client_for):
    client, rfp = api_client_for(world["sponsor_a_admin"]), world["rfp_a"]
    created = client.post(
        "/api/v1/documents/", {"rfp": rfp.pk, "title": "RFP attachment QZDR", "file": upload("v2.pdf", PDF)},
        format="multipart",
    )  # fmt: skip
    assert created.status_code == 201, created.json()
    body = created.json()
    assert {k: body[k] for k in ("rfp", "proposal", "title", "version", "filename", "content_type", "size", "sha256")} == {
        "rfp": rfp.pk, "proposal": None, "title": "RFP attachment QZDR", "version": 2, "filename": "v2.pdf",
        "content_type": "application/pdf", "size": len(PDF), "sha256": hashlib.sha256(PDF).hexdigest(),
    }  # fmt: skip
    assert body["uploaded_by"] == (world["sponsor_a_admin"].get_full_name() or world["sponsor_a_admin"].email)
    assert body["download"] == f"http://testserver/api/v1/documents/{body['id']}/download/"
    listed = client.get(f"/api/v1/documents/?rfp={rfp.pk}&ordering=-version").json()["results"]
    assert [(row["title"], row["version"]) for row in listed] == [
        ("RFP attachment QZDR", 2),
        ("RFP attachment QZDR", 1),
    ]
    assert client.get(f"/api/v1/documents/?rfp={world['rfp_a_draft'].pk}").json()["results"] == []
    later = client.get("/api/v1/documents/", {"updated_after": body["created"]}).json()["results"]
    assert [row["id"] for row in later] == [body["id"]]
    download = client.get(f"/api/v1/documents/{body['id']}/download/", HTTP_ACCEPT="application/pdf")
    assert (download.status_code, download["Content-Type"]) == (200, "application/pdf")
    assert b"".join(download.streaming_content) == PDF
    assert download["Content-Disposition"] == 'attachment; filename="v2.pdf"'


def test_documents_are_immutable_in_the_api(world, api_client_for):
    client, document = api_client_for(world["sponsor_a_admin"]), world["document_rfp_a"]
    url = f"/api/v1/documents/{document.pk}/"
    answers = [client.put(url, {"title": "x"}, format="json"), client.patch(url, {"title": "x"}, format="json"),
               client.delete(url)]  # fmt: skip
    assert [a.status_code for a in answers] == [405, 405, 405]
    document.refresh_from_db()
    assert (document.title, document.version) == ("RFP attachment QZDR", 1)


def test_the_api_refuses_a_bad_upload_with_a_field_message(world, api_client_for):
    client = api_client_for(world["vendor_x_admin"])
    proposal = world["proposal_a_x"].pk
    no_target = client.post("/api/v1/documents/", {"title": "t", "file": upload("a.pdf", PDF)}, format="multipart")
    two = client.post("/api/v1/documents/", {"rfp": world["rfp_a"].pk, "proposal": proposal, "title": "t",
                                             "file": upload("a.pdf", PDF)}, format="multipart")  # fmt: skip
    bad = client.post("/api/v1/documents/", {"proposal": proposal, "title": "t", "file": upload("a.pdf", ACTIVE_PDF)},
                      format="multipart")  # fmt: skip
    on_rfp = client.post("/api/v1/documents/", {"rfp": world["rfp_a"].pk, "title": "t", "file": upload("a.pdf", PDF)},
                         format="multipart")  # fmt: skip
    as_json = client.post("/api/v1/documents/", {"proposal": proposal, "title": "t"}, format="json")
    from contracts.api_documents import ONE_TARGET

    assert (no_target.status_code, no_target.json()) == (400, {"non_field_errors": [ONE_TARGET]})
    assert (two.status_code, two.json()) == (400, {"non_field_errors": [ONE_TARGET]})
    assert (bad.status_code, bad.json()) == (
        400, {"file": [uploads.PDF_ACTIVE.format(found="JavaScript, an action run on opening")]}
    )  # fmt: skip
    assert (on_rfp.status_code, on_rfp.json()) == (403, {"detail": services.NOT_SPONSOR_MEMBER})
    assert as_json.status_code == 415
    assert not Document.objects.filter(title="t").exists()


def test_the_api_answers_409_after_the_deadline(world, api_client_for):
    RFP.objects.filter(pk=world["rfp_a"].pk).update(response_deadline=timezone.now() - timedelta(minutes=1))
    late = api_client_for(world["vendor_x_admin"]).post(
        "/api/v1/documents/", {"proposal": world["proposal_a_x"].pk, "title": "Late", "file": upload("l.pdf", PDF)},
        format="multipart",
    )  # fmt: skip
    assert (late.status_code, late.json()) == (409, {"detail": services.DEADLINE_PASSED})
    assert not Document.objects.filter(title="Late").exists()


# --- Concurrency -------------------------------------------------------------------------------------------


@pytest.mark.postgres_only
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks under real concurrency need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_uploads_of_one_title_at_once_get_distinct_versions(personas):
    import threading

    from tests.factories import RFPFactory

    rfp = RFPFactory(program=personas.program_a, title="Race RFP")
    barrier, outcomes = threading.Barrier(3), []

    def run(index):
        try:
            barrier.wait(timeout=30)
            document = document_upload(actor=personas.sponsor_a_admin, target=rfp, title="Protocol",
                                       file=upload(f"p{index}.pdf", PDF + f"% {index}\n".encode()))  # fmt: skip
            outcomes.append(document.version)
        except Exception as exc:
            outcomes.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == [1, 2, 3], outcomes
    assert sorted(rfp.documents.values_list("version", flat=True)) == [1, 2, 3]
