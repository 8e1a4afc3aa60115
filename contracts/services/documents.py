"""Documents: files attached to RFPs, proposals, contracts, milestones, change orders and invoices, versioned
by title.

Who may add a file to what, and when, lives here once (``UPLOAD_RULES``); the browser panel, its upload
view and the API call ``document_upload``. The file itself is checked by ``cro_cmo.uploads.document_check``
(type by content, size, active PDF content, Office macros). Reading a document needs no service: whoever
sees its record sees it (``Document.objects.for_user``), and the download views serve it.

A new kind of record takes a target in ``DOCUMENT_TARGETS`` (the model, a migration) and a rule here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import Max, Model

from audit.context import audit_context
from audit.models import Action, history_record
from contracts.choices import ContractState, InvitationState, ProposalState, RFPState
from contracts.models import (
    DOCUMENT_TARGETS,
    RFP,
    ChangeOrder,
    Contract,
    Document,
    Invoice,
    Milestone,
    Proposal,
)
from contracts.services._common import PROPOSAL_NOT_EDITABLE, _require_sponsor_side, _require_vendor_side
from contracts.services.invoices import BILLABLE_CONTRACT_STATES
from contracts.services.proposals import _require_open_for
from cro_cmo.services import TransitionError
from cro_cmo.uploads import document_check
from notifications.services import event_emit

# --- Messages (tests assert these texts) -----------------------------------------------------------------

DOCUMENT_TITLE_REQUIRED = "Give the document a title: files under the same title are versions of one document."
DOCUMENT_TITLE_TOO_LONG = "A title has at most 200 characters."
DOCUMENT_TITLE_NUL = "Null characters are not allowed."
DOCUMENT_FILE_REQUIRED = "Choose a file to upload."
RFP_DOCUMENTS_CLOSED = "Files can be attached to an RFP only while it is a draft or published."
NOT_CONTRACT_PARTY = "Only a member or admin of the contract's sponsor or vendor can do this."
CONTRACT_DOCUMENTS_CLOSED = "Documents can no longer be added: the contract is {state}."
DOCUMENT_VERSION_TAKEN = "This version of the document exists already."
ADDENDUM_EVENT = "rfp_addendum"


# --- Who may upload to what, and when ----------------------------------------------------------------------
# A rule checks the actor's side (PermissionDenied) and the record's state (TransitionError). With ``lock``
# it reads the record afresh under a row lock and returns that copy: the version is counted under it, so two
# uploads of one title at once never get the same version, and a state change waits for the upload.


def _rfp_rule(actor, rfp: RFP, lock: bool) -> RFP:
    """RFP attachments: the sponsor's members and admins, while the RFP is a draft or published."""
    _require_sponsor_side(actor, rfp.sponsor_id)
    if lock:
        rfp = RFP.objects.select_for_update().select_related("sponsor").get(pk=rfp.pk)
    if rfp.state not in (RFPState.DRAFT, RFPState.PUBLISHED):
        raise TransitionError(RFP_DOCUMENTS_CLOSED)
    return rfp


def _proposal_rule(actor, proposal: Proposal, lock: bool) -> Proposal:
    """Proposal files: the proposal's vendor, while it may change the proposal (the proposals service's
    rule: the RFP published, before the deadline, invitation not declined; a draft or submitted proposal)."""
    _require_vendor_side(actor, proposal.vendor_id)
    _require_open_for(proposal.rfp, proposal.vendor_id)  # locks the RFP row: closing waits for us
    if lock:
        proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    if proposal.state not in (ProposalState.DRAFT, ProposalState.SUBMITTED):
        raise TransitionError(PROPOSAL_NOT_EDITABLE)
    return proposal


def _require_party(actor, contract: Contract) -> None:
    """A member or admin of either party (viewers read only)."""
    if (
        actor is None
        or not getattr(actor, "is_authenticated", False)
        or not actor.can_act
        or not (
            (actor.sponsor_id is not None and actor.sponsor_id == contract.sponsor_id)
            or (actor.vendor_id is not None and actor.vendor_id == contract.vendor_id)
        )
    ):
        raise PermissionDenied(NOT_CONTRACT_PARTY)


def _contract_rule(actor, contract: Contract, lock: bool) -> Contract:
    """Contract documents: both parties' members and admins until the contract is completed or terminated.
    (The contracts issue refines this: which documents in which state.)"""
    _require_party(actor, contract)
    if lock:
        contract = Contract.objects.select_for_update().get(pk=contract.pk)
    if contract.state in (ContractState.COMPLETED, ContractState.TERMINATED):
        raise TransitionError(CONTRACT_DOCUMENTS_CLOSED.format(state=contract.get_state_display().lower()))
    return contract


def _milestone_rule(actor, milestone: Milestone, lock: bool) -> Milestone:
    """Milestone documents (deliverables, reports): the contract's rule."""
    _contract_rule(actor, milestone.contract, lock)
    if lock:
        milestone = Milestone.objects.select_for_update().select_related("contract").get(pk=milestone.pk)
    return milestone


def _change_order_rule(actor, change_order: ChangeOrder, lock: bool) -> ChangeOrder:
    """Change-order backup (quotes, revised budgets, the signed amendment): either party, on the contract's
    rule — in any state of the change order, so a rejected or withdrawn one keeps its reasons on file."""
    _contract_rule(actor, change_order.contract, lock)
    if lock:
        change_order = ChangeOrder.objects.select_for_update().select_related("contract").get(pk=change_order.pk)
    return change_order


def _invoice_rule(actor, invoice: Invoice, lock: bool) -> Invoice:
    """Invoice files (the vendor's invoice PDF, the sponsor's remittance advice): either party, while the
    contract takes invoices (active or completed: a final invoice after completion carries its PDF too)."""
    _require_party(actor, invoice.contract)
    contract = invoice.contract
    if lock:
        contract = Contract.objects.select_for_update().get(pk=contract.pk)
    if contract.state not in BILLABLE_CONTRACT_STATES:
        raise TransitionError(CONTRACT_DOCUMENTS_CLOSED.format(state=contract.get_state_display().lower()))
    if lock:
        invoice = Invoice.objects.select_for_update().select_related("contract").get(pk=invoice.pk)
    return invoice


UPLOAD_RULES: dict[str, Callable] = {
    "rfp": _rfp_rule,
    "proposal": _proposal_rule,
    "contract": _contract_rule,
    "milestone": _milestone_rule,
    "change_order": _change_order_rule,
    "invoice": _invoice_rule,
}
assert set(UPLOAD_RULES) == set(DOCUMENT_TARGETS), "every document target needs an upload rule"


def document_target_name(target: Model) -> str:
    """Which foreign key of ``Document`` points at ``target`` ("rfp", "proposal", …)."""
    for name in DOCUMENT_TARGETS:
        if isinstance(target, Document._meta.get_field(name).related_model):
            return name
    raise ValueError(f"documents cannot be attached to a {type(target).__name__}")


def document_upload_precheck(*, actor, target: Model) -> None:
    """Raise what ``document_upload`` would raise for the actor and record alone (PermissionDenied: not
    their side; TransitionError: not in this state), so pages offer the upload form only to those who may
    use it now. Runs in its own short transaction: a rule may lock the record as the upload would."""
    with transaction.atomic():
        UPLOAD_RULES[document_target_name(target)](actor, target, False)


def _clean_title(title) -> str:
    title = " ".join(str(title or "").split())
    if not title:
        raise ValidationError({"title": DOCUMENT_TITLE_REQUIRED})
    if "\x00" in title:
        raise ValidationError({"title": DOCUMENT_TITLE_NUL})
    if len(title) > Document._meta.get_field("title").max_length:
        raise ValidationError({"title": DOCUMENT_TITLE_TOO_LONG})
    return title


def _digest(file: File) -> tuple[str, int]:
    """SHA-256 and size of the bytes, read chunk by chunk (the file may be a 25 MB temporary file)."""
    digest, size = hashlib.sha256(), 0
    for chunk in file.chunks():
        digest.update(chunk)
        size += len(chunk)
    file.seek(0)
    return digest.hexdigest(), size


def document_upload(*, actor, target: Model, title: str, file) -> Document:
    """Attach a file to an RFP, a proposal, a contract, a milestone, a change order or an invoice; a title
    the record already has adds the next version of that document.

    1. The actor may upload to this record now (``UPLOAD_RULES``: side → PermissionDenied, state →
       TransitionError); a title and a file are given (ValidationError per field).
    2. The file passes ``cro_cmo.uploads.document_check`` (type by content, size, no active PDF content, no
       Office macros) → ValidationError on ``file``; its SHA-256 and size are computed while reading it,
       and it is written to the default storage (through the FileField: local disk or any storage
       backend). All of this happens before any lock is taken: a 25 MB scan never holds up the record.
    3. In one transaction, under a row lock on the record (the rule checked again on the fresh row): the
       version is the highest of (record, title) plus one — the unique constraint backs it —, the row is
       saved and the record's history notes the document and version.
    4. A file added to a published RFP is an addendum: each invitee that has not declined is told (the
       notice names the document, never the budget ceiling).
    If step 3 or 4 fails, the stored file is removed again.
    """
    name = document_target_name(target)
    rule = UPLOAD_RULES[name]
    document_upload_precheck(actor=actor, target=target)  # the wrong side or state: refused before reading a byte
    errors = {}
    try:
        title = _clean_title(title)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if not file:
        errors["file"] = [DOCUMENT_FILE_REQUIRED]
    if errors:
        raise ValidationError(errors)
    if not isinstance(file, File):
        file = File(file, name=getattr(file, "name", None))
    try:
        checked = document_check(file)
    except ValidationError as exc:
        raise ValidationError({"file": exc.messages}) from None
    sha256, size = _digest(file)
    document = Document(
        **{name: target}, title=title, filename=checked.filename, content_type=checked.content_type,
        size=size, sha256=sha256, uploaded_by=actor,
    )  # fmt: skip
    document.file.save(checked.filename, file, save=False)
    try:
        with transaction.atomic():
            locked = rule(actor, target, True)
            latest = Document.objects.filter(**{name: locked}, title=title).aggregate(v=Max("version"))["v"]
            document.version = (latest or 0) + 1
            setattr(document, name, locked)
            document.save()
            with audit_context(actor=actor, reason=f"Document uploaded: {title}, version {document.version}."):
                previous = f"{title} v{latest}" if latest else None
                history_record(locked, Action.CHANGED, {"document": [previous, _history_text(document)]})
            if name == "rfp" and locked.state == RFPState.PUBLISHED:
                _announce_addendum(locked, document)
    except IntegrityError:
        document.file.delete(save=False)
        raise ValidationError({"title": DOCUMENT_VERSION_TAKEN}) from None
    except BaseException:
        document.file.delete(save=False)
        raise
    return document


def _history_text(document: Document) -> str:
    return f"{document.title} v{document.version}: {document.filename} (SHA-256 {document.sha256[:12]}…)"


def _announce_addendum(rfp: RFP, document: Document) -> None:
    invited = rfp.invitations.exclude(state=InvitationState.DECLINED).select_related("vendor")
    for invitation in invited:
        event_emit(
            ADDENDUM_EVENT,
            title=f"RFP addendum: {rfp.title}",
            body=(
                f"{rfp.sponsor.name} added “{document.title}” (version {document.version}) to the RFP. Read it "
                "before you submit or revise your proposal."
            ),
            url=rfp.get_absolute_url() or "",
            vendor=invitation.vendor,
            payload={"object": "contracts.rfp", "id": rfp.pk, "rfp": rfp.pk, "document": document.pk},
        )
