"""API representations of contract execution: contracts, milestones, change orders and invoices.

Every write goes through the services (``contracts.services.contracts`` … ``invoices``); nothing here sets
a state or decides a rule. Money is a decimal string with the record's ``currency``; dates are ISO 8601.

The contracts list is the busiest read of the API (an integration syncing a sponsor's portfolio), so it
is built without model instances: ``contract_rows`` reads one page as plain rows (parties, programme,
parent and the next milestone joined or sub-selected in the same statement) and ``contract_row_data``
writes each row's JSON by hand. The single-contract representation starts from the same row and adds
the signatures and the transferred activities.
"""

from __future__ import annotations

import datetime
import functools
from decimal import Decimal

from django.db.models import JSONField, OuterRef, Subquery
from django.db.models.functions import JSONObject
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from contracts.budget import burn_percent, time_elapsed_percent
from contracts.choices import (
    CLOSED_MILESTONE_STATES,
    ChangeOrderItemAction,
    ContractKind,
    ContractState,
    InvoiceState,
    MilestoneState,
    SignatureMeaning,
    TransferredActivity,
)
from contracts.models import ChangeOrder, ChangeOrderItem, Contract, Invoice, Milestone, Signature
from contracts.serializers import REASON_MAX, InputSerializer, _user, _VisibleRelatedField
from contracts.services.milestones import is_overdue, milestone_is_overdue, slippage_days
from contracts.services.signatures import signatures_with_match
from cro_cmo.money import CURRENCY_CHOICES
from sponsors.models import Program, Sponsor
from vendors.models import Vendor

MONEY = {"max_digits": 16, "decimal_places": 2}
VENDOR_FIXED = "A contract stays with its vendor: create a new contract for another vendor."
KIND_FIXED = "A contract keeps its kind: create a new contract of the other kind."


def _person(user) -> str | None:
    return None if user is None else (user.get_full_name() or user.email)


def _iso_datetime(value: datetime.datetime | None, tz=None) -> str | None:
    """As DRF writes a date-time: in the current time zone (``tz``, looked up once per page), ``Z`` for UTC."""
    if value is None:
        return None
    text = value.astimezone(tz or timezone.get_current_timezone()).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


# --- Contracts: the rows of a page -------------------------------------------------------------------------

ROW_VALUES = (
    "id", "number", "title", "kind", "state", "sponsor_id", "sponsor_name", "vendor_id", "vendor_name", "program_id",
    "program_names", "parent_id", "parent_number", "value", "currency", "start", "end", "budget", "invoiced", "paid",
    "created", "updated", "next_milestone",
)  # fmt: skip


def next_milestone_subquery():
    """The outer contract's next milestone as one JSON object ``{id, name, due_date, state}``: the open one (not
    accepted, not removed) due first. One sub-select per contract of the page, not three."""
    open_milestones = (
        Milestone.objects.filter(contract=OuterRef("pk"))
        .exclude(state__in=CLOSED_MILESTONE_STATES)
        .order_by("due_date", "position", "id")
    )
    return Subquery(
        open_milestones.values(json=JSONObject(id="id", name="name", due_date="due_date", state="state"))[:1],
        output_field=JSONField(),
    )


def _name_of(model, key: str, field: str = "name"):
    return Subquery(model.objects.filter(pk=OuterRef(key)).order_by().values(field))


@functools.cache
def _row_annotations() -> dict:
    """Built once per process: ``annotate`` resolves a copy for each query and never alters these."""
    return {
        "sponsor_name": _name_of(Sponsor, "sponsor_id"),
        "vendor_name": _name_of(Vendor, "vendor_id"),
        "program_names": Subquery(
            Program.objects.filter(pk=OuterRef("program_id"))
            .order_by()
            .values(json=JSONObject(code="code", name="name")),
            output_field=JSONField(),
        ),
        "parent_number": _name_of(Contract, "parent_id", "number"),
        "next_milestone": next_milestone_subquery(),
    }


def contract_rows(queryset):
    """``queryset`` (filtered and ordered) as plain rows for ``contract_row_data``.

    Names (sponsor, vendor, programme, parent number) and the next milestone are scalar sub-selects, not
    joins: PostgreSQL evaluates them after the sort and LIMIT, for the page's rows only, where joins would
    be built for every contract the filter keeps (a third of 100 000 for the bench sponsor) before the sort.
    """
    return queryset.annotate(**_row_annotations()).values(*ROW_VALUES)


class ContractRows:
    """What the contracts list's paginator pages: the filtered contracts counted with one plain ``COUNT``
    (no sub-selects), and a page read as ``contract_rows`` of the contracts whose ids an inner, sliced
    select picks (``id IN (SELECT id … ORDER BY … LIMIT 50 OFFSET n)``). With the slice outside, PostgreSQL
    would compute the sub-selects for every row it skips to reach a page deep in the list."""

    ordered = True

    def __init__(self, queryset):
        self.queryset = queryset

    def count(self) -> int:
        return self.queryset.count()

    def __getitem__(self, key: slice) -> list[dict]:
        page_ids = self.queryset.values("pk")[key]
        return list(contract_rows(self.queryset.filter(pk__in=page_ids)))


def contract_row_data(row: dict, today: datetime.date, tz=None) -> dict:
    """One contract of the list, written by hand from a ``contract_rows`` row (the schema is
    ``ContractSummarySerializer``'s)."""
    budget, invoiced = row["budget"], row["invoiced"]
    burn = burn_percent(invoiced, budget)
    upcoming, program = row["next_milestone"], row["program_names"]
    if upcoming is not None:
        due = str(upcoming["due_date"])[:10]
        late = is_overdue(datetime.date.fromisoformat(due), upcoming["state"], row["state"], today)
        upcoming = {"id": upcoming["id"], "name": upcoming["name"], "due_date": due, "overdue": late}
    return {
        "id": row["id"],
        "number": row["number"],
        "title": row["title"],
        "kind": row["kind"],
        "state": row["state"],
        "sponsor": row["sponsor_id"],
        "sponsor_name": row["sponsor_name"],
        "vendor": row["vendor_id"],
        "vendor_name": row["vendor_name"],
        "program": row["program_id"],
        "program_code": program["code"] if program else None,
        "program_name": program["name"] if program else None,
        "parent": row["parent_id"],
        "parent_number": row["parent_number"],
        "value": str(row["value"]),
        "currency": row["currency"],
        "start": row["start"].isoformat(),
        "end": row["end"].isoformat(),
        "budget": str(budget),
        "invoiced": str(invoiced),
        "paid": str(row["paid"]),
        "remaining": str(budget - invoiced),
        "burn_percent": None if burn is None else str(burn),
        "time_elapsed_percent": str(time_elapsed_percent(row["start"], row["end"], today)),
        "next_milestone": upcoming,
        "created": _iso_datetime(row["created"], tz),
        "updated": _iso_datetime(row["updated"], tz),
    }


class NextMilestoneSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    due_date = serializers.DateField()
    overdue = serializers.BooleanField(
        help_text="Overdue: due date passed, neither accepted nor removed, and the contract active."
    )


class ContractSummarySerializer(serializers.Serializer):
    """A contract as the list shows it: parties, programme, parent, value, budget figures, next milestone.

    ``to_representation`` takes a ``contract_rows`` row, not a model instance (see the module docstring).
    """

    id = serializers.IntegerField(read_only=True)
    number = serializers.CharField(read_only=True)
    title = serializers.CharField(read_only=True)
    kind = serializers.ChoiceField(choices=ContractKind.choices, read_only=True)
    state = serializers.ChoiceField(choices=ContractState.choices, read_only=True)
    sponsor = serializers.IntegerField(read_only=True)
    sponsor_name = serializers.CharField(read_only=True)
    vendor = serializers.IntegerField(read_only=True)
    vendor_name = serializers.CharField(read_only=True)
    program = serializers.IntegerField(read_only=True, allow_null=True)
    program_code = serializers.CharField(read_only=True, allow_null=True)
    program_name = serializers.CharField(read_only=True, allow_null=True)
    parent = serializers.IntegerField(read_only=True, allow_null=True, help_text="A work order's MSA.")
    parent_number = serializers.CharField(read_only=True, allow_null=True)
    value = serializers.DecimalField(**MONEY, read_only=True, help_text="The value agreed at signature.")
    currency = serializers.ChoiceField(choices=CURRENCY_CHOICES, read_only=True)
    start = serializers.DateField(read_only=True)
    end = serializers.DateField(read_only=True)
    budget = serializers.DecimalField(**MONEY, read_only=True, help_text="Value + approved change-order deltas.")
    invoiced = serializers.DecimalField(**MONEY, read_only=True, help_text="Approved and paid invoices.")
    paid = serializers.DecimalField(**MONEY, read_only=True, help_text="Paid invoices.")
    remaining = serializers.DecimalField(**MONEY, read_only=True, help_text="Budget − invoiced (negative: over).")
    burn_percent = serializers.DecimalField(
        max_digits=8, decimal_places=1, read_only=True, allow_null=True,
        help_text="Invoiced / budget, in percent; null while the budget is zero.",
    )  # fmt: skip
    time_elapsed_percent = serializers.DecimalField(
        max_digits=8, decimal_places=1, read_only=True,
        help_text="(today − start) / (end − start), in percent, between 0 and 100.",
    )  # fmt: skip
    next_milestone = NextMilestoneSerializer(
        read_only=True, allow_null=True, help_text="The open milestone due first (null when none is open)."
    )
    created = serializers.DateTimeField(read_only=True)
    updated = serializers.DateTimeField(read_only=True)

    def to_representation(self, row):
        today = self.context.get("today") or timezone.localdate()
        return contract_row_data(row, today, self.context.get("tz"))


class SignatureSerializer(serializers.ModelSerializer):
    """An electronic signature: who (printed name), when, what it means, and whether the signed content is
    still the contract's (a change order's approval changes the terms and so voids the earlier match)."""

    meaning = serializers.ChoiceField(choices=SignatureMeaning.choices, read_only=True)
    meaning_label = serializers.CharField(source="get_meaning_display", read_only=True)
    matches_content = serializers.BooleanField(source="matches", read_only=True)

    class Meta:
        model = Signature
        fields = [
            "id", "side", "printed_name", "meaning", "meaning_label", "signed_at", "change_order", "content_sha256",
            "matches_content",
        ]  # fmt: skip
        read_only_fields = fields


class ActivitySerializer(serializers.Serializer):
    activity = serializers.ChoiceField(choices=TransferredActivity.choices)
    activity_label = serializers.SerializerMethodField()
    detail = serializers.CharField(required=False, allow_blank=True, max_length=2_000, default="")

    def get_activity_label(self, entry) -> str:
        return TransferredActivity(entry["activity"] if isinstance(entry, dict) else entry.activity).label


class MilestoneInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    due_date = serializers.DateField()
    amount = serializers.DecimalField(**MONEY, min_value=Decimal("0"))


class ContractSerializer(InputSerializer):
    """A contract with its budget figures, next milestone, signatures and transferred activities.

    Created by a sponsor's member (the sponsor is the caller's): an MSA, a work order (``parent``: an MSA
    with the same vendor), a quality agreement (with a CMO or CDMO) or a CDA; ``number`` is generated when
    left out. Changed with PATCH/PUT by the sponsor: the terms until someone signs (then only by change
    order: 409), the programme and notes at any time. Not deleted (a contract is terminated).
    """

    sponsor = serializers.IntegerField(source="sponsor_id", read_only=True)
    sponsor_name = serializers.CharField(source="sponsor.name", read_only=True)
    vendor = serializers.PrimaryKeyRelatedField(queryset=Vendor.objects.all())
    vendor_name = serializers.CharField(source="vendor.name", read_only=True)
    program = _VisibleRelatedField(
        model=Program, action="change", required=False, allow_null=True, help_text="One of your programmes."
    )
    program_code = serializers.CharField(read_only=True, allow_null=True)
    program_name = serializers.CharField(read_only=True, allow_null=True)
    parent = _VisibleRelatedField(
        model=Contract, action="change", required=False, allow_null=True,
        help_text="A work order's MSA: between the same sponsor and vendor, still in force.",
    )  # fmt: skip
    parent_number = serializers.CharField(read_only=True, allow_null=True)
    number = serializers.CharField(
        max_length=40, required=False, allow_blank=True, help_text="Unique per sponsor; generated when left out."
    )
    budget = serializers.DecimalField(**MONEY, read_only=True, help_text="Value + approved change-order deltas.")
    invoiced = serializers.DecimalField(**MONEY, read_only=True, help_text="Approved and paid invoices.")
    paid = serializers.DecimalField(**MONEY, read_only=True, help_text="Paid invoices.")
    remaining = serializers.DecimalField(**MONEY, read_only=True, help_text="Budget − invoiced (negative: over).")
    burn_percent = serializers.DecimalField(
        max_digits=8, decimal_places=1, read_only=True, allow_null=True,
        help_text="Invoiced / budget, in percent; null while the budget is zero.",
    )  # fmt: skip
    time_elapsed_percent = serializers.DecimalField(
        max_digits=8, decimal_places=1, read_only=True,
        help_text="(today − start) / (end − start), in percent, between 0 and 100.",
    )  # fmt: skip
    next_milestone = NextMilestoneSerializer(read_only=True, allow_null=True)
    signatures = SignatureSerializer(many=True, read_only=True)
    activities = ActivitySerializer(
        many=True, required=False,
        help_text="A work order's transferred activities (ICH E6(R3)); whatever is not listed stays with the "
        "sponsor. Sent: replaces the register (before anyone signs).",
    )  # fmt: skip
    milestones = MilestoneInputSerializer(
        many=True, required=False, write_only=True,
        help_text="Payment milestones; sent: replace the current ones (before anyone signs). Read them at "
        "`milestones/?contract={id}`.",
    )  # fmt: skip

    class Meta:
        model = Contract
        fields = [
            "id", "number", "title", "kind", "state", "sponsor", "sponsor_name", "vendor", "vendor_name", "program",
            "program_code", "program_name", "parent", "parent_number", "value", "currency", "start", "end",
            "budget", "invoiced", "paid", "remaining", "burn_percent", "time_elapsed_percent", "next_milestone",
            "notes", "source_proposal", "activated_at", "signatures", "activities", "milestones", "created", "updated",
        ]  # fmt: skip
        read_only_fields = ["state", "source_proposal", "activated_at", "created", "updated"]

    def to_representation(self, instance):
        row = contract_rows(Contract.objects.filter(pk=instance.pk)).get()
        data = contract_row_data(row, timezone.localdate())
        contract = Contract.objects.select_related("sponsor", "vendor", "parent").get(pk=instance.pk)
        data["notes"] = contract.notes
        data["source_proposal"] = contract.source_proposal_id
        data["activated_at"] = _iso_datetime(contract.activated_at)
        data["signatures"] = SignatureSerializer(signatures_with_match(contract), many=True).data
        data["activities"] = [
            {"activity": a.activity, "activity_label": a.get_activity_display(), "detail": a.detail}
            for a in contract.activities.order_by("activity")
        ]
        return data

    # --- writes: through contracts.services.contracts ---

    def _split(self, validated_data):
        data = dict(validated_data)
        milestones = data.pop("milestones", None)
        activities = data.pop("activities", None)
        return data, milestones, activities

    def create(self, validated_data):
        from contracts.services.contracts import CREATE_FIELDS, contract_create

        data, milestones, activities = self._split(validated_data)
        data = {key: value for key, value in data.items() if key in CREATE_FIELDS}
        return contract_create(actor=_user(self), data=data, milestones=milestones or (), activities=activities or ())

    def update(self, instance, validated_data):
        from contracts.services.contracts import (
            SIGNED_FIELDS,
            UNSIGNED_FIELDS,
            contract_activities_set,
            contract_update,
        )

        data, milestones, activities = self._split(validated_data)
        errors = {}
        if "vendor" in data and data["vendor"].pk != instance.vendor_id:
            errors["vendor"] = [VENDOR_FIXED]
        if "kind" in data and data["kind"] != instance.kind:
            errors["kind"] = [KIND_FIXED]
        if errors:
            raise serializers.ValidationError(errors)
        terms = {key: value for key, value in data.items() if key in SIGNED_FIELDS + UNSIGNED_FIELDS}
        contract = contract_update(actor=_user(self), contract=instance, data=terms, milestones=milestones)
        if activities is not None:
            current = [(a.activity, a.detail) for a in contract.activities.order_by("activity")]
            wanted = sorted((entry["activity"], entry.get("detail", "").strip()) for entry in activities)
            if wanted != current:  # the register sent back unchanged (a PUT of the representation) is no change
                contract_activities_set(actor=_user(self), contract=contract, entries=activities)
        return contract


# --- Milestones ---------------------------------------------------------------------------------------------


class MilestoneSerializer(serializers.ModelSerializer):
    """A payment milestone: baseline and current due date (``slippage_days`` apart), the amount payable on
    acceptance in the contract's currency, the state and the sponsor's decision."""

    contract_number = serializers.CharField(source="contract.number", read_only=True)
    currency = serializers.CharField(source="contract.currency", read_only=True)
    state = serializers.ChoiceField(choices=MilestoneState.choices, read_only=True)
    overdue = serializers.SerializerMethodField(
        help_text="Overdue: due date passed, neither accepted nor removed, and the contract active."
    )
    slippage_days = serializers.SerializerMethodField(help_text="Days the due date moved past the baseline.")
    decided_by = serializers.SerializerMethodField(help_text="Who accepted or rejected it.")

    class Meta:
        model = Milestone
        fields = [
            "id", "contract", "contract_number", "position", "name", "baseline_due_date", "due_date",
            "slippage_days", "amount", "currency", "state", "overdue", "submitted_at", "decided_at", "decided_by",
            "decision_comment", "created", "updated",
        ]  # fmt: skip
        read_only_fields = fields

    def get_overdue(self, milestone) -> bool:
        return milestone_is_overdue(milestone, self.context.get("today"))

    def get_slippage_days(self, milestone) -> int:
        return slippage_days(milestone)

    def get_decided_by(self, milestone) -> str | None:
        return _person(milestone.decided_by)


# --- Change orders ------------------------------------------------------------------------------------------


class ChangeOrderItemSerializer(serializers.ModelSerializer):
    action = serializers.ChoiceField(choices=ChangeOrderItemAction.choices)
    milestone = serializers.IntegerField(
        source="milestone_id", required=False, allow_null=True,
        help_text="The milestone of this contract that changes or goes (not for `add`).",
    )  # fmt: skip
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    due_date = serializers.DateField(required=False, allow_null=True)
    amount = serializers.DecimalField(**MONEY, required=False, allow_null=True)

    class Meta:
        model = ChangeOrderItem
        fields = ["id", "action", "milestone", "name", "due_date", "amount"]
        read_only_fields = ["id"]


class ChangeOrderSerializer(InputSerializer):
    """An amendment: a value delta, a new end and milestone items, proposed by one party with a reason and
    approved (with a signature) or rejected by the other. ``budget_before``/``budget_after`` record what the
    approval did to the budget."""

    contract = _VisibleRelatedField(model=Contract, action="change", help_text="An active contract of yours.")
    contract_number = serializers.CharField(source="contract.number", read_only=True)
    currency = serializers.CharField(source="contract.currency", read_only=True)
    reason = serializers.CharField(max_length=5_000, allow_blank=True, help_text="Why; the other party reads it.")
    value_delta = serializers.DecimalField(
        **MONEY, required=False, default=Decimal("0"), help_text="Change of value: 5000.00 or -2500.00."
    )
    new_end = serializers.DateField(required=False, allow_null=True, help_text="Empty: the end does not change.")
    items = ChangeOrderItemSerializer(many=True, required=False, help_text="Milestones added, changed or removed.")
    proposed_by = serializers.SerializerMethodField()
    decided_by = serializers.SerializerMethodField()
    signatures = serializers.SerializerMethodField(help_text="The approval's electronic signature.")

    class Meta:
        model = ChangeOrder
        fields = [
            "id", "contract", "contract_number", "sequence", "proposed_by_side", "proposed_by", "reason",
            "value_delta", "currency", "new_end", "items", "state", "decided_by", "decided_at", "decision_reason",
            "budget_before", "budget_after", "signatures", "created", "updated",
        ]  # fmt: skip
        read_only_fields = [
            "sequence", "proposed_by_side", "state", "decided_at", "decision_reason", "budget_before",
            "budget_after", "created", "updated",
        ]  # fmt: skip

    def get_proposed_by(self, change_order) -> str | None:
        return _person(change_order.proposed_by)

    def get_decided_by(self, change_order) -> str | None:
        return _person(change_order.decided_by)

    @extend_schema_field(SignatureSerializer(many=True))
    def get_signatures(self, change_order):
        signatures = list(change_order.signatures.all())
        for signature in signatures:
            signature.matches = True  # a change order never changes after its approval
        return SignatureSerializer(signatures, many=True).data

    def create(self, validated_data):
        from contracts.services.change_orders import change_order_propose

        items = [
            {
                "action": item["action"],
                "milestone": item.get("milestone_id"),
                "name": item.get("name", ""),
                "due_date": item.get("due_date"),
                "amount": item.get("amount"),
            }
            for item in validated_data.get("items", [])
        ]
        return change_order_propose(
            actor=_user(self),
            contract=validated_data["contract"],
            reason=validated_data.get("reason", ""),
            value_delta=validated_data.get("value_delta", Decimal("0")),
            new_end=validated_data.get("new_end"),
            items=items,
        )


# --- Invoices -----------------------------------------------------------------------------------------------


class InvoiceSerializer(InputSerializer):
    """A vendor's bill on a contract, optionally for one accepted milestone (billed once). The number is
    unique per vendor, the currency the contract's. ``submitted → approved → paid``, or rejected."""

    contract = _VisibleRelatedField(model=Contract, action="change", help_text="A contract of your vendor.")
    contract_number = serializers.CharField(source="contract.number", read_only=True)
    vendor = serializers.IntegerField(source="vendor_id", read_only=True)
    milestone = _VisibleRelatedField(
        model=Milestone, required=False, allow_null=True, help_text="An accepted milestone of this contract."
    )
    milestone_name = serializers.CharField(source="milestone.name", read_only=True, allow_null=True)
    state = serializers.ChoiceField(choices=InvoiceState.choices, read_only=True)
    submitted_by = serializers.SerializerMethodField()
    approved_by = serializers.SerializerMethodField()

    class Meta:
        model = Invoice
        fields = [
            "id", "contract", "contract_number", "vendor", "milestone", "milestone_name", "number", "issued_on",
            "amount", "currency", "state", "submitted_by", "approved_by", "approved_at", "paid_at",
            "rejection_reason", "override_reason", "created", "updated",
        ]  # fmt: skip
        read_only_fields = [
            "state", "approved_at", "paid_at", "rejection_reason", "override_reason", "created", "updated",
        ]  # fmt: skip

    def get_submitted_by(self, invoice) -> str | None:
        return _person(invoice.submitted_by)

    def get_approved_by(self, invoice) -> str | None:
        return _person(invoice.approved_by)

    def create(self, validated_data):
        from contracts.services.invoices import invoice_submit

        fields = ("number", "issued_on", "amount", "currency", "milestone")
        return invoice_submit(
            actor=_user(self), contract=validated_data["contract"], **{key: validated_data.get(key) for key in fields}
        )


# --- Action bodies ------------------------------------------------------------------------------------------


class PasswordSerializer(serializers.Serializer):
    # Blank passes here so that the service says what is missing, after checking who acts (403 first).
    password = serializers.CharField(
        allow_blank=True, required=False, default="", trim_whitespace=False, write_only=True,
        style={"input_type": "password"},
        help_text="Your password, asked again for the electronic signature (21 CFR Part 11). A wrong one counts "
        "toward the sign-in lock-out.",
    )  # fmt: skip


class CommentSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, max_length=5_000, default="")


class InvoiceApproveSerializer(serializers.Serializer):
    override_reason = serializers.CharField(
        required=False, allow_blank=True, max_length=REASON_MAX, default="",
        help_text="Needed when the approval takes the invoiced total beyond the budget: why it is approved "
        "anyway. Only a sponsor admin may give one; without it such an approval answers 409.",
    )  # fmt: skip
