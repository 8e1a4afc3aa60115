"""Documents on change orders and invoices (issue #9): who may attach what, in which contract state, the
files on the contract page (no query per change order or invoice), the ``documents`` API's targets and
filters — and the storage: any Django storage backend by settings (S3 through django-storages), files
always streamed through the access-checked download."""

import hashlib
import json
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage, storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from contracts.models import Contract, Document
from contracts.services.documents import CONTRACT_DOCUMENTS_CLOSED, NOT_CONTRACT_PARTY, document_upload
from cro_cmo import uploads
from cro_cmo.services import TransitionError
from tests.test_contract_pages import _fill, login, signed, work_order
from tests.test_settings_env import assert_improperly_configured, run_django

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64 + b"This program cannot be run."
IN_MEMORY = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"}}


def upload(name: str, data: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


def body_of(response) -> bytes:
    return b"".join(response.streaming_content)


# --- The rule: either party's members and admins, on the contract's state ------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("target", ["change_order_a_x", "invoice_a_x"])
def test_either_party_attaches_to_a_change_order_or_an_invoice_and_the_other_reads_it(
    world, browser_client_for, target
):
    record = world[target]
    slug = "change-order" if target.startswith("change") else "invoice"
    sponsor = browser_client_for(world["sponsor_a_admin"])
    response = sponsor.post(reverse(f"document-upload-{slug}", args=[record.pk]),
                            {"title": "Backup", "file": upload("backup.pdf")})  # fmt: skip
    contract_url = reverse("contract-detail", args=[record.contract_id])
    assert response.status_code == 302
    assert response["Location"] == f"{contract_url}#documents-{slug}-{record.pk}"
    document = record.documents.get(title="Backup")
    assert (document.uploaded_by, document.version, document.sha256) == (
        world["sponsor_a_admin"],
        1,
        hashlib.sha256(PDF).hexdigest(),
    )
    assert document.target == record and document.file.name.startswith(f"documents/{target[:-4]}/{record.pk}/")
    # The vendor's admin adds the next version under the same title; both read both on the contract page.
    vendor = browser_client_for(world["vendor_x_admin"])
    vendor.post(reverse(f"document-upload-{slug}", args=[record.pk]),
                {"title": "Backup", "file": upload("backup-v2.pdf", PDF + b"% v2\n")})  # fmt: skip
    assert list(record.documents.filter(title="Backup").values_list("version", flat=True)) == [2, 1]
    html = vendor.get(contract_url).content.decode()
    assert f'id="documents-{slug}-{record.pk}"' in html
    assert "backup-v2.pdf" in html and "1 earlier version" in html
    assert reverse("document-download", args=[document.pk]) in html
    assert body_of(vendor.get(reverse("document-download", args=[document.pk]))) == PDF


@pytest.mark.django_db
def test_the_vendor_attaches_its_invoice_pdf_through_the_api_and_the_filters_find_it(world, api_client_for):
    invoice, change_order = world["invoice_a_x"], world["change_order_a_x"]
    vendor = api_client_for(world["vendor_x_admin"])
    created = vendor.post("/api/v1/documents/", {"invoice": invoice.pk, "title": "Invoice QZDI",
                                                 "file": upload("inv-v2.pdf")}, format="multipart")  # fmt: skip
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["invoice"], body["change_order"], body["contract"], body["version"]) == (invoice.pk, None, None, 2)
    sponsor = api_client_for(world["sponsor_a_admin"])
    by_invoice = sponsor.get("/api/v1/documents/", {"invoice": invoice.pk}).json()["results"]
    assert sorted(row["version"] for row in by_invoice) == [1, 2]
    by_change_order = sponsor.get("/api/v1/documents/", {"change_order": change_order.pk}).json()["results"]
    assert [row["id"] for row in by_change_order] == [world["document_change_order_a_x"].pk]
    assert body_of(sponsor.get(f"/api/v1/documents/{body['id']}/download/")) == PDF
    # Two records at once is no upload.
    both = vendor.post("/api/v1/documents/", {"invoice": invoice.pk, "change_order": change_order.pk,
                                              "title": "Two", "file": upload("t.pdf")}, format="multipart")  # fmt: skip
    assert both.status_code == 400 and "change_order" in both.json()["non_field_errors"][0]


@pytest.mark.django_db
@pytest.mark.parametrize("target", ["change_order_a_x", "invoice_a_x"])
def test_a_wrong_type_is_refused_with_a_message(world, browser_client_for, api_client_for, target):
    record = world[target]
    slug = "change-order" if target.startswith("change") else "invoice"
    count = Document.objects.count()
    response = browser_client_for(world["vendor_x_admin"]).post(
        reverse(f"document-upload-{slug}", args=[record.pk]), {"title": "Setup", "file": upload("setup.pdf", EXE)},
        follow=True,
    )  # fmt: skip
    assert escape("The document was not uploaded: " + uploads.TYPE_REFUSED) in response.content.decode()
    refused = api_client_for(world["vendor_x_admin"]).post(
        "/api/v1/documents/", {target[:-4]: record.pk, "title": "Setup", "file": upload("setup.pdf", EXE)},
        format="multipart",
    )  # fmt: skip
    assert refused.status_code == 400 and refused.json()["file"] == [uploads.TYPE_REFUSED]
    assert Document.objects.count() == count


@pytest.mark.django_db
def test_vendor_y_and_sponsor_b_get_404_for_the_files_and_their_uploads(world, browser_client_for, api_client_for):
    documents = [world["document_change_order_a_x"], world["document_invoice_a_x"]]
    for persona in ("vendor_y_admin", "sponsor_b_admin"):
        browser, api = browser_client_for(world[persona]), api_client_for(world[persona])
        statuses = [
            *(browser.get(reverse("document-download", args=[d.pk])).status_code for d in documents),
            *(api.get(f"/api/v1/documents/{d.pk}/download/").status_code for d in documents),
            browser.post(reverse("document-upload-change-order", args=[world["change_order_a_x"].pk]),
                         {"title": "Mine", "file": upload("m.pdf")}).status_code,
            browser.post(reverse("document-upload-invoice", args=[world["invoice_a_x"].pk]),
                         {"title": "Mine", "file": upload("m.pdf")}).status_code,
        ]  # fmt: skip
        assert statuses == [404] * 6, persona
        # An id out of reach reads as one that does not exist: in the filter and in the upload.
        assert api.get("/api/v1/documents/", {"invoice": world["invoice_a_x"].pk}).status_code == 400
        refused = api.post("/api/v1/documents/", {"invoice": world["invoice_a_x"].pk, "title": "Mine",
                                                  "file": upload("m.pdf")}, format="multipart")  # fmt: skip
        assert refused.status_code == 400 and "invoice" in refused.json()
    assert not Document.objects.filter(title="Mine").exists()


@pytest.mark.django_db
def test_viewers_read_the_files_but_cannot_attach_any(world, browser_client_for, api_client_for):
    for persona in ("sponsor_a_viewer", "vendor_x_viewer"):
        viewer = world[persona]
        browser = browser_client_for(viewer)
        response = browser.post(reverse("document-upload-invoice", args=[world["invoice_a_x"].pk]),
                                {"title": "Viewer", "file": upload("v.pdf")})  # fmt: skip
        assert response.status_code == 403
        api = api_client_for(viewer)
        refused = api.post("/api/v1/documents/", {"change_order": world["change_order_a_x"].pk, "title": "Viewer",
                                                  "file": upload("v.pdf")}, format="multipart")  # fmt: skip
        assert refused.status_code in (400, 403) and "Viewer" not in json.dumps(refused.json())
        with pytest.raises(PermissionDenied, match=NOT_CONTRACT_PARTY):
            document_upload(actor=viewer, target=world["change_order_a_x"], title="Viewer", file=upload("v.pdf"))
        # They read: the page lists the files without a form, the download serves them.
        html = browser.get(reverse("contract-detail", args=[world["work_order_a_x"].pk])).content.decode()
        assert "quote.pdf" in html and "inv.pdf" in html and 'data-testid="record-document-upload"' not in html
        download = browser.get(reverse("document-download", args=[world["document_invoice_a_x"].pk]))
        assert hashlib.sha256(body_of(download)).hexdigest() == world["document_invoice_a_x"].sha256
    assert not Document.objects.filter(title="Viewer").exists()


@pytest.mark.django_db
def test_a_closed_contract_closes_change_order_files_but_a_completed_one_still_takes_invoice_files(world):
    contract, vendor = world["work_order_a_x"], world["vendor_x_admin"]
    Contract.objects.filter(pk=contract.pk).update(state="completed")
    change_order, invoice = world["change_order_a_x"], world["invoice_a_x"]
    change_order.contract.refresh_from_db()
    with pytest.raises(TransitionError, match=CONTRACT_DOCUMENTS_CLOSED.format(state="completed")):
        document_upload(actor=vendor, target=change_order, title="Late", file=upload("late.pdf"))
    invoice.contract.refresh_from_db()
    final = document_upload(actor=vendor, target=invoice, title="Final invoice", file=upload("final.pdf"))
    assert final.invoice == invoice  # a final invoice after completion carries its PDF
    Contract.objects.filter(pk=contract.pk).update(state="terminated")
    invoice.contract.refresh_from_db()
    with pytest.raises(TransitionError, match=CONTRACT_DOCUMENTS_CLOSED.format(state="terminated")):
        document_upload(actor=vendor, target=invoice, title="After", file=upload("after.pdf"))
    assert not Document.objects.filter(title__in=["Late", "After"]).exists()


# --- The contract page: each change order and invoice with its files, the same number of queries ------------


@pytest.mark.django_db
def test_the_contract_page_shows_the_files_at_the_same_query_count(client, personas):
    p = personas
    small = signed(p, work_order(p, milestones=1))
    _fill(p, small, 1, approve_change_orders=False)
    large = signed(p, work_order(p, milestones=4, title="Large QZL"))
    _fill(p, large, 4, approve_change_orders=False)
    for contract, versions in ((small, 1), (large, 2)):
        for record in [*contract.change_orders.all(), *contract.invoices.all()]:
            for version in range(versions):
                for title in ("Backup", "Letter")[:versions]:
                    document_upload(actor=p.vendor_x_admin, target=record, title=title,
                                    file=upload(f"f-{record.pk}-{version}.pdf", PDF + f"% {version}".encode()))  # fmt: skip

    def count(contract):
        login(client, p.sponsor_a_admin)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("contract-detail", args=[contract.pk]))
        assert response.status_code == 200
        return len(queries), response.content.decode()

    small_count, _ = count(small)
    large_count, html = count(large)
    assert html.count('data-testid="record-documents"') == 8  # 4 change orders, 4 invoices
    assert html.count('data-testid="record-document-upload"') == 8  # the sponsor's admin may attach to each
    assert html.count('data-testid="document-older"') == 16  # each title's earlier version, folded
    assert large_count == small_count


# --- Storage: any Django backend by settings; downloads stream from storage.open() ------------------------


@pytest.mark.django_db
def test_documents_go_to_and_come_from_whatever_default_storage_is_configured(
    world, browser_client_for, api_client_for
):
    """InMemoryStorage stands for any non-local backend (S3): nothing is written under MEDIA_ROOT, and the
    browser and API downloads read the bytes back through the storage, not from a path."""
    data = PDF + b"% in memory\n"
    with override_settings(STORAGES=IN_MEMORY):
        assert type(storages["default"]).__name__ == "InMemoryStorage"
        browser = browser_client_for(world["vendor_x_admin"])
        browser.post(reverse("document-upload-change-order", args=[world["change_order_a_x"].pk]),
                     {"title": "In memory", "file": upload("mem.pdf", data)})  # fmt: skip
        document = Document.objects.get(title="In memory")
        assert default_storage.exists(document.file.name)
        assert not (Path(settings.MEDIA_ROOT) / document.file.name).exists()
        assert body_of(browser.get(reverse("document-download", args=[document.pk]))) == data
        api = api_client_for(world["sponsor_a_admin"])
        created = api.post("/api/v1/documents/", {"invoice": world["invoice_a_x"].pk, "title": "API in memory",
                                                  "file": upload("api.pdf", data)}, format="multipart")  # fmt: skip
        assert created.status_code == 201, created.json()
        stored = Document.objects.get(pk=created.json()["id"])
        assert not (Path(settings.MEDIA_ROOT) / stored.file.name).exists()
        assert body_of(api.get(f"/api/v1/documents/{stored.pk}/download/")) == data
    # Back on the local disk, the in-memory file is gone from reach: a 404, not a 500.
    assert (
        browser_client_for(world["vendor_x_admin"]).get(reverse("document-download", args=[document.pk])).status_code
        == 404
    )


PRINT_STORAGE = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "from django.core.files.storage import storages; d = storages['default']; "
    "print(json.dumps({'config': s.STORAGES['default'], 'class': type(d).__name__, "
    "'bucket': getattr(d, 'bucket_name', None)}))"
)


def test_file_storage_s3_selects_the_s3_backend_from_the_environment(tmp_path):
    pytest.importorskip("storages.backends.s3")
    result = run_django(
        tmp_path, PRINT_STORAGE,
        DEBUG="true", FILE_STORAGE="s3", AWS_STORAGE_BUCKET_NAME="cro-uploads",
        AWS_S3_ENDPOINT_URL="https://s3.example.internal:9000", AWS_S3_REGION_NAME="eu-west-1",
        AWS_ACCESS_KEY_ID="AKIAEXAMPLE", AWS_SECRET_ACCESS_KEY="secret-example", AWS_LOCATION="cro/",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert printed["config"] == {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": "cro-uploads", "endpoint_url": "https://s3.example.internal:9000",
            "region_name": "eu-west-1", "access_key": "AKIAEXAMPLE", "secret_key": "secret-example",
            "location": "cro/", "default_acl": None, "querystring_auth": True, "file_overwrite": False,
        },
    }  # fmt: skip
    assert (printed["class"], printed["bucket"]) == ("S3Storage", "cro-uploads")


def test_the_default_storage_is_the_local_disk(tmp_path):
    result = run_django(tmp_path, PRINT_STORAGE, DEBUG="true")
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert printed["config"] == {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    assert printed["class"] == "FileSystemStorage"


@pytest.mark.parametrize(
    "variables,needles",
    [
        ({"FILE_STORAGE": "s3"}, ("AWS_STORAGE_BUCKET_NAME",)),
        ({"FILE_STORAGE": "s3", "AWS_STORAGE_BUCKET_NAME": "b", "AWS_S3_ENDPOINT_URL": "minio:9000"},
         ("AWS_S3_ENDPOINT_URL",)),
        ({"FILE_STORAGE": "ftp"}, ("FILE_STORAGE", "local", "s3")),
    ],
)  # fmt: skip
def test_an_incomplete_storage_setting_stops_start_up_with_its_name(tmp_path, variables, needles):
    assert_improperly_configured(run_django(tmp_path, DEBUG="true", **variables), *needles)
