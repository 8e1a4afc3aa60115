"""Browser forms of contract execution. They parse input only; every rule (who, when, how much) lives in
the services of ``contracts.services`` and comes back from them as a message or a field error."""

from __future__ import annotations

from django import forms

from contracts.choices import ChangeOrderItemAction
from contracts.forms import DateInput
from contracts.models import Milestone

TEXT_MAX = 5_000
MONEY = {"max_digits": 16, "decimal_places": 2}


class PasswordForm(forms.Form):
    """An electronic signature re-asks the signer's password (the service checks it and counts failures)."""

    password = forms.CharField(
        label="Your password",
        strip=False,
        required=False,  # an empty one is the service's "Enter your password to sign."
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class CommentForm(forms.Form):
    comment = forms.CharField(label="Comment", required=False, max_length=TEXT_MAX, widget=forms.Textarea)


class ReasonForm(forms.Form):
    # Required by the services where it is (they say so in their own words); optional for a withdrawal.
    reason = forms.CharField(label="Reason", required=False, max_length=TEXT_MAX, widget=forms.Textarea)


class OverrideForm(forms.Form):
    override_reason = forms.CharField(
        label="Reason for approving beyond the budget", required=False, max_length=2_000, widget=forms.Textarea
    )


class ChangeOrderForm(forms.Form):
    """The change itself; its milestone rows are ``ChangeOrderItemFormSet``."""

    reason = forms.CharField(
        label="Reason", required=False, max_length=TEXT_MAX, widget=forms.Textarea(attrs={"rows": 2})
    )
    value_delta = forms.DecimalField(
        label="Change of value",
        required=False,
        **MONEY,
        help_text="Positive to add, negative to reduce; empty: the value does not change.",
    )
    new_end = forms.DateField(
        label="New end date", required=False, widget=DateInput(), help_text="Empty: the end date does not change."
    )


class ChangeOrderItemForm(forms.Form):
    """One milestone row: add one (name, due date, amount), change one (any of them) or remove one."""

    action = forms.ChoiceField(
        label="What",
        required=False,
        choices=[("", "—"), *ChangeOrderItemAction.choices],
    )
    milestone = forms.ModelChoiceField(
        label="Milestone", required=False, queryset=Milestone.objects.none(), empty_label="— (for a change or removal)"
    )
    name = forms.CharField(label="Name", required=False, max_length=200)
    due_date = forms.DateField(label="Due date", required=False, widget=DateInput())
    amount = forms.DecimalField(label="Amount", required=False, min_value=0, **MONEY)

    def __init__(self, *args, milestones=None, **kwargs):
        super().__init__(*args, **kwargs)
        if milestones is not None:
            self.fields["milestone"].queryset = milestones

    def item(self) -> dict | None:
        """The row as the service takes it; None for an empty row."""
        data = self.cleaned_data
        if not data.get("action"):
            return None
        return {key: data.get(key) for key in ("action", "milestone", "name", "due_date", "amount")}


class BaseItemFormSet(forms.BaseFormSet):
    def __init__(self, *args, milestones=None, **kwargs):
        self.milestones = milestones
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index):
        return {**super().get_form_kwargs(index), "milestones": self.milestones}

    @property
    def empty_form(self):
        form = super().empty_form
        form.fields["milestone"].queryset = self.milestones
        return form

    def items(self) -> list[dict]:
        return [item for form in self.forms if (item := form.item()) is not None]


ChangeOrderItemFormSet = forms.formset_factory(
    ChangeOrderItemForm, formset=BaseItemFormSet, extra=3, max_num=20, validate_max=True, absolute_max=20
)


class InvoiceForm(forms.Form):
    """A vendor's invoice on the contract (in the contract's currency), optionally for one accepted milestone."""

    number = forms.CharField(label="Invoice number", max_length=40, required=False)
    issued_on = forms.DateField(label="Date of issue", required=False, widget=DateInput())
    amount = forms.DecimalField(label="Amount", required=False, **MONEY)
    milestone = forms.ModelChoiceField(
        label="For milestone",
        required=False,
        queryset=Milestone.objects.none(),
        empty_label="No milestone (other work)",
        help_text="Accepted milestones not invoiced yet.",
    )

    def __init__(self, *args, milestones=None, **kwargs):
        super().__init__(*args, **kwargs)
        if milestones is not None:
            self.fields["milestone"].queryset = milestones
