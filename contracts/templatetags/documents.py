"""``{% documents_panel record %}``: a record's attached documents (versions, hash, download) and, for
those who may add one, the upload form. One panel for RFPs, proposals, contracts and milestones.

``{% record_documents record %}``: the same, compact, for the change orders and invoices listed on a
contract's page — from what ``views_documents.with_documents`` prefetched, so it costs no query."""

from itertools import groupby
from operator import attrgetter

from django import template
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from contracts.models import Document
from contracts.services.documents import document_target_name, document_upload_precheck
from contracts.views_documents import TARGET_SLUGS, panel_anchor, upload_url_name
from cro_cmo.services import TransitionError
from cro_cmo.uploads import ACCEPT_ATTRIBUTE, document_max_bytes, size_words

register = template.Library()

# What the panel is called on each record's page (and what it says while empty).
HEADINGS = {
    "rfp": "Attachments",
    "proposal": "Proposal files",
    "contract": "Documents",
    "milestone": "Documents",
    "change_order": "Documents",
    "invoice": "Documents",
}


def record_label(record, name: str) -> str:
    """How a record is named beside its documents: a milestone by name, a change order by its number."""
    if name == "milestone":
        return record.name
    if name == "change_order":
        return f"CO-{record.sequence}"
    if name == "invoice":
        return f"invoice {record.number}"
    return ""


def _groups(documents) -> list[dict]:
    """Newest version of each title first, the earlier ones under it (``documents`` by title, -version)."""
    groups = []
    for _, versions in groupby(documents, key=attrgetter("title")):
        versions = list(versions)
        groups.append({"latest": versions[0], "older": versions[1:]})
    return groups


@register.inclusion_tag("contracts/_documents_panel.html", takes_context=True)
def documents_panel(context, record):
    """The documents the user may see on ``record`` (``Document.objects.for_user``: a sealed proposal's
    files stay closed to the sponsor with the proposal), newest version of each title first with the
    earlier ones folded under it; the upload form when ``document_upload`` would accept the user now, or
    why not (the deadline passed…) to the people of the side that uploads."""
    request = context.get("request")
    user = getattr(request, "user", None)
    name = document_target_name(record)
    documents = (
        Document.objects.for_user(user)
        .filter(**{name: record})
        .select_related("uploaded_by")
        .order_by("title", "-version")
    )
    groups = _groups(documents)
    can_upload, closed_reason = False, ""
    if user is not None and user.is_authenticated:
        try:
            document_upload_precheck(actor=user, target=record)
        except PermissionDenied:
            pass  # not this side's record to add to (or a viewer): nothing to offer, nothing to explain
        except TransitionError as exc:
            closed_reason = str(exc)
        else:
            can_upload = True
    prefix = f"documents-{TARGET_SLUGS[name]}-{record.pk}"
    label = record_label(record, name)
    return {
        "csrf_token": context.get("csrf_token"),
        "heading": HEADINGS.get(name, "Documents") + (f": {label}" if label else ""),
        "empty": f"No {HEADINGS.get(name, 'Documents').lower()} yet.",
        "groups": groups,
        "titles": [group["latest"].title for group in groups],
        "can_upload": can_upload,
        "closed_reason": closed_reason,
        "upload_url": reverse(upload_url_name(name), kwargs={"pk": record.pk}) if can_upload else "",
        "prefix": prefix,
        "anchor": panel_anchor(record),
        "accept": ACCEPT_ATTRIBUTE,
        "max_size": size_words(document_max_bytes()),
    }


@register.inclusion_tag("contracts/_record_documents.html", takes_context=True)
def record_documents(context, record, heading=True):
    """A change order's or an invoice's files on its contract's page: the newest version of each title
    (earlier ones folded), and an "Attach a file" form when ``document_upload`` would accept the user.
    Reads ``record.visible_documents`` and ``record.document_upload`` (``views_documents.with_documents``)."""
    name = document_target_name(record)
    can_upload, _ = getattr(record, "document_upload", (False, ""))  # why not: the contract's own panel says it
    documents = getattr(record, "visible_documents", None)
    if documents is None:  # not prefetched (another page): the user's documents of this record, one query
        user = getattr(context.get("request"), "user", None)
        documents = Document.objects.for_user(user).filter(**{name: record}).select_related("uploaded_by")
        documents = documents.order_by("title", "-version")
    groups = _groups(documents)
    return {
        "csrf_token": context.get("csrf_token"),
        "heading": heading,
        "label": record_label(record, name),
        "groups": groups,
        "titles": [group["latest"].title for group in groups],
        "can_upload": can_upload,
        "upload_url": reverse(upload_url_name(name), kwargs={"pk": record.pk}) if can_upload else "",
        "anchor": panel_anchor(record),
        "accept": ACCEPT_ATTRIBUTE,
        "max_size": size_words(document_max_bytes()),
    }
