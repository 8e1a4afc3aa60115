"""Browser pages of alerts: the list (``/alerts/``, open ones by default, the most severe first), one alert's
page and its acknowledgement. Thin: visibility is ``for_user`` (through the generic views), the rule is
``alerts.services.alert_acknowledge``."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from alerts.filtersets import AlertFilterSet
from alerts.models import Alert, Audience
from alerts.services import ACKNOWLEDGE_COMMENT_MAX, alert_acknowledge
from cro_cmo.api.permissions import VIEWER_READ_ONLY
from cro_cmo.generic_views import ObjectDetailView, ObjectListView
from cro_cmo.models import CHANGE
from cro_cmo.services import TransitionError


class AcknowledgeForm(forms.Form):
    comment = forms.CharField(
        label="Comment",
        max_length=ACKNOWLEDGE_COMMENT_MAX,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What you did or will do about it (required; your colleagues see it).",
    )


def subject_label(alert: Alert) -> str:
    """What the alert's subject link opens, in words."""
    if alert.milestone_id:
        return "the milestone"
    if alert.contract_id:
        return "the contract"
    if alert.program_id:
        return "the programme"
    if alert.qualification_id:
        return "the qualification"
    if alert.certification_id and alert.audience == Audience.VENDOR:
        return "the certificate"
    if alert.vendor_id:
        return "the vendor's profile"
    return ""


class AlertRow:
    """One row of the list: the alert with its links worked out once."""

    def __init__(self, alert: Alert):
        self.alert = alert
        self.subject_url = alert.subject_url()
        self.subject_label = subject_label(alert)


def _tidy_filters(form, user, query) -> None:
    """The sidebar shows what a person filters by here: no ``updated_after`` (an integration's), no programmes
    for a vendor's people; contracts and vendors, of which there may be thousands, are searched (title words,
    vendor name) — the ids a link carries (``?contract=``, ``?vendor=``) still filter, and the sidebar then
    lists only those, so they can be unticked."""
    form.fields.pop("updated_after", None)
    if user.vendor_id is not None:
        for name in ("program", "vendor", "vendor_name"):
            form.fields.pop(name, None)
    for name in ("contract", "vendor"):
        if name not in form.fields:
            continue
        chosen = [value for value in query.getlist(name) if value.isascii() and value.isdigit() and len(value) < 19]
        if chosen:
            form.fields[name].queryset = form.fields[name].queryset.filter(pk__in=chosen)
            form.fields[name].widget = _checkboxes(form.fields[name].choices)
        else:
            form.fields.pop(name)
    for name in ("kind", "severity"):
        form.fields[name].widget = _checkboxes(form.fields[name].choices)


def _checkboxes(choices):
    return forms.CheckboxSelectMultiple(choices=choices, attrs={"class": "form-check-input"})


class AlertListView(ObjectListView):
    """The user's organisation's alerts, open ones by default, critical first (``AlertFilterSet``).

    One ``COUNT`` and one page query (the vendor joined for the links), whatever the number of alerts.
    """

    queryset = Alert.objects.select_related("vendor", "acknowledged_by")
    filterset_class = AlertFilterSet
    paginate_by = 25

    def get_template_names(self):
        if self.request.htmx:
            return ["alerts/alert_list_results.html"]
        return ["alerts/alert_list.html"]

    def get_context_data(self, **kwargs):
        context = super(ObjectListView, self).get_context_data(**kwargs)
        user = self.request.user
        queryset = self.restricted_queryset()
        # Always bound: no status in the query means the open alerts.
        filterset = self.filterset_class(self.request.GET, queryset=queryset, request=self.request)
        rows = filterset.qs if filterset.is_valid() else queryset.none()
        page = Paginator(rows, self.paginate_by).get_page(self.request.GET.get("page"))
        page.object_list = [AlertRow(alert) for alert in page.object_list]
        query = self.request.GET.copy()
        query.pop("page", None)
        _tidy_filters(filterset.form, user, self.request.GET)
        filtered = any(value for key, value in self.request.GET.items() if key not in ("page", "status"))
        context.update(
            filterset=filterset,
            page=page,
            objects=page.object_list,
            querystring=query.urlencode(),
            filtered=filtered,
        )
        return context


class AlertDetailView(ObjectDetailView):
    """What the alert says, how severe, when it was raised, escalated and resolved, a link to its subject;
    the acknowledgement, or its form for the people who can act."""

    queryset = Alert.objects.select_related("vendor", "acknowledged_by")

    def get_template_names(self):
        return ["alerts/alert_detail.html"]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        alert = context["object"]
        context.update(
            alert=alert,
            subject_url=alert.subject_url(),
            subject_label=subject_label(alert),
            can_acknowledge=context["can_change"] and alert.acknowledged_at is None,
            form=kwargs.get("form") or AcknowledgeForm(),
        )
        return context


@login_required
@require_POST
def alert_acknowledge_view(request, pk):
    """Acknowledge with a comment; a missing comment or a second acknowledgement comes back as a message."""
    if not request.user.can_act:
        raise PermissionDenied(VIEWER_READ_ONLY)
    alert = get_object_or_404(Alert.objects.for_user(request.user, CHANGE), pk=pk)
    form = AcknowledgeForm(request.POST)
    if not form.is_valid():
        problems = " ".join(f"{form.fields[name].label}: {' '.join(errors)}" for name, errors in form.errors.items())
        messages.error(request, f"The alert was not acknowledged. {problems}")
        return redirect(alert.get_absolute_url())
    try:
        alert_acknowledge(alert=alert, user=request.user, comment=form.cleaned_data["comment"])
    except (TransitionError, PermissionDenied) as exc:
        messages.error(request, str(exc))
    except ValidationError as exc:
        messages.error(request, "The alert was not acknowledged. " + " ".join(exc.messages))
    else:
        messages.success(request, "Alert acknowledged: your colleagues see your comment with it.")
    return redirect(alert.get_absolute_url())
