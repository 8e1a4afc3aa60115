"""Sourcing and contracts in the Django admin: for platform staff to look things up, not to run the process.

Every state, date of a step, number, price and score is read-only here: those change only through the
services (``contracts.services``), which check the rules, record the history with a reason and tell the
people concerned. Staff may correct a few plain texts (an RFP's wording while it is a draft, a contract's
title and notes, a milestone's name). Nothing is added or deleted here: creating a record needs its
service (numbers, notices, the qualification gate), and these records are the history of a decision.
"""

from django.contrib import admin
from django.db import models

from contracts.choices import RFPState
from contracts.models import (
    RFP,
    Contract,
    Document,
    Invitation,
    Milestone,
    Proposal,
    ProposalLineItem,
    ProposalScore,
    ProposedMilestone,
    Question,
    RFPCriterion,
)


def _field_names(model: type[models.Model], hidden=()) -> list[str]:
    """The model's fields in declaration order (new fields join read-only by default)."""
    fields = [*model._meta.fields, *model._meta.many_to_many]
    return [f.name for f in fields if f.name != "id" and f.name not in hidden]


class ServiceManagedAdmin(admin.ModelAdmin):
    """Read-only but for ``editable_fields`` (none: the page is view-only); no adding, no deleting."""

    editable_fields: tuple[str, ...] = ()
    hidden_fields: tuple[str, ...] = ()
    extra_readonly: tuple[str, ...] = ()

    def editable_fields_for(self, obj) -> tuple[str, ...]:
        return self.editable_fields

    def get_fields(self, request, obj=None):
        return [*_field_names(self.model, self.hidden_fields), *self.extra_readonly]

    def get_readonly_fields(self, request, obj=None):
        editable = self.editable_fields_for(obj)
        return [name for name in self.get_fields(request, obj) if name not in editable]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return bool(self.editable_fields_for(obj)) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    """An inline shown as it is: changed through the parent's services only."""

    extra = 0
    show_change_link = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- RFPs --------------------------------------------------------------------------------------------------

# What ``rfp_update`` lets a sponsor change while the RFP is a draft; once published it is fixed.
RFP_DRAFT_EDITABLE = (
    "program", "title", "scope", "categories", "desired_start", "desired_end", "budget_ceiling",
    "budget_currency", "response_deadline", "qa_cutoff", "sealed",
)  # fmt: skip


class RFPCriterionInline(admin.TabularInline):
    """Evaluation criteria: changed with the RFP while it is a draft, fixed once it is published."""

    model = RFPCriterion
    extra = 0
    fields = ["position", "name", "weight"]

    def _draft(self, obj) -> bool:
        return obj is not None and obj.state == RFPState.DRAFT

    def get_readonly_fields(self, request, obj=None):
        return [] if self._draft(obj) else self.fields

    def has_add_permission(self, request, obj=None):
        return self._draft(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._draft(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._draft(obj) and super().has_delete_permission(request, obj)


class InvitationInline(ReadOnlyInline):
    """Invitees are added through ``rfp_invite`` (which tells them once the RFP is published)."""

    model = Invitation
    fields = ["vendor", "state", "invited_at", "invited_by", "responded_at", "reminded_at", "decline_reason"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("vendor", "invited_by")


@admin.register(RFP)
class RFPAdmin(ServiceManagedAdmin):
    list_display = ["title", "sponsor", "program", "state", "sealed", "response_deadline", "published_at"]
    list_filter = ["state", "sealed", "budget_currency", "sponsor"]
    search_fields = ["title", "scope", "sponsor__name", "program__code", "program__name"]
    list_select_related = ["sponsor", "program"]
    date_hierarchy = "response_deadline"
    autocomplete_fields = ["program"]
    filter_horizontal = ["categories"]
    inlines = [RFPCriterionInline, InvitationInline]

    def editable_fields_for(self, obj):
        return RFP_DRAFT_EDITABLE if obj is not None and obj.state == RFPState.DRAFT else ()


# --- Proposals ---------------------------------------------------------------------------------------------


class ProposalLineItemInline(ReadOnlyInline):
    model = ProposalLineItem
    fields = ["position", "description", "quantity", "unit", "unit_price", "pass_through"]


class ProposedMilestoneInline(ReadOnlyInline):
    model = ProposedMilestone
    fields = ["position", "name", "due_date", "due_offset_days", "amount"]


@admin.register(Proposal)
class ProposalAdmin(ServiceManagedAdmin):
    """The vendor's document: view-only (a sealed proposal is the vendor's until the RFP closes)."""

    list_display = ["rfp", "vendor", "state", "total_price", "currency", "submitted_at"]
    list_filter = ["state", "currency"]
    search_fields = ["rfp__title", "vendor__name"]
    list_select_related = ["rfp", "vendor"]
    inlines = [ProposalLineItemInline, ProposedMilestoneInline]


@admin.register(Question)
class QuestionAdmin(ServiceManagedAdmin):
    """Answered through ``question_answer`` (every invitee is told), so view-only here."""

    list_display = ["short_text", "rfp", "asked_by_vendor", "created", "answered_at"]
    list_filter = [("answered_at", admin.EmptyFieldListFilter)]
    search_fields = ["text", "answer", "rfp__title", "asked_by_vendor__name"]
    list_select_related = ["rfp", "asked_by_vendor"]

    @admin.display(description="question")
    def short_text(self, obj):
        return str(obj)


@admin.register(ProposalScore)
class ProposalScoreAdmin(ServiceManagedAdmin):
    """Each sponsor member's score sheet: written only by ``score_save``."""

    list_display = ["proposal", "criterion", "scorer", "score", "updated"]
    search_fields = ["proposal__rfp__title", "proposal__vendor__name", "criterion__name", "scorer__email"]
    list_select_related = ["proposal__rfp", "proposal__vendor", "criterion", "scorer"]


# --- Contracts ---------------------------------------------------------------------------------------------


class MilestoneInline(ReadOnlyInline):
    model = Milestone
    fields = ["position", "name", "baseline_due_date", "due_date", "amount", "state"]


@admin.register(Contract)
class ContractAdmin(ServiceManagedAdmin):
    editable_fields = ("title", "notes")
    list_display = ["number", "title", "sponsor", "vendor", "kind", "state", "value", "currency", "start", "end"]
    list_filter = ["kind", "state", "currency", "sponsor"]
    search_fields = ["number", "title", "sponsor__name", "vendor__name"]
    list_select_related = ["sponsor", "vendor"]
    date_hierarchy = "start"
    inlines = [MilestoneInline]


@admin.register(Milestone)
class MilestoneAdmin(ServiceManagedAdmin):
    editable_fields = ("name",)
    list_display = ["name", "contract", "due_date", "amount", "state"]
    list_filter = ["state"]
    search_fields = ["name", "contract__number", "contract__title"]
    list_select_related = ["contract"]
    date_hierarchy = "due_date"


@admin.register(Document)
class DocumentAdmin(ServiceManagedAdmin):
    """Immutable once stored. The file is named, not linked: files leave only through the access-checked
    download, never from a media URL."""

    hidden_fields = ("file",)
    extra_readonly = ("stored_as",)
    list_display = ["title", "version", "attached_to", "filename", "content_type", "size", "uploaded_by", "created"]
    list_filter = ["content_type"]
    search_fields = ["title", "filename", "sha256"]
    list_select_related = ["rfp", "proposal__rfp", "proposal__vendor", "contract", "milestone", "uploaded_by"]

    @admin.display(description="attached to")
    def attached_to(self, obj):
        return f"{obj._meta.get_field(obj.target_name).verbose_name}: {obj.target}"

    @admin.display(description="stored as")
    def stored_as(self, obj):
        return obj.file.name
