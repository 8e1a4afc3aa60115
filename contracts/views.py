"""Browser pages of sourcing: the RFP list (sponsor's RFPs, vendor's invitations), create/edit, the detail
page with its actions, and the vendor's proposal.

Views only parse and render: every lookup goes through ``for_user`` (out of reach → 404, viewers → 403
before any write), every change through ``contracts.services``. A refused step (bad input, wrong state,
wrong side) comes back as a message on the RFP page, never a 500.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import OuterRef, Subquery
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from contracts import services
from contracts.choices import LIVE_PROPOSAL_STATES, InvitationState, ProposalState, RFPState
from contracts.filtersets import RFPFilterSet
from contracts.forms import (
    AnswerForm,
    CriterionFormSet,
    InviteForm,
    LineItemFormSet,
    MilestoneFormSet,
    ProposalForm,
    QuestionForm,
    ReasonForm,
    RFPForm,
)
from contracts.models import RFP, Invitation, Proposal, Question
from cro_cmo.api.permissions import VIEWER_READ_ONLY
from cro_cmo.generic_views import ObjectDetailView, ObjectEditView, ObjectListView
from cro_cmo.models import CHANGE, VIEW
from cro_cmo.services import TransitionError
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
    queryset = RFP.objects.select_related("program", "sponsor")

    def get_template_names(self):
        return ["contracts/rfp_detail.html"]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        rfp, user = context["object"], self.request.user
        is_sponsor_side = rfp.budget_visible_to(user)
        questions = Question.objects.for_user(user).filter(rfp=rfp).select_related("asked_by_vendor")
        context.update(
            is_sponsor_side=is_sponsor_side,
            show_ceiling="budget_ceiling" not in rfp.hidden_fields_for(user),
            criteria=list(rfp.criteria.all()),
            categories=list(rfp.categories.all()),
            questions=[(q, q.asker_visible_to(user)) for q in questions],
            can_act=user.can_act,
        )
        if is_sponsor_side:
            context.update(
                invitations=list(rfp.invitations.select_related("vendor")),
                # Proposals the sponsor may open: for a sealed RFP none before it closes (for_user).
                proposals=list(
                    Proposal.objects.for_user(user).filter(rfp=rfp).select_related("vendor").order_by("vendor__name")
                ),
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
                question_form=QuestionForm(),
                reason_form=ReasonForm(),
                questions_open=rfp.state == RFPState.PUBLISHED and timezone.now() < rfp.questions_until,
                bidding_open=rfp.state == RFPState.PUBLISHED and timezone.now() < rfp.response_deadline,
            )
        return context


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


@login_required
def invite_picker(request):
    """From the directory: ticked vendors (``?vendor=<slug>``) → one of the sponsor's draft or published RFPs."""
    if request.user.sponsor_id is None:
        raise PermissionDenied("Only a sponsor's people invite vendors to RFPs.")
    if request.method == "POST":
        _require_can_act(request.user)
        form = InviteForm(request.POST, user=request.user)
        if form.is_valid():
            rfp = form.cleaned_data["rfp"]
            if _invite(request, rfp, list(form.cleaned_data["vendors"])):
                return redirect(rfp.get_absolute_url())
    else:
        slugs = request.GET.getlist("vendor")
        initial = {"vendors": list(Vendor.objects.filter(slug__in=slugs[:50]).values_list("pk", flat=True))}
        form = InviteForm(initial=initial, user=request.user)
    return render(request, "contracts/invite_picker.html", {"form": form})


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
