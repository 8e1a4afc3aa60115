import re
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from cro_cmo.api.permissions import VIEWER_READ_ONLY
from cro_cmo.downloads import pdf_attachment
from cro_cmo.generic_views import ObjectDeleteView, ObjectDetailView, ObjectEditView
from vendors.catalogue import (
    COLUMN_HELP,
    MAX_BYTES,
    MAX_COLUMNS,
    MAX_ROWS,
    CataloguePreview,
    catalogue_apply,
    catalogue_export_csv,
    catalogue_export_xlsx,
    catalogue_parse,
    catalogue_restore,
)
from vendors.completeness import profile_completeness
from vendors.forms import CatalogueUploadForm, CertificationForm, OfferingForm, SiteForm, VendorProfileForm
from vendors.models import Certification, ServiceOffering, Site, Vendor
from vendors.selectors import SORTS, directory_search, facet_keys, site_matches, vendor_profile
from vendors.services import vendor_record_delete, vendor_record_save

DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 20, 100
FACET_LABELS = {
    "kind": "Vendor kind",
    "category": "Service category",
    "capability": "Capability",
    "region": "Region of a site",
    "site_country": "Country of a site",
    "country": "Headquarters country",
    "certification": "Valid certificate",
    "authority": "Issued by",
    "qualified": "Our qualification",
}
# Facets long enough to get a filter box (static/js/app.js) and a scrolling list.
SEARCHABLE_FACETS = {"capability", "site_country", "country"}


def active_filters(data, facets, keys) -> list[tuple[str, str, str]]:
    """(key, value, "Country: Germany") for each filter in the URL, labelled from the facets."""
    labels = {(key, f.value): f.label for key, values in facets.items() for f in values}
    chips = [
        (key, value, f"{FACET_LABELS[key]}: {labels.get((key, value), value)}")
        for key in keys
        for value in data.getlist(key)
    ]
    if data.get("valid_on"):
        chips.append(("valid_on", data["valid_on"], f"Certificates valid on {data['valid_on']}"))
    return chips


def sponsor_shortlists(user) -> list:
    """The shortlists ``user`` may add vendors to (one query; none for vendors and viewers)."""
    from sponsors.models import Shortlist

    if not user.is_sponsor or not user.can_act:
        return []
    return list(Shortlist.objects.for_user(user, "change").only("pk", "name"))


@login_required
def directory(request):
    """The vendor directory: search, facets with live counts, sort, pagination; htmx swaps results only."""
    page_size = request.GET.get("page_size", "")
    # ASCII digits only: str.isdigit() accepts "²" and "٣", which int() then refuses (a 500).
    page_size = int(page_size) if re.fullmatch(r"[0-9]{1,4}", page_size) else 0
    page_size = min(page_size, MAX_PAGE_SIZE) if page_size > 0 else DEFAULT_PAGE_SIZE
    result = directory_search(
        user=request.user, data=request.GET, page_number=request.GET.get("page"), page_size=page_size
    )
    query = request.GET.copy()
    query.pop("page", None)
    keys = facet_keys(request.user)
    context = {
        "result": result,
        "page": result.page,
        "facet_groups": [
            (key, FACET_LABELS[key], result.facets.get(key, []), key in SEARCHABLE_FACETS) for key in keys
        ],
        "valid_on": request.GET.get("valid_on", ""),
        "site_query": _site_query(request.GET),
        "sorts": SORTS,
        "querystring": query.urlencode(),
        "q": request.GET.get("q", ""),
        "active_filters": active_filters(request.GET, result.facets, keys),
        "today": timezone.localdate(),
        "shortlists": sponsor_shortlists(request.user),
    }
    template = "vendors/_directory_results.html" if request.htmx else "vendors/directory.html"
    return render(request, template, context)


def _site_query(data) -> str:
    """The site filters of a directory search, carried to the profile so it marks the matching sites."""
    return urlencode([(key, value) for key in ("site_country", "region") for value in data.getlist(key)[:10]])


class VendorDetailView(ObjectDetailView):
    queryset = Vendor.objects.all()
    lookup_field = "slug"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(vendor_profile(vendor=context["object"], user=self.request.user))
        matches = site_matches(context["sites"], self.request.GET)
        for site in context["sites"]:
            site.match_reason = matches.get(site.pk, "")
        context["site_filter_matches"] = len(matches)
        context["completeness"] = profile_completeness(
            offerings=context["offerings"], sites=context["sites"], certifications=context["certifications"]
        )
        context["shortlists"] = sponsor_shortlists(self.request.user)
        return context


class VendorEditView(ObjectEditView):
    queryset = Vendor.objects.all()
    form_class = VendorProfileForm
    lookup_field = "slug"
    save_service = staticmethod(vendor_record_save)


class VendorRecordMixin:
    """Sites, offerings and certificates: owned by the user's vendor, saved through vendor_record_save."""

    owner_field = "vendor"
    save_service = staticmethod(vendor_record_save)
    delete_service = staticmethod(vendor_record_delete)

    def get_success_url(self, obj):
        return obj.vendor.get_absolute_url()

    def get_cancel_url(self, instance):
        """A new site, offering or certificate was being added from the vendor's profile: back there."""
        return instance.get_absolute_url() if instance.pk else instance.vendor.get_absolute_url()


class SiteDetailView(ObjectDetailView):
    queryset = Site.objects.select_related("vendor")


class SiteEditView(VendorRecordMixin, ObjectEditView):
    queryset = Site.objects.all()
    form_class = SiteForm


class SiteDeleteView(VendorRecordMixin, ObjectDeleteView):
    queryset = Site.objects.all()


class OfferingDetailView(ObjectDetailView):
    queryset = ServiceOffering.objects.select_related("vendor", "category").prefetch_related("capabilities", "sites")


class OfferingEditView(VendorRecordMixin, ObjectEditView):
    queryset = ServiceOffering.objects.all()
    form_class = OfferingForm


class OfferingDeleteView(VendorRecordMixin, ObjectDeleteView):
    queryset = ServiceOffering.objects.all()


class CertificationDetailView(ObjectDetailView):
    queryset = Certification.objects.select_related("vendor", "site")


class CertificationEditView(VendorRecordMixin, ObjectEditView):
    queryset = Certification.objects.all()
    form_class = CertificationForm


class CertificationDeleteView(VendorRecordMixin, ObjectDeleteView):
    queryset = Certification.objects.all()


@require_safe
def verified_explained(request):
    """What the ✓ Verified badge means (and does not): the page the badge links to; public."""
    return render(request, "vendors/verified.html")


@login_required
def certificate_document(request, pk):
    """Serve a certificate PDF to those ``for_user`` lets see the certificate; the only way to a document
    (nothing under /media/ is routed).

    Sent by ``cro_cmo.downloads.pdf_attachment``: always a download, never inline in our origin.
    """
    certification = get_object_or_404(Certification.objects.for_user(request.user), pk=pk)
    return pdf_attachment(certification.document, f"{certification.vendor.slug}-{certification.type}.pdf")


# --- catalogue import / export (the parsing and applying are in vendors.catalogue) ------------------

CATALOGUE_SESSION_KEY = "catalogue_import"


def _catalogue_vendor(request: HttpRequest) -> Vendor:
    """The signed-in user's vendor, if the user may change its catalogue (viewers 403, others 404)."""
    user = request.user
    if not user.is_vendor:
        raise Http404("The service catalogue import is for vendors.")
    if not user.can_act:
        raise PermissionDenied(VIEWER_READ_ONLY)
    return user.vendor


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def catalogue_import(request: HttpRequest) -> HttpResponse:
    """Upload a CSV/XLSX catalogue, preview every row with its errors, then apply all rows at once."""
    vendor = _catalogue_vendor(request)
    if request.method == "POST" and request.POST.get("action") == "apply":
        return _catalogue_apply_view(request, vendor)
    form = CatalogueUploadForm()
    preview = None
    if request.method == "POST":
        request.session.pop(CATALOGUE_SESSION_KEY, None)  # a new upload replaces any pending preview
        form = CatalogueUploadForm(request.POST, request.FILES)
        if form.is_valid():
            preview = catalogue_parse(vendor=vendor, uploaded_file=form.cleaned_data["file"])
            if preview.errors:
                for error in preview.errors:
                    form.add_error("file", error)
                preview = None
            elif preview.is_valid:
                request.session[CATALOGUE_SESSION_KEY] = preview.session_data()
    return _render(request, vendor, form, preview)


def _render(request: HttpRequest, vendor: Vendor, form: CatalogueUploadForm, preview: CataloguePreview | None):
    limits = {"megabytes": MAX_BYTES // 1024 // 1024, "rows": MAX_ROWS, "columns": MAX_COLUMNS}
    context = {"vendor": vendor, "form": form, "preview": preview, "column_help": COLUMN_HELP, "limits": limits}
    return render(request, "vendors/catalogue_import.html", context)


def _catalogue_apply_view(request: HttpRequest, vendor: Vendor) -> HttpResponse:
    preview = catalogue_restore(vendor=vendor, data=request.session.get(CATALOGUE_SESSION_KEY))
    if preview is None:
        request.session.pop(CATALOGUE_SESSION_KEY, None)
        messages.warning(request, "There is no checked catalogue file to apply. Upload the file again.")
        return redirect("catalogue-import")
    if not preview.is_valid:
        request.session.pop(CATALOGUE_SESSION_KEY, None)
        messages.error(
            request, "The catalogue changed since the preview; nothing was saved. Fix the rows below and upload again."
        )
        return _render(request, vendor, CatalogueUploadForm(), preview)
    try:
        count = catalogue_apply(actor=request.user, vendor=vendor, preview=preview)
    except ValidationError as exc:
        request.session.pop(CATALOGUE_SESSION_KEY, None)
        messages.error(request, "Nothing was saved: " + " ".join(exc.messages))
        return redirect("catalogue-import")
    request.session.pop(CATALOGUE_SESSION_KEY, None)
    counts = preview.counts  # of the rows as validated again inside the transaction
    unchanged = counts["unchanged"]
    kept = f"; {unchanged} unchanged row{'s' if unchanged != 1 else ''} left as {'it was' if unchanged == 1 else 'they were'}"
    messages.success(
        request,
        f"Catalogue imported: {count} offering{'s' if count != 1 else ''} saved ({counts['new']} new, "
        f"{counts['changed']} changed){kept if unchanged else ''}.",
    )
    return redirect(vendor.get_absolute_url())


@login_required
@require_safe
def catalogue_export(request: HttpRequest) -> HttpResponse:
    """The vendor's current catalogue as a CSV download, ready to edit and import again."""
    vendor = _catalogue_vendor(request)
    response = HttpResponse("\ufeff" + catalogue_export_csv(vendor=vendor), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{vendor.slug}-catalogue.csv"'
    return response


XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@login_required
@require_safe
def catalogue_export_excel(request: HttpRequest) -> HttpResponse:
    """The vendor's current catalogue as an Excel workbook, the same columns as the CSV; imports back."""
    vendor = _catalogue_vendor(request)
    response = HttpResponse(catalogue_export_xlsx(vendor=vendor), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{vendor.slug}-catalogue.xlsx"'
    return response
