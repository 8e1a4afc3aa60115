"""``{% documents_panel record %}``: a record's attached documents (versions, hash, download) and, for
those who may add one, the upload form. One panel for RFPs, proposals, contracts and milestones."""

from itertools import groupby
from operator import attrgetter

from django import template
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from contracts.models import Document
from contracts.services.documents import document_target_name, document_upload_precheck
from contracts.views_documents import panel_anchor
from cro_cmo.services import TransitionError
from cro_cmo.uploads import ACCEPT_ATTRIBUTE, document_max_bytes, size_words

register = template.Library()

# What the panel is called on each record's page (and what it says while empty).
HEADINGS = {"rfp": "Attachments", "proposal": "Proposal files", "contract": "Documents", "milestone": "Documents"}


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
    groups = []
    for _, versions in groupby(documents, key=attrgetter("title")):
        versions = list(versions)
        groups.append({"latest": versions[0], "older": versions[1:]})
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
    prefix = f"documents-{name}-{record.pk}"
    return {
        "csrf_token": context.get("csrf_token"),
        "heading": HEADINGS.get(name, "Documents") + (f": {record.name}" if name == "milestone" else ""),
        "empty": f"No {HEADINGS.get(name, 'Documents').lower()} yet.",
        "groups": groups,
        "titles": [group["latest"].title for group in groups],
        "can_upload": can_upload,
        "closed_reason": closed_reason,
        "upload_url": reverse(f"document-upload-{name}", kwargs={"pk": record.pk}) if can_upload else "",
        "prefix": prefix,
        "anchor": panel_anchor(record),
        "accept": ACCEPT_ATTRIBUTE,
        "max_size": size_words(document_max_bytes()),
    }
