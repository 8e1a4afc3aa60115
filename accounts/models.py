"""People, their organisation and role; invitations to join; API tokens."""

import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from cro_cmo.models import VisibleQuerySet


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    MEMBER = "member", "Member"
    VIEWER = "viewer", "Viewer"


ACTING_ROLES = (Role.ADMIN, Role.MEMBER)


class UserQuerySet(VisibleQuerySet):
    def visible_to(self, user, action):
        # People see their colleagues; only organisation admins manage them.
        if action == "change" and not user.is_org_admin:
            return self.none()
        if user.sponsor_id:
            return self.filter(sponsor_id=user.sponsor_id)
        if user.vendor_id:
            return self.filter(vendor_id=user.vendor_id)
        return self.none()


class UserManager(BaseUserManager.from_queryset(UserQuerySet)):
    use_in_migrations = True

    def create_user(self, email, password=None, **extra):
        if not email:
            raise ValueError("A user needs an e-mail address.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **extra)

    def get_by_natural_key(self, email):
        return self.get(email__iexact=email)


class User(AbstractBaseUser, PermissionsMixin):
    """A person. Belongs to one sponsor or one vendor with a role; platform staff belong to none."""

    email = models.EmailField("e-mail address", unique=True)
    full_name = models.CharField(max_length=200, blank=True)
    sponsor = models.ForeignKey(
        "sponsors.Sponsor", null=True, blank=True, on_delete=models.PROTECT, related_name="members"
    )
    vendor = models.ForeignKey(
        "vendors.Vendor", null=True, blank=True, on_delete=models.PROTECT, related_name="members"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="Platform staff: may use the admin.")
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        ordering = ["email"]
        constraints = [
            models.CheckConstraint(
                condition=Q(sponsor__isnull=True) | Q(vendor__isnull=True),
                name="user_one_organisation",
                violation_error_message="A user belongs to a sponsor or a vendor, not both.",
            ),
            models.UniqueConstraint(
                Lower("email"), name="user_email_ci_unique", violation_error_message="This e-mail is taken."
            ),
        ]

    def __str__(self):
        return self.get_full_name() or self.email

    def set_unusable_password(self):
        super().set_unusable_password()
        self._password_cleared = True

    def save(self, *args, **kwargs):
        """Save; a new or cleared password revokes every API token of this user.

        This is the one hook for every way a password is set: the browser's password change, the
        reset link, the admin, ``changepassword``. A token issued under the old password must not
        outlive it (a leaked password is typically why people change it). ``set_password`` leaves
        the raw password in ``_password`` until the save; a transparent hash upgrade at sign-in
        clears it before saving, so it revokes nothing.
        """
        password_changed = not self._state.adding and (
            self._password is not None or getattr(self, "_password_cleared", False)
        )
        super().save(*args, **kwargs)
        self._password_cleared = False
        if password_changed:
            ApiToken.objects.filter(user=self, revoked_at__isnull=True).update(revoked_at=timezone.now())

    def get_full_name(self):
        return self.full_name

    def get_short_name(self):
        return self.full_name.split(" ")[0] if self.full_name else self.email

    @property
    def organisation(self):
        return self.sponsor or self.vendor

    @property
    def is_sponsor(self) -> bool:
        return self.sponsor_id is not None

    @property
    def is_vendor(self) -> bool:
        return self.vendor_id is not None

    @property
    def can_act(self) -> bool:
        """Admins and members act; viewers only read."""
        return self.is_superuser or (self.organisation is not None and self.role in ACTING_ROLES)

    @property
    def is_org_admin(self) -> bool:
        return self.organisation is not None and self.role == Role.ADMIN

    def colleagues(self):
        """Active users of the same organisation (including this one)."""
        if self.sponsor_id:
            return User.objects.filter(sponsor_id=self.sponsor_id, is_active=True)
        if self.vendor_id:
            return User.objects.filter(vendor_id=self.vendor_id, is_active=True)
        return User.objects.none()


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class MemberInviteQuerySet(VisibleQuerySet):
    def visible_to(self, user, action):
        if not user.is_org_admin:
            return self.none()
        if user.sponsor_id:
            return self.filter(sponsor_id=user.sponsor_id)
        return self.filter(vendor_id=user.vendor_id)

    def pending(self):
        return self.filter(accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now())


class MemberInvite(models.Model):
    """An e-mailed invitation to join an organisation with a role; the link carries a secret token."""

    sponsor = models.ForeignKey("sponsors.Sponsor", null=True, blank=True, on_delete=models.CASCADE)
    vendor = models.ForeignKey("vendors.Vendor", null=True, blank=True, on_delete=models.CASCADE)
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = MemberInviteQuerySet.as_manager()

    class Meta:
        ordering = ["-created"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(sponsor__isnull=True) & Q(vendor__isnull=False))
                | (Q(sponsor__isnull=False) & Q(vendor__isnull=True)),
                name="invite_one_organisation",
                violation_error_message="An invitation is to exactly one organisation.",
            ),
        ]

    def __str__(self):
        return f"Invitation of {self.email} to {self.organisation}"

    @property
    def organisation(self):
        return self.sponsor or self.vendor

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > timezone.now()


class ApiTokenQuerySet(VisibleQuerySet):
    def visible_to(self, user, action):
        return self.filter(user=user)

    def usable(self):
        """Neither revoked nor expired."""
        return self.filter(revoked_at__isnull=True).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now())
        )


class ApiToken(models.Model):
    """A bearer token for the API (``Authorization: Token <key>``); only its SHA-256 is stored."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, default="API login")
    prefix = models.CharField(max_length=8, help_text="First characters of the key, to recognise it.")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: never expires.")

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def new_key() -> str:
        return secrets.token_urlsafe(32)

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and not self.is_expired


class SignupRequest(models.Model):
    """A sign-up waiting for its e-mail address to be confirmed.

    Nothing is created until the link in the e-mail is followed, so a sign-up form answers the
    same whether or not the address already has an account. Only hashes are stored: the
    password's (as Django stores passwords) and the link token's.
    """

    email = models.EmailField()
    details = models.JSONField(help_text="Organisation kind, name, type/kind, country and the person's name.")
    password_hash = models.CharField(max_length=128, editable=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self):
        return f"Sign-up of {self.email}"

    @property
    def is_pending(self) -> bool:
        return self.confirmed_at is None and self.expires_at > timezone.now()
