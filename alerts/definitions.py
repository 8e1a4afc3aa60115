"""The alert checks of SPEC §4, each a candidate query over the data as it stands today.

A candidate query selects the subjects whose condition holds, with the alert columns annotated (see
``alerts.engine``). Per-sponsor thresholds are read by joining the sponsor row (``F("…sponsor__…")``),
so a check is one statement whatever the number of sponsors and their settings. The date windows are
bounded first by the largest setting a sponsor may choose, so the partial indexes on open milestones
and on expiry dates narrow the scan before the per-sponsor comparison.
"""

from datetime import date, timedelta

from django.conf import settings
from django.db.models import Case, DecimalField, Exists, ExpressionWrapper, F, OuterRef, Q, Sum, Value, When
from django.db.models.functions import Coalesce, Greatest, Least, Left

from alerts.engine import AlertCheck, alert_columns
from alerts.models import AlertKind, Audience, Severity
from alerts.sql import DaysBetween, join_text, text
from contracts.choices import CLOSED_MILESTONE_STATES, ContractState, MilestoneState
from contracts.models import Contract, Milestone
from sponsors.choices import QualificationStatus
from sponsors.models import Program, VendorQualification
from vendors.choices import Authority, CertificationType
from vendors.models import Certification

MAX_LEAD_DAYS = 365  # the largest lead time a sponsor setting allows: bounds the date windows
DECIMAL = DecimalField(max_digits=30, decimal_places=4)
# Contracts whose budgets count toward a programme's cap: everything signed or about to be.
COMMITTED_STATES = (ContractState.PENDING_SIGNATURE, ContractState.ACTIVE, ContractState.COMPLETED)


def _title(*parts):
    return Left(join_text(*parts), 300)


def _label(field: str, choices) -> Case:
    """A choice column's human label, in SQL (titles are written by the insert itself)."""
    return Case(*(When(**{field: value}, then=Value(str(label))) for value, label in choices), default=F(field))


def _audience_suffix(audience: str) -> str:
    return ":v" if audience == Audience.VENDOR else ":s"


# --- Milestones -------------------------------------------------------------------------------------


def _milestone_columns(audience: str, kind_label: str, **extra) -> dict:
    return alert_columns(
        key=join_text("milestone:", text("id"), _audience_suffix(audience)),
        title=_title(kind_label, F("name"), " — ", F("contract__number"), ", due ", text("due_date")),
        sponsor_id=F("contract__sponsor_id"),
        vendor_id=F("contract__vendor_id"),
        contract_id=F("contract_id"),
        milestone_id=F("id"),
        program_id=F("contract__program_id"),
        **extra,
    )


def milestones_due_soon(audience: str):
    def candidates(today: date):
        """Not yet submitted, due within the sponsor's ``due_soon_days`` (today included), contract active."""
        return (
            Milestone.objects.filter(
                contract__state=ContractState.ACTIVE,
                state__in=[MilestoneState.PLANNED, MilestoneState.IN_PROGRESS, MilestoneState.REJECTED],
                due_date__gte=today,
                due_date__lte=today + timedelta(days=90),
            )
            .annotate(days_left=DaysBetween(F("due_date"), Value(today)))
            .filter(days_left__lte=F("contract__sponsor__due_soon_days"))
            .annotate(**_milestone_columns(audience, "Milestone due soon: "))
        )

    return candidates


def milestones_overdue(audience: str):
    def candidates(today: date):
        """Due date passed, neither accepted nor removed, contract active; critical after the escalation days."""
        days_over = DaysBetween(Value(today), F("due_date"))
        severity = Case(
            When(days_over__gt=F("contract__sponsor__overdue_escalation_days"), then=Value(Severity.CRITICAL)),
            default=Value(Severity.WARNING),
        )
        from contracts.services.milestones import overdue_q  # the one definition of overdue

        return (
            Milestone.objects.filter(overdue_q(today))
            .annotate(days_over=days_over)
            .annotate(**_milestone_columns(audience, "Milestone overdue: ", severity=severity))
        )

    return candidates


# --- Contract budgets --------------------------------------------------------------------------------


def _contract_columns(kind_label: str, *detail, **extra) -> dict:
    return alert_columns(
        key=join_text("contract:", text("id"), ":s"),
        title=_title(kind_label, F("number"), " ", F("title"), *detail),
        sponsor_id=F("sponsor_id"),
        vendor_id=F("vendor_id"),
        contract_id=F("id"),
        program_id=F("program_id"),
        **extra,
    )


def _amount(field: str):
    """A money column in whole units, as text for titles: the same on PostgreSQL ("785000.00" as numeric)
    and SQLite ("785000"); the cents live on the contract page the alert links to."""
    from django.db.models import BigIntegerField
    from django.db.models.functions import Cast, Floor

    return text(Cast(Floor(field), BigIntegerField()))


def _percent(numerator, denominator):
    """``numerator`` as a whole percentage of ``denominator`` (denominator > 0), as text for titles.

    Rounded down (PostgreSQL's cast rounds: 99.99 % of a budget, a warning, read "100 %")."""
    from django.db.models import IntegerField
    from django.db.models.functions import Cast, Floor

    return text(Cast(Floor(ExpressionWrapper(numerator * 100 / denominator, output_field=DECIMAL)), IntegerField()))


def _active_with_budget():
    return Contract.objects.filter(state=ContractState.ACTIVE).annotate(
        invoiced_x100=ExpressionWrapper(F("invoiced") * 100, output_field=DECIMAL),
        warn_at=ExpressionWrapper(F("budget") * F("sponsor__budget_warning_percent"), output_field=DECIMAL),
    )


def budget_warning(today: date):
    """Invoiced at or above the sponsor's warning share of the budget, but not yet the whole of it."""
    return (
        _active_with_budget()
        .filter(budget__gt=0, invoiced_x100__gte=F("warn_at"), invoiced__lt=F("budget"))
        .annotate(**_contract_columns("Budget warning: ", " has invoiced ", _percent(F("invoiced"), F("budget")),
                                      " % of its budget"))
    )  # fmt: skip


def budget_exceeded(today: date):
    """Invoiced at or above the budget (a contract without budget exceeds it with its first invoice)."""
    return (
        _active_with_budget()
        .filter(invoiced__gte=F("budget"), invoiced__gt=0)
        .annotate(**_contract_columns("Budget exceeded: ", " has invoiced ", _amount("invoiced"), " ",
                                      F("currency"), " against a budget of ", _amount("budget"), " ", F("currency")))
    )  # fmt: skip


def burn_ahead_of_schedule(today: date):
    """Burn (invoiced / budget) ahead of time elapsed ((today − start) / (end − start)) by more than the
    sponsor's points. Multiplied out, so no division: invoiced·100·span > budget·(elapsed·100 + points·span)."""
    span = DaysBetween(F("end"), F("start"))
    elapsed = Least(Greatest(DaysBetween(Value(today), F("start")), Value(0)), span)
    return (
        Contract.objects.filter(state=ContractState.ACTIVE, budget__gt=0, end__gt=F("start"))
        .annotate(
            span=span,
            elapsed=elapsed,
        )
        .annotate(
            burn_side=ExpressionWrapper(F("invoiced") * 100 * F("span"), output_field=DECIMAL),
            time_side=ExpressionWrapper(
                F("budget") * (F("elapsed") * 100 + F("sponsor__burn_ahead_points") * F("span")), output_field=DECIMAL
            ),
        )
        .filter(burn_side__gt=F("time_side"))
        .annotate(**_contract_columns("Burn ahead of schedule: ", " has burnt ", _percent(F("invoiced"), F("budget")),
                                      " % of its budget with ", _percent(F("elapsed"), F("span")), " % of its time"))
    )  # fmt: skip


def contract_ending(today: date):
    """Active, ending within the sponsor's ``contract_ending_days``, with milestones still open."""
    open_milestones = Milestone.objects.filter(contract_id=OuterRef("pk")).exclude(state__in=CLOSED_MILESTONE_STATES)
    return (
        Contract.objects.filter(
            state=ContractState.ACTIVE, end__gte=today, end__lte=today + timedelta(days=MAX_LEAD_DAYS)
        )
        .annotate(days_left=DaysBetween(F("end"), Value(today)))
        .filter(days_left__lte=F("sponsor__contract_ending_days"))
        .filter(Exists(open_milestones))
        .annotate(**_contract_columns("Contract ending: ", " ends on ", text("end"), " with milestones still open"))
    )


# --- Programmes ---------------------------------------------------------------------------------------


def program_over_budget(today: date):
    """Budgets of the programme's committed contracts *in the cap's currency* above its cap (other
    currencies are never converted nor summed in)."""
    committed = (
        Contract.objects.filter(
            program_id=OuterRef("pk"), currency=OuterRef("budget_currency"), state__in=COMMITTED_STATES
        )
        .order_by()
        .values("program_id")
        .annotate(total=Sum("budget"))
        .values("total")
    )
    return (
        Program.objects.filter(budget_cap__isnull=False)
        .annotate(committed=Coalesce(committed, Value(0), output_field=DECIMAL))
        .filter(committed__gt=F("budget_cap"))
        .annotate(
            **alert_columns(
                key=join_text("program:", text("id"), ":s"),
                title=_title("Programme over its cap: ", F("code"), " commits ", _amount("committed"), " ",
                             F("budget_currency"), " against a cap of ", _amount("budget_cap"), " ", F("budget_currency")),
                sponsor_id=F("sponsor_id"),
                program_id=F("id"),
            )
        )
    )  # fmt: skip


# --- Certificates -------------------------------------------------------------------------------------


def _not_renewed():
    """No later certificate of the same vendor, type, authority and site (a renewal)."""
    later = Certification.objects.filter(
        vendor_id=OuterRef("vendor_id"), type=OuterRef("type"), authority=OuterRef("authority")
    ).filter(
        Q(expires_on__isnull=True) | Q(expires_on__gt=OuterRef("expires_on")),
    )
    later = later.annotate(site_or_0=Coalesce("site_id", Value(0))).filter(
        site_or_0=Coalesce(OuterRef("site_id"), Value(0))
    )
    return ~Exists(later)


def _certificate_columns(audience: str, kind_label: str, *, sponsor=None) -> dict:
    suffix = join_text(":s", text(sponsor)) if sponsor is not None else Value(":v")
    extra = {"sponsor_id": sponsor} if sponsor is not None else {}
    return alert_columns(
        key=join_text("certification:", text("id"), suffix),
        title=_title(kind_label, _label("type", CertificationType.choices), " (",
                     _label("authority", Authority.choices), ") of ", F("vendor__name"), ", expiry ",
                     text("expires_on")),
        vendor_id=F("vendor_id"),
        certification_id=F("id"),
        **extra,
    )  # fmt: skip


def _certificates(today: date, expired: bool):
    if expired:
        window = Q(expires_on__lt=today)
    else:
        window = Q(expires_on__gte=today, expires_on__lte=today + timedelta(days=MAX_LEAD_DAYS))
    return Certification.objects.filter(window).filter(_not_renewed())


def certificates_for_vendor(expired: bool):
    label = "Certificate expired: " if expired else "Certificate expiring: "

    def candidates(today: date):
        """The vendor's own certificates expired, or expiring within CERTIFICATE_EXPIRING_DAYS, not renewed."""
        rows = _certificates(today, expired)
        if not expired:
            rows = rows.filter(expires_on__lte=today + timedelta(days=settings.CERTIFICATE_EXPIRING_DAYS))
        return rows.annotate(**_certificate_columns(Audience.VENDOR, label))

    return candidates


def certificates_for_sponsors(expired: bool):
    label = "Certificate expired: " if expired else "Certificate expiring: "

    def candidates(today: date):
        """One row per certificate and sponsor with an active contract with its vendor (within that
        sponsor's ``certificate_expiring_days`` for the expiring kind)."""
        # One annotate() call reads both columns through the one join the filter made on contracts.
        rows = _certificates(today, expired).filter(vendor__contracts__state=ContractState.ACTIVE)
        rows = rows.annotate(
            contract_sponsor=F("vendor__contracts__sponsor_id"),
            sponsor_lead_days=F("vendor__contracts__sponsor__certificate_expiring_days"),
        )
        if not expired:
            rows = rows.annotate(days_left=DaysBetween(F("expires_on"), Value(today))).filter(
                days_left__lte=F("sponsor_lead_days")
            )
        return rows.annotate(**_certificate_columns(Audience.SPONSOR, label, sponsor=F("contract_sponsor"))).distinct()

    return candidates


# --- Qualifications -----------------------------------------------------------------------------------


def requalification_due(today: date):
    """A qualification (not disqualified) whose next audit falls due within the sponsor's lead time;
    critical once the date has passed."""
    days_left = DaysBetween(F("next_audit_due"), Value(today))
    return (
        VendorQualification.objects.filter(
            next_audit_due__isnull=False, next_audit_due__lte=today + timedelta(days=MAX_LEAD_DAYS)
        )
        .exclude(status=QualificationStatus.DISQUALIFIED)
        .annotate(days_left=days_left)
        .filter(days_left__lte=F("sponsor__requalification_days"))
        .annotate(
            **alert_columns(
                key=join_text("qualification:", text("id"), ":s"),
                title=_title("Requalification audit due: ", F("vendor__name"), " on ", text("next_audit_due")),
                severity=Case(When(days_left__lt=0, then=Value(Severity.CRITICAL)), default=Value(Severity.WARNING)),
                sponsor_id=F("sponsor_id"),
                vendor_id=F("vendor_id"),
                qualification_id=F("id"),
            )
        )
    )


# --- The registry -------------------------------------------------------------------------------------

_MILESTONE_SCOPE = {"scope": "contract", "scope_lookup": "contract_id", "scope_column": "contract_id"}
_CONTRACT_SCOPE = {"scope": "contract", "scope_lookup": "id", "scope_column": "contract_id"}
_VENDOR_SCOPE = {"scope": "vendor", "scope_lookup": "vendor_id", "scope_column": "vendor_id"}

ALERT_CHECKS: tuple[AlertCheck, ...] = (
    AlertCheck("milestone_due_soon", AlertKind.MILESTONE_DUE_SOON, Audience.SPONSOR, Severity.INFO,
               milestones_due_soon(Audience.SPONSOR), **_MILESTONE_SCOPE),
    AlertCheck("milestone_due_soon_vendor", AlertKind.MILESTONE_DUE_SOON, Audience.VENDOR, Severity.INFO,
               milestones_due_soon(Audience.VENDOR), **_MILESTONE_SCOPE),
    AlertCheck("milestone_overdue", AlertKind.MILESTONE_OVERDUE, Audience.SPONSOR, Severity.WARNING,
               milestones_overdue(Audience.SPONSOR), escalates=True, **_MILESTONE_SCOPE),
    AlertCheck("milestone_overdue_vendor", AlertKind.MILESTONE_OVERDUE, Audience.VENDOR, Severity.WARNING,
               milestones_overdue(Audience.VENDOR), escalates=True, **_MILESTONE_SCOPE),
    AlertCheck("budget_warning", AlertKind.BUDGET_WARNING, Audience.SPONSOR, Severity.WARNING,
               budget_warning, **_CONTRACT_SCOPE),
    AlertCheck("budget_exceeded", AlertKind.BUDGET_EXCEEDED, Audience.SPONSOR, Severity.CRITICAL,
               budget_exceeded, **_CONTRACT_SCOPE),
    AlertCheck("burn_ahead_of_schedule", AlertKind.BURN_AHEAD_OF_SCHEDULE, Audience.SPONSOR, Severity.WARNING,
               burn_ahead_of_schedule, **_CONTRACT_SCOPE),
    AlertCheck("contract_ending", AlertKind.CONTRACT_ENDING, Audience.SPONSOR, Severity.WARNING,
               contract_ending, **_CONTRACT_SCOPE),
    AlertCheck("program_over_budget", AlertKind.PROGRAM_OVER_BUDGET, Audience.SPONSOR, Severity.WARNING,
               program_over_budget, scope="program", scope_lookup="id", scope_column="program_id"),
    AlertCheck("certificate_expiring", AlertKind.CERTIFICATE_EXPIRING, Audience.VENDOR, Severity.WARNING,
               certificates_for_vendor(expired=False), **_VENDOR_SCOPE),
    AlertCheck("certificate_expiring_sponsors", AlertKind.CERTIFICATE_EXPIRING, Audience.SPONSOR, Severity.WARNING,
               certificates_for_sponsors(expired=False), **_VENDOR_SCOPE),
    AlertCheck("certificate_expired", AlertKind.CERTIFICATE_EXPIRED, Audience.VENDOR, Severity.CRITICAL,
               certificates_for_vendor(expired=True), **_VENDOR_SCOPE),
    AlertCheck("certificate_expired_sponsors", AlertKind.CERTIFICATE_EXPIRED, Audience.SPONSOR, Severity.CRITICAL,
               certificates_for_sponsors(expired=True), **_VENDOR_SCOPE),
    AlertCheck("requalification_due", AlertKind.REQUALIFICATION_DUE, Audience.SPONSOR, Severity.WARNING,
               requalification_due, escalates=True, scope="qualification", scope_lookup="id",
               scope_column="qualification_id"),
)  # fmt: skip

ALERT_CHECKS_BY_NAME = {check.name: check for check in ALERT_CHECKS}
