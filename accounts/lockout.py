"""django-axes hooks: which account an attempt is for, and what a locked-out client sees."""

from django.http import JsonResponse
from django.shortcuts import render

LOCKED_OUT = "Too many failed sign-in attempts for this account: try again in 30 minutes or reset your password."


def attempted_email(request, credentials) -> str:
    """The e-mail an attempt is for, normalised so that changing its case gives no fresh guesses."""
    value = (credentials or {}).get("username")
    if value is None and request is not None and request.method == "POST":
        value = request.POST.get("username")
    return (value or "").strip().lower()


def lockout_response(request, original_response=None, credentials=None):
    """JSON for the API, the lock-out page for the browser; 429 either way."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": LOCKED_OUT}, status=429)
    return render(request, "registration/locked_out.html", status=429)
