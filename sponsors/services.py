"""Writes of the sponsors app: qualifications of vendors (with a reason for every change) and shortlists.

Browser forms and API serializers call these; neither writes these records any other way.
"""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction

from cro_cmo.services import object_save
from sponsors.models import (
    QUALIFICATION_REASON_REQUIRED,
    QualificationDocument,
    Shortlist,
    ShortlistEntry,
    VendorQualification,
)

REASON_MAX = 1_000
SHORTLIST_NO_VENDOR = "Choose at least one vendor to add to the shortlist."


def _changes_anything(qualification: VendorQualification, m2m: dict) -> bool:
    """Whether saving would change a field or a relation (a no-op save needs no reason and records nothing)."""
    snapshot = getattr(qualification, "_history_snapshot", None)
    if snapshot is None or qualification.history_values() != snapshot:
        return True
    for name, values in m2m.items():
        current = set(getattr(qualification, name).values_list("pk", flat=True))
        if current != {value.pk for value in values}:
            return True
    return False


@transaction.atomic
def qualification_save(
    *, actor, qualification: VendorQualification, reason: str, m2m: dict | None = None
) -> VendorQualification:
    """Create or change a sponsor's qualification record of a vendor, with the reason in its history.

    1. A new record may come without a reason ("recorded" is reason enough).
    2. A change to an existing record must say why (21 CFR 11.10(e)); a save that changes nothing
       needs none and records nothing.
    3. Validate (fields, audit dates, one record per sponsor and vendor, sites of that vendor) and save.
    """
    m2m = m2m or {}
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": f"Keep the reason under {REASON_MAX} characters."})
    if qualification.pk is not None and not reason and _changes_anything(qualification, m2m):
        raise ValidationError({"reason": QUALIFICATION_REASON_REQUIRED})
    return object_save(actor=actor, instance=qualification, m2m=m2m, reason=reason)


@transaction.atomic
def qualification_document_add(*, actor, qualification: VendorQualification, title: str, file) -> QualificationDocument:
    """Attach an audit report (a plain PDF, checked like certificates) to a qualification; history notes it."""
    from audit.context import audit_context
    from audit.models import Action, history_record

    document = QualificationDocument(qualification=qualification, title=title, file=file, uploaded_by=actor)
    document.full_clean()
    document.save()
    with audit_context(actor=actor, reason=f"Audit report attached: {title}"):
        history_record(qualification, Action.CHANGED, {"audit_report": [None, title]})
    return document


@transaction.atomic
def shortlist_add_vendors(*, actor, shortlist: Shortlist, vendors: Iterable) -> int:
    """Put vendors on a shortlist (those already on it stay as they were); returns how many were added."""
    vendors = list(vendors)
    if not vendors:
        raise ValidationError(SHORTLIST_NO_VENDOR)
    present = set(shortlist.entries.values_list("vendor_id", flat=True))
    new = [ShortlistEntry(shortlist=shortlist, vendor=v, added_by=actor) for v in vendors if v.pk not in present]
    # ignore_conflicts: two people adding the same vendor at once both succeed, the row exists once.
    ShortlistEntry.objects.bulk_create(new, ignore_conflicts=True)
    shortlist.save(update_fields=["updated"])
    return len(new)


@transaction.atomic
def shortlist_remove_vendor(*, actor, shortlist: Shortlist, vendor) -> bool:
    """Take a vendor off a shortlist; False when it was not on it."""
    deleted, _ = shortlist.entries.filter(vendor=vendor).delete()
    if deleted:
        shortlist.save(update_fields=["updated"])
    return bool(deleted)
