"""Budget figures (SPEC §2), read only: one contract's, and roll-ups per programme and per vendor.

Budget = value + approved change-order deltas; invoiced = approved + paid invoices; paid = paid ones —
all three kept on the contract row by the services, so nothing here sums invoices. Burn = invoiced /
budget; time elapsed = (today − start) / (end − start), clamped to 0–100 %. Money is never added across
currencies: every roll-up row is one currency.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Case, Count, DecimalField, ExpressionWrapper, F, Q, QuerySet, Sum, Value, When
from django.utils import timezone

from contracts.choices import ContractState
from contracts.models import Contract

ONE_DECIMAL = Decimal("0.1")
HUNDRED = Decimal("100")
# The contracts a roll-up counts by default: in force or done. Drafts and contracts awaiting signature
# commit no money yet; terminated ones are left out (pass ``states`` to count them).
ROLLUP_STATES = (ContractState.ACTIVE, ContractState.COMPLETED)
NO_PROGRAM = "No programme"


def burn_percent(invoiced: Decimal, budget: Decimal) -> Decimal | None:
    """invoiced / budget × 100, to one decimal; 0 when nothing is invoiced; None for an amount invoiced
    against a zero budget (no percentage describes it)."""
    if not invoiced:
        return Decimal("0.0")
    if not budget:
        return None
    return (Decimal(invoiced) * HUNDRED / Decimal(budget)).quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


def time_elapsed_percent(start: datetime.date, end: datetime.date, today: datetime.date | None = None) -> Decimal:
    """(today − start) / (end − start) × 100, clamped to 0–100, to one decimal."""
    today = today or timezone.localdate()
    span = (end - start).days
    if span <= 0:
        return HUNDRED if today >= end else Decimal("0.0")
    elapsed = min(max((today - start).days, 0), span)
    return (Decimal(elapsed) * HUNDRED / Decimal(span)).quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class BudgetFigures:
    """One contract's figures, in its currency. ``remaining`` is negative when over budget."""

    currency: str
    budget: Decimal
    invoiced: Decimal
    paid: Decimal
    remaining: Decimal
    burn_percent: Decimal | None
    time_elapsed_percent: Decimal

    @property
    def over_budget(self) -> bool:
        return self.invoiced > self.budget


def contract_budget(contract: Contract, today: datetime.date | None = None) -> BudgetFigures:
    """The figures of one contract (no query: they are columns of the row)."""
    return BudgetFigures(
        currency=contract.currency,
        budget=contract.budget,
        invoiced=contract.invoiced,
        paid=contract.paid,
        remaining=contract.budget - contract.invoiced,
        burn_percent=burn_percent(contract.invoiced, contract.budget),
        time_elapsed_percent=time_elapsed_percent(contract.start, contract.end, today),
    )


def with_budget(queryset: QuerySet[Contract]) -> QuerySet[Contract]:
    """Annotate ``remaining`` and ``burn`` (invoiced / budget as a fraction; null for a zero budget) for
    lists, filters and sorting ("over budget" = ``burn__gt=1``, or ``invoiced__gt=F("budget")``)."""
    money = DecimalField(max_digits=16, decimal_places=2)
    ratio = DecimalField(max_digits=20, decimal_places=6)
    return queryset.annotate(
        remaining=ExpressionWrapper(F("budget") - F("invoiced"), output_field=money),
        burn=Case(
            When(budget=0, then=Value(None, output_field=ratio)),
            default=ExpressionWrapper(F("invoiced") * Value(Decimal("1.0")) / F("budget"), output_field=ratio),
            output_field=ratio,
        ),
    )


@dataclass(frozen=True)
class BudgetRollup:
    """The sum of a group's contracts in one currency (a programme's or a vendor's)."""

    key: int | None
    label: str
    currency: str
    contracts: int
    budget: Decimal
    invoiced: Decimal
    paid: Decimal

    @property
    def remaining(self) -> Decimal:
        return self.budget - self.invoiced

    @property
    def burn_percent(self) -> Decimal | None:
        return burn_percent(self.invoiced, self.budget)


def _rollup(queryset: QuerySet[Contract], key: str, label_fields: tuple[str, ...]) -> list[BudgetRollup]:
    rows = (
        queryset.order_by()
        .values(key, *label_fields, "currency")
        .annotate(
            n=Count("id"),
            total_budget=Sum("budget"),
            total_invoiced=Sum("invoiced"),
            total_paid=Sum("paid"),
        )
        .order_by(*(F(f).asc(nulls_last=True) for f in label_fields), key, "currency")
    )
    zero = Decimal("0.00")
    return [
        BudgetRollup(
            key=row[key],
            label=" ".join(str(row[f]) for f in label_fields if row[f]) or NO_PROGRAM,
            currency=row["currency"],
            contracts=row["n"],
            budget=row["total_budget"] or zero,
            invoiced=row["total_invoiced"] or zero,
            paid=row["total_paid"] or zero,
        )
        for row in rows
    ]


def _visible(user, states: Iterable[str]) -> QuerySet[Contract]:
    return Contract.objects.for_user(user).filter(state__in=list(states))


def budget_by_program(user, *, states: Iterable[str] = ROLLUP_STATES) -> list[BudgetRollup]:
    """Per programme and currency, the contracts ``user`` sees (one query). Programmes are the sponsor's
    own records: a vendor's people get no rows (they see no programme). Contracts without a programme
    form their own row ("No programme")."""
    if getattr(user, "vendor_id", None) is not None:
        return []
    return _rollup(_visible(user, states), "program_id", ("program__code", "program__name"))


def budget_by_vendor(user, *, states: Iterable[str] = ROLLUP_STATES) -> list[BudgetRollup]:
    """Per vendor and currency, the contracts ``user`` sees (one query; a vendor's people see their own)."""
    return _rollup(_visible(user, states), "vendor_id", ("vendor__name",))


def over_budget(queryset: QuerySet[Contract]) -> QuerySet[Contract]:
    """Contracts whose invoiced total exceeds their budget (an admin's override let it happen)."""
    return queryset.filter(Q(invoiced__gt=F("budget")))
