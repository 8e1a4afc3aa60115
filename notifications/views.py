import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from notifications.forms import NotificationPreferenceForm
from notifications.models import Notification
from notifications.services import (
    notification_preference_get,
    notification_preference_update,
    notifications_mark_read,
)

ID_PATTERN = re.compile(r"[0-9]{1,18}")  # a positive bigint, never more


@login_required
def notification_list(request):
    rows = Notification.objects.for_user(request.user).select_related("event")
    page = Paginator(rows, 30).get_page(request.GET.get("page"))
    return render(request, "notifications/list.html", {"page": page})


@login_required
@require_POST
def notification_mark_read(request):
    raw_ids = request.POST.getlist("id")
    # No ids means "all"; ids that are all garbage mean "none", never "all".
    # ASCII digits of a plausible length only: "²".isdigit() is true and int() of 4 400 digits raises.
    ids = [int(i) for i in raw_ids if ID_PATTERN.fullmatch(i)] if raw_ids else None
    notifications_mark_read(user=request.user, ids=ids)
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "notifications"
    return redirect(target)


@login_required
def notification_preferences(request):
    """The signed-in user's own e-mail preference (there is no one else's to reach: no id in the URL)."""
    preference = notification_preference_get(request.user)
    initial = {"email_mode": preference.email_mode, "digest_time": preference.digest_time,
               "time_zone": preference.time_zone}  # fmt: skip
    form = NotificationPreferenceForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            notification_preference_update(user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, "Your e-mail preferences are saved.")
            return redirect("notification-preferences")
    return render(request, "notifications/preferences.html", {"form": form, "preference": preference})
