"""Shared model bases: timestamps, visibility (``for_user``) and history tracking.

Visibility lives in exactly one place per model: its queryset's ``visible_to(user, action)``.
Views, API viewsets, form choices and tasks all go through ``for_user()``; anything outside it
answers 404, so the existence of another organisation's object never leaks.
"""

from django.db import models
from django.urls import reverse

VIEW = "view"
CHANGE = "change"


class VisibleQuerySet(models.QuerySet):
    """A queryset that knows who may see (``view``) and who may write (``change``) its rows."""

    def for_user(self, user, action: str = VIEW):
        if action not in (VIEW, CHANGE):
            raise ValueError(f"unknown action {action!r}")
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self
        if action == CHANGE and not user.can_act:
            return self.none()
        return self.visible_to(user, action)

    def visible_to(self, user, action: str):
        """Rows ``user`` (an authenticated, non-superuser) may see or change. Override per model."""
        return self.none()


class BaseModel(models.Model):
    """Every domain model: created/updated timestamps (``updated`` drives ``updated_after`` sync)."""

    created = models.DateTimeField(auto_now_add=True, editable=False)
    updated = models.DateTimeField(auto_now=True, editable=False, db_index=True)

    objects = VisibleQuerySet.as_manager()

    # The URL name of the browser detail page; None when the model has none.
    detail_url_name: str | None = None

    class Meta:
        abstract = True

    def get_absolute_url(self):
        if self.detail_url_name is None:
            return None
        return reverse(self.detail_url_name, kwargs={"pk": self.pk})
