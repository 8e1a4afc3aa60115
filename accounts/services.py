"""Sign-up, invitations, roles and API tokens: every write about people goes through here."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import ApiToken, MemberInvite, Role, SignupRequest, User, hash_secret
from audit.context import audit_context
from sponsors.models import Sponsor
from vendors.models import Vendor

LAST_ADMIN = "An organisation needs at least one admin: make someone else admin first."
NO_LONGER_ADMIN = "You are no longer an admin of your organisation: ask an admin to do this."
INVITE_INVALID = "This invitation link is invalid, expired or already used. Ask your admin for a new one."
ALREADY_MEMBER = "This person is already a member of your organisation."
ADDRESS_HAS_ACCOUNT = "This address already has an account, which belongs to one organisation: sign in instead."
SIGNUP_LINK_INVALID = "This sign-up link is invalid, expired or already used. Sign up again, or sign in."
SIGNUP_LINK_HOURS = 48
TOKEN_NAME_REQUIRED = "Give the token a name, e.g. the system that will use it."


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


def _organisation_for(details: dict):
    """The (unsaved) sponsor or vendor a sign-up describes, validated; raise ValidationError if not valid."""
    kind, name = details.get("organisation_kind"), details.get("organisation_name", "")
    if kind == "sponsor":
        org = Sponsor(name=name, slug=unique_slug(Sponsor, name), country=details.get("country", ""),
                      type=details.get("sponsor_type") or "pharma")  # fmt: skip
    elif kind == "vendor":
        org = Vendor(name=name, slug=unique_slug(Vendor, name), hq_country=details.get("country", ""),
                     kind=details.get("vendor_kind", ""))  # fmt: skip
    else:
        raise ValidationError({"organisation_kind": "Choose sponsor or vendor."})
    org.full_clean()
    return org


def _send_signup_email(email: str, template: str, context: dict) -> None:
    body = render_to_string(template, {"email": email, "site_url": settings.SITE_URL, **context})
    send_mail("Your cro_cmo sign-up", body, None, [email])


@transaction.atomic
def signup_request(
    *, organisation_kind: str, organisation_name: str, country: str, full_name: str, email: str,
    password: str, vendor_kind: str = "", sponsor_type: str = "pharma",
) -> None:  # fmt: skip
    """Start a sign-up: e-mail a confirmation link, or tell the address's owner it already has an account.

    The caller's answer is the same either way ("check your e-mail"), so the form never reveals
    whether an address has an account:

    1. Validate everything that does not depend on the address being free (organisation fields,
       password strength) and raise ValidationError for the form.
    2. Hash the password in both branches (the slow step: equal timing).
    3. Taken address: e-mail its owner "someone tried to sign up with your address".
       Free address: store a SignupRequest and e-mail its one-time link.
    Both e-mails leave after commit.
    """
    email = email.strip().lower()
    details = {
        "organisation_kind": organisation_kind, "organisation_name": organisation_name, "country": str(country),
        "full_name": full_name, "vendor_kind": vendor_kind, "sponsor_type": sponsor_type,
    }  # fmt: skip
    _organisation_for(details)
    validate_password(password, User(email=email, full_name=full_name))
    password_hash = make_password(password)
    if email_is_taken(email):
        transaction.on_commit(
            lambda: _send_signup_email(email, "accounts/email/signup_taken.txt", {"full_name": full_name})
        )
        return
    token = ApiToken.new_key()
    SignupRequest.objects.create(
        email=email, details=details, password_hash=password_hash, token_hash=hash_secret(token),
        expires_at=timezone.now() + timedelta(hours=SIGNUP_LINK_HOURS),
    )  # fmt: skip
    link = settings.SITE_URL + reverse("signup-confirm", kwargs={"token": token})
    context = {"full_name": full_name, "organisation_name": organisation_name, "link": link,
               "hours": SIGNUP_LINK_HOURS}  # fmt: skip
    transaction.on_commit(lambda: _send_signup_email(email, "accounts/email/signup_confirm.txt", context))


def signup_from_token(token: str) -> SignupRequest:
    pending = SignupRequest.objects.filter(
        token_hash=hash_secret(token), confirmed_at__isnull=True, expires_at__gt=timezone.now()
    ).first()
    if pending is None:
        raise ValidationError(SIGNUP_LINK_INVALID)
    return pending


@transaction.atomic
def signup_confirm(*, token: str) -> User:
    """Finish a sign-up from its e-mailed link: create the sponsor or vendor and its first admin.

    1. Claim the link (compare-and-set: it works once).
    2. Refuse if the address got an account meanwhile (another sign-up or an invitation).
    3. Create the organisation with a unique slug, then the admin with the stored password hash.
    """
    pending = signup_from_token(token)
    claimed = SignupRequest.objects.filter(pk=pending.pk, confirmed_at__isnull=True).update(confirmed_at=timezone.now())
    if claimed != 1 or email_is_taken(pending.email):
        raise ValidationError(SIGNUP_LINK_INVALID)
    details = pending.details
    org = _organisation_for(details)
    org_field = "sponsor" if isinstance(org, Sponsor) else "vendor"
    user = User(email=pending.email, full_name=details["full_name"], role=Role.ADMIN, password=pending.password_hash)
    with audit_context(actor=None, reason="Sign-up"):
        org.save()
        setattr(user, org_field, org)
        user.save()
    return user


def _send_invite_email(invite: MemberInvite, token: str, *, has_account: bool) -> None:
    link = settings.SITE_URL + reverse("invite-accept", kwargs={"token": token})
    template = "accounts/email/invite_has_account.txt" if has_account else "accounts/email/invite.txt"
    body = render_to_string(template, {"invite": invite, "link": link, "site_url": settings.SITE_URL})
    send_mail(f"You are invited to {invite.organisation} on cro_cmo", body, None, [invite.email])


@transaction.atomic
def member_invite(*, actor: User, email: str, role: str) -> MemberInvite:
    """Invite ``email`` into the actor's organisation with ``role``; e-mail the person after commit.

    An address that already has an account elsewhere gets the same answer, the same pending
    invitation row and an e-mail (telling its owner that an account belongs to one organisation),
    so an admin cannot probe which addresses other organisations use. Only the actor's own
    colleagues, whom the admin sees on the members page anyway, are refused plainly.
    """
    if not actor.is_org_admin:
        raise ValidationError("Only an organisation admin can invite colleagues.")
    email = email.strip().lower()
    if role not in Role.values:
        raise ValidationError({"role": "Choose admin, member or viewer."})
    existing = User.objects.filter(email__iexact=email).first()
    if existing is not None and existing.organisation == actor.organisation:
        raise ValidationError({"email": ALREADY_MEMBER})
    token = ApiToken.new_key()
    invite = MemberInvite.objects.create(
        sponsor=actor.sponsor, vendor=actor.vendor, email=email, role=role, token_hash=hash_secret(token),
        invited_by=actor, expires_at=timezone.now() + timedelta(days=settings.MEMBER_INVITE_DAYS),
    )  # fmt: skip
    has_account = existing is not None
    transaction.on_commit(lambda: _send_invite_email(invite, token, has_account=has_account))
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
        raise ValidationError(ADDRESS_HAS_ACCOUNT)
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


def _lock_for_membership_change(actor: User, member: User) -> tuple[User, User]:
    """Serialise membership changes of one organisation, then re-read actor and member.

    Two admins demoting (or removing) each other at the same moment each counted the other as
    "an admin left" and both committed: no admin. Locking the organisation row first makes the
    second change wait for the first and then count again (PostgreSQL READ COMMITTED: each
    statement sees what committed before it; SQLite serialises writers anyway). The actor is
    re-read under the lock too: the first change may have demoted them.
    """
    org = actor.organisation
    if org is not None:
        type(org).objects.select_for_update().filter(pk=org.pk).first()
    actor = User.objects.select_related("sponsor", "vendor").get(pk=actor.pk)
    if not (actor.is_active and (actor.is_org_admin or actor.is_superuser)):
        raise ValidationError(NO_LONGER_ADMIN)
    member = User.objects.for_user(actor, "change").select_for_update().get(pk=member.pk)
    return actor, member


@transaction.atomic
def member_change_role(*, actor: User, member: User, role: str) -> User:
    """Change a colleague's role; the organisation always keeps one admin, even under concurrent changes."""
    if role not in Role.values:
        raise ValidationError({"role": "Choose admin, member or viewer."})
    actor, member = _lock_for_membership_change(actor, member)
    if member.role == Role.ADMIN and role != Role.ADMIN and _admins_left_without(member) == 0:
        raise ValidationError(LAST_ADMIN)
    member.role = role
    member.save(update_fields=["role"])
    return member


def member_staff_edit_check(*, member: User, role: str, is_active: bool, sponsor_id, vendor_id) -> None:
    """The last-admin rule for edits made outside the members page: platform staff in the Django admin.

    ``member`` is the person as stored now; the keyword arguments are the values about to be saved.
    Demoting, deactivating or moving the only active admin of an organisation is refused.
    """
    was_admin = member.is_active and member.role == Role.ADMIN and member.organisation is not None
    stays_admin = role == Role.ADMIN and is_active and sponsor_id == member.sponsor_id and vendor_id == member.vendor_id
    if was_admin and not stays_admin and _admins_left_without(member) == 0:
        raise ValidationError(LAST_ADMIN)


@transaction.atomic
def member_remove(*, actor: User, member: User) -> None:
    """Deactivate a colleague (never delete: their history must keep its author) and revoke their tokens.

    The last active admin cannot be removed, even by two admins removing each other at once.
    """
    actor, member = _lock_for_membership_change(actor, member)
    if member.role == Role.ADMIN and _admins_left_without(member) == 0:
        raise ValidationError(LAST_ADMIN)
    member.is_active = False
    member.save(update_fields=["is_active"])
    member.api_tokens.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())


def api_token_create(*, user: User, name: str = "API login", days: int | None = None) -> tuple[ApiToken, str]:
    """Issue a new token; the clear key is returned once and never stored.

    It expires after ``days`` (default: the API_TOKEN_DAYS setting; 0 means never).
    """
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": TOKEN_NAME_REQUIRED})
    days = settings.API_TOKEN_DAYS if days is None else days
    if days < 0:
        raise ValidationError({"days": "A lifetime is 0 (never expires) or a number of days."})
    expires_at = timezone.now() + timedelta(days=days) if days else None
    key = ApiToken.new_key()
    token = ApiToken.objects.create(
        user=user, name=name[:100], prefix=key[:8], key_hash=hash_secret(key), expires_at=expires_at
    )
    return token, key


def api_token_revoke(*, actor: User, token_id: int) -> ApiToken:
    """Revoke one of the actor's own tokens (idempotent); anyone else's token → DoesNotExist (404).

    Tokens are personal: not even platform staff revoke someone else's here (the admin can).
    """
    token = ApiToken.objects.get(pk=token_id, user=actor)
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    token.refresh_from_db()
    return token
