"""The set-based machinery every alert check shares: raise, escalate and resolve in a few statements.

A check (``AlertCheck``) only describes its *candidates*: a queryset of the subjects whose condition
holds today, annotated with the alert columns (``alert_key``, ``alert_title``, ``alert_severity``,
``alert_sponsor_id`` …). The engine then runs, whatever the data size, in one transaction:

0. the candidates, evaluated once into a temporary table;
1. **raise** — one ``INSERT … SELECT … WHERE NOT EXISTS (open alert) ON CONFLICT DO NOTHING``: the
   partial unique index on open ``(kind, key)`` makes two runs, or two workers at once, insert each
   alert once;
2. **escalate** — one ``UPDATE`` of open alerts whose candidate row now says ``critical``;
3. **resolve** — one ``UPDATE`` of open alerts whose key is no longer among the candidates;
4. one ``INSERT … SELECT`` of outbox events for what was raised, one for what was escalated
   (→ notifications, e-mail), built in SQL: no alert is loaded into Python.

``scope`` limits all of it to some subjects (the event-driven re-check of one contract or vendor).
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date

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
    """What one run did. The counts are complete; the id lists hold at most ``ID_SAMPLE`` ids each (the
    lowest), so a run over a million rows keeps its memory flat."""

    raised: list[int] = field(default_factory=list)
    escalated: list[int] = field(default_factory=list)
    resolved: list[int] = field(default_factory=list)
    raised_count: int = 0
    escalated_count: int = 0
    resolved_count: int = 0


ID_SAMPLE = 1000
CANDIDATES = "alert_candidates"  # a temporary table, one run at a time per connection


def _execute(sql: str, params: list) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _materialise(rows: QuerySet) -> None:
    """Step 0: the candidates, evaluated once into a temporary table that every later step reads.

    The candidate query is the expensive part (a join over every open milestone, say); raising, escalating
    and resolving would otherwise each run it again. Created and dropped inside the run's transaction (a
    rollback drops it too: DDL is transactional on both databases)."""
    inner_sql, inner_params = rows.values(*(f"alert_{c}" for c in CANDIDATE_COLUMNS)).query.sql_with_params()
    _execute(f"CREATE TEMPORARY TABLE {CANDIDATES} AS {inner_sql}", list(inner_params))
    if connection.vendor == "postgresql":
        _execute(f"ANALYZE {CANDIDATES}", [])  # temporary tables get no statistics otherwise


def _insert_new(check: AlertCheck, stamp) -> int:
    """Step 1: insert the candidates that have no open alert; the partial unique index (ON CONFLICT DO
    NOTHING) keeps a concurrent run from inserting one twice. Returns how many were inserted."""
    meta = Alert._meta
    columns = [meta.get_field(c.removesuffix("_id")).column for c in CANDIDATE_COLUMNS]
    sql = f"""
        INSERT INTO {meta.db_table}
            (kind, audience, {", ".join(columns)}, raised_at, created, updated, acknowledge_comment)
        SELECT %s, %s, {", ".join(f"c.alert_{name}" for name in CANDIDATE_COLUMNS)}, %s, %s, %s, ''
        FROM {CANDIDATES} c
        WHERE NOT EXISTS (
            SELECT 1 FROM {meta.db_table} a WHERE a.kind = %s AND a.key = c.alert_key AND a.resolved_at IS NULL
        )
        ON CONFLICT DO NOTHING
    """
    return _execute(sql, [check.kind, check.audience, stamp, stamp, stamp, check.kind])


def _update_open(check: AlertCheck, scope_ids, assignments: str, params: list, keys: str) -> int:
    """One ``UPDATE`` of the check's open alerts whose key is among ``keys``: a set operation
    (``EXCEPT`` / ``INTERSECT``) of the open alerts' keys (``a``, within the scope) and the candidates' (``c``).

    A set operation reads each side once, whatever the planner believes. A correlated ``[NOT] EXISTS`` or
    ``[NOT] IN`` is planned from the alerts' statistics, which the insert just made stale (an empty table
    before the first run): the planner could then scan the candidates for every open alert. On PostgreSQL
    the keys are gathered once (``ARRAY(…)``, an init-plan) and looked up in the open-alert index."""
    table = Alert._meta.db_table
    scope_sql, scope_params = "", []
    if scope_ids is not None:
        column = Alert._meta.get_field(check.scope_column.removesuffix("_id")).column
        scope_sql = f"AND a.{column} IN ({', '.join(['%s'] * len(scope_ids))})"
        scope_params = list(scope_ids)
    open_keys = (
        f"SELECT a.key FROM {table} a WHERE a.kind = %s AND a.audience = %s AND a.resolved_at IS NULL {scope_sql}"
    )
    key_set = keys.format(open_keys=open_keys, candidates=f"{CANDIDATES} c")
    among = f"= ANY(ARRAY({key_set}))" if connection.vendor == "postgresql" else f"IN ({key_set})"
    sql = f"UPDATE {table} SET {assignments} WHERE kind = %s AND resolved_at IS NULL AND key {among}"
    return _execute(sql, [*params, check.kind, check.kind, check.audience, *scope_params])


def _escalate(check: AlertCheck, scope_ids, stamp) -> int:
    """Step 2: open alerts whose condition has become critical since they were raised (one UPDATE)."""
    return _update_open(
        check, scope_ids, "severity = %s, escalated_at = %s, updated = %s", [Severity.CRITICAL, stamp, stamp],
        f"{{open_keys}} AND a.severity <> '{Severity.CRITICAL}' "
        f"INTERSECT SELECT c.alert_key FROM {{candidates}} WHERE c.alert_severity = '{Severity.CRITICAL}'",
    )  # fmt: skip


def _resolve(check: AlertCheck, scope_ids, stamp) -> int:
    """Step 3: open alerts whose condition no longer holds (one UPDATE)."""
    return _update_open(
        check, scope_ids, "resolved_at = %s, updated = %s", [stamp, stamp],
        "{open_keys} EXCEPT SELECT c.alert_key FROM {candidates}",
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
    """Raise, escalate and resolve one check's alerts, then emit their events — in one transaction, in a
    constant number of statements whatever the data size.

    The transaction makes a run all-or-nothing: a worker killed mid-check leaves no alert without its
    event, and the re-delivered task (``acks_late``) simply runs again. What this run raised, escalated
    and resolved is found afterwards by its timestamp (runs of one check take turns, see ``_serialise``).
    """
    now = timezone.now()
    today = today or timezone.localdate(now)
    scope_ids = None if scope_ids is None else list(scope_ids)
    result = RunResult()
    if scope_ids is not None and not scope_ids:
        return result
    stamp = connection.ops.adapt_datetimefield_value(now)
    with transaction.atomic():
        _serialise(check)
        _materialise(check.candidate_rows(today, scope_ids))
        result.raised_count = _insert_new(check, stamp)
        if check.escalates:
            result.escalated_count = _escalate(check, scope_ids, stamp)
        result.resolved_count = _resolve(check, scope_ids, stamp)
        _execute(f"DROP TABLE {CANDIDATES}", [])
        ours = Alert.objects.filter(kind=check.kind, audience=check.audience)
        if result.raised_count:
            _emit_events(check, "alert_raised", "", "raised_at", stamp)
            result.raised = _sample(ours.filter(raised_at=now))
        if result.escalated_count:
            _emit_events(check, "alert_escalated", "Escalated: ", "escalated_at", stamp)
            result.escalated = _sample(ours.filter(escalated_at=now))
        if result.resolved_count:
            result.resolved = _sample(ours.filter(resolved_at=now))
    return result


def _sample(alerts: QuerySet) -> list[int]:
    return list(alerts.order_by("id").values_list("id", flat=True)[:ID_SAMPLE])


def _labels(column: str, choices) -> tuple[str, list]:
    """A choice column's labels as a SQL ``CASE`` (labels are parameters)."""
    whens = " ".join(f"WHEN {column} = %s THEN %s" for _ in choices)
    params = [item for value, label in choices for item in (value, str(label))]
    return f"CASE {whens} ELSE {column} END", params


def _subject_url_sql() -> tuple[str, list]:
    """``Alert.subject_url`` in SQL, from the routes themselves (``reverse`` with a sentinel id), so the
    links in events and on the alert pages never differ (a test compares them)."""
    from django.urls import reverse

    sentinel = 987654321
    whens, params = [], []
    for column, route, condition in (
        ("milestone_id", "milestone-detail", ""), ("contract_id", "contract-detail", ""),
        ("program_id", "program-detail", ""), ("qualification_id", "qualification-detail", ""),
        ("certification_id", "certification-detail", f" AND a.audience = '{Audience.VENDOR}'"),
    ):  # fmt: skip
        prefix, suffix = reverse(route, kwargs={"pk": sentinel}).split(str(sentinel))
        whens.append(f"WHEN a.{column} IS NOT NULL{condition} THEN %s || CAST(a.{column} AS TEXT) || %s")
        params += [prefix, suffix]
    prefix, suffix = reverse("vendor-detail", kwargs={"slug": "sentinel-slug"}).split("sentinel-slug")
    whens.append("WHEN a.vendor_id IS NOT NULL THEN %s || v.slug || %s")
    params += [prefix, suffix]
    return f"CASE {' '.join(whens)} ELSE '' END", params


def _emit_events(check: AlertCheck, event_type: str, title_prefix: str, stamp_column: str, stamp) -> int:
    """Step 4: one outbox event per alert this run raised (or escalated), addressed to the alert's audience
    only — one ``INSERT … SELECT``; delivery is kicked once after commit."""
    from alerts.models import AlertKind
    from notifications.models import OutboxEvent
    from notifications.services import kick_delivery
    from vendors.models import Vendor

    postgres = connection.vendor == "postgresql"
    uuid_sql = "gen_random_uuid()" if postgres else "lower(hex(randomblob(16)))"
    json_object = "jsonb_build_object" if postgres else "json_object"
    severity_sql, severity_params = _labels("a.severity", Severity.choices)
    url_sql, url_params = _subject_url_sql()
    events = OutboxEvent._meta.db_table
    sql = f"""
        INSERT INTO {events} (uuid, event_type, title, body, url, payload, created, status, attempts,
                              next_attempt_at, last_error, sponsor_id, vendor_id)
        SELECT {uuid_sql}, %s, substr(%s || a.title, 1, 200), {severity_sql} || ' · ' || %s, {url_sql},
               {json_object}('alert_id', a.id, 'kind', a.kind, 'severity', a.severity), %s, 'pending', 0, %s, '',
               CASE WHEN a.audience = %s THEN a.sponsor_id END, CASE WHEN a.audience = %s THEN a.vendor_id END
        FROM {Alert._meta.db_table} a LEFT JOIN {Vendor._meta.db_table} v ON v.id = a.vendor_id
        WHERE a.kind = %s AND a.audience = %s AND a.{stamp_column} = %s
    """
    params = [
        event_type, title_prefix, *severity_params, str(AlertKind(check.kind).label), *url_params, stamp, stamp,
        Audience.SPONSOR, Audience.VENDOR, check.kind, check.audience, stamp,
    ]  # fmt: skip
    count = _execute(sql, params)
    if count:
        transaction.on_commit(kick_delivery)
    return count


def outcome_of(check: AlertCheck, result: RunResult) -> CheckOutcome:
    """What ``run_checks`` prints: complete counts, and a sample of titles."""
    titles = dict(
        Alert.objects.filter(
            id__in=result.raised[:SAMPLE_SIZE] + result.escalated[:SAMPLE_SIZE] + result.resolved[:SAMPLE_SIZE]
        ).values_list("id", "title")
    )  # fmt: skip
    return CheckOutcome(
        name=check.name,
        raised=[titles.get(i, "") for i in result.raised[:SAMPLE_SIZE]],
        resolved=[titles.get(i, "") for i in result.resolved[:SAMPLE_SIZE]],
        escalated=[titles.get(i, "") for i in result.escalated[:SAMPLE_SIZE]],
        raised_count=result.raised_count,
        resolved_count=result.resolved_count,
        escalated_count=result.escalated_count,
    )
