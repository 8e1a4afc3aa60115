"""Sign-up, invitations, roles and API tokens: every write about people goes through here."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import ApiToken, MemberInvite, Role, User, hash_secret
from audit.context import audit_context
from sponsors.models import Sponsor
from vendors.models import Vendor

EMAIL_TAKEN = "An account with this e-mail address already exists. Sign in or reset your password."
LAST_ADMIN = "An organisation needs at least one admin: make someone else admin first."
INVITE_INVALID = "This invitation link is invalid, expired or already used. Ask your admin for a new one."
ALREADY_MEMBER = "This person already has an account."


# Slugs that name pages under /vendors/ rather than a vendor.
RESERVED_SLUGS = {"compare", "sites", "offerings", "certificates", "catalogue", "new", "api"}


def unique_slug(model, name: str) -> str:
    base = slugify(name)[:180] or "organisation"
    slug, n = base, 2
    while slug in RESERVED_SLUGS or model.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def email_is_taken(email: str) -> bool:
    return User.objects.filter(email__iexact=email.strip()).exists()


@transaction.atomic
def organisation_signup(
    *, organisation_kind: str, organisation_name: str, country: str, full_name: str, email: str,
    password: str, vendor_kind: str = "", sponsor_type: str = "pharma",
) -> User:  # fmt: skip
    """Create a sponsor or vendor and its first admin.

    1. Refuse a taken e-mail and a weak password (validated against the new user).
    2. Create the organisation with a unique slug.
    3. Create the admin user in it.
    """
    email = email.strip().lower()
    if email_is_taken(email):
        raise ValidationError({"email": EMAIL_TAKEN})
    validate_password(password, User(email=email, full_name=full_name))
    if organisation_kind == "sponsor":
        org = Sponsor(
            name=organisation_name, slug=unique_slug(Sponsor, organisation_name), country=country, type=sponsor_type
        )
        org_field = "sponsor"
    elif organisation_kind == "vendor":
        org = Vendor(
            name=organisation_name, slug=unique_slug(Vendor, organisation_name), hq_country=country, kind=vendor_kind
        )
        org_field = "vendor"
    else:
        raise ValidationError({"organisation_kind": "Choose sponsor or vendor."})
    org.full_clean()
    user = User(email=email, full_name=full_name, role=Role.ADMIN, **{org_field: org})
    with audit_context(actor=None, reason="Sign-up"):
        org.save()
        user.set_password(password)
        user.save()
    return user


def _send_invite_email(invite: MemberInvite, token: str) -> None:
    link = settings.SITE_URL + reverse("invite-accept", kwargs={"token": token})
    body = render_to_string("accounts/email/invite.txt", {"invite": invite, "link": link})
    send_mail(f"You are invited to {invite.organisation} on cro_cmo", body, None, [invite.email])


@transaction.atomic
def member_invite(*, actor: User, email: str, role: str) -> MemberInvite:
    """Invite ``email`` into the actor's organisation with ``role``; e-mail the link after commit."""
    if not actor.is_org_admin:
        raise ValidationError("Only an organisation admin can invite colleagues.")
    email = email.strip().lower()
    if email_is_taken(email):
        raise ValidationError({"email": ALREADY_MEMBER})
    if role not in Role.values:
        raise ValidationError({"role": "Choose admin, member or viewer."})
    token = ApiToken.new_key()
    invite = MemberInvite.objects.create(
        sponsor=actor.sponsor, vendor=actor.vendor, email=email, role=role, token_hash=hash_secret(token),
        invited_by=actor, expires_at=timezone.now() + timedelta(days=settings.MEMBER_INVITE_DAYS),
    )  # fmt: skip
    transaction.on_commit(lambda: _send_invite_email(invite, token))
    return invite


def invite_from_token(token: str) -> MemberInvite:
    invite = MemberInvite.objects.pending().filter(token_hash=hash_secret(token)).first()
    if invite is None:
        raise ValidationError(INVITE_INVALID)
    return invite


@transaction.atomic
def invite_accept(*, token: str, full_name: str, password: str) -> User:
    """Turn a pending invitation into an account; the link works once."""
    invite = invite_from_token(token)
    if email_is_taken(invite.email):
        raise ValidationError(ALREADY_MEMBER)
    validate_password(password, User(email=invite.email, full_name=full_name))
    claimed = MemberInvite.objects.filter(pk=invite.pk, accepted_at__isnull=True).update(accepted_at=timezone.now())
    if claimed != 1:  # someone used the link a moment ago
        raise ValidationError(INVITE_INVALID)
    user = User(email=invite.email, full_name=full_name, role=invite.role, sponsor=invite.sponsor, vendor=invite.vendor)
    user.set_password(password)
    with audit_context(actor=None, reason="Accepted invitation"):
        user.save()
    return user


def invite_revoke(*, actor: User, invite: MemberInvite) -> None:
    MemberInvite.objects.for_user(actor, "change").filter(pk=invite.pk).update(revoked_at=timezone.now())


def _admins_left_without(user: User) -> int:
    return user.colleagues().filter(role=Role.ADMIN).exclude(pk=user.pk).count()


@transaction.atomic
def member_change_role(*, actor: User, member: User, role: str) -> User:
    """Change a colleague's role; the organisation always keeps one admin."""
    member = User.objects.for_user(actor, "change").select_for_update().get(pk=member.pk)
    if role not in Role.values:
        raise ValidationError({"role": "Choose admin, member or viewer."})
    if member.role == Role.ADMIN and role != Role.ADMIN and _admins_left_without(member) == 0:
        raise ValidationError(LAST_ADMIN)
    member.role = role
    member.save(update_fields=["role"])
    return member


@transaction.atomic
def member_remove(*, actor: User, member: User) -> None:
    """Deactivate a colleague (never delete: their history must keep its author) and revoke their tokens."""
    member = User.objects.for_user(actor, "change").select_for_update().get(pk=member.pk)
    if member.role == Role.ADMIN and _admins_left_without(member) == 0:
        raise ValidationError(LAST_ADMIN)
    member.is_active = False
    member.save(update_fields=["is_active"])
    member.api_tokens.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())


def api_token_create(*, user: User, name: str = "API login") -> tuple[ApiToken, str]:
    """Issue a new token; the clear key is returned once and never stored."""
    key = ApiToken.new_key()
    token = ApiToken.objects.create(user=user, name=name, prefix=key[:8], key_hash=hash_secret(key))
    return token, key
