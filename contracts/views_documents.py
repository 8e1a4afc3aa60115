"""Browser routes of documents: the upload behind ``{% documents_panel %}`` and the download.

The upload finds the record among those the user may change (out of reach → 404; viewers → 403 before any
lookup) and calls ``contracts.services.documents.document_upload``; every refusal (no title, no file, too
large, wrong type, an active PDF, the deadline passed…) comes back as a message on the record's page, never
a 500. The download finds the document through ``Document.objects.for_user`` (404 otherwise) and sends it
with ``document_response`` — the API's download action sends it the same way.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch, prefetch_related_objects
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from contracts.models import RFP, ChangeOrder, Contract, Document, Invoice, Milestone, Proposal
from contracts.services.documents import DOCUMENT_FILE_REQUIRED, DOCUMENT_TITLE_REQUIRED, document_upload
from cro_cmo.api.permissions import VIEWER_READ_ONLY
from cro_cmo.models import CHANGE
from cro_cmo.services import TransitionError
from cro_cmo.uploads import ACCEPT_ATTRIBUTE

TARGET_MODELS = {
    "rfp": RFP,
    "proposal": Proposal,
    "contract": Contract,
    "milestone": Milestone,
    "change_order": ChangeOrder,
    "invoice": Invoice,
}
# The URL spelling of a target (``document-upload-change-order``, ``documents/upload/change-order/<pk>/``).
TARGET_SLUGS = {name: name.replace("_", "-") for name in TARGET_MODELS}


class DocumentUploadForm(forms.Form):
    title = forms.CharField(max_length=200, label="Title", error_messages={"required": DOCUMENT_TITLE_REQUIRED})
    file = forms.FileField(
        label="File", allow_empty_file=True,  # the upload check says "The file is empty." in its own words
        error_messages={"required": DOCUMENT_FILE_REQUIRED, "invalid": DOCUMENT_FILE_REQUIRED},
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT_ATTRIBUTE}),
    )  # fmt: skip


def upload_url_name(target: str) -> str:
    """The URL name of the upload route for a kind of record (``document-upload-change-order``)."""
    return f"document-upload-{TARGET_SLUGS[target]}"


def panel_anchor(record) -> str:
    """The id of the record's documents panel: ``documents`` on the record's own page; a milestone's panel,
    a change order's and an invoice's files carry the record's id (the latter two sit on the contract's page
    beside the contract's own panel)."""
    if isinstance(record, Milestone):
        return f"documents-milestone-{record.pk}"
    if isinstance(record, ChangeOrder):
        return f"documents-change-order-{record.pk}"
    if isinstance(record, Invoice):
        return f"documents-invoice-{record.pk}"
    return "documents"


def record_url(record) -> str:
    """Where the panel of ``record`` is shown: the page the upload returns to."""
    if isinstance(record, Proposal):
        return reverse("proposal-edit", kwargs={"pk": record.pk})
    if isinstance(record, Milestone):
        return reverse("milestone-detail", kwargs={"pk": record.pk})  # its evidence panel is on its own page
    if isinstance(record, (ChangeOrder, Invoice)):
        record = record.contract  # their files show with them on the contract's page
    return record.get_absolute_url() or reverse("dashboard")


def with_documents(user, records: list) -> None:
    """Ready a contract page's change orders or invoices to show their files without a query each: their
    documents visible to ``user`` as ``visible_documents`` (one query for the list, ``Document.objects
    .for_user``), and ``document_upload`` as (may upload, why not) from the upload rule — checked once for
    the list: the rule of a change order or an invoice reads only its contract, which they share."""
    from contracts.services.documents import document_upload_precheck

    if not records:
        return
    prefetch_related_objects(
        records,
        Prefetch(
            "documents",
            queryset=Document.objects.for_user(user).select_related("uploaded_by").order_by("title", "-version"),
            to_attr="visible_documents",
        ),
    )
    assert len({record.contract_id for record in records}) == 1, "the records of one contract's page"
    allowed, reason = False, ""
    try:
        document_upload_precheck(actor=user, target=records[0])
    except PermissionDenied:
        pass  # not a party's member or admin (a viewer): nothing to offer, nothing to explain
    except TransitionError as exc:
        reason = str(exc)
    else:
        allowed = True
    for record in records:
        record.document_upload = (allowed, reason)


def _upload_refusal_text(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc.args[0]) if exc.args else str(exc)


@login_required
@require_POST
def upload(request, target, pk):
    """``POST documents/upload/<target>/<pk>/`` with ``title`` and ``file``: add a document (or a version)."""
    if not request.user.can_act:
        raise PermissionDenied(VIEWER_READ_ONLY)
    model = TARGET_MODELS[target]
    record = get_object_or_404(model.objects.for_user(request.user, CHANGE), pk=pk)
    back = f"{record_url(record)}#{panel_anchor(record)}"
    form = DocumentUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        problems = [error for errors in form.errors.values() for error in errors]
        messages.error(request, "The document was not uploaded: " + " ".join(problems))
        return redirect(back)
    try:
        document = document_upload(
            actor=request.user, target=record, title=form.cleaned_data["title"], file=form.cleaned_data["file"]
        )
    except (ValidationError, TransitionError, PermissionDenied) as exc:
        messages.error(request, "The document was not uploaded: " + _upload_refusal_text(exc))
        return redirect(back)
    messages.success(request, f"“{document.title}” uploaded as version {document.version}.")
    return redirect(back)


def document_response(document: Document) -> FileResponse:
    """The stored file as a download under its safe name, never rendered inline in our origin.

    ``Content-Disposition: attachment``; the content type detected at upload; ``nosniff`` so no browser
    second-guesses it; a sandboxing CSP should one open it anyway; ``no-store`` so shared caches keep no
    copy. (Like ``cro_cmo.downloads.pdf_attachment``, for every accepted type.)
    """
    if not document.file:
        raise Http404("No document")
    try:
        handle = document.file.open("rb")
    except FileNotFoundError:
        raise Http404("The document is missing from storage") from None
    content_type = document.content_type
    if content_type.startswith("text/"):
        content_type += "; charset=utf-8"
    response = FileResponse(handle, content_type=content_type, as_attachment=True, filename=document.filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_safe
def download(request, pk):
    """``GET documents/<pk>/download/``: to those who see the document's record (``for_user``), else 404."""
    document = get_object_or_404(Document.objects.for_user(request.user), pk=pk)
    return document_response(document)
