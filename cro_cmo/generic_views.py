"""Generic browser views: every one applies ``for_user`` before any lookup, so out of reach → 404.

A model's pages are declarations: ``queryset``, ``filterset_class``, ``form_class``; templates
fall back to ``generic/…``.
"""

from urllib.parse import urlsplit

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.generic import TemplateView

from cro_cmo.api.permissions import VIEWER_READ_ONLY
from cro_cmo.models import CHANGE, VIEW
from cro_cmo.services import TransitionError, object_delete, object_save
from cro_cmo.upload_stash import discard_upload, restore_upload, stash_upload, token_field


def safe_next(request) -> str:
    """Where the user came from, as a local path: ``next`` (posted or in the query), else the Referer.

    Only a URL of this site counts (``url_has_allowed_host_and_scheme``); the page itself does not (a
    form shown again after an error would otherwise "return" to itself). "" when there is none.
    """
    candidate = request.POST.get("next") or request.GET.get("next")
    if not candidate and request.method in ("GET", "HEAD"):
        candidate = request.headers.get("Referer", "")
    if not candidate or not url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return ""
    parts = urlsplit(candidate)
    if not parts.path.startswith("/") or parts.path == request.path:
        return ""
    return parts.path + (f"?{parts.query}" if parts.query else "")


class ObjectMixin(LoginRequiredMixin):
    queryset = None
    template_suffix = ""

    @property
    def model(self):
        return self.queryset.model

    def restricted_queryset(self, action=VIEW):
        return self.queryset.for_user(self.request.user, action)

    def get_template_names(self):
        meta = self.model._meta
        return [
            f"{meta.app_label}/{meta.model_name}{self.template_suffix}.html",
            f"generic/object{self.template_suffix}.html",
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["model_meta"] = self.model._meta
        return context


class ObjectListView(ObjectMixin, TemplateView):
    """A filtered, ordered, paginated list; htmx requests get only the results partial."""

    filterset_class = None
    paginate_by = 25
    template_suffix = "_list"
    columns: list[str] = []

    def get_template_names(self):
        names = super().get_template_names()
        if self.request.htmx:
            meta = self.model._meta
            return [f"{meta.app_label}/{meta.model_name}_list_results.html", "generic/object_list_results.html"]
        return names

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        queryset = self.restricted_queryset()
        filterset = self.filterset_class(self.request.GET or None, queryset=queryset, request=self.request)
        rows = filterset.qs if filterset.is_bound and filterset.is_valid() else queryset
        if filterset.is_bound and not filterset.is_valid():
            rows = queryset.none()
        page = Paginator(rows, self.paginate_by).get_page(self.request.GET.get("page"))
        query = self.request.GET.copy()
        query.pop("page", None)
        context.update(filterset=filterset, page=page, objects=page.object_list, columns=self.columns,
                       querystring=query.urlencode(), can_add=self.request.user.can_act)  # fmt: skip
        return context


class ObjectDetailView(ObjectMixin, TemplateView):
    lookup_field = "pk"

    def get_object(self, action=VIEW):
        lookup = {self.lookup_field: self.kwargs[self.lookup_field]}
        return get_object_or_404(self.restricted_queryset(action), **lookup)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        obj = self.get_object()
        can_change = self.restricted_queryset(CHANGE).filter(pk=obj.pk).exists()
        context.update(object=obj, can_change=can_change)
        return context


class ObjectEditView(ObjectMixin, TemplateView):
    """Create (no ``pk`` in the URL) or edit; saves through ``object_save`` so history has the actor.

    ``owner_field`` names the organisation field the server fills from the user ("sponsor"/"vendor").
    """

    form_class = None
    owner_field: str | None = None
    lookup_field = "pk"
    template_suffix = "_edit"
    save_service = staticmethod(object_save)
    # A file chosen on a form that failed validation elsewhere is kept (cro_cmo.upload_stash) and saved
    # with the corrected form; a file that is itself invalid is refused at its field, to be chosen again.
    file_kept_message = (
        "Kept from your last attempt: <strong>{}</strong>. It is saved with the form; choose a file only to replace it."
    )

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not request.user.can_act:
            raise PermissionDenied(VIEWER_READ_ONLY)
        return super().dispatch(request, *args, **kwargs)

    def get_object(self):
        if self.lookup_field not in self.kwargs:
            owner = {}
            if self.owner_field:
                owner_value = getattr(self.request.user, self.owner_field)
                if owner_value is None:
                    raise PermissionDenied(f"Only {self.owner_field} staff can create this.")
                owner = {self.owner_field: owner_value}
            return self.model(**owner)
        lookup = {self.lookup_field: self.kwargs[self.lookup_field]}
        return get_object_or_404(self.restricted_queryset(CHANGE), **lookup)

    def get_form(self, instance):
        kwargs = {"instance": instance}
        restored = {}
        if self.request.method == "POST":
            files = self.request.FILES.copy()
            for name in self._file_fields():
                token = self.request.POST.get(token_field(name), "")
                if name in files or not token or self.request.POST.get(f"{name}-clear"):
                    continue
                upload = restore_upload(token, user=self.request.user, field=name)
                if upload is not None:
                    files[name] = upload
                    restored[name] = token
            kwargs.update(data=self.request.POST, files=files)
        form = self.form_class(**kwargs)
        form.restored_uploads = restored
        form.kept_uploads = {}
        if hasattr(form, "limit_choices"):
            form.limit_choices(self.request.user, instance)
        return form

    def _file_fields(self) -> list[str]:
        return [name for name, field in self.form_class.base_fields.items() if isinstance(field, forms.FileField)]

    def keep_uploads(self, form) -> None:
        """After a failed submit: stash each valid uploaded file and say so at its field."""
        for name in self._file_fields():
            upload = form.files.get(name)
            if upload is None or name in form.errors:
                continue
            token = form.restored_uploads.get(name) or stash_upload(user=self.request.user, field=name, uploaded=upload)
            if token:
                form.kept_uploads[token_field(name)] = token
                message = format_html(self.file_kept_message, upload.name)
                form.fields[name].help_text = form[name].help_text = message  # the bound field copied it

    def get_cancel_url(self, instance) -> str:
        """Where "Cancel" leads when the user came from nowhere known: the object, or the dashboard."""
        return (instance.pk and instance.get_absolute_url()) or reverse("dashboard")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        next_url = safe_next(self.request)
        context.update(next_url=next_url, cancel_url=next_url or self.get_cancel_url(context["object"]))
        return context

    def get(self, request, *args, **kwargs):
        instance = self.get_object()
        return self.render_to_response(self.get_context_data(form=self.get_form(instance), object=instance))

    def post(self, request, *args, **kwargs):
        instance = self.get_object()
        form = self.get_form(instance)
        if form.is_valid():
            obj = form.save(commit=False)
            m2m = {
                name: form.cleaned_data[name]
                for name in form.cleaned_data
                if name in {f.name for f in self.model._meta.many_to_many}
            }
            try:
                obj = self.save_service(actor=request.user, instance=obj, m2m=m2m)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                for name, token in form.restored_uploads.items():
                    discard_upload(token, user=request.user, field=name)
                messages.success(request, f"{self.model._meta.verbose_name.capitalize()} “{obj}” saved.")
                return redirect(self.get_success_url(obj))
        self.keep_uploads(form)
        return self.render_to_response(self.get_context_data(form=form, object=instance))

    def get_success_url(self, obj):
        return obj.get_absolute_url()


class ObjectDeleteView(ObjectMixin, TemplateView):
    """Confirm, then delete through ``delete_service``; out of reach → 404, viewers → 403."""

    lookup_field = "pk"
    template_suffix = "_delete"
    delete_service = staticmethod(object_delete)

    def get_template_names(self):
        return ["generic/object_delete.html"]

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not request.user.can_act:
            raise PermissionDenied(VIEWER_READ_ONLY)
        return super().dispatch(request, *args, **kwargs)

    def get_object(self):
        return get_object_or_404(
            self.restricted_queryset(CHANGE), **{self.lookup_field: self.kwargs[self.lookup_field]}
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        next_url = safe_next(self.request)
        context.update(next_url=next_url, cancel_url=next_url or context["object"].get_absolute_url() or "/")
        return context

    def get(self, request, *args, **kwargs):
        return self.render_to_response(self.get_context_data(object=self.get_object()))

    def post(self, request, *args, **kwargs):
        obj = self.get_object()
        success_url = self.get_success_url(obj)
        label = f"{self.model._meta.verbose_name.capitalize()} “{obj}”"
        try:
            self.delete_service(actor=request.user, instance=obj, reason=request.POST.get("reason", ""))
        except TransitionError as exc:  # e.g. DeleteRefused: other records depend on it
            messages.error(request, str(exc))
            return redirect(obj.get_absolute_url() or success_url)
        messages.success(request, f"{label} deleted.")
        return redirect(success_url)

    def get_success_url(self, obj):
        return "/"
