from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpResponseServerError, JsonResponse
from django.shortcuts import redirect, render
from django.template import loader
from django.views.decorators.cache import never_cache

from alerts.models import Alert
from cro_cmo.celery import app as celery_app
from notifications.models import Notification
from sponsors.models import Program
from vendors.models import Vendor


def landing(request):
    """Public landing page with the directory search box."""
    return render(request, "landing.html", {"vendor_count": Vendor.objects.count()})


@login_required
def dashboard(request):
    user = request.user
    if user.is_superuser and user.organisation is None:
        return redirect("admin:index")
    context = {
        # Open alerts first on the page, the most severe first: what needs someone today.
        "alerts": list(Alert.objects.for_user(user).open().severity_first().select_related("vendor")[:8]),
        "notifications": Notification.objects.for_user(user).select_related("event")[:8],
    }
    if user.is_sponsor:
        context["programs"] = Program.objects.for_user(user)[:10]
    return render(request, "dashboard.html", context)


def _database_state() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except Exception as exc:
        return f"error: {type(exc).__name__}"


def _broker_state() -> str:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return "ok"
    except Exception as exc:
        return f"error: {type(exc).__name__}"


@never_cache
def healthz(request):
    """200 when the database and the broker answer, 503 otherwise; the body says which."""
    state = {"database": _database_state(), "broker": _broker_state()}
    healthy = all(value == "ok" for value in state.values())
    return JsonResponse({"status": "ok" if healthy else "degraded", **state}, status=200 if healthy else 503)


def page_not_found(request, exception):
    """Branded 404 in the site's layout (JSON under /api/); DEBUG alone shows Django's page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return render(request, "404.html", status=404)


def server_error(request):
    """Branded 500 that cannot fail in turn: the template is rendered without the request, so no
    context processor, session, user or database query is involved (the database may be the fault)."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Server error. It has been logged."}, status=500)
    return HttpResponseServerError(loader.get_template("500.html").render())


def permission_denied(request, exception):
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": str(exception) or "You do not have permission."}, status=403)
    return render(request, "403.html", {"reason": str(exception)}, status=403)
