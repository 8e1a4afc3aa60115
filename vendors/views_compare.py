"""Comparing vendors: the compare page, its XLSX and CSV exports, and the selection the directory builds.

The page compares the vendors named in the address (``?v=<slug>&v=…``: a link one can share) or, without
them, the user's selection (vendors/compare.py keeps it in the session). The exports take the same
parameters, so they hold exactly what the page shows — and only what the user may see.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST, require_safe

from vendors.compare import (
    COMPARE_MAX,
    COMPARE_MIN,
    compare_selection_update,
    compare_selection_vendors,
    vendor_comparison,
)
from vendors.compare_export import XLSX_CONTENT_TYPE, comparison_csv, comparison_xlsx
from vendors.models import Vendor
from vendors.views import sponsor_shortlists


def _compared_vendors(request) -> tuple[list[Vendor], bool, str | None]:
    """(vendors, from the selection?, error): ``?v=`` slugs when given, else the user's selection."""
    slugs = [s for s in dict.fromkeys(request.GET.getlist("v")) if s.isascii()]
    if slugs:
        found = {v.slug: v for v in Vendor.objects.for_user(request.user).filter(slug__in=slugs[:50])}
        vendors, from_selection = [found[s] for s in slugs if s in found], False
    else:
        vendors, from_selection = compare_selection_vendors(request), True
    error = None
    if len(vendors) < COMPARE_MIN:
        error = (
            "Pick at least two vendors to compare: tick “Compare” on the directory, or “Compare with…” on a profile."
        )
    elif len(vendors) > COMPARE_MAX:
        error = f"Compare at most {COMPARE_MAX} vendors at a time: the first {COMPARE_MAX} are shown."
        vendors = vendors[:COMPARE_MAX]
    return vendors, from_selection, error


@login_required
@require_safe
def compare(request):
    """Up to six vendors side by side, differences marked, prices per currency; export to XLSX and CSV."""
    vendors, from_selection, error = _compared_vendors(request)
    comparison = vendor_comparison(vendors=vendors, user=request.user) if vendors else None
    only_differences = request.GET.get("only") == "differences"
    query = urlencode([("v", v.slug) for v in vendors])
    context = {
        "comparison": comparison,
        "error": error,
        "from_selection": from_selection,
        "only_differences": only_differences,
        "query": query,
        # The page's own links (only the rows that differ) keep to the selection when it shows the selection.
        "page_query": "" if from_selection else query,
        "compare_max": COMPARE_MAX,
        "shortlists": sponsor_shortlists(request.user),
    }
    return render(request, "vendors/compare.html", context)


def _export(request, render_file, content_type: str, extension: str) -> HttpResponse:
    vendors, _, _ = _compared_vendors(request)
    if not vendors:
        messages.info(request, "Nothing to export yet: pick vendors to compare first.")
        return redirect("vendor-compare")
    body = render_file(vendor_comparison(vendors=vendors, user=request.user))
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="vendor-comparison.{extension}"'
    return response


@login_required
@require_safe
def compare_export_xlsx(request):
    """The comparison as an XLSX workbook (the same rows as the page)."""
    return _export(request, comparison_xlsx, XLSX_CONTENT_TYPE, "xlsx")


@login_required
@require_safe
def compare_export_csv(request):
    """The comparison as CSV (UTF-8 with a BOM, so that spreadsheets read the accents)."""
    return _export(request, lambda c: "\ufeff" + comparison_csv(c), "text/csv; charset=utf-8", "csv")


def _next(request, default: str) -> str:
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return default


@login_required
@require_POST
def compare_selection(request):
    """Change the compare selection: ``add``/``remove`` a slug, ``clear``, or a directory page's ticks
    (``shown``: the page's vendors, ``v``: those ticked). Then ``go``: ``compare`` (the compare page),
    ``invite`` (the RFP invitation picker with the selection), ``auto`` (the compare page once two are
    picked, else the directory) or back to ``next``. htmx gets the tray back instead of a redirect."""
    post = request.POST
    shown = post.getlist("shown") if "shown" in post else None
    change = compare_selection_update(
        request,
        add=post.getlist("add"),
        remove=post.getlist("remove"),
        shown=shown,
        ticked=post.getlist("v") if shown is not None else (),
        clear="clear" in post,
    )
    selected = change.vendors
    # htmx: the tray itself shows what changed; only a refusal is said in words (an alert), so a tick does not
    # shift the results under the pointer with a message line.
    if request.htmx:
        context = {"tray": selected, "tray_next": _next(request, reverse("vendor-list")), "compare_max": COMPARE_MAX,
                   "tray_messages": [m for m in change.messages() if m[0] == "error"], "tray_unticked": change.unticked}  # fmt: skip
        return render(request, "vendors/_compare_tray.html", context)
    for level, text in change.messages():
        getattr(messages, level)(request, text)
    go = post.get("go", "")
    if go == "invite" and selected:
        return redirect(reverse("rfp-invite-picker") + "?" + urlencode([("v", v.slug) for v in selected]))
    if go == "invite":
        messages.info(request, "Tick the vendors to invite first.")
    if go == "compare" or (go == "auto" and len(selected) >= COMPARE_MIN):
        return redirect("vendor-compare")
    if go == "auto":
        messages.info(request, "Now tick another vendor in the directory to compare with.")
        return redirect("vendor-list")
    return redirect(_next(request, reverse("vendor-list")))
