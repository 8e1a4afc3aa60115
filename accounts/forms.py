from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django_countries.fields import CountryField

from accounts.models import Role
from sponsors.choices import SponsorType
from vendors.choices import VendorKind


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(
        label="E-mail", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )
    error_messages = {
        "invalid_login": "That e-mail and password do not match an account. Both are case-sensitive for the password.",
        "inactive": "This account is deactivated. Ask your organisation admin.",
    }


class SignupForm(forms.Form):
    organisation_kind = forms.ChoiceField(
        label="We are a", choices=[("sponsor", "Sponsor (pharma, biotech, medtech)"), ("vendor", "Vendor (CRO, CMO, CDMO)")],
        widget=forms.RadioSelect,
    )  # fmt: skip
    organisation_name = forms.CharField(label="Organisation name", max_length=200)
    sponsor_type = forms.ChoiceField(choices=SponsorType.choices, required=False, label="Sponsor type")
    vendor_kind = forms.ChoiceField(choices=[("", "—"), *VendorKind.choices], required=False, label="Vendor kind")
    country = CountryField().formfield(label="Country (headquarters)")
    full_name = forms.CharField(label="Your name", max_length=200)
    email = forms.EmailField(label="Work e-mail")
    password = forms.CharField(label="Password", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                               help_text=password_validation.password_validators_help_text_html())  # fmt: skip

    def clean(self):
        data = super().clean()
        if data.get("organisation_kind") == "vendor" and not data.get("vendor_kind"):
            self.add_error("vendor_kind", "Say whether you are a CRO, a CMO or a CDMO.")
        return data


class InviteForm(forms.Form):
    email = forms.EmailField()
    role = forms.ChoiceField(choices=Role.choices, initial=Role.MEMBER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class AcceptInviteForm(forms.Form):
    full_name = forms.CharField(label="Your name", max_length=200)
    password = forms.CharField(widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                               help_text=password_validation.password_validators_help_text_html())  # fmt: skip


TOKEN_LIFETIMES = [(7, "7 days"), (30, "30 days"), (90, "90 days"), (365, "1 year"), (0, "Never expires")]


class ApiTokenForm(forms.Form):
    name = forms.CharField(label="Name", max_length=100, help_text="What will use it, e.g. “ERP sync”.")
    days = forms.TypedChoiceField(label="Expires after", choices=TOKEN_LIFETIMES, coerce=int)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["days"].initial = settings.API_TOKEN_DAYS


class UniformPasswordResetForm(PasswordResetForm):
    """Password reset that answers, and takes as long, whether or not the address has an account.

    Django's form e-mails only active accounts, so a reset for an unknown address returned
    before any e-mail was built or sent: measurably faster. Here the address always gets one
    e-mail: the reset link, or a note that no active account uses it. Only its owner reads it.
    """

    def save(self, *args, **kwargs):
        email = self.cleaned_data["email"]
        if next(iter(self.get_users(email)), None) is not None:
            return super().save(*args, **kwargs)
        body = render_to_string("accounts/email/password_reset_no_account.txt", {"email": email,
                                "site_url": settings.SITE_URL})  # fmt: skip
        send_mail("Password reset on cro_cmo", body, None, [email])
        return None
