"""Alert services: the event-driven re-check and acknowledgement."""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from alerts.definitions import ALERT_CHECKS
from alerts.engine import RunResult, run_check
from alerts.models import Alert, Audience
from cro_cmo.api.permissions import VIEWER_READ_ONLY
from cro_cmo.services import TransitionError

ACKNOWLEDGE_COMMENT_MAX = 2000
ACKNOWLEDGE_NOT_YOURS = "Only the people this alert is addressed to can acknowledge it."
ACKNOWLEDGE_COMMENT_REQUIRED = "Say what you did or will do about it: a comment is required."


def alerts_recheck(
    *, contract_ids: Iterable[int] = (), program_ids: Iterable[int] = (), vendor_ids: Iterable[int] = (),
    qualification_ids: Iterable[int] = (),
) -> dict[str, RunResult]:  # fmt: skip
    """Run every check that concerns these subjects, limited to them: what a change just caused is
    raised or resolved at once instead of at the next beat. Returns each check's result by name."""
    scopes = {
        "contract": set(contract_ids), "program": set(program_ids), "vendor": set(vendor_ids),
        "qualification": set(qualification_ids),
    }  # fmt: skip
    results = {}
    for check in ALERT_CHECKS:
        ids = scopes[check.scope]
        if ids:
            results[check.name] = run_check(check, scope_ids=ids)
    return results


_RECHECKS_ON = ContextVar("alert_rechecks_on", default=True)


@contextmanager
def alert_rechecks_skipped() -> Iterator[None]:
    """For a caller that runs every check itself afterwards (``seed_demo``): the steps played inside queue no
    re-check of their own (dozens of steps would each re-check their subject after the commit)."""
    token = _RECHECKS_ON.set(False)
    try:
        yield
    finally:
        _RECHECKS_ON.reset(token)


def alerts_recheck_on_commit(**scopes) -> None:
    """Re-check after the caller's transaction commits (a rolled-back change re-checks nothing).

    A failure here is the next beat's to repair: it must never undo or fail the request that caused it.
    """
    if not _RECHECKS_ON.get():
        return

    def recheck():
        import logging

        try:
            alerts_recheck(**scopes)
        except Exception:
            logging.getLogger(__name__).exception("Event-driven re-check failed (%s); beat will catch up", scopes)

    transaction.on_commit(recheck)


def alert_acknowledge(*, alert: Alert, user, comment: str) -> Alert:
    """``user`` says they have seen ``alert`` and what they do about it (``comment``, 1–2000 characters).

    Only a member or admin of the organisation the alert is addressed to acknowledges it (a viewer reads;
    PermissionDenied otherwise). An alert is acknowledged once: a second acknowledgement (by anyone, even
    at the same moment, since the write is conditional on nobody having acknowledged it) is a
    TransitionError that names who acknowledged it first. A resolved alert may still be acknowledged: it
    records who saw it and what they said. The alert stays open until its condition clears — acknowledging
    does not resolve it. Returns the alert as saved.
    """
    audience_org = alert.sponsor_id if alert.audience == Audience.SPONSOR else alert.vendor_id
    user_org = user.sponsor_id if alert.audience == Audience.SPONSOR else user.vendor_id
    if user_org is None or user_org != audience_org:
        raise PermissionDenied(ACKNOWLEDGE_NOT_YOURS)
    if not user.can_act:
        raise PermissionDenied(VIEWER_READ_ONLY)
    comment = (comment or "").strip()
    if not comment:
        raise ValidationError({"comment": [ACKNOWLEDGE_COMMENT_REQUIRED]})
    if len(comment) > ACKNOWLEDGE_COMMENT_MAX:
        raise ValidationError(
            {"comment": [f"Keep the comment to {ACKNOWLEDGE_COMMENT_MAX} characters (it has {len(comment)})."]}
        )
    now = timezone.now()
    with transaction.atomic():
        updated = Alert.objects.filter(pk=alert.pk, acknowledged_at__isnull=True).update(
            acknowledged_at=now, acknowledged_by=user, acknowledge_comment=comment, updated=now
        )
        if not updated:
            first = Alert.objects.select_related("acknowledged_by").get(pk=alert.pk)
            by = first.acknowledged_by
            who = (by.get_full_name() or by.email) if by is not None else "someone"
            when = timezone.localtime(first.acknowledged_at).strftime("%d %b %Y %H:%M")
            raise TransitionError(f"This alert was already acknowledged by {who} on {when}.")
    alert.acknowledged_at, alert.acknowledged_by, alert.acknowledge_comment, alert.updated = now, user, comment, now
    return alert
