"""The "deadline approaching" reminder: invitees that have not answered hear once, a few days before."""

from __future__ import annotations

import datetime

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from contracts.choices import InvitationState, RFPState
from contracts.models import RFP, Invitation
from contracts.services._common import _deadline_text
from notifications.models import OutboxEvent
from notifications.services import kick_delivery
from sponsors.models import Sponsor

REMINDER_EVENT = "rfp_deadline_approaching"


def _within_lead(now: datetime.datetime, lead: datetime.timedelta | None) -> Q:
    """Deadlines after ``now`` and within the lead time: ``lead`` if the caller gives one, else each sponsor's
    ``rfp_reminder_days`` — one condition per distinct setting (a handful), read in one small query."""
    if lead is not None:
        return Q(rfp__response_deadline__gt=now, rfp__response_deadline__lte=now + lead)
    condition = Q(pk__in=[])
    for days in Sponsor.objects.order_by().values_list("rfp_reminder_days", flat=True).distinct():
        condition |= Q(
            rfp__sponsor__rfp_reminder_days=days,
            rfp__response_deadline__gt=now,
            rfp__response_deadline__lte=now + datetime.timedelta(days=days),
        )
    return condition


def _claim_due(now: datetime.datetime, lead: datetime.timedelta | None) -> list[tuple[int, int, int]]:
    """Mark every due invitation reminded and return the ones *this* call marked: (id, rfp id, vendor id).

    One ``UPDATE … WHERE reminded_at IS NULL AND id IN (due) RETURNING``: of two scans at once, each row
    is claimed by exactly one (PostgreSQL re-checks ``reminded_at IS NULL`` on a row the other scan has
    just updated; SQLite runs one writer at a time). Django's ``update()`` returns only a count, which
    cannot tell two concurrent scans apart, hence the raw statement around an ORM-built subquery.
    """
    due = (
        Invitation.objects.filter(
            state=InvitationState.INVITED,
            reminded_at__isnull=True,
            rfp__state=RFPState.PUBLISHED,
        )
        .filter(_within_lead(now, lead))
        .order_by()
        .values("pk")
    )
    due_sql, due_params = due.query.sql_with_params()
    quote = connection.ops.quote_name
    table = quote(Invitation._meta.db_table)
    reminded_at = quote(Invitation._meta.get_field("reminded_at").column)
    sql = (
        f"UPDATE {table} SET {reminded_at} = %s "
        f"WHERE {reminded_at} IS NULL AND {quote('id')} IN ({due_sql}) "
        f"RETURNING {quote('id')}, {quote('rfp_id')}, {quote('vendor_id')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [now, *due_params])
        return [tuple(row) for row in cursor.fetchall()]


@transaction.atomic
def rfp_reminders_send(*, now: datetime.datetime | None = None, lead: datetime.timedelta | None = None) -> list:
    """Send the reminders due now; return the outbox events written (one per reminded invitation).

    1. Claim the due invitations (see ``_claim_due``): still ``invited`` (no proposal submitted, not
       declined), never reminded, of a published RFP whose deadline is after ``now`` and within ``lead``
       (by default the sponsor's ``rfp_reminder_days``, 3 unless its admins changed it).
    2. Read the RFPs concerned (one query) and write one event per claimed invitation, in one insert,
       to that invitation's vendor only. The text names the RFP and its deadline — never the ceiling,
       never another invitee.
    A handful of queries whatever the number of RFPs and invitations; all in one transaction, so a failed
    insert leaves the invitations unmarked for the next run.
    """
    now = now or timezone.now()
    claimed = _claim_due(now, lead)
    if not claimed:
        return []
    rfps = RFP.objects.only("pk", "title", "response_deadline").in_bulk({rfp_id for _, rfp_id, _ in claimed})
    events = []
    for invitation_id, rfp_id, vendor_id in sorted(claimed):
        rfp = rfps[rfp_id]
        events.append(
            OutboxEvent(
                event_type=REMINDER_EVENT,
                title=f"Deadline approaching: {rfp.title}"[:200],
                body=f"{rfp.title} closes {_deadline_text(rfp)}. Submit your proposal or decline before then.",
                url=rfp.get_absolute_url() or "",
                vendor_id=vendor_id,
                payload={"object": "contracts.invitation", "id": invitation_id, "rfp": rfp_id},
            )
        )
    # ``notifications.services.event_emit`` writes one row per call; the reminders go in one insert, and
    # delivery is kicked once after commit, as event_emit would.
    created = OutboxEvent.objects.bulk_create(events)
    transaction.on_commit(kick_delivery)
    return created


def rfp_remind_due(*, now: datetime.datetime | None = None, lead: datetime.timedelta | None = None) -> int:
    """Remind every invitee that has not answered an RFP closing within ``lead``, once; return how many.

    For the scheduled check (and ``run_checks``). Idempotent: a second run, or a concurrent one, reminds
    nobody twice (``Invitation.reminded_at`` is claimed with a compare-and-set).
    """
    return len(rfp_reminders_send(now=now, lead=lead))
