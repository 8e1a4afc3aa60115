from django import forms

from sponsors.models import Program


class ProgramForm(forms.ModelForm):
    class Meta:
        model = Program
        fields = ["code", "name", "phase", "therapeutic_area", "budget_cap", "budget_currency"]
