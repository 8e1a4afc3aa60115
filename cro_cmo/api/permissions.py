from rest_framework.permissions import SAFE_METHODS, BasePermission

VIEWER_READ_ONLY = "Your role is viewer: you can read but not change anything. Ask an admin for the member role."


class RolePermission(BasePermission):
    """Signed-in users read; only admins and members write. Which rows: see ``for_user``."""

    message = VIEWER_READ_ONLY

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated):
            return False
        return request.method in SAFE_METHODS or user.can_act
