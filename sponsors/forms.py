from django import forms

from sponsors.models import Program, QualificationDocument, Shortlist, Sponsor, VendorQualification
from sponsors.services import REASON_MAX
from vendors.models import ServiceCategory, Site, Vendor


class ProgramForm(forms.ModelForm):
    class Meta:
        model = Program
        fields = ["code", "name", "phase", "therapeutic_area", "budget_cap", "budget_currency"]


# The per-sponsor thresholds and lead times of the background checks (SPEC §4): the alerts each check raises.
CHECK_SETTINGS = [
    "due_soon_days", "overdue_escalation_days", "budget_warning_percent", "burn_ahead_points",
    "contract_ending_days", "certificate_expiring_days", "requalification_days", "rfp_reminder_days",
]  # fmt: skip


class FieldGroup:
    """Some of a form's fields under a legend, rendered by ``includes/form_fields.html`` like a form: each
    field with its own errors. The error summary is the whole form's, above the groups (the page's template),
    so a group shows none."""

    errors: dict = {}

    def __init__(self, form, legend: str, names: list[str], first: bool):
        self.form, self.legend, self.names, self.first = form, legend, names, first

    def visible_fields(self):
        return [self.form[name] for name in self.names]

    def hidden_fields(self):
        return self.form.hidden_fields() if self.first else []

    def non_field_errors(self):
        return []


class SponsorForm(forms.ModelForm):
    """The sponsor's profile and, in a "Background checks" group, the thresholds its alerts follow."""

    class Meta:
        model = Sponsor
        fields = ["name", "type", "country", "default_currency", *CHECK_SETTINGS]
        labels = {
            "due_soon_days": "Milestone due soon (days ahead)",
            "overdue_escalation_days": "Escalate an overdue milestone after (days)",
            "budget_warning_percent": "Budget warning at (% of the budget invoiced)",
            "burn_ahead_points": "Burn ahead of time elapsed by more than (points)",
            "contract_ending_days": "Contract ending with open milestones (days ahead)",
            "certificate_expiring_days": "Vendor certificate expiring (days ahead)",
            "requalification_days": "Qualification audit due (days ahead)",
            "rfp_reminder_days": "Remind invited vendors before an RFP closes (days ahead)",
        }

    def groups(self):
        company = ["name", "type", "country", "default_currency"]
        return [
            FieldGroup(self, "Company", company, first=True),
            FieldGroup(self, "Background checks", CHECK_SETTINGS, first=False),
        ]


class QualificationForm(forms.ModelForm):
    """The qualification record; the vendor is chosen once (on creation), a reason is asked on every change."""

    reason = forms.CharField(
        label="Reason for the change",
        required=False,
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Kept in the history with the change (required when you change a record).",
    )

    class Meta:
        model = VendorQualification
        fields = [
            "vendor", "status", "risk", "cda_signed_on", "msa_reference", "last_audit_on", "next_audit_due",
            "sites", "categories", "notes",
        ]  # fmt: skip
        widgets = {
            "cda_signed_on": forms.DateInput(attrs={"type": "date"}),
            "last_audit_on": forms.DateInput(attrs={"type": "date"}),
            "next_audit_due": forms.DateInput(attrs={"type": "date"}),
            "sites": forms.CheckboxSelectMultiple,
            "categories": forms.CheckboxSelectMultiple,
            "notes": forms.Textarea(attrs={"rows": 4}),
        }

    def limit_choices(self, user, instance):
        """The vendor is fixed once recorded; sites are the vendor's own (all vendors' when not yet chosen)."""
        vendor_field = self.fields["vendor"]
        vendor_field.queryset = Vendor.objects.for_user(user)
        vendor_field.to_field_name = "slug"
        if instance.vendor_id:
            vendor_field.disabled = True
            self.initial["vendor"] = instance.vendor.slug  # the form's initial is the pk; the field speaks slugs
            self.fields["sites"].queryset = Site.objects.filter(vendor_id=instance.vendor_id)
        else:
            self.fields["sites"].queryset = Site.objects.none()
            self.fields["sites"].help_text = "Save the record first; then choose the vendor's sites it covers."
            self.fields["reason"].help_text = "Optional for a new record; kept in its history."
        self.fields["categories"].queryset = ServiceCategory.objects.all()


class QualificationDocumentForm(forms.ModelForm):
    class Meta:
        model = QualificationDocument
        fields = ["title", "file"]
        widgets = {"file": forms.ClearableFileInput(attrs={"accept": "application/pdf"})}
        labels = {"file": "Audit report (PDF)"}


class ShortlistForm(forms.ModelForm):
    class Meta:
        model = Shortlist
        fields = ["name", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}
