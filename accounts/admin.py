from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.core.exceptions import ValidationError

from accounts.models import ApiToken, MemberInvite, User
from accounts.services import member_staff_edit_check


class StaffUserChangeForm(UserChangeForm):
    """The admin's user form keeps the last-admin rule of the members page (accounts.services)."""

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk:
            stored = User.objects.select_related("sponsor", "vendor").get(pk=self.instance.pk)
            sponsor, vendor = cleaned.get("sponsor"), cleaned.get("vendor")
            member_staff_edit_check(
                member=stored,
                role=cleaned.get("role", stored.role),
                is_active=cleaned.get("is_active", stored.is_active),
                sponsor_id=sponsor.pk if sponsor else None,
                vendor_id=vendor.pk if vendor else None,
            )
        return cleaned


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = StaffUserChangeForm
    ordering = ["email"]
    list_display = ["email", "full_name", "sponsor", "vendor", "role", "is_active", "is_staff"]
    list_filter = ["role", "is_active", "is_staff"]
    search_fields = ["email", "full_name"]
    fieldsets = [
        (None, {"fields": ["email", "password", "full_name"]}),
        ("Organisation", {"fields": ["sponsor", "vendor", "role"]}),
        ("Platform", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "password1", "password2", "sponsor", "vendor", "role"]})
    ]

    @staticmethod
    def _is_last_admin(user) -> bool:
        try:
            member_staff_edit_check(member=user, role="", is_active=False, sponsor_id=None, vendor_id=None)
        except ValidationError:
            return True
        return False

    def has_delete_permission(self, request, obj=None):
        # The last admin of an organisation cannot be deleted: no button, and the delete page and the
        # bulk delete action answer 403.
        return super().has_delete_permission(request, obj) and not (obj is not None and self._is_last_admin(obj))


@admin.register(MemberInvite)
class MemberInviteAdmin(admin.ModelAdmin):
    list_display = ["email", "sponsor", "vendor", "role", "created", "expires_at", "accepted_at", "revoked_at"]
    readonly_fields = ["token_hash"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["user", "name", "prefix", "created", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "key_hash", "created", "last_used_at"]
