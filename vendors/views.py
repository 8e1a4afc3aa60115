from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from cro_cmo.generic_views import ObjectDeleteView, ObjectDetailView, ObjectEditView
from vendors.forms import CertificationForm, OfferingForm, SiteForm, VendorProfileForm
from vendors.models import Certification, ServiceOffering, Site, Vendor
from vendors.selectors import FACETS, SORTS, comparison_rows, directory_search, vendor_profile
from vendors.services import vendor_record_delete, vendor_record_save

COMPARE_MIN, COMPARE_MAX = 2, 4
DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 20, 100
FACET_LABELS = {
    "category": "Service category",
    "capability": "Capability",
    "country": "Country",
    "certification": "Valid certification",
    "kind": "Vendor kind",
}


def active_filters(data, facets) -> list[tuple[str, str, str]]:
    """(key, value, "Country: Germany") for each filter in the URL, labelled from the facets."""
    labels = {(key, f.value): f.label for key, values in facets.items() for f in values}
    return [
        (key, value, f"{FACET_LABELS[key]}: {labels.get((key, value), value)}")
        for key in FACETS
        for value in data.getlist(key)
    ]


@login_required
def directory(request):
    """The vendor directory: search, facets with live counts, sort, pagination; htmx swaps results only."""
    page_size = request.GET.get("page_size", "")
    page_size = min(int(page_size), MAX_PAGE_SIZE) if page_size.isdigit() and int(page_size) > 0 else DEFAULT_PAGE_SIZE
    result = directory_search(
        user=request.user, data=request.GET, page_number=request.GET.get("page"), page_size=page_size
    )
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "result": result,
        "page": result.page,
        "facet_groups": [(key, FACET_LABELS[key], result.facets.get(key, [])) for key in FACETS],
        "sorts": SORTS,
        "querystring": query.urlencode(),
        "q": request.GET.get("q", ""),
        "active_filters": active_filters(request.GET, result.facets),
        "today": timezone.localdate(),
    }
    template = "vendors/_directory_results.html" if request.htmx else "vendors/directory.html"
    return render(request, template, context)


class VendorDetailView(ObjectDetailView):
    queryset = Vendor.objects.all()
    lookup_field = "slug"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(vendor_profile(vendor=context["object"], user=self.request.user))
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


@login_required
def certificate_document(request, pk):
    """Serve a certificate PDF to anyone signed in (the directory is shared), never by a guessable URL."""
    from django.http import FileResponse, Http404

    certification = get_object_or_404(Certification.objects.for_user(request.user), pk=pk)
    if not certification.document:
        raise Http404("No document")
    return FileResponse(certification.document.open("rb"), content_type="application/pdf",
                        filename=f"{certification.vendor.slug}-{certification.type}.pdf")  # fmt: skip


@login_required
def compare(request):
    """2–4 vendors side by side: categories, capabilities, sites, certificates, lead times, prices."""
    slugs = list(dict.fromkeys(request.GET.getlist("v")))
    vendors = list(Vendor.objects.for_user(request.user).filter(slug__in=slugs))
    vendors.sort(key=lambda v: slugs.index(v.slug))
    error = None
    if len(vendors) < COMPARE_MIN:
        error = "Pick at least two vendors to compare: tick “Compare” on the directory."
    elif len(vendors) > COMPARE_MAX:
        error = f"Compare at most {COMPARE_MAX} vendors at a time."
        vendors = vendors[:COMPARE_MAX]
    profiles = [vendor_profile(vendor=v, user=request.user) | {"vendor": v} for v in vendors]

    return render(
        request, "vendors/compare.html", {"profiles": profiles, "rows": comparison_rows(profiles), "error": error}
    )
