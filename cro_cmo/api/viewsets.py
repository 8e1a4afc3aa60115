from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import SAFE_METHODS

from audit.context import audit_context
from audit.models import HistoryEntry
from audit.serializers import HistoryEntrySerializer
from cro_cmo.models import CHANGE, VIEW
from cro_cmo.services import object_delete


class ScopedViewSetMixin:
    """Applies ``for_user`` before any lookup (out of reach → 404) and sets owners server-side.

    Subclasses declare ``queryset``, ``serializer_class``, ``filterset_class`` and, for records a
    vendor or sponsor owns, ``owner_field`` ("vendor" / "sponsor").
    """

    owner_field: str | None = None
    owner_required_message = "Only {kind} staff can create this."

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        # Token-authenticated requests become known only here, after the middleware ran.
        self._audit = audit_context(actor=request.user)
        self._audit.__enter__()

    def finalize_response(self, request, response, *args, **kwargs):
        audit = getattr(self, "_audit", None)
        if audit is not None:
            audit.__exit__(None, None, None)
            self._audit = None
        return super().finalize_response(request, response, *args, **kwargs)

    def get_queryset(self):
        action_name = VIEW if self.request.method in SAFE_METHODS else CHANGE
        return super().get_queryset().for_user(self.request.user, action_name)

    def perform_destroy(self, instance):
        # Through the audit trail; records others depend on answer 409 with what blocks them.
        object_delete(actor=self.request.user, instance=instance)

    def owner_fields(self) -> dict:
        if self.owner_field is None or self.request.user.is_superuser:
            return {}
        owner = getattr(self.request.user, self.owner_field)
        if owner is None:
            raise PermissionDenied(self.owner_required_message.format(kind=self.owner_field))
        return {self.owner_field: owner}

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if getattr(self, "action", None) == "create":
            context["owner_fields"] = self.owner_fields()
        return context


HISTORY_NOT_YOURS = "Only the people of the organisation this record belongs to can read its history."


class HistoryActionMixin:
    """Adds ``GET …/{id}/history/``: the object's audit trail, newest first.

    Who may read it is ``obj.history_visible_to(user)`` (audit/tracking.py), the rule the browser's
    history panel applies too. The object itself may be public (the vendor directory), so someone
    outside its organisation gets 403 with that reason rather than a 404 that would deny what the
    detail route shows; objects out of reach altogether stay 404 (``get_object`` applies ``for_user``).
    """

    @extend_schema(responses=HistoryEntrySerializer(many=True))
    @action(detail=True, methods=["get"])
    def history(self, request, *args, **kwargs):
        obj = self.get_object()
        if not obj.history_visible_to(request.user):
            raise PermissionDenied(HISTORY_NOT_YOURS)
        entries = HistoryEntry.objects.for_object(obj).select_related("actor")
        page = self.paginate_queryset(entries)
        serializer = HistoryEntrySerializer(page, many=True)
        return self.get_paginated_response(serializer.data)


class BaseViewSet(ScopedViewSetMixin, viewsets.ModelViewSet):
    """Read and write a model's rows within the caller's reach."""


class ReadOnlyBaseViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """List and retrieve only (extra ``@action`` routes may still write through services)."""
