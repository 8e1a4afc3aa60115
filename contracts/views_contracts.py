"""Browser pages of contract execution: ``/contracts/`` (the caller's contracts, filtered and sorted) and
``/contracts/<id>/`` (header, signatures, transferred activities, milestones with their timeline, budget
with its burn chart, change orders, invoices, documents, history), plus one POST route per action.

Views only read, parse and render. Every lookup goes through ``for_user`` (out of reach → 404), every
change through a service in ``contracts.services`` (which decides who may do what, in which state); a
refusal comes back as a message on the contract page, never a 500. Which buttons a person sees is only a
convenience: the services refuse the rest.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from audit.models import HistoryEntry
from contracts.budget import BudgetFigures, burn_percent, contract_budget, time_elapsed_percent
from contracts.charts import BudgetChange, BurnPoint, TimelineRow, burn_svg, milestone_timeline_svg
from contracts.choices import (
    CLOSED_MILESTONE_STATES,
    LIVE_INVOICE_STATES,
    ChangeOrderState,
    ContractKind,
    ContractState,
    InvoiceState,
    MilestoneState,
    Side,
)
from contracts.filtersets import ContractFilterSet
from contracts.forms_contracts import (
    ChangeOrderForm,
    ChangeOrderItemFormSet,
    CommentForm,
    InvoiceForm,
    OverrideForm,
    PasswordForm,
    ReasonForm,
)
from contracts.models import ChangeOrder, ChangeOrderItem, Contract, Invoice, Milestone
from contracts.serializers_contracts import ContractRows
from contracts.services.change_orders import (
    change_order_approve,
    change_order_propose,
    change_order_reject,
    change_order_withdraw,
)
from contracts.services.contracts import contract_side
from contracts.services.invoices import (
    BILLABLE_CONTRACT_STATES,
    invoice_approve,
    invoice_mark_paid,
    invoice_reject,
    invoice_submit,
)
from contracts.services.milestones import (
    is_overdue,
    milestone_accept,
    milestone_reject,
    milestone_start,
    milestone_submit,
    overdue,
    slippage_days,
)
from contracts.services.signatures import CONTRACT_MEANING, _sign_refusal, contract_sign, signatures_with_match
from contracts.views_documents import with_documents
from cro_cmo.api.permissions import VIEWER_READ_ONLY
from cro_cmo.generic_views import ObjectDetailView, ObjectListView
from cro_cmo.models import CHANGE
from cro_cmo.services import TransitionError
from cro_cmo.transitions import transitions_allowed

# --- List ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContractListRow:
    """One row of ``/contracts/``, from a ``contract_rows`` row (the API list's): no model instance."""

    id: int
    url: str
    number: str
    kind_label: str
    state_label: str
    title: str
    sponsor_name: str
    vendor_name: str
    program_code: str | None
    value: Decimal
    currency: str
    figures: BudgetFigures
    next_milestone_name: str | None
    next_milestone_due: datetime.date | None
    overdue: bool  # the next open milestone is overdue, i.e. the contract has one (contracts.services.milestones)

    @classmethod
    def of(cls, row: dict, today: datetime.date) -> ContractListRow:
        upcoming, program = row["next_milestone"], row["program_names"]
        due = None if upcoming is None else datetime.date.fromisoformat(str(upcoming["due_date"])[:10])
        invoiced, budget = row["invoiced"], row["budget"]
        figures = BudgetFigures(
            currency=row["currency"],
            budget=budget,
            invoiced=invoiced,
            paid=row["paid"],
            remaining=budget - invoiced,
            burn_percent=burn_percent(invoiced, budget),
            time_elapsed_percent=time_elapsed_percent(row["start"], row["end"], today),
        )
        return cls(
            id=row["id"],
            url=reverse("contract-detail", kwargs={"pk": row["id"]}),
            number=row["number"],
            kind_label=ContractKind(row["kind"]).label,
            state_label=ContractState(row["state"]).label,
            title=row["title"],
            sponsor_name=row["sponsor_name"],
            vendor_name=row["vendor_name"],
            program_code=program["code"] if program else None,
            value=row["value"],
            currency=row["currency"],
            figures=figures,
            next_milestone_name=None if upcoming is None else upcoming["name"],
            next_milestone_due=due,
            # The earliest open milestone is overdue exactly when any is: the rule, on this row's values.
            overdue=due is not None and is_overdue(due, upcoming["state"], row["state"], today),
        )


class ContractListView(ObjectListView):
    """Sponsors: their contracts with every vendor. Vendors: their contracts with every sponsor.

    Read as the API list reads its page (``ContractRows``): a plain ``COUNT`` of the filtered contracts (no
    joins, no sub-selects), then the page's 25 ids picked by an inner sliced select and only those rows
    read, with the names and the next open milestone as sub-selects (``contract_rows``). Whether a row has
    an overdue milestone is read off its next open milestone (the earliest due), so no further sub-select.
    The page costs the same few queries for 2 contracts or 20 000.
    """

    queryset = Contract.objects.all()
    filterset_class = ContractFilterSet
    paginate_by = 25

    def get_template_names(self):
        if self.request.htmx:
            return ["contracts/contract_list_results.html"]
        return ["contracts/contract_list.html"]

    def get_context_data(self, **kwargs):
        # ObjectListView's steps, with the page read as rows (``ContractRows``) instead of model instances.
        context = super(ObjectListView, self).get_context_data(**kwargs)
        user = self.request.user
        queryset = self.restricted_queryset()
        filterset = self.filterset_class(self.request.GET or None, queryset=queryset, request=self.request)
        if filterset.is_bound and not filterset.is_valid():
            rows = queryset.none()
        else:
            rows = filterset.qs if filterset.is_bound else queryset
        page = Paginator(ContractRows(rows), self.paginate_by).get_page(self.request.GET.get("page"))
        today = timezone.localdate()
        page.object_list = [ContractListRow.of(row, today) for row in page.object_list]
        query = self.request.GET.copy()
        query.pop("page", None)
        _tidy_filters(filterset.form, user, self.request.GET)
        context.update(
            filterset=filterset,
            page=page,
            objects=page.object_list,
            querystring=query.urlencode(),
            can_add=False,  # contracts come from awards (and the API) for now
            is_vendor=user.vendor_id is not None,
        )
        return context


def _tidy_filters(form, user, query) -> None:
    """The sidebar shows the filters a person uses here (an API client's ``updated_after`` is not one; a
    vendor's people have a single vendor and see no programmes). Dates get a date picker; the booleans read
    "Any / Yes / No".

    Vendors are searched by name (``vendor_name``): a sponsor may have contracts with thousands, and a list
    of every one of them is no help (nor quick to send). The ``vendor`` ids of a link (the API's parameter)
    still filter: the sidebar then lists only the vendors chosen, so they can be unticked."""
    form.fields.pop("updated_after", None)
    if user.vendor_id is not None:
        for name in ("vendor", "vendor_name", "program"):
            form.fields.pop(name, None)
    elif "vendor" in form.fields:
        chosen = [value for value in query.getlist("vendor") if value.isdigit()]
        if chosen:
            form.fields["vendor"].queryset = form.fields["vendor"].queryset.filter(pk__in=chosen)
        else:
            form.fields.pop("vendor")
    if "end_before" in form.fields:
        form.fields["end_before"].widget.input_type = "date"
    for name in ("over_budget", "overdue"):
        if name in form.fields:
            form.fields[name].widget.choices = [("", "Any"), ("true", "Yes"), ("false", "No")]


# --- Detail ----------------------------------------------------------------------------------------------


def acting_side(user, contract: Contract) -> str | None:
    """The side ``user`` acts for on ``contract`` ("sponsor"/"vendor"), or None: a viewer, platform staff.
    The services' own rule (``contract_side``), asked here only to choose which forms to show."""
    try:
        return contract_side(user, contract)
    except PermissionDenied:
        return None


# Which side takes which milestone step (the services refuse the other side; this only picks buttons).
MILESTONE_STEPS = {Side.VENDOR: ("start", "submit"), Side.SPONSOR: ("accept", "reject")}


def milestone_rows(contract: Contract, milestones: list[Milestone], side: str | None) -> list[Milestone]:
    """Each milestone with ``slip_days``, ``is_overdue``, ``state_text`` and the ``steps`` ``side`` may take
    now; one query for the overdue ones (the rule of ``contracts.services.milestones.overdue``)."""
    overdue_ids = set(overdue(contract.milestones.all()).values_list("pk", flat=True))
    active = contract.state == ContractState.ACTIVE
    for milestone in milestones:
        milestone.slip_days = slippage_days(milestone)
        milestone.is_overdue = milestone.pk in overdue_ids
        milestone.state_text = "Overdue" if milestone.is_overdue else milestone.get_state_display()
        allowed = transitions_allowed(milestone) if active and side else []
        milestone.steps = [step for step in MILESTONE_STEPS.get(side, ()) if step in allowed]
    return milestones


def timeline(contract: Contract, milestones: list[Milestone], today) -> str:
    rows = [
        TimelineRow(
            name=m.name,
            baseline=m.baseline_due_date,
            current=m.due_date,
            state_label=m.state_text,
            done=m.state == MilestoneState.ACCEPTED,
        )
        for m in milestones
        if m.state != MilestoneState.REMOVED
    ]
    return milestone_timeline_svg(rows, start=contract.start, end=contract.end, today=today)


class ContractDetailView(ObjectDetailView):
    """One contract for both parties: each side sees its own forms; viewers see none."""

    queryset = Contract.objects.select_related("sponsor", "vendor", "program", "parent", "source_proposal")

    def get_template_names(self):
        return ["contracts/contract_detail.html"]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        contract, user = context["object"], self.request.user
        drafts = {name: _draft(self.request, contract, name) for name in ("change_order", "invoice")}
        context.update(contract_context(contract, user, drafts))
        return context


def contract_context(contract: Contract, user, drafts: dict | None = None) -> dict:
    """Everything the contract page shows, in a fixed number of queries whatever the number of milestones,
    change orders, invoices or signatures. ``drafts`` holds a refused form's input to show it again."""
    drafts = drafts or {}
    today = timezone.localdate()
    side = acting_side(user, contract)
    is_vendor_view = user.vendor_id is not None
    milestones = milestone_rows(contract, list(contract.milestones.all()), side)
    signatures = signatures_with_match(contract)
    change_orders = list(
        contract.change_orders.select_related("proposed_by", "decided_by").prefetch_related(
            Prefetch("items", queryset=ChangeOrderItem.objects.select_related("milestone"))
        )
    )
    co_signatures = {s.change_order_id: s for s in signatures if s.change_order_id}
    active = contract.state == ContractState.ACTIVE
    for change_order in change_orders:
        change_order.signature = co_signatures.get(change_order.pk)
        proposed = change_order.state == ChangeOrderState.PROPOSED
        change_order.can_decide = bool(side) and proposed and active and side != change_order.proposed_by_side
        change_order.can_withdraw = bool(side) and proposed and side == change_order.proposed_by_side
    recorded = _recorded_changes(contract)
    invoices = list(contract.invoices.select_related("milestone", "submitted_by", "approved_by"))
    with_documents(user, change_orders)  # their files, one query each list
    with_documents(user, invoices)
    figures = contract_budget(contract, today)
    for invoice in invoices:
        invoice.can_decide = side == Side.SPONSOR and invoice.state == InvoiceState.SUBMITTED
        invoice.can_mark_paid = side == Side.SPONSOR and invoice.state == InvoiceState.APPROVED
        # Shown with the approve button: approving would take the invoiced total beyond the budget.
        invoice.beyond_budget = invoice.can_decide and invoice.amount > figures.remaining
    contract_signatures = [s for s in signatures if not s.change_order_id]
    signed_sides = {s.side for s in contract_signatures}
    sign_meaning = CONTRACT_MEANING[side].label if side else ""
    can_sign = bool(side) and _sign_refusal(contract, side) is None
    open_milestones = contract.milestones.exclude(state__in=CLOSED_MILESTONE_STATES)
    billable = contract.milestones.filter(state=MilestoneState.ACCEPTED).exclude(
        invoices__state__in=LIVE_INVOICE_STATES
    )
    return {
        "side": side,
        "is_vendor_view": is_vendor_view,
        "today": today,
        "figures": figures,
        "milestones": milestones,
        "milestone_steps": any(m.steps for m in milestones),  # else no "Your steps" column
        "timeline_svg": timeline(contract, milestones, today),
        "burn_svg": burn_svg(
            burn_points(contract, recorded),
            budget_changes=budget_changes(change_orders),
            budget=contract.budget,
            currency=contract.currency,
            start=contract.start,
            end=contract.end,
            today=today,
        ),
        "contract_signatures": contract_signatures,
        "awaiting_sides": [label for value, label in Side.choices if value not in signed_sides],
        "can_sign": can_sign,
        "sign_meaning": sign_meaning,
        "sign_form": PasswordForm(),
        "activities": list(contract.activities.all()) if contract.kind == ContractKind.WORK_ORDER else [],
        "work_orders": list(contract.work_orders.all()) if contract.kind == ContractKind.MSA else [],
        "change_orders": change_orders,
        "amendments": amendment_history(contract, change_orders, recorded),
        "can_propose": bool(side) and active,
        "change_order_form": ChangeOrderForm(drafts.get("change_order")),
        "item_formset": ChangeOrderItemFormSet(drafts.get("change_order"), prefix="items", milestones=open_milestones),
        "invoices": invoices,
        "invoice_steps": any(i.can_decide or i.can_mark_paid for i in invoices),
        "can_invoice": side == Side.VENDOR and contract.state in BILLABLE_CONTRACT_STATES,
        "invoice_form": InvoiceForm(drafts.get("invoice"), initial={"issued_on": today}, milestones=billable),
        "is_admin": user.is_org_admin,
    }


def _recorded_changes(contract: Contract) -> list:
    """The contract's history entries that moved ``invoiced`` or ``end``, oldest first (one query): the
    services record each approval's new invoiced total and each change order's new end there."""
    return list(
        HistoryEntry.objects.for_object(contract)
        .filter(changes__has_any_keys=["invoiced", "end"])
        .order_by("timestamp", "id")
        .only("timestamp", "changes", "reason")
    )


def burn_points(contract: Contract, recorded: list) -> list[BurnPoint]:
    """The invoiced total after each approval, as recorded in the contract's history (no sums here)."""
    points = {}
    for entry in recorded:
        if "invoiced" in entry.changes:
            points[timezone.localdate(entry.timestamp)] = Decimal(str(entry.changes["invoiced"][1] or 0))
    return [BurnPoint(day=day, invoiced=amount) for day, amount in points.items()]


def budget_changes(change_orders: list) -> list[BudgetChange] | None:
    """The approved change orders as budget changes (the budget before and after, from the day decided),
    oldest first, for the burn chart to divide each past point by the budget then in force; None when one
    lacks its decision date or budgets (the chart then says it divides by today's budget)."""
    approved = [co for co in change_orders if co.state == ChangeOrderState.APPROVED]
    if any(co.decided_at is None or co.budget_before is None or co.budget_after is None for co in approved):
        return None
    return [BudgetChange(timezone.localdate(co.decided_at), co.budget_before, co.budget_after) for co in approved]


def amendment_history(contract: Contract, change_orders: list, recorded: list) -> list[dict]:
    """Original → each approved change order → current: budget before and after (stored on the change
    order) and the end date each one set. The original end is the one the first date-changing change order
    replaced (its history entry), else today's end."""
    approved = [co for co in change_orders if co.state == ChangeOrderState.APPROVED]
    original_end = contract.end
    for entry in recorded:
        if "end" in entry.changes and entry.reason.startswith("Change order CO-"):
            original_end = datetime.date.fromisoformat(str(entry.changes["end"][0]))
            break
    original_budget = approved[0].budget_before if approved else contract.budget
    rows = [{"label": "Original", "budget": original_budget, "end": original_end, "change_order": None}]
    end = original_end
    for co in approved:
        end = co.new_end or end
        rows.append({"label": f"CO-{co.sequence}", "budget": co.budget_after, "end": end, "change_order": co})
    rows.append({"label": "Current", "budget": contract.budget, "end": contract.end, "change_order": None})
    return rows


# --- Actions (POST, then back to the page with a message) --------------------------------------------------


def _error_text(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc.args[0]) if exc.args else str(exc)


def _form_errors(*forms) -> str:
    parts = []
    for form in forms:
        for name, errors in form.errors.items():
            label = form.fields[name].label if name in form.fields else ""
            parts.extend(f"{label}: {error}" if label else str(error) for error in errors)
    return " ".join(parts)


def _for_change(request, model, pk, *related):
    """The record the user may change (for_user, "change"), else 404; viewers are refused first (403)."""
    if not request.user.can_act:
        raise PermissionDenied(VIEWER_READ_ONLY)
    rows = model.objects.for_user(request.user, CHANGE)
    return get_object_or_404(rows.select_related(*related) if related else rows, pk=pk)


def _step(http_request, service, success: str | None, /, **kwargs):
    """Call a service; its refusal (bad input, wrong state, wrong side) becomes an error message; its
    success, ``success`` (None: the caller words it)."""
    try:
        result = service(actor=http_request.user, **kwargs)
    except (ValidationError, TransitionError, PermissionDenied) as exc:
        messages.error(http_request, _error_text(exc))
        return None
    if success:
        messages.success(http_request, success)
    return result


def _back(contract: Contract, anchor: str):
    return redirect(f"{contract.get_absolute_url()}#{anchor}")


DRAFT_KEY = "contract-{pk}-{form}"


def _keep_draft(request, contract: Contract, form: str) -> None:
    """A refused form's input, kept for the next showing of the page (which pops it), so a long change order
    is not typed again."""
    request.session[DRAFT_KEY.format(pk=contract.pk, form=form)] = {
        key: value for key, value in request.POST.items() if key != "csrfmiddlewaretoken"
    }


def _draft(request, contract: Contract, form: str) -> dict | None:
    return request.session.pop(DRAFT_KEY.format(pk=contract.pk, form=form), None)


@login_required
@require_POST
def contract_sign_view(request, pk):
    contract = _for_change(request, Contract, pk)
    form = PasswordForm(request.POST)
    form.is_valid()
    signature = _step(
        request,
        contract_sign,
        None,
        contract=contract,
        password=form.cleaned_data.get("password", ""),
        request=request,
    )
    if signature is not None:
        messages.success(
            request,
            f"{signature.get_meaning_display()} by {signature.printed_name}"
            + (": the contract is now active." if signature.contract.state == ContractState.ACTIVE else "."),
        )
    return _back(contract, "signatures")


# Milestones: (service, form, field the service takes, success message)
MILESTONE_ACTIONS = {
    "start": (milestone_start, None, None, "Milestone started."),
    "submit": (milestone_submit, CommentForm, "comment", "Milestone submitted: the sponsor is told."),
    "accept": (milestone_accept, CommentForm, "comment", "Milestone accepted: it can now be invoiced."),
    "reject": (milestone_reject, ReasonForm, "reason", "Milestone sent back to the vendor."),
}


@login_required
@require_POST
def milestone_action(request, pk, step):
    milestone = _for_change(request, Milestone, pk, "contract")
    service, form_class, field, success = MILESTONE_ACTIONS[step]
    kwargs = {}
    if form_class is not None:
        form = form_class(request.POST)
        if not form.is_valid():
            messages.error(request, _form_errors(form))
            return _milestone_back(request, milestone)
        kwargs[field] = form.cleaned_data[field]
    _step(request, service, success, milestone=milestone, **kwargs)
    return _milestone_back(request, milestone)


def _milestone_back(request, milestone: Milestone):
    """Back to the milestone's page when the step was taken there, else to the contract's milestones."""
    page = reverse("milestone-detail", kwargs={"pk": milestone.pk})
    if request.POST.get("next") == page:
        return redirect(page)
    return _back(milestone.contract, f"milestone-{milestone.pk}")


@login_required
@require_POST
def change_order_propose_view(request, pk):
    contract = _for_change(request, Contract, pk)
    form = ChangeOrderForm(request.POST)
    items = ChangeOrderItemFormSet(request.POST, prefix="items", milestones=contract.milestones.all())
    if not (form.is_valid() and items.is_valid()):
        messages.error(request, "The change order was not proposed: " + _form_errors(form, *items.forms))
        _keep_draft(request, contract, "change_order")
        return _back(contract, "change-orders")
    data = form.cleaned_data
    change_order = _step(
        request,
        change_order_propose,
        "Change order proposed: the other party is told.",
        contract=contract,
        reason=data["reason"],
        value_delta=data["value_delta"] if data["value_delta"] is not None else Decimal("0"),
        new_end=data["new_end"],
        items=items.items(),
    )
    if change_order is None:
        _keep_draft(request, contract, "change_order")
    return _back(contract, "change-orders")


@login_required
@require_POST
def change_order_approve_view(request, pk):
    change_order = _for_change(request, ChangeOrder, pk, "contract")
    form = PasswordForm(request.POST)
    form.is_valid()
    _step(
        request,
        change_order_approve,
        f"CO-{change_order.sequence} approved and signed: the contract now reflects it.",
        change_order=change_order,
        password=form.cleaned_data.get("password", ""),
        request=request,
    )
    return _back(change_order.contract, "change-orders")


def _reason_step(request, service, success: str, anchor: str, **target):
    """A step that takes a reason (``ReasonForm``): the service with it, or the form's error as a message;
    then back to the contract's ``anchor``. ``target`` is the one record the service acts on."""
    (record,) = target.values()
    form = ReasonForm(request.POST)
    if form.is_valid():
        _step(request, service, success, reason=form.cleaned_data["reason"], **target)
    else:
        messages.error(request, _form_errors(form))
    return _back(record.contract, anchor)


@login_required
@require_POST
def change_order_reject_view(request, pk):
    change_order = _for_change(request, ChangeOrder, pk, "contract")
    return _reason_step(request, change_order_reject, f"CO-{change_order.sequence} rejected.", "change-orders",
                        change_order=change_order)  # fmt: skip


@login_required
@require_POST
def change_order_withdraw_view(request, pk):
    change_order = _for_change(request, ChangeOrder, pk, "contract")
    return _reason_step(request, change_order_withdraw, f"CO-{change_order.sequence} withdrawn.", "change-orders",
                        change_order=change_order)  # fmt: skip


@login_required
@require_POST
def invoice_submit_view(request, pk):
    contract = _for_change(request, Contract, pk)
    form = InvoiceForm(request.POST, milestones=contract.milestones.all())
    if not form.is_valid():
        messages.error(request, "The invoice was not submitted: " + _form_errors(form))
        _keep_draft(request, contract, "invoice")
        return _back(contract, "invoices")
    data = form.cleaned_data
    invoice = _step(
        request,
        invoice_submit,
        "Invoice submitted: the sponsor is told.",
        contract=contract,
        number=data["number"],
        issued_on=data["issued_on"],
        amount=data["amount"],
        currency=contract.currency,
        milestone=data["milestone"],
    )
    if invoice is None:
        _keep_draft(request, contract, "invoice")
    return _back(contract, "invoices")


@login_required
@require_POST
def invoice_approve_view(request, pk):
    invoice = _for_change(request, Invoice, pk, "contract")
    form = OverrideForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return _back(invoice.contract, "invoices")
    approved = _step(request, invoice_approve, f"Invoice {invoice.number} approved.", invoice=invoice,
                     override_reason=form.cleaned_data["override_reason"])  # fmt: skip
    for warning in getattr(approved, "approval_warnings", ()):
        messages.warning(request, warning)
    return _back(invoice.contract, "invoices")


@login_required
@require_POST
def invoice_reject_view(request, pk):
    invoice = _for_change(request, Invoice, pk, "contract")
    return _reason_step(request, invoice_reject, f"Invoice {invoice.number} rejected.", "invoices", invoice=invoice)


@login_required
@require_POST
def invoice_mark_paid_view(request, pk):
    invoice = _for_change(request, Invoice, pk, "contract")
    _step(request, invoice_mark_paid, f"Invoice {invoice.number} marked paid.", invoice=invoice)
    return _back(invoice.contract, "invoices")


# --- A milestone's own page: its evidence files, its steps and its history ------------------------------------


class MilestoneDetailView(ObjectDetailView):
    queryset = Milestone.objects.select_related("contract__sponsor", "contract__vendor", "decided_by")

    def get_template_names(self):
        return ["contracts/contract_milestone.html"]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        milestone = context["object"]
        contract = milestone.contract
        side = acting_side(self.request.user, contract)
        milestone_rows(contract, [milestone], side)
        context.update(contract=contract, side=side, milestone=milestone)
        return context
