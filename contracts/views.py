"""Browser pages of sourcing: the RFP list (sponsor's RFPs, vendor's invitations), create/edit, the detail
page with its actions, and the vendor's proposal.

Views only parse and render: every lookup goes through ``for_user`` (out of reach → 404, viewers → 403
before any write), every change through ``contracts.services``. A refused step (bad input, wrong state,
wrong side) comes back as a message on the RFP page, never a 500.
"""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import OuterRef, Subquery
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from contracts import services
from contracts.choices import LIVE_PROPOSAL_STATES, ContractKind, InvitationState, ProposalState, RFPState
from contracts.filtersets import RFPFilterSet
from contracts.forms import (
    AnswerForm,
    AwardForm,
    CriterionFormSet,
    InviteForm,
    LineItemFormSet,
    MilestoneFormSet,
    ProposalForm,
    QuestionForm,
    ReasonForm,
    RFPForm,
)
from contracts.models import RFP, Contract, Invitation, Proposal, Question
from contracts.services.awards import AWARD_NEEDS_OVERRIDE, award_contract_kind, award_gate
from contracts.services.vendor_checks import vendor_check, vendor_checks
from cro_cmo.api.permissions import VIEWER_READ_ONLY
from cro_cmo.generic_views import ObjectDetailView, ObjectEditView, ObjectListView
from cro_cmo.models import CHANGE, VIEW
from cro_cmo.services import TransitionError
from cro_cmo.transitions import transition_refusal
from vendors.models import Vendor


def _error_text(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc.args[0]) if exc.args else str(exc)


def _require_can_act(user) -> None:
    if not user.can_act:
        raise PermissionDenied(VIEWER_READ_ONLY)


def _object_for_change(request, model, pk):
    """The object the user may change, else 404 (out of reach) — viewers are refused first (403)."""
    _require_can_act(request.user)
    return get_object_or_404(model.objects.for_user(request.user, CHANGE), pk=pk)


def _run(request, step, success: str, **kwargs):
    """Call a service step; its refusal becomes an error message on the next page (no partial state)."""
    try:
        result = step(actor=request.user, **kwargs)
    except (ValidationError, TransitionError, PermissionDenied) as exc:
        messages.error(request, _error_text(exc))
        return None
    messages.success(request, success)
    return result or True


# --- List ------------------------------------------------------------------------------------------------


class RFPListView(ObjectListView):
    """Sponsors: their RFPs. Vendors: the RFPs they are invited to, with their invitation and proposal state."""

    queryset = RFP.objects.select_related("program", "sponsor")
    filterset_class = RFPFilterSet

    def get_template_names(self):
        if self.request.htmx:
            return ["contracts/rfp_list_results.html"]
        return ["contracts/rfp_list.html"]

    def restricted_queryset(self, action=VIEW):
        rows = super().restricted_queryset(action)
        vendor_id = self.request.user.vendor_id
        if vendor_id is not None:
            # One query whatever the number of rows: the vendor's own invitation and live proposal per RFP.
            rows = rows.annotate(
                my_invitation_state=Subquery(
                    Invitation.objects.filter(rfp=OuterRef("pk"), vendor_id=vendor_id).values("state")[:1]
                ),
                my_proposal_state=Subquery(
                    Proposal.objects.filter(
                        rfp=OuterRef("pk"), vendor_id=vendor_id, state__in=LIVE_PROPOSAL_STATES
                    ).values("state")[:1]
                ),
            )
        return rows

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_add"] = self.request.user.can_act and self.request.user.sponsor_id is not None
        invitation_states, proposal_states = dict(InvitationState.choices), dict(ProposalState.choices)
        for rfp in context["objects"]:
            rfp.my_invitation_label = invitation_states.get(getattr(rfp, "my_invitation_state", None), "")
            rfp.my_proposal_label = proposal_states.get(getattr(rfp, "my_proposal_state", None), "")
        _tidy_filters(context["filterset"].form, self.request.user)
        return context


def _tidy_filters(form, user) -> None:
    """The sidebar shows the filters a person uses on this page (the API keeps them all; a filter given in
    the URL still applies, the form was validated before this):

    - no ISO 8601 date-time boxes (the deadline range and ``updated_after`` are for API clients);
    - "Sealed": any / sealed / open rather than Django's "Unknown / Yes / No";
    - a vendor's people: no programme filter (they see no programmes) and no "Draft" state (never shown).
    """
    for name in ("deadline_after", "deadline_before", "updated_after"):
        form.fields.pop(name, None)
    if "sealed" in form.fields:
        form.fields["sealed"].widget.choices = [("unknown", "Any"), ("true", "Sealed"), ("false", "Open")]
    if user.vendor_id is not None:
        form.fields.pop("program", None)
        if "state" in form.fields:
            form.fields["state"].choices = [c for c in form.fields["state"].choices if c[0] != RFPState.DRAFT]


# --- Create and edit -------------------------------------------------------------------------------------


class RFPEditView(ObjectEditView):
    """New RFP from a programme (``?program=<id>`` preselects it); editing while it is a draft."""

    queryset = RFP.objects.select_related("program")
    form_class = RFPForm
    owner_field = "sponsor"
    template_name = "contracts/rfp_edit.html"

    def get_template_names(self):
        return [self.template_name]

    def get_form(self, instance):
        form = super().get_form(instance)
        if not instance.pk and self.request.method == "GET":
            program = self.request.GET.get("program", "")
            if program.isdigit() and form.fields["program"].queryset.filter(pk=program).exists():
                form.initial["program"] = int(program)
        return form

    def get_criteria(self, instance):
        if self.request.method == "POST":
            return CriterionFormSet(self.request.POST, prefix="criteria")
        if instance.pk:
            initial = [{"name": c.name, "weight": c.weight} for c in instance.criteria.all()]
        else:
            initial = [{"name": "Price", "weight": 40}, {"name": "Timeline", "weight": 20},
                       {"name": "Experience", "weight": 20}, {"name": "Quality and compliance", "weight": 20}]  # fmt: skip
        return CriterionFormSet(initial=initial, prefix="criteria")

    def get(self, request, *args, **kwargs):
        instance = self.get_object()
        return self.render_page(instance, self.get_form(instance), self.get_criteria(instance))

    def render_page(self, instance, form, criteria):
        return self.render_to_response(
            self.get_context_data(
                form=form,
                criteria=criteria,
                object=instance,
                editable=not instance.pk or instance.state == RFPState.DRAFT,
            )
        )

    def post(self, request, *args, **kwargs):
        instance = self.get_object()
        form, criteria = self.get_form(instance), self.get_criteria(instance)
        if form.is_valid() and criteria.is_valid():
            rows = [(c["name"], c["weight"]) for c in criteria.cleaned_data if c and c.get("name")]
            data = {name: form.cleaned_data[name] for name in services.RFP_EDITABLE_FIELDS}
            try:
                if instance.pk:
                    rfp = services.rfp_update(
                        actor=request.user, rfp=instance, data=data,
                        categories=form.cleaned_data["categories"], criteria=rows,
                    )  # fmt: skip
                else:
                    rfp = services.rfp_create(
                        actor=request.user, categories=form.cleaned_data["categories"], criteria=rows, **data
                    )
            except ValidationError as exc:
                _add_errors(form, exc)
            except (TransitionError, PermissionDenied) as exc:
                form.add_error(None, _error_text(exc))
            else:
                messages.success(request, f"RFP “{rfp}” saved.")
                return redirect(rfp.get_absolute_url())
        return self.render_page(instance, form, criteria)


def _add_errors(form, exc: ValidationError) -> None:
    """Service errors onto the form: per field where the form has it, else at the top."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, [f"{e}" for e in errors])


# --- Detail ----------------------------------------------------------------------------------------------


class RFPDetailView(ObjectDetailView):
    queryset = RFP.objects.select_related("program", "sponsor", "opened_by")

    def get_template_names(self):
        return ["contracts/rfp_detail.html"]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        rfp, user = context["object"], self.request.user
        is_sponsor_side = rfp.budget_visible_to(user)
        questions = Question.objects.for_user(user).filter(rfp=rfp).select_related("asked_by_vendor")
        context.update(
            is_sponsor_side=is_sponsor_side,
            can_cancel=is_sponsor_side and context["can_change"] and rfp.state in (RFPState.DRAFT, RFPState.PUBLISHED),
            show_ceiling="budget_ceiling" not in rfp.hidden_fields_for(user),
            criteria=list(rfp.criteria.all()),
            categories=list(rfp.categories.all()),
            questions=[(q, q.asker_visible_to(user)) for q in questions],
            can_act=user.can_act,
        )
        if is_sponsor_side:
            # Proposals the sponsor may open: for a sealed RFP none before it closes (for_user).
            proposals = list(
                Proposal.objects.for_user(user).filter(rfp=rfp).select_related("vendor").order_by("vendor__name")
            )
            checks = vendor_checks(rfp.sponsor_id, [p.vendor for p in proposals])  # two queries for all rows
            context.update(
                invitations=list(rfp.invitations.select_related("vendor")),
                proposals=proposals,
                proposal_rows=[(p, checks[p.vendor_id]) for p in proposals],
                # Shortlist / reject / award: the sponsor's members and admins, once bidding has ended.
                can_evaluate=context["can_change"] and user.can_act and rfp.state == RFPState.CLOSED,
                award=_award_summary(user, rfp),
                # The picker offers only vendors not invited yet (inviting twice is refused anyway).
                invite_vendors=Vendor.objects.for_user(user)
                .exclude(rfp_invitations__rfp=rfp)
                .order_by("name")
                .only("pk", "name"),
                reason_form=ReasonForm(),
                answer_form=AnswerForm(),
            )
        elif user.vendor_id is not None:
            invitation = Invitation.objects.for_user(user).filter(rfp=rfp, vendor_id=user.vendor_id).first()
            proposal = (
                Proposal.objects.for_user(user)
                .filter(rfp=rfp, state__in=LIVE_PROPOSAL_STATES)
                .prefetch_related("line_items", "milestones")
                .first()
            )
            context.update(
                invitation=invitation,
                proposal=proposal,
                contract=(
                    Contract.objects.for_user(user).filter(source_proposal=proposal).first()
                    if proposal is not None and proposal.state == ProposalState.ACCEPTED
                    else None
                ),
                question_form=QuestionForm(),
                reason_form=ReasonForm(),
                questions_open=rfp.state == RFPState.PUBLISHED and timezone.now() < rfp.questions_until,
                bidding_open=rfp.state == RFPState.PUBLISHED and timezone.now() < rfp.response_deadline,
            )
        return context


def _award_summary(user, rfp) -> dict | None:
    """An awarded RFP's outcome for the sponsor's page: the contract (number, title, value, milestones), the
    winner's qualification now and the override the award was given with, if any."""
    if rfp.state != RFPState.AWARDED:
        return None
    contract = (
        Contract.objects.for_user(user)
        .filter(source_proposal__rfp=rfp)
        .select_related("vendor", "parent", "source_proposal__award_override_by")
        .prefetch_related("milestones")
        .first()
    )
    if contract is None:
        return None
    return {
        "contract": contract,
        "proposal": contract.source_proposal,
        "check": vendor_check(rfp.sponsor_id, contract.vendor),
    }


# --- Sponsor actions -------------------------------------------------------------------------------------


@login_required
@require_POST
def rfp_invite(request, pk):
    rfp = _object_for_change(request, RFP, pk)
    vendor_ids = [v for v in request.POST.getlist("vendors") if v.isdigit() and len(v) < 19]
    vendors = list(Vendor.objects.for_user(request.user).filter(pk__in=vendor_ids))
    _invite(request, rfp, vendors)
    return redirect(rfp.get_absolute_url())


def _invite(request, rfp, vendors):
    try:
        created, warnings = services.rfp_invite(actor=request.user, rfp=rfp, vendors=vendors)
    except (ValidationError, TransitionError, PermissionDenied) as exc:
        messages.error(request, _error_text(exc))
        return False
    messages.success(request, f"{len(created)} vendor{'s' if len(created) != 1 else ''} invited.")
    for warning in warnings:
        messages.warning(request, warning)
    return True


PICKER_MAX_VENDORS = 50


def _ids(values) -> list[str]:
    return [v for v in values if v.isascii() and v.isdigit() and len(v) < 19][:PICKER_MAX_VENDORS]


@login_required
def invite_picker(request):
    """Vendors chosen elsewhere → one of the sponsor's draft or published RFPs.

    ``?v=<slug>&v=…`` (the directory's ticked vendors, a shortlist, the compare page) or ``?vendor=<slug>``
    (a profile) preselect the vendors; ``?rfp=<id>`` the RFP. Before inviting, the page previews each
    chosen vendor's warnings (the sponsor's qualification, expired certificates) in constant queries.
    """
    if request.user.sponsor_id is None:
        raise PermissionDenied("Only a sponsor's people invite vendors to RFPs.")
    _require_can_act(request.user)
    visible = Vendor.objects.for_user(request.user)
    if request.method == "POST":
        form = InviteForm(request.POST, user=request.user)
        if form.is_valid():
            rfp = form.cleaned_data["rfp"]
            if _invite(request, rfp, list(form.cleaned_data["vendors"])):
                return redirect(rfp.get_absolute_url())
        chosen = list(visible.filter(pk__in=_ids(request.POST.getlist("vendors"))).order_by("name"))
    else:
        slugs = [s for s in [*request.GET.getlist("v"), *request.GET.getlist("vendor")] if s.isascii()]
        chosen = list(visible.filter(slug__in=slugs[:PICKER_MAX_VENDORS]).order_by("name"))
        initial = {"vendors": [vendor.pk for vendor in chosen]}
        rfp_id = _ids([request.GET.get("rfp", "")])
        form = InviteForm(initial=initial, user=request.user)
        if rfp_id and form.fields["rfp"].queryset.filter(pk=rfp_id[0]).exists():
            form.initial["rfp"] = int(rfp_id[0])
    checks = vendor_checks(request.user.sponsor_id, chosen)
    preview = [checks[vendor.pk] for vendor in chosen]
    return render(request, "contracts/invite_picker.html", {"form": form, "preview": preview})


@login_required
@require_POST
def rfp_publish(request, pk):
    rfp = _object_for_change(request, RFP, pk)
    _run(request, services.rfp_publish, "RFP published: the invited vendors are told.", rfp=rfp)
    return redirect(rfp.get_absolute_url())


@login_required
@require_POST
def rfp_close(request, pk):
    rfp = _object_for_change(request, RFP, pk)
    _run(request, services.rfp_close, "RFP closed: proposals are open.", rfp=rfp)
    return redirect(rfp.get_absolute_url())


@login_required
@require_POST
def rfp_cancel(request, pk):
    rfp = _object_for_change(request, RFP, pk)
    _run(request, services.rfp_cancel, "RFP cancelled.", rfp=rfp, reason=request.POST.get("reason", "")[:2000])
    return redirect(rfp.get_absolute_url())


# --- Evaluation and award (sponsor) -------------------------------------------------------------------------


def _proposals_url(proposal) -> str:
    return proposal.rfp.get_absolute_url() + "#proposals"


@login_required
@require_POST
def proposal_shortlist(request, pk):
    proposal = _object_for_change(request, Proposal, pk)
    _run(request, services.proposal_shortlist, f"{proposal.vendor.name}: proposal shortlisted.", proposal=proposal)
    return redirect(_proposals_url(proposal))


@login_required
@require_POST
def proposal_reject(request, pk):
    proposal = _object_for_change(request, Proposal, pk)
    _run(request, services.proposal_reject, f"{proposal.vendor.name}: proposal rejected; the vendor is told.",
         proposal=proposal, reason=request.POST.get("reason", "").strip()[:2000])  # fmt: skip
    return redirect(_proposals_url(proposal))


@login_required
def proposal_award(request, pk):
    """Confirm the award of a proposal (GET), then award it (POST): the contract is created, the other
    proposals are rejected. The page shows the vendor's qualification by the sponsor and, when the gate
    needs it, the override box — to sponsor admins only; a member reads who must award instead."""
    proposal = _object_for_change(request, Proposal, pk)
    rfp = proposal.rfp
    if request.user.sponsor_id != rfp.sponsor_id:
        # A vendor's people reach their own proposal, but the decision (and the sponsor's private
        # qualification shown here) is not theirs.
        if request.method != "POST":
            raise PermissionDenied(services.NOT_SPONSOR_MEMBER)
        messages.error(request, services.NOT_SPONSOR_MEMBER)
        return redirect(rfp.get_absolute_url())
    form = AwardForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            contract = services.rfp_award(
                actor=request.user,
                proposal=proposal,
                reason=form.cleaned_data["reason"],
                override_reason=form.cleaned_data["override_reason"],
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        except (TransitionError, PermissionDenied) as exc:
            # The gate's "give a reason" sits next to the box it asks to fill; anything else at the top.
            check = vendor_check(rfp.sponsor_id, proposal.vendor)
            needs_reason = AWARD_NEEDS_OVERRIDE.format(vendor=proposal.vendor.name, phrase=check.phrase)
            form.add_error("override_reason" if str(exc) == needs_reason else None, _error_text(exc))
        else:
            messages.success(request, f"Awarded to {proposal.vendor.name} — contract {contract.number}.")
            for warning in contract.award_warnings:
                messages.warning(request, warning)
            return redirect(rfp.get_absolute_url() + "#award")
    elif request.method != "POST":
        refusal = _award_refusal(rfp, proposal)
        if refusal:
            messages.error(request, refusal)
            return redirect(_proposals_url(proposal))
    check = vendor_check(rfp.sponsor_id, proposal.vendor)
    kind, msa = award_contract_kind(proposal)
    start = rfp.desired_start
    milestones = [
        (m, m.due_date or start + datetime.timedelta(days=m.due_offset_days)) for m in proposal.milestones.all()
    ]
    others = (
        Proposal.objects.filter(rfp=rfp, state__in=[ProposalState.SUBMITTED, ProposalState.SHORTLISTED])
        .exclude(pk=proposal.pk)
        .count()
    )
    context = {
        "object": proposal, "rfp": rfp, "form": form, "check": check,
        "gate": award_gate(actor=request.user, proposal=proposal, check=check),
        "contract_kind": dict(ContractKind.choices)[kind], "msa": msa, "milestones": milestones, "others": others,
    }  # fmt: skip
    return render(request, "contracts/award_confirm.html", context)


def _award_refusal(rfp, proposal) -> str:
    """Why the confirmation page cannot offer an award now ("" when it can); the service says it again."""
    if rfp.state != RFPState.CLOSED:
        return (
            services.AWARD_NOT_CLOSED
            if rfp.state == RFPState.PUBLISHED
            else transition_refusal(RFP, "award", rfp.state)
        )
    if proposal.state not in Proposal.TRANSITIONS["accept"].source:
        return transition_refusal(Proposal, "accept", proposal.state)
    return ""


@login_required
@require_POST
def question_answer(request, pk):
    question = _object_for_change(request, Question, pk)
    form = AnswerForm(request.POST)
    if form.is_valid():
        _run(request, services.question_answer, "Answer sent to every invitee.", question=question,
             answer=form.cleaned_data["answer"])  # fmt: skip
    else:
        messages.error(request, services.ANSWER_TEXT_REQUIRED)
    return redirect(question.rfp.get_absolute_url())


# --- Vendor actions --------------------------------------------------------------------------------------


@login_required
@require_POST
def invitation_decline(request, pk):
    invitation = _object_for_change(request, Invitation, pk)
    _run(request, services.invitation_decline, "Invitation declined.", invitation=invitation,
         reason=request.POST.get("reason", "")[:2000])  # fmt: skip
    return redirect(invitation.rfp.get_absolute_url())


@login_required
@require_POST
def question_ask(request, pk):
    invitation = _object_for_change(request, Invitation, pk)
    form = QuestionForm(request.POST)
    if form.is_valid():
        _run(request, services.question_ask, "Question sent to the sponsor.", rfp=invitation.rfp,
             text=form.cleaned_data["text"])  # fmt: skip
    else:
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    return redirect(invitation.rfp.get_absolute_url())


@login_required
@require_POST
def proposal_start(request, pk):
    """Create the vendor's empty draft proposal for the invitation's RFP, then edit it."""
    invitation = _object_for_change(request, Invitation, pk)
    proposal = _run(request, services.proposal_save_draft, "Draft proposal started.", rfp=invitation.rfp)
    if isinstance(proposal, Proposal):
        return redirect("proposal-edit", pk=proposal.pk)
    return redirect(invitation.rfp.get_absolute_url())


class ProposalEditView(ObjectEditView):
    """The vendor's proposal: price, line items and milestones (formsets), timeline, assumptions.

    The sponsor's people (who may see a submitted, unsealed proposal) get it read-only: the vendor alone
    writes it, which ``proposal_save_draft`` enforces.
    """

    queryset = Proposal.objects.select_related("rfp", "vendor")
    form_class = ProposalForm

    def get_template_names(self):
        return ["contracts/proposal_edit.html"]

    def formsets(self, proposal):
        if self.request.method == "POST":
            return (LineItemFormSet(self.request.POST, prefix="items"),
                    MilestoneFormSet(self.request.POST, prefix="milestones"))  # fmt: skip
        items = [{f: getattr(i, f) for f in services.LINE_ITEM_FIELDS} for i in proposal.line_items.all()]
        stones = [{f: getattr(m, f) for f in services.MILESTONE_FIELDS} for m in proposal.milestones.all()]
        return LineItemFormSet(initial=items, prefix="items"), MilestoneFormSet(initial=stones, prefix="milestones")

    def render_page(self, proposal, form, items, milestones):
        writable = self.request.user.vendor_id == proposal.vendor_id
        if not writable:
            for f in [form, *items, *milestones]:
                for field in f.fields.values():
                    field.disabled = True
        return self.render_to_response(
            self.get_context_data(form=form, items=items, milestones=milestones, object=proposal, writable=writable)
        )

    def get(self, request, *args, **kwargs):
        proposal = self.get_object()
        return self.render_page(proposal, self.get_form(proposal), *self.formsets(proposal))

    def post(self, request, *args, **kwargs):
        proposal = self.get_object()
        form = self.get_form(proposal)
        items, milestones = self.formsets(proposal)
        if form.is_valid() and items.is_valid() and milestones.is_valid():
            try:
                services.proposal_save_draft(
                    actor=request.user,
                    proposal=proposal,
                    data={name: form.cleaned_data[name] for name in services.PROPOSAL_FIELDS},
                    line_items=[row for row in items.cleaned_data if row],
                    milestones=[row for row in milestones.cleaned_data if row],
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            except (TransitionError, PermissionDenied) as exc:
                form.add_error(None, _error_text(exc))
            else:
                missing = services.proposal_missing(proposal)
                if missing and proposal.state == ProposalState.DRAFT:
                    # A draft may be incomplete, but say so here, next to the rows to fix, not at submit time.
                    messages.warning(request, "Draft saved, not ready to submit yet: " + " ".join(missing.values()))
                    return redirect("proposal-edit", pk=proposal.pk)
                messages.success(request, "Proposal saved: it is ready to submit." if proposal.state == ProposalState.DRAFT
                                 else "Proposal revised: the sponsor sees this version.")  # fmt: skip
                return redirect(proposal.rfp.get_absolute_url())
        return self.render_page(proposal, form, items, milestones)


@login_required
@require_POST
def proposal_submit(request, pk):
    proposal = _object_for_change(request, Proposal, pk)
    _run(request, services.proposal_submit, "Proposal submitted: the sponsor is told you responded.", proposal=proposal)
    return redirect(proposal.rfp.get_absolute_url())


@login_required
@require_POST
def proposal_withdraw(request, pk):
    proposal = _object_for_change(request, Proposal, pk)
    _run(request, services.proposal_withdraw, "Proposal withdrawn.", proposal=proposal,
         reason=request.POST.get("reason", "")[:2000])  # fmt: skip
    return redirect(proposal.rfp.get_absolute_url())
