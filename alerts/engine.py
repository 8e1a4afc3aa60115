"""The set-based machinery every alert check shares: raise, escalate and resolve in a few statements.

A check (``AlertCheck``) only describes its *candidates*: a queryset of the subjects whose condition
holds today, annotated with the alert columns (``alert_key``, ``alert_title``, ``alert_severity``,
``alert_sponsor_id`` …). The engine then runs, whatever the data size:

1. **raise** — one ``INSERT … SELECT … FROM (candidates) WHERE NOT EXISTS (open alert) ON CONFLICT DO
   NOTHING RETURNING id``: the partial unique index on open ``(kind, key)`` makes two runs, or two
   workers at once, insert each alert once;
2. **escalate** — one ``UPDATE`` of open alerts whose candidate row now says ``critical``;
3. **resolve** — one ``UPDATE`` of open alerts whose key is no longer among the candidates;
4. one bulk insert of outbox events for what was raised or escalated (→ notifications, e-mail).

``scope`` limits all of it to some subjects (the event-driven re-check of one contract or vendor).
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db import connection, transaction
from django.db.models import BigIntegerField, QuerySet, Value
from django.db.models.functions import Cast
from django.utils import timezone

from alerts.models import Alert, Audience, Severity
from cro_cmo.checks import CheckOutcome

# The alert columns a candidate queryset provides, as ``alert_<column>`` annotations.
CANDIDATE_COLUMNS = (
    "key", "title", "severity", "sponsor_id", "vendor_id", "contract_id", "milestone_id", "program_id",
    "certification_id", "qualification_id",
)  # fmt: skip
SAMPLE_SIZE = 20  # titles kept per outcome for run_checks to print; the counts are always complete
EVENT_BATCH = 2000


def alert_columns(*, key, title, severity=None, **subjects) -> dict:
    """The annotations of a candidate row; subjects not given are NULL."""
    unknown = set(subjects) - set(CANDIDATE_COLUMNS)
    if unknown:
        raise ValueError(f"not alert columns: {sorted(unknown)}")
    columns = {"alert_key": key, "alert_title": title}
    if severity is not None:
        columns["alert_severity"] = severity
    for name in CANDIDATE_COLUMNS[3:]:
        # A typed NULL: PostgreSQL would read a bare NULL in the sub-select as text.
        columns[f"alert_{name}"] = subjects.get(name, Cast(Value(None), output_field=BigIntegerField()))
    return columns


@dataclass(frozen=True)
class AlertCheck:
    """One kind of alert for one audience.

    ``candidates(today)`` returns the annotated queryset; ``scope_lookup`` is the candidate field a
    re-check filters on, ``scope_column`` the alert column holding the same ids, and ``scope`` names
    which re-check reaches it (``contract``, ``program``, ``vendor`` or ``qualification``).
    """

    name: str
    kind: str
    audience: str
    severity: str
    candidates: Callable[[date], QuerySet]
    scope: str
    scope_lookup: str
    scope_column: str
    escalates: bool = False
    description: str = ""

    def candidate_rows(self, today: date, ids: Iterable[int] | None = None) -> QuerySet:
        # No ORDER BY: the rows feed an INSERT and (anti-)joins, where the model's ordering is a wasted sort.
        rows = self.candidates(today).order_by()
        if "alert_severity" not in rows.query.annotations:
            rows = rows.annotate(alert_severity=Value(self.severity))
        if ids is not None:
            rows = rows.filter(**{f"{self.scope_lookup}__in": list(ids)})
        return rows

    def open_alerts(self, ids: Iterable[int] | None = None) -> QuerySet:
        alerts = Alert.objects.filter(kind=self.kind, audience=self.audience, resolved_at__isnull=True)
        if ids is not None:
            alerts = alerts.filter(**{f"{self.scope_column}__in": list(ids)})
        return alerts


@dataclass
class RunResult:
    raised: list[int] = field(default_factory=list)
    escalated: list[int] = field(default_factory=list)
    resolved: list[int] = field(default_factory=list)


def _insert_new(check: AlertCheck, rows: QuerySet, now: datetime) -> list[int]:
    """Step 1: insert the candidates that have no open alert; return the new ids."""
    meta = Alert._meta
    select_names = [f"alert_{c}" for c in CANDIDATE_COLUMNS]
    inner_sql, inner_params = rows.values(*select_names).query.sql_with_params()
    columns = [meta.get_field(c.removesuffix("_id")).column for c in CANDIDATE_COLUMNS]
    stamp = connection.ops.adapt_datetimefield_value(now)
    sql = f"""
        INSERT INTO {meta.db_table}
            (kind, audience, {", ".join(columns)}, raised_at, created, updated, acknowledge_comment)
        SELECT %s, %s, c.alert_key, c.alert_title, c.alert_severity,
               {", ".join(f"c.alert_{name}" for name in CANDIDATE_COLUMNS[3:])}, %s, %s, %s, ''
        FROM ({inner_sql}) c
        WHERE NOT EXISTS (
            SELECT 1 FROM {meta.db_table} a WHERE a.kind = %s AND a.key = c.alert_key AND a.resolved_at IS NULL
        )
        ON CONFLICT DO NOTHING
        RETURNING id
    """
    # The inner query's parameters come after the ones in the SELECT list, as the placeholders do.
    params = [check.kind, check.audience, stamp, stamp, stamp, *inner_params, check.kind]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def _update_open(check: AlertCheck, scope_ids, assignments: str, params: list, keys: str, rows: QuerySet):
    """One ``UPDATE … RETURNING id`` of the check's open alerts whose key is among ``keys``: a set operation
    (``EXCEPT`` / ``INTERSECT``) of the open alerts' keys (``a``, within the scope) and the candidates' (``c``).

    A set operation reads each side once, whatever the planner believes. A correlated ``[NOT] EXISTS`` or
    ``[NOT] IN`` is planned from the alerts' statistics, which the insert just made stale (an empty table
    before the first run): the planner then re-runs the candidate query for every open alert, minutes at
    1M milestones. On PostgreSQL the keys are gathered once (``ARRAY(…)``, an init-plan) and looked up in
    the open-alert index."""
    if scope_ids is not None and not scope_ids:
        return []
    table = Alert._meta.db_table
    inner_sql, inner_params = rows.values("alert_key", "alert_severity").query.sql_with_params()
    scope_sql, scope_params = "", []
    if scope_ids is not None:
        column = Alert._meta.get_field(check.scope_column.removesuffix("_id")).column
        scope_sql = f"AND a.{column} IN ({', '.join(['%s'] * len(scope_ids))})"
        scope_params = list(scope_ids)
    open_keys = (
        f"SELECT a.key FROM {table} a WHERE a.kind = %s AND a.audience = %s AND a.resolved_at IS NULL {scope_sql}"
    )
    key_set = keys.format(open_keys=open_keys, candidates=f"({inner_sql}) c")
    among = f"= ANY(ARRAY({key_set}))" if connection.vendor == "postgresql" else f"IN ({key_set})"
    sql = f"UPDATE {table} SET {assignments} WHERE kind = %s AND resolved_at IS NULL AND key {among} RETURNING id"
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, check.kind, check.kind, check.audience, *scope_params, *inner_params])
        return [row[0] for row in cursor.fetchall()]


def _escalate(check: AlertCheck, rows: QuerySet, scope_ids, now: datetime) -> list[int]:
    """Step 2: open alerts whose condition has become critical since they were raised (one UPDATE)."""
    stamp = connection.ops.adapt_datetimefield_value(now)
    return _update_open(
        check, scope_ids, "severity = %s, escalated_at = %s, updated = %s", [Severity.CRITICAL, stamp, stamp],
        f"{{open_keys}} AND a.severity <> '{Severity.CRITICAL}' "
        f"INTERSECT SELECT c.alert_key FROM {{candidates}} WHERE c.alert_severity = '{Severity.CRITICAL}'",
        rows,
    )  # fmt: skip


def _resolve(check: AlertCheck, rows: QuerySet, scope_ids, now: datetime) -> list[int]:
    """Step 3: open alerts whose condition no longer holds (one UPDATE)."""
    stamp = connection.ops.adapt_datetimefield_value(now)
    return _update_open(
        check, scope_ids, "resolved_at = %s, updated = %s", [stamp, stamp],
        "{open_keys} EXCEPT SELECT c.alert_key FROM {candidates}", rows,
    )  # fmt: skip


def _serialise(check: AlertCheck) -> None:
    """On PostgreSQL, runs of one check (two workers, a beat run and an event-driven re-check) take turns:
    a transaction-scoped advisory lock. The unique index alone already prevents duplicates, but two
    overlapping inserts in different orders could deadlock; taking turns, the second run finds the
    first one's alerts committed and inserts nothing. SQLite serialises writers by itself."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"alerts.check:{check.name}"])


def run_check(check: AlertCheck, *, today: date | None = None, scope_ids: Iterable[int] | None = None) -> RunResult:
    """Raise, escalate and resolve one check's alerts, then emit their events — in one transaction.

    The transaction makes a run all-or-nothing: a worker killed mid-check leaves no alert without its
    event, and the re-delivered task (``acks_late``) simply runs again.
    """
    now = timezone.now()
    today = today or timezone.localdate(now)
    scope_ids = None if scope_ids is None else list(scope_ids)
    with transaction.atomic():
        _serialise(check)
        rows = check.candidate_rows(today, scope_ids)
        result = RunResult(raised=_insert_new(check, rows, now))
        if check.escalates:
            result.escalated = _escalate(check, rows, scope_ids, now)
        result.resolved = _resolve(check, rows, scope_ids, now)
        _emit_events(result.raised, "alert_raised")
        _emit_events(result.escalated, "alert_escalated")
    return result


def _emit_events(alert_ids: list[int], event_type: str) -> None:
    """One outbox event per alert, addressed to the alert's audience only; bulk-inserted."""
    from notifications.services import events_emit_many

    for start in range(0, len(alert_ids), EVENT_BATCH):
        batch = (
            Alert.objects.filter(id__in=alert_ids[start : start + EVENT_BATCH]).select_related("vendor").order_by("id")
        )
        events_emit_many([_event_for(alert, event_type) for alert in batch])


def _event_for(alert: Alert, event_type: str) -> dict:
    prefix = "Escalated: " if event_type == "alert_escalated" else ""
    to_sponsor = alert.audience == Audience.SPONSOR
    return {
        "event_type": event_type,
        "title": f"{prefix}{alert.title}",
        "body": f"{alert.get_severity_display()} · {alert.get_kind_display()}",
        "url": alert.subject_url(),
        "sponsor_id": alert.sponsor_id if to_sponsor else None,
        "vendor_id": None if to_sponsor else alert.vendor_id,
        "payload": {"alert_id": alert.pk, "kind": alert.kind, "severity": alert.severity},
    }


def outcome_of(check: AlertCheck, result: RunResult) -> CheckOutcome:
    """What ``run_checks`` prints: complete counts, and a sample of titles."""
    titles = dict(
        Alert.objects.filter(id__in=(result.raised + result.escalated + result.resolved)[: 3 * SAMPLE_SIZE])
        .values_list("id", "title")
    )  # fmt: skip
    return CheckOutcome(
        name=check.name,
        raised=[titles.get(i, "") for i in result.raised[:SAMPLE_SIZE]],
        resolved=[titles.get(i, "") for i in result.resolved[:SAMPLE_SIZE]],
        escalated=[titles.get(i, "") for i in result.escalated[:SAMPLE_SIZE]],
        raised_count=len(result.raised),
        resolved_count=len(result.resolved),
        escalated_count=len(result.escalated),
    )
