"""The alert checks (SPEC §4) over the whole portfolio: ours, the hand-written SQL floor, and a naive loop.

Data: the contracts benchmark's portfolio (``bench.data.generate_contracts``: 100 000 contracts, 1 000 000
milestones, 300 000 invoices) plus, from ``generate_extras``, 20 000 certificates (some expired, some expiring,
one in ten renewed by a later one), a qualification per sponsor and vendor with audits falling due, budget
caps on two thirds of the programmes (some exceeded) and different thresholds per sponsor. Every check has
real work: overdue and due-soon milestones, contracts over their warning share or budget, certificates of
vendors under active contracts.

1. ``ours``: ``run_all_checks([name])`` for each check of ``alerts.definitions.ALERT_CHECKS`` in turn (the
   registry entry the ``run_checks`` command and the Celery task call: ``alerts.engine.run_check`` and the
   outcome's titles), timed per check; the total is their sum.
2. ``floor``: one hand-written SQL statement per check: the candidates (a ``MATERIALIZED`` CTE), the
   ``INSERT … ON CONFLICT DO NOTHING RETURNING`` of the alerts, the escalating ``UPDATE`` (for the checks
   that escalate), the resolving ``UPDATE``, and the outbox events of what was raised or escalated
   (``INSERT … SELECT`` from the ``RETURNING`` rows), all data-modifying CTEs of one statement. It writes
   the same alert rows and the same events as ours (compared after the first run). It does not: read
   anything back into Python (no titles for the outcome), check for an open alert before inserting (the
   unique index alone), run the outcome's query, or go through the ORM.
3. ``naive``: a per-row Python loop over the milestone checks only (four of the fourteen): for each milestone
   of a slice, its contract and sponsor loaded with it, test each condition in Python, ``get_or_create`` the
   open alert and ``event_emit`` its event, or resolve an open alert of a milestone that no longer qualifies.
   Run on a slice (``BENCH_NAIVE_MILESTONES``) and extrapolated linearly to all milestones; compared with
   ours' four milestone checks.

Each repetition starts from no alerts and no alert events (deleted, then ``VACUUM``), for ours and for the
floor alike, in rotating order: a first run (raises everything) and a second run (must insert nothing).
Delivery kicks (``notifications.services.kick_delivery``, a Celery message after commit) are replaced by a
counter in every implementation: the bench has no broker, and the floor sends none.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
import tracemalloc
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date

from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from alerts.definitions import ALERT_CHECKS, MAX_LEAD_DAYS
from alerts.engine import AlertCheck
from alerts.models import Alert, AlertKind, Audience, Severity
from bench import data
from contracts.choices import CLOSED_MILESTONE_STATES, ContractState, MilestoneState
from contracts.models import Milestone
from cro_cmo.checks import run_all_checks
from notifications import services as notification_services
from notifications.models import OutboxEvent
from sponsors.models import Program, Sponsor, VendorQualification
from vendors.choices import Authority, CertificationType
from vendors.facet_index import directory_changed
from vendors.models import Certification, Vendor

ISSUE_CERTIFICATES = 20_000
DEFAULT_REPETITIONS = 3
DEFAULT_NAIVE_MILESTONES = 10_000
TARGET = 1.5  # ours within 1.5x of the floor
ALERT_EVENTS = ("alert_raised", "alert_escalated")
MILESTONE_CHECKS = ("milestone_due_soon", "milestone_due_soon_vendor", "milestone_overdue", "milestone_overdue_vendor")

# Per-sponsor thresholds (the three bench sponsors differ, as the checks read them by join).
SPONSOR_SETTINGS = [
    {},  # the defaults
    {"due_soon_days": 14, "budget_warning_percent": 75, "certificate_expiring_days": 120, "contract_ending_days": 90,
     "requalification_days": 45},
    {"due_soon_days": 3, "overdue_escalation_days": 7, "burn_ahead_points": 10, "certificate_expiring_days": 60,
     "requalification_days": 60},
]  # fmt: skip


# --- Data ------------------------------------------------------------------------------------------------------


def extra_counts() -> tuple[int, int, int]:
    """(certificates, qualifications, programmes with a cap) now in the database."""
    return (
        Certification.objects.count(),
        VendorQualification.objects.count(),
        Program.objects.filter(budget_cap__isnull=False).count(),
    )


def generate_extras(certificates: int) -> None:
    """On top of ``generate_contracts``' portfolio (its sponsors, programmes and vendors), in one transaction:

    1. the sponsors' thresholds varied (``SPONSOR_SETTINGS``);
    2. a EUR budget cap on two programmes in three, at 80–120 % of what their EUR contracts commit (so some
       are over);
    3. ``certificates`` certificates, ten per vendor in turn: type by slot, expiry spread from 180 days ago to
       three and a half years ahead; slot 9 renews slot 0 (same type and authority, a year later);
    4. one qualification per sponsor and vendor, next audit from 60 days ago to ~two years ahead, every 11th
       disqualified;
    then ANALYZE.
    """
    sponsors = list(Sponsor.objects.filter(slug__startswith="bench-contracts-sponsor-").order_by("slug"))
    vendor_ids = list(
        Vendor.objects.filter(slug__startswith="bench-vendor-").order_by("id").values_list("id", flat=True)
    )
    types = [value for value in CertificationType.values if value != CertificationType.OTHER]  # eight
    authorities = [value for value in Authority.values if value != Authority.OTHER]
    with transaction.atomic():
        for sponsor, settings in zip(sponsors, SPONSOR_SETTINGS, strict=False):
            Sponsor.objects.filter(pk=sponsor.pk).update(**settings)
        with connection.cursor() as cursor:
            cursor.execute(
                """
                UPDATE sponsors_program p SET budget_cap = round(t.total * (0.8 + (p.id %% 5) * 0.1), 2),
                    budget_currency = 'EUR'
                FROM (SELECT program_id, SUM(budget) AS total FROM contracts_contract
                      WHERE currency = 'EUR' AND state IN ('pending_signature', 'active', 'completed')
                      GROUP BY program_id) t
                WHERE p.id = t.program_id AND p.id %% 3 <> 0 AND p.sponsor_id = ANY(%(sponsors)s)
                """,
                {"sponsors": [s.pk for s in sponsors]},
            )
            cursor.execute(
                """
                INSERT INTO vendors_certification (created, updated, type, authority, number, issued_on, expires_on,
                    document, vendor_id, site_id)
                SELECT now(), now(), (%(types)s::text[])[s %% 9 %% %(n_types)s + 1],
                    (%(authorities)s::text[])[(v + s %% 9) %% %(n_authorities)s + 1], 'BENCH-' || g,
                    e.expires - 1095, e.expires, '', (%(vendors)s::bigint[])[v + 1], NULL
                FROM generate_series(1, %(n)s) AS g,
                    LATERAL (SELECT (g - 1) / 10 %% %(n_vendors)s AS v, (g - 1) %% 10 AS s) AS vs,
                    LATERAL (SELECT current_date - 180 + ((((g - 1) / 10) * 7919 + (s %% 9) * 131) %% 1460)::int
                                    + CASE WHEN s = 9 THEN 365 ELSE 0 END AS expires) AS e
                """,
                {"types": types, "n_types": len(types), "authorities": authorities, "n_authorities": len(authorities),
                 "vendors": vendor_ids, "n_vendors": len(vendor_ids), "n": certificates},
            )  # fmt: skip
            directory_changed()  # raw inserts send no signal: the directory's facet index must follow
            cursor.execute(
                """
                INSERT INTO sponsors_vendorqualification (created, updated, status, cda_signed_on, msa_reference,
                    last_audit_on, next_audit_due, risk, notes, sponsor_id, vendor_id)
                SELECT now(), now(),
                    CASE WHEN (p.v + p.s) %% 11 = 0 THEN 'disqualified' ELSE 'approved' END, NULL, '',
                    d.due - 730, d.due, '', '', s.id, v.id
                FROM sponsors_sponsor s CROSS JOIN vendors_vendor v,
                    -- Positions in the lists, not ids: the same dates whatever ids the database hands out
                    -- (a test run after others starts its ids elsewhere).
                    LATERAL (SELECT array_position(%(vendors)s::bigint[], v.id) AS v,
                                    array_position(%(sponsors)s::bigint[], s.id) AS s) AS p,
                    LATERAL (SELECT current_date - 60 + ((p.v * 37 + p.s * 101) %% 730)::int AS due) AS d
                WHERE s.id = ANY(%(sponsors)s) AND v.id = ANY(%(vendors)s)
                """,
                {"sponsors": [s.pk for s in sponsors], "vendors": vendor_ids},
            )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


# --- Shared helpers ---------------------------------------------------------------------------------------------


@contextmanager
def kicks_counted():
    """Replace the outbox delivery kick (a Celery message after commit) by a counter, for every implementation."""
    calls = []
    original = notification_services.kick_delivery
    notification_services.kick_delivery = lambda: calls.append(1)
    try:
        yield calls
    finally:
        notification_services.kick_delivery = original


def reset() -> None:
    """No alerts, no alert events; dead rows vacuumed so each first run starts alike (untimed)."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM notifications_outboxevent WHERE event_type = ANY(%s)", [list(ALERT_EVENTS)])
        cursor.execute("DELETE FROM alerts_alert")
        if connection.vendor == "postgresql" and connection.get_autocommit():
            cursor.execute("VACUUM ANALYZE alerts_alert, notifications_outboxevent")


def written_rows() -> tuple[int, int]:
    return Alert.objects.count(), OutboxEvent.objects.filter(event_type__in=ALERT_EVENTS).count()


def snapshot() -> tuple[set, set]:
    """What a first run wrote, comparable across implementations (ids replaced by the alert's kind and key)."""
    columns = ("kind", "audience", "key", "title", "severity", "sponsor_id", "vendor_id", "contract_id",
               "milestone_id", "program_id", "certification_id", "qualification_id")  # fmt: skip
    alerts = set(Alert.objects.filter(resolved_at__isnull=True).values_list(*columns))
    keys = dict(Alert.objects.values_list("id", "key"))
    events = set()
    for event_type, title, body, url, sponsor_id, vendor_id, payload in OutboxEvent.objects.filter(
        event_type__in=ALERT_EVENTS
    ).values_list("event_type", "title", "body", "url", "sponsor_id", "vendor_id", "payload"):
        payload = dict(payload)
        payload["alert_key"] = keys.get(payload.pop("alert_id"))
        events.add((event_type, title, body, url, sponsor_id, vendor_id, json.dumps(payload, sort_keys=True)))
    return alerts, events


# --- 1. Ours ----------------------------------------------------------------------------------------------------


def run_ours(check: AlertCheck) -> tuple[int, int, int]:
    """The registry's entry for the check, as ``run_checks`` and the Celery task call it."""
    (outcome,) = run_all_checks([check.name])
    if outcome.error:
        raise RuntimeError(f"{check.name}: {outcome.error}")
    counts = outcome.counts
    return counts["raised"], counts["escalated"], counts["resolved"]


# --- 2. The floor -----------------------------------------------------------------------------------------------


def _labels(column: str, choices) -> str:
    whens = " ".join(f"WHEN '{value}' THEN '{label}'" for value, label in choices)
    return f"CASE {column} {whens} ELSE {column} END"


def _url(name: str) -> str:
    """``prefix || id || suffix`` for a detail route taking ``pk`` (reversed once, so the floor links alike)."""
    prefix, suffix = reverse(name, kwargs={"pk": 987654321}).split("987654321")
    return prefix, suffix


def _milestone_candidates(audience: str, overdue: bool) -> str:
    key_suffix = ":v" if audience == Audience.VENDOR else ":s"
    label = "Milestone overdue: " if overdue else "Milestone due soon: "
    if overdue:
        severity = "CASE WHEN %(today)s - m.due_date > s.overdue_escalation_days THEN 'critical' ELSE 'warning' END"
        where = "m.due_date < %(today)s AND m.state NOT IN ('accepted', 'removed')"
    else:
        severity = "'info'"
        where = ("m.due_date >= %(today)s AND m.due_date - %(today)s <= s.due_soon_days "
                 "AND m.state IN ('planned', 'in_progress', 'rejected')")  # fmt: skip
    prefix, suffix = _url("milestone-detail")
    return f"""
        SELECT 'milestone:' || m.id || '{key_suffix}' AS key,
            left('{label}' || m.name || ' — ' || c.number || ', due ' || m.due_date, 300) AS title,
            {severity} AS severity, c.sponsor_id, c.vendor_id, c.id AS contract_id, m.id AS milestone_id,
            c.program_id, NULL::bigint AS certification_id, NULL::bigint AS qualification_id,
            '{prefix}' || m.id || '{suffix}' AS url
        FROM contracts_milestone m JOIN contracts_contract c ON c.id = m.contract_id
            JOIN sponsors_sponsor s ON s.id = c.sponsor_id
        WHERE c.state = 'active' AND {where}
    """


def _contract_candidates(label: str, detail: str, where: str, lateral: str = "") -> str:
    prefix, suffix = _url("contract-detail")
    return f"""
        SELECT 'contract:' || c.id || ':s' AS key, left('{label}' || c.number || ' ' || c.title || {detail}, 300) AS title,
            %(severity)s AS severity, c.sponsor_id, c.vendor_id, c.id AS contract_id, NULL::bigint AS milestone_id,
            c.program_id, NULL::bigint AS certification_id, NULL::bigint AS qualification_id,
            '{prefix}' || c.id || '{suffix}' AS url
        FROM contracts_contract c JOIN sponsors_sponsor s ON s.id = c.sponsor_id {lateral}
        WHERE c.state = 'active' AND {where}
    """


def _certificate_candidates(audience: str, expired: bool) -> str:
    label = "Certificate expired: " if expired else "Certificate expiring: "
    title = (f"left('{label}' || {_labels('ce.type', CertificationType.choices)} || ' (' || "
             f"{_labels('ce.authority', Authority.choices)} || ') of ' || v.name || ', expiry ' || ce.expires_on, 300)")  # fmt: skip
    window = "ce.expires_on < %(today)s" if expired else "ce.expires_on >= %(today)s"
    not_renewed = """NOT EXISTS (SELECT 1 FROM vendors_certification r WHERE r.vendor_id = ce.vendor_id
        AND r.type = ce.type AND r.authority = ce.authority AND COALESCE(r.site_id, 0) = COALESCE(ce.site_id, 0)
        AND (r.expires_on IS NULL OR r.expires_on > ce.expires_on))"""
    if audience == Audience.VENDOR:
        lead = "" if expired else " AND ce.expires_on <= %(today)s + %(vendor_lead)s"
        prefix, suffix = _url("certification-detail")
        return f"""
            SELECT 'certification:' || ce.id || ':v' AS key, {title} AS title, %(severity)s AS severity,
                NULL::bigint AS sponsor_id, ce.vendor_id, NULL::bigint AS contract_id, NULL::bigint AS milestone_id,
                NULL::bigint AS program_id, ce.id AS certification_id, NULL::bigint AS qualification_id,
                '{prefix}' || ce.id || '{suffix}' AS url
            FROM vendors_certification ce JOIN vendors_vendor v ON v.id = ce.vendor_id
            WHERE {window}{lead} AND {not_renewed}
        """
    lead = "" if expired else " AND ce.expires_on - %(today)s <= s.certificate_expiring_days"
    prefix, suffix = reverse("vendor-detail", kwargs={"slug": "SLUG"}).split("SLUG")
    return f"""
        SELECT 'certification:' || ce.id || ':s' || s.id AS key, {title} AS title, %(severity)s AS severity,
            s.id AS sponsor_id, ce.vendor_id, NULL::bigint AS contract_id, NULL::bigint AS milestone_id,
            NULL::bigint AS program_id, ce.id AS certification_id, NULL::bigint AS qualification_id,
            '{prefix}' || v.slug || '{suffix}' AS url
        FROM vendors_certification ce JOIN vendors_vendor v ON v.id = ce.vendor_id
            JOIN (SELECT DISTINCT vendor_id, sponsor_id FROM contracts_contract WHERE state = 'active') vc
                ON vc.vendor_id = ce.vendor_id
            JOIN sponsors_sponsor s ON s.id = vc.sponsor_id
        WHERE {window}{lead} AND {not_renewed}
    """


def floor_candidates() -> dict[str, str]:
    """Each check's candidates as hand-written SQL: the same keys, titles, severities, subjects and links."""
    program_prefix, program_suffix = _url("program-detail")
    qualification_prefix, qualification_suffix = _url("qualification-detail")
    return {
        "milestone_due_soon": _milestone_candidates(Audience.SPONSOR, overdue=False),
        "milestone_due_soon_vendor": _milestone_candidates(Audience.VENDOR, overdue=False),
        "milestone_overdue": _milestone_candidates(Audience.SPONSOR, overdue=True),
        "milestone_overdue_vendor": _milestone_candidates(Audience.VENDOR, overdue=True),
        "budget_warning": _contract_candidates(
            "Budget warning: ",
            "' has invoiced ' || floor(c.invoiced * 100 / c.budget)::integer || ' %% of its budget'",
            "c.budget > 0 AND c.invoiced < c.budget AND c.invoiced * 100 >= c.budget * s.budget_warning_percent",
        ),
        "budget_exceeded": _contract_candidates(
            "Budget exceeded: ",
            "' has invoiced ' || floor(c.invoiced)::bigint || ' ' || c.currency || ' against a budget of ' "
            "|| floor(c.budget)::bigint || ' ' "
            "|| c.currency",
            "c.invoiced > 0 AND c.invoiced >= c.budget",
        ),
        "burn_ahead_of_schedule": _contract_candidates(
            "Burn ahead of schedule: ",
            "' has burnt ' || floor(c.invoiced * 100 / c.budget)::integer || ' %% of its budget with ' "
            "|| (t.elapsed * 100 / t.span)::integer || ' %% of its time'",
            'c.budget > 0 AND c."end" > c.start AND c.invoiced * 100 * t.span > c.budget * (t.elapsed * 100 '
            "+ s.burn_ahead_points * t.span)",
            lateral=', LATERAL (SELECT c."end" - c.start AS span, '
            'LEAST(GREATEST(%(today)s - c.start, 0), c."end" - c.start) AS elapsed) t',
        ),
        "contract_ending": _contract_candidates(
            "Contract ending: ",
            "' ends on ' || c.\"end\" || ' with milestones still open'",
            'c."end" >= %(today)s AND c."end" - %(today)s <= s.contract_ending_days AND EXISTS (SELECT 1 FROM '
            "contracts_milestone m WHERE m.contract_id = c.id AND m.state NOT IN ('accepted', 'removed'))",
        ),
        "program_over_budget": f"""
            SELECT 'program:' || p.id || ':s' AS key,
                left('Programme over its cap: ' || p.code || ' commits ' || floor(t.committed)::bigint || ' ' || p.budget_currency
                     || ' against a cap of ' || floor(p.budget_cap)::bigint || ' ' || p.budget_currency, 300) AS title,
                %(severity)s AS severity, p.sponsor_id, NULL::bigint AS vendor_id, NULL::bigint AS contract_id,
                NULL::bigint AS milestone_id, p.id AS program_id, NULL::bigint AS certification_id,
                NULL::bigint AS qualification_id, '{program_prefix}' || p.id || '{program_suffix}' AS url
            FROM sponsors_program p, LATERAL (SELECT SUM(c.budget) AS committed FROM contracts_contract c
                WHERE c.program_id = p.id AND c.currency = p.budget_currency
                  AND c.state IN ('pending_signature', 'active', 'completed')) t
            WHERE p.budget_cap IS NOT NULL AND t.committed > p.budget_cap
        """,
        "certificate_expiring": _certificate_candidates(Audience.VENDOR, expired=False),
        "certificate_expiring_sponsors": _certificate_candidates(Audience.SPONSOR, expired=False),
        "certificate_expired": _certificate_candidates(Audience.VENDOR, expired=True),
        "certificate_expired_sponsors": _certificate_candidates(Audience.SPONSOR, expired=True),
        "requalification_due": f"""
            SELECT 'qualification:' || q.id || ':s' AS key,
                left('Requalification audit due: ' || v.name || ' on ' || q.next_audit_due, 300) AS title,
                CASE WHEN q.next_audit_due < %(today)s THEN 'critical' ELSE 'warning' END AS severity,
                q.sponsor_id, q.vendor_id, NULL::bigint AS contract_id, NULL::bigint AS milestone_id,
                NULL::bigint AS program_id, NULL::bigint AS certification_id, q.id AS qualification_id,
                '{qualification_prefix}' || q.id || '{qualification_suffix}' AS url
            FROM sponsors_vendorqualification q JOIN sponsors_sponsor s ON s.id = q.sponsor_id
                JOIN vendors_vendor v ON v.id = q.vendor_id
            WHERE q.next_audit_due IS NOT NULL AND q.status <> 'disqualified'
              AND q.next_audit_due - %(today)s <= s.requalification_days
        """,
    }


SUBJECTS = "sponsor_id, vendor_id, contract_id, milestone_id, program_id, certification_id, qualification_id"
EVENT_COLUMNS = "uuid, event_type, title, body, url, payload, created, status, attempts, next_attempt_at, last_error, sponsor_id, vendor_id"


def _events(source: str, event_type: str, prefix: str) -> str:
    return f"""
        SELECT gen_random_uuid(), '{event_type}', left('{prefix}' || {source}.title, 200),
            {_labels(source + ".severity", Severity.choices)} || ' · ' || %(kind_label)s, {source}.url,
            jsonb_build_object('alert_id', {source}.id, 'kind', %(kind)s, 'severity', {source}.severity),
            %(now)s, 'pending', 0, %(now)s, '',
            CASE WHEN %(audience)s = 'sponsor' THEN {source}.sponsor_id END,
            CASE WHEN %(audience)s = 'vendor' THEN {source}.vendor_id END
        FROM {source}
    """


def floor_statement(check: AlertCheck, candidates: str) -> str:
    """The one statement of a check: candidates once, then insert, escalate, resolve and the events."""
    escalate = ""
    escalated_events = ""
    if check.escalates:
        escalate = """
        esc AS (
            UPDATE alerts_alert a SET severity = 'critical', escalated_at = %(now)s, updated = %(now)s
            FROM cand c
            WHERE a.kind = %(kind)s AND a.audience = %(audience)s AND a.resolved_at IS NULL AND a.key = c.key
              AND c.severity = 'critical' AND a.severity <> 'critical'
            RETURNING a.id, a.title, a.severity, a.sponsor_id, a.vendor_id, c.url
        ),"""
        escalated_events = "UNION ALL " + _events("esc", "alert_escalated", "Escalated: ")
    return f"""
        WITH cand AS MATERIALIZED ({candidates}),
        ins AS (
            INSERT INTO alerts_alert (created, updated, kind, audience, key, title, severity, {SUBJECTS}, raised_at,
                acknowledge_comment)
            SELECT %(now)s, %(now)s, %(kind)s, %(audience)s, c.key, c.title, c.severity, {SUBJECTS.replace(", ", ", c.").join(["c.", ""])},
                %(now)s, ''
            FROM cand c
            ON CONFLICT (kind, key) WHERE resolved_at IS NULL DO NOTHING
            RETURNING id, title, severity, sponsor_id, vendor_id, key
        ),
        ins_url AS (SELECT ins.*, c.url FROM ins JOIN cand c ON c.key = ins.key),{escalate}
        res AS (
            UPDATE alerts_alert a SET resolved_at = %(now)s, updated = %(now)s
            WHERE a.kind = %(kind)s AND a.resolved_at IS NULL AND a.key = ANY(ARRAY(
                SELECT o.key FROM alerts_alert o WHERE o.kind = %(kind)s AND o.audience = %(audience)s
                    AND o.resolved_at IS NULL
                EXCEPT SELECT c.key FROM cand c))
            RETURNING a.id
        ),
        ev AS (
            INSERT INTO notifications_outboxevent ({EVENT_COLUMNS})
            {_events("ins_url", "alert_raised", "")} {escalated_events}
            RETURNING 1
        )
        SELECT (SELECT count(*) FROM ins), {"(SELECT count(*) FROM esc)" if check.escalates else "0"},
            (SELECT count(*) FROM res), (SELECT count(*) FROM ev)
    """  # fmt: skip


@dataclass
class Floor:
    today: date
    statements: dict[str, str] = field(default_factory=dict)

    def __post_init__(self):
        candidates = floor_candidates()
        self.statements = {check.name: floor_statement(check, candidates[check.name]) for check in ALERT_CHECKS}

    def params(self, check: AlertCheck) -> dict:
        from django.conf import settings

        return {
            "today": self.today, "now": timezone.now(), "kind": check.kind, "audience": check.audience,
            "severity": check.severity, "kind_label": str(AlertKind(check.kind).label),
            "vendor_lead": settings.CERTIFICATE_EXPIRING_DAYS, "max_lead": MAX_LEAD_DAYS,
        }  # fmt: skip

    def run(self, check: AlertCheck) -> tuple[int, int, int]:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(self.statements[check.name], self.params(check))
            raised, escalated, resolved, _events = cursor.fetchone()
        return raised, escalated, resolved


# --- 3. Naive ----------------------------------------------------------------------------------------------------


def naive_milestones(ids: list[int], today: date) -> int:
    """The four milestone checks as a per-row loop; returns the alerts raised."""
    from notifications.services import event_emit

    open_states = {MilestoneState.PLANNED, MilestoneState.IN_PROGRESS, MilestoneState.REJECTED}
    raised = 0
    now = timezone.now()
    for milestone in Milestone.objects.filter(id__in=ids).select_related("contract__sponsor", "contract__vendor"):
        contract, sponsor = milestone.contract, milestone.contract.sponsor
        active = contract.state == ContractState.ACTIVE
        days = (milestone.due_date - today).days
        due_soon = active and milestone.state in open_states and 0 <= days <= sponsor.due_soon_days
        overdue = active and days < 0 and milestone.state not in CLOSED_MILESTONE_STATES
        for kind, holds, label in (
            (AlertKind.MILESTONE_DUE_SOON, due_soon, "Milestone due soon: "),
            (AlertKind.MILESTONE_OVERDUE, overdue, "Milestone overdue: "),
        ):
            severity = Severity.INFO if kind == AlertKind.MILESTONE_DUE_SOON else Severity.WARNING
            if kind == AlertKind.MILESTONE_OVERDUE and -days > sponsor.overdue_escalation_days:
                severity = Severity.CRITICAL
            for audience, suffix in ((Audience.SPONSOR, ":s"), (Audience.VENDOR, ":v")):
                key = f"milestone:{milestone.pk}{suffix}"
                if not holds:
                    Alert.objects.filter(kind=kind, key=key, resolved_at__isnull=True).update(resolved_at=now)
                    continue
                title = f"{label}{milestone.name} — {contract.number}, due {milestone.due_date}"[:300]
                alert, created = Alert.objects.get_or_create(
                    kind=kind, key=key, resolved_at=None,
                    defaults={"audience": audience, "title": title, "severity": severity, "raised_at": now,
                              "sponsor": sponsor, "vendor": contract.vendor, "contract": contract,
                              "milestone": milestone, "program_id": contract.program_id},
                )  # fmt: skip
                if created:
                    raised += 1
                    to_sponsor = audience == Audience.SPONSOR
                    event_emit(
                        "alert_raised", title=alert.title,
                        body=f"{alert.get_severity_display()} · {alert.get_kind_display()}", url=alert.subject_url(),
                        sponsor=sponsor if to_sponsor else None, vendor=None if to_sponsor else contract.vendor,
                        payload={"alert_id": alert.pk, "kind": alert.kind, "severity": alert.severity},
                    )  # fmt: skip
    return raised


# --- The run ------------------------------------------------------------------------------------------------------


@dataclass
class Runs:
    """Seconds per check, per repetition: the first run and the second (which must insert nothing)."""

    first: dict[str, list[float]] = field(default_factory=dict)
    second: dict[str, list[float]] = field(default_factory=dict)
    raised: dict[str, int] = field(default_factory=dict)
    totals_first: list[float] = field(default_factory=list)
    totals_second: list[float] = field(default_factory=list)

    def record(self, name: str, which: str, seconds: float) -> None:
        getattr(self, which).setdefault(name, []).append(seconds)

    def median(self, which: str, names=None) -> float:
        totals = self.totals_first if which == "first" else self.totals_second
        if names is None:
            return statistics.median(totals)
        per = getattr(self, which)
        return sum(statistics.median(per[name]) for name in names)


def one_pass(label: str, run, runs: Runs, out) -> None:
    """A first run (from no alerts) then a second run of every check; the second must write nothing."""
    reset()
    for which in ("first", "second"):
        before = written_rows()
        total = 0.0
        for check in ALERT_CHECKS:
            begin = time.perf_counter()
            raised, escalated, resolved = run(check)
            elapsed = time.perf_counter() - begin
            total += elapsed
            runs.record(check.name, which, elapsed)
            if which == "first":
                runs.raised[check.name] = raised
            elif (raised, escalated, resolved) != (0, 0, 0):
                raise AssertionError(f"{label} second run of {check.name}: {raised}/{escalated}/{resolved}")
        (runs.totals_first if which == "first" else runs.totals_second).append(total)
        if which == "second" and written_rows() != before:
            raise AssertionError(f"{label}: the second run wrote rows ({before} -> {written_rows()})")


def count_queries(run) -> dict[str, tuple[int, int]]:
    """Statements per check in a first and a second run (untimed)."""
    reset()
    counts = {}
    for check in ALERT_CHECKS:
        with CaptureQueriesContext(connection) as first:
            run(check)
        counts[check.name] = [len(first.captured_queries)]
    for check in ALERT_CHECKS:
        with CaptureQueriesContext(connection) as second:
            run(check)
        counts[check.name].append(len(second.captured_queries))
    return {name: tuple(pair) for name, pair in counts.items()}


def peak_memory(run) -> tuple[float, str]:
    """Peak Python memory (tracemalloc, KiB) of one check's first run, the largest over the checks (untimed)."""
    reset()
    worst, where = 0, ""
    for check in ALERT_CHECKS:
        tracemalloc.start()
        run(check)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        if peak > worst:
            worst, where = peak, check.name
    return worst / 1024, where


def run(*, repetitions: int, naive_milestones_count: int, counts: tuple, out=print, memory_only=False) -> dict:
    today = timezone.localdate()
    floor = Floor(today)
    with kicks_counted() as kicks:
        if memory_only:
            peak, where = peak_memory(run_ours)
            out(f"peak memory: {peak:.0f} KiB ({where})")
            reset()
            return {"peak_kib": peak}
        return _run(floor, today, repetitions, naive_milestones_count, counts, kicks, out)


def _run(floor: Floor, today: date, repetitions: int, naive_count: int, counts: tuple, kicks: list, out) -> dict:
    contracts, milestones, _invoices, certificates = counts
    out(f"alert checks ({len(ALERT_CHECKS)}) over {contracts} contracts, {milestones} milestones, {certificates} "
        f"certificates; today {today}; {connection.vendor}")  # fmt: skip
    figures: dict = {}
    # Untimed: statements per check, and agreement of what the first runs write.
    figures["ours_queries"] = count_queries(run_ours)
    ours_rows = snapshot()
    figures["floor_queries"] = count_queries(floor.run)
    floor_rows = snapshot()
    problems = []
    for what, mine, theirs in (("alerts", ours_rows[0], floor_rows[0]), ("events", ours_rows[1], floor_rows[1])):
        if mine != theirs:
            sample = sorted(mine ^ theirs, key=str)[:3]
            problems.append(f"the floor's {what} differ from ours: {len(mine - theirs)} only ours, "
                            f"{len(theirs - mine)} only the floor's; e.g. {sample}")  # fmt: skip
    figures["alerts"], figures["events"] = len(ours_rows[0]), len(ours_rows[1])

    ours, bare = Runs(), Runs()
    load_before = os.getloadavg()[0]
    begun = time.perf_counter()
    implementations = [("ours", run_ours, ours), ("floor", floor.run, bare)]
    for i in range(repetitions):
        shift = i % len(implementations)
        for label, implementation, runs in implementations[shift:] + implementations[:shift]:
            one_pass(label, implementation, runs, out)
    out(f"measured {repetitions} repetitions in {time.perf_counter() - begun:.0f} s; 1-minute load average "
        f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after, on {os.cpu_count()} CPUs")  # fmt: skip

    # Naive: the milestone checks, per row, on a slice; extrapolated.
    reset()
    ids = list(Milestone.objects.order_by("id").values_list("id", flat=True)[:naive_count])
    begin = time.perf_counter()
    naive_raised = naive_milestones(ids, today)
    naive_slice = time.perf_counter() - begin
    naive_full = naive_slice * milestones / max(len(ids), 1)
    reset()
    peak, peak_check = peak_memory(run_ours)
    reset()

    out("")
    out(f"{'check':<32}{'raised':>8}{'ours 1st':>10}{'floor 1st':>10}{'ratio':>7}{'ours 2nd':>10}{'floor 2nd':>10}"
        f"{'ratio':>7}{'queries 1st/2nd':>17}")  # fmt: skip
    for check in ALERT_CHECKS:
        o1, f1 = statistics.median(ours.first[check.name]), statistics.median(bare.first[check.name])
        o2, f2 = statistics.median(ours.second[check.name]), statistics.median(bare.second[check.name])
        q1, q2 = figures["ours_queries"][check.name]
        out(f"{check.name:<32}{ours.raised[check.name]:>8}{o1 * 1000:>10.0f}{f1 * 1000:>10.0f}{o1 / f1:>7.2f}"
            f"{o2 * 1000:>10.0f}{f2 * 1000:>10.0f}{o2 / f2:>7.2f}{f'{q1}/{q2}':>17}")  # fmt: skip
    out("(milliseconds, medians over the repetitions; queries: ours' SQL statements per check; the floor's: 1)")
    first_ratio = ours.median("first") / bare.median("first")
    second_ratio = ours.median("second") / bare.median("second")
    out("")
    out(
        f"full run, first (raises {sum(ours.raised.values())} alerts): ours {ours.median('first'):.2f} s, "
        f"floor {bare.median('first'):.2f} s: {first_ratio:.2f}x   (target: at most {TARGET}x)"
    )
    out(
        f"full run, second (inserts nothing: 0 alerts, 0 events, asserted): ours {ours.median('second'):.2f} s, "
        f"floor {bare.median('second'):.2f} s: {second_ratio:.2f}x"
    )
    ours_milestones = ours.median("first", MILESTONE_CHECKS)
    out(
        f"naive per-row loop, the 4 milestone checks only, on a slice of {len(ids)} milestones ({naive_raised} "
        f"alerts raised) in {naive_slice:.1f} s, EXTRAPOLATED linearly to {milestones} milestones: ~{naive_full:.0f} s "
        f"against ours' {ours_milestones:.2f} s for the same 4 checks ({naive_full / ours_milestones:.0f}x)"
    )
    out(
        f"peak Python memory of one check's first run (tracemalloc): {peak:.0f} KiB ({peak_check}); "
        f"delivery kicks counted instead of sent: {len(kicks)}"
    )
    out("")
    for problem in problems:
        out(f"WARNING: {problem}")
    if not problems:
        out(
            f"agreement: the floor's first run writes the same {figures['alerts']} alerts and {figures['events']} "
            "events as ours (columns, titles, links, payloads; ids aside)"
        )
    figures.update(
        problems=problems, ours_over_floor=first_ratio, second_over_floor=second_ratio, peak_kib=peak,
        naive_seconds=naive_full, ours_seconds=ours.median("first"), floor_seconds=bare.median("first"),
        raised=dict(ours.raised), naive_raised=naive_raised,
    )  # fmt: skip
    return figures


# --- Entry point (``python -m bench checks``) ---------------------------------------------------------------------


def main(target: dict, source_url: str) -> None:
    from django.core.management import call_command

    from bench.__main__ import DEFAULT_CONTRACTS, DEFAULT_INVOICES, DEFAULT_MILESTONES, _env_int, recreate

    wanted = (
        _env_int("BENCH_CONTRACTS", DEFAULT_CONTRACTS),
        _env_int("BENCH_MILESTONES", DEFAULT_MILESTONES),
        _env_int("BENCH_INVOICES", DEFAULT_INVOICES),
    )
    certificates = _env_int("BENCH_CERTIFICATES", ISSUE_CERTIFICATES)
    memory_only = os.environ.get("BENCH_CHECKS_MEMORY_ONLY") == "1"
    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    print(f"database: {target['engine']} {target['name']} (migrated in {time.perf_counter() - started:.1f} s)")
    have = data.contract_counts()
    if have != wanted or extra_counts()[0] not in (0, certificates):
        if any(have):
            print(f"bench database holds {have} / {extra_counts()[0]} certificates: recreating it")
            recreate(target)
        started = time.perf_counter()
        data.generate_contracts(*wanted)
        generate_extras(certificates)
        print(f"generated data in {time.perf_counter() - started:.1f} s")
    elif extra_counts()[0] == 0:  # the contracts portfolio alone (as the contracts bench writes it)
        generate_extras(certificates)
        print("generated the certificates, qualifications and caps")
    else:
        print("reusing the generated data")
    counts = (*data.contract_counts(), extra_counts()[0])
    print(f"contracts: {counts[0]}, milestones: {counts[1]}, invoices: {counts[2]}, certificates: {counts[3]}, "
          f"qualifications: {extra_counts()[1]}, programmes with a cap: {extra_counts()[2]}")  # fmt: skip
    if memory_only:
        run(repetitions=0, naive_milestones_count=0, counts=counts, memory_only=True)
        return
    figures = run(
        repetitions=_env_int("BENCH_CHECK_REPETITIONS", DEFAULT_REPETITIONS),
        naive_milestones_count=_env_int("BENCH_NAIVE_MILESTONES", DEFAULT_NAIVE_MILESTONES),
        counts=counts,
    )
    # Peak memory at a tenth of the size, in its own process and database, to show it does not grow with the data.
    small = {"BENCH_CONTRACTS": wanted[0] // 10, "BENCH_MILESTONES": wanted[1] // 10, "BENCH_INVOICES": wanted[2] // 10,
             "BENCH_CERTIFICATES": max(certificates // 10, 10)}  # fmt: skip
    env = {**os.environ, **{k: str(v) for k, v in small.items()}, "BENCH_CHECKS_MEMORY_ONLY": "1",
           "BENCH_CHECKS_SUFFIX": "_bench_checks_small", "DATABASE_URL": source_url}  # fmt: skip
    result = subprocess.run([sys.executable, "-m", "bench", "checks"], env=env, capture_output=True, text=True)
    line = next((x for x in result.stdout.splitlines() if x.startswith("peak memory: ")), "")
    if not line:
        print(f"WARNING: the tenth-size memory run failed: {result.stdout[-500:]} {result.stderr[-1500:]}")
        return
    print(f"peak memory at a tenth of the size ({small['BENCH_MILESTONES']} milestones): "
          f"{line.removeprefix('peak memory: ')}; at full size ({wanted[1]} milestones): {figures['peak_kib']:.0f} KiB")  # fmt: skip
