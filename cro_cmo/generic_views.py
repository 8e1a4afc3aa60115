"""Generic browser views: every one applies ``for_user`` before any lookup, so out of reach → 404.

A model's pages are declarations: ``queryset``, ``filterset_class``, ``form_class``; templates
fall back to ``generic/…``.
"""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect
from django.views.generic import TemplateView

from cro_cmo.api.permissions import VIEWER_READ_ONLY
from cro_cmo.models import CHANGE, VIEW
from cro_cmo.services import TransitionError, object_delete, object_save


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
        if self.request.method == "POST":
            kwargs.update(data=self.request.POST, files=self.request.FILES)
        form = self.form_class(**kwargs)
        if hasattr(form, "limit_choices"):
            form.limit_choices(self.request.user, instance)
        return form

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
                messages.success(request, f"{self.model._meta.verbose_name.capitalize()} “{obj}” saved.")
                return redirect(self.get_success_url(obj))
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
