"""The e-mail preference form. It parses input; ``notifications.services`` applies it."""

from django import forms

from notifications.models import EmailMode, NotificationPreference, known_time_zones, validate_time_zone


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, **kwargs):
        super().__init__(format="%H:%M", **kwargs)


def _label(name: str) -> str:
    return str(NotificationPreference._meta.get_field(name).verbose_name)


def _help(name: str) -> str:
    return str(NotificationPreference._meta.get_field(name).help_text)


class NotificationPreferenceForm(forms.Form):
    email_mode = forms.ChoiceField(label=_label("email_mode"), choices=EmailMode.choices, widget=forms.RadioSelect)
    digest_time = forms.TimeField(label=_label("digest_time"), help_text=_help("digest_time"), widget=TimeInput())
    time_zone = forms.CharField(
        label=_label("time_zone"), help_text=_help("time_zone"), max_length=64, validators=[validate_time_zone],
        widget=forms.TextInput(attrs={"list": "time-zones", "autocomplete": "off", "spellcheck": "false"}),
    )  # fmt: skip

    @staticmethod
    def zone_names() -> list[str]:
        return sorted(known_time_zones())
