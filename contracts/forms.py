"""Browser forms of sourcing. They parse input; the rules live in ``contracts.services``."""

import datetime
import zoneinfo

from django import forms
from django.conf import settings
from django.utils import timezone

from contracts.choices import RFPState
from contracts.models import RFP, Proposal, ProposalLineItem, ProposedMilestone
from sponsors.models import Program
from vendors.models import Vendor

# A short list of the zones sponsors work in, plus the server's; the deadline is stored in UTC.
COMMON_ZONES = [
    "UTC", "Europe/London", "Europe/Paris", "Europe/Berlin", "Europe/Zurich", "America/New_York",
    "America/Chicago", "America/Los_Angeles", "Asia/Tokyo", "Asia/Shanghai", "Asia/Kolkata",
    "Australia/Sydney",
]  # fmt: skip


def zone_choices():
    zones = dict.fromkeys([settings.TIME_ZONE, *COMMON_ZONES])
    return [(zone, zone.replace("_", " ")) for zone in zones]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class LocalDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class RFPForm(forms.ModelForm):
    """An RFP's fields; the two moments are wall-clock times in the chosen ``time_zone``.

    The browser's ``datetime-local`` input carries no zone, so the form asks for one explicitly and
    the stored moment is that wall-clock time in that zone (shown back in it, with its name).
    """

    time_zone = forms.ChoiceField(
        choices=zone_choices,
        label="Time zone of the deadline and cut-off",
        initial=settings.TIME_ZONE,
        help_text="The deadline and cut-off above are read in this zone and kept as exact moments; pages show "
        "them in the platform's time zone, with its name.",
    )

    class Meta:
        model = RFP
        fields = [
            "program", "title", "scope", "categories", "desired_start", "desired_end", "budget_ceiling",
            "budget_currency", "response_deadline", "qa_cutoff", "time_zone", "sealed",
        ]  # fmt: skip
        widgets = {
            "desired_start": DateInput(),
            "desired_end": DateInput(),
            "response_deadline": LocalDateTimeInput(),
            "qa_cutoff": LocalDateTimeInput(),
            "categories": forms.CheckboxSelectMultiple(),
        }
        labels = {"program": "Programme"}  # the spelling of the rest of the site
        help_texts = {"response_deadline": "Proposals are accepted until this moment, in the time zone chosen below."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Parse the two moments as naive wall-clock times; clean() attaches the chosen zone.
        for name in ("response_deadline", "qa_cutoff"):
            self.fields[name] = forms.DateTimeField(
                label=self.fields[name].label,
                required=self.fields[name].required,
                widget=LocalDateTimeInput(),
                input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
                help_text=self.fields[name].help_text,
            )
            value = getattr(self.instance, name, None)
            if value is not None:
                self.initial[name] = timezone.localtime(value).replace(tzinfo=None)

    def limit_choices(self, user, instance):
        self.fields["program"].queryset = Program.objects.for_user(user, "change")

    def clean(self):
        cleaned = super().clean()
        zone = zoneinfo.ZoneInfo(cleaned.get("time_zone") or settings.TIME_ZONE)
        for name in ("response_deadline", "qa_cutoff"):
            value = cleaned.get(name)
            if isinstance(value, datetime.datetime):
                if timezone.is_aware(value):
                    value = value.replace(tzinfo=None)  # USE_TZ made it aware in the server's zone
                cleaned[name] = value.replace(tzinfo=zone)
        return cleaned


class CriterionForm(forms.Form):
    name = forms.CharField(max_length=100, label="Criterion")
    # No initial weight: an empty extra row then reads as empty ("leave a row empty to drop it").
    weight = forms.IntegerField(min_value=1, max_value=1000)


CriterionFormSet = forms.formset_factory(CriterionForm, extra=3, max_num=20, validate_max=True, absolute_max=20)


class InviteForm(forms.Form):
    """Pick an RFP (draft or published, of the user's sponsor) and vendors from the directory."""

    rfp = forms.ModelChoiceField(queryset=RFP.objects.none(), label="RFP")
    vendors = forms.ModelMultipleChoiceField(queryset=Vendor.objects.none(), label="Vendors")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rfp"].queryset = RFP.objects.for_user(user, "change").filter(
            state__in=[RFPState.DRAFT, RFPState.PUBLISHED]
        )
        self.fields["vendors"].queryset = Vendor.objects.for_user(user).order_by("name")


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class AwardForm(forms.Form):
    """The award's confirmation. Whether ``override_reason`` is needed (and who may give it) is the
    service's rule (``rfp_award``): the page shows the box only to sponsor admins when it is needed."""

    reason = forms.CharField(
        max_length=2000,
        required=False,
        label="Why this proposal (optional)",
        help_text="Kept in the history of the award.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    override_reason = forms.CharField(
        max_length=2000,
        required=False,
        label="Reason for overriding the qualification check",
        help_text="Required: kept on the proposal and in its history, with your name.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class QuestionForm(forms.Form):
    text = forms.CharField(max_length=5000, label="Your question", widget=forms.Textarea(attrs={"rows": 3}))


class AnswerForm(forms.Form):
    answer = forms.CharField(max_length=10000, widget=forms.Textarea(attrs={"rows": 3}))


class ProposalForm(forms.ModelForm):
    class Meta:
        model = Proposal
        fields = ["total_price", "currency", "timeline", "assumptions"]
        widgets = {"timeline": forms.Textarea(attrs={"rows": 3}), "assumptions": forms.Textarea(attrs={"rows": 3})}


class LineItemForm(forms.ModelForm):
    class Meta:
        model = ProposalLineItem
        fields = ["description", "quantity", "unit", "unit_price", "pass_through"]


class MilestoneForm(forms.ModelForm):
    class Meta:
        model = ProposedMilestone
        fields = ["name", "due_date", "due_offset_days", "amount"]
        widgets = {"due_date": DateInput()}
        labels = {"due_offset_days": "Or days after start"}


def part_formset(form_class, extra=2):
    """Rows of a proposal as plain forms: the service replaces all rows at once from their cleaned data
    (the model's ``clean()`` — a date or an offset — already runs on each row here)."""
    return forms.formset_factory(form_class, extra=extra, max_num=50, validate_max=True, absolute_max=50)


LineItemFormSet = part_formset(LineItemForm)
MilestoneFormSet = part_formset(MilestoneForm)
