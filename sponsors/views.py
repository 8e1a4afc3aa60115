"""Browser pages of the sponsors app: the sponsor's profile, programmes, qualifications of vendors and
shortlists. Thin: visibility is ``for_user`` (through the generic views), writes are services."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST, require_safe

from cro_cmo.api.permissions import VIEWER_READ_ONLY
from cro_cmo.downloads import pdf_attachment
from cro_cmo.generic_views import ObjectDeleteView, ObjectDetailView, ObjectEditView, ObjectListView
from cro_cmo.models import CHANGE
from sponsors.filtersets import ProgramFilterSet, QualificationFilterSet, ShortlistFilterSet
from sponsors.forms import ProgramForm, QualificationDocumentForm, QualificationForm, ShortlistForm, SponsorForm
from sponsors.models import Program, QualificationDocument, Shortlist, ShortlistEntry, Sponsor, VendorQualification
from sponsors.services import (
    SHORTLIST_NO_VENDOR,
    qualification_document_add,
    qualification_save,
    shortlist_add_vendors,
    shortlist_remove_vendor,
)
from vendors.models import Vendor


class ProgramListView(ObjectListView):
    queryset = Program.objects.all()
    filterset_class = ProgramFilterSet
    columns = ["code", "name", "phase", "therapeutic_area", "budget_cap"]


class ProgramDetailView(ObjectDetailView):
    queryset = Program.objects.select_related("sponsor")


class ProgramEditView(ObjectEditView):
    queryset = Program.objects.all()
    form_class = ProgramForm
    owner_field = "sponsor"


# --- The sponsor's own profile ---------------------------------------------------------------------


class SponsorDetailView(ObjectDetailView):
    queryset = Sponsor.objects.all()


class SponsorEditView(ObjectEditView):
    """Admins edit their sponsor's name, type, country and currency, and the thresholds of its background
    checks (``SponsorForm``, "Background checks"); creation is sign-up."""

    queryset = Sponsor.objects.all()
    form_class = SponsorForm


# --- Qualifications --------------------------------------------------------------------------------


class SponsorPagesOnly:
    """A vendor's people get 404 on the sponsor's private pages (lists and "new" forms), as for any page out
    of their reach: typed by hand, an empty "Vendors we qualify" page with a "Record a qualification" button
    would tell them what sponsors keep on them and offer a form they can never save."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and request.user.vendor_id is not None:
            raise Http404("Sponsors' pages")
        return super().dispatch(request, *args, **kwargs)


class QualificationListView(SponsorPagesOnly, ObjectListView):
    queryset = VendorQualification.objects.select_related("vendor")
    filterset_class = QualificationFilterSet
    columns = ["vendor", "status", "risk", "msa_reference", "last_audit_on", "next_audit_due"]


class QualificationDetailView(ObjectDetailView):
    queryset = VendorQualification.objects.select_related("vendor", "sponsor").prefetch_related(
        "sites", "categories", "documents"
    )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if context["can_change"]:
            context["document_form"] = QualificationDocumentForm()
        return context


class QualificationEditView(SponsorPagesOnly, ObjectEditView):
    """Record (``?vendor=<slug>`` picks the vendor) or change a qualification; a change needs a reason."""

    queryset = VendorQualification.objects.select_related("vendor")
    form_class = QualificationForm
    owner_field = "sponsor"

    def get_form(self, instance):
        form = super().get_form(instance)
        vendor = self.request.GET.get("vendor")
        if instance.pk is None and vendor and self.request.method == "GET":
            form.initial["vendor"] = vendor
        return form

    def save_service(self, *, actor, instance, m2m):
        return qualification_save(
            actor=actor, qualification=instance, reason=self.request.POST.get("reason", ""), m2m=m2m
        )


def _qualification_for_change(request, pk) -> VendorQualification:
    if not request.user.can_act:
        raise PermissionDenied(VIEWER_READ_ONLY)
    return get_object_or_404(VendorQualification.objects.for_user(request.user, CHANGE), pk=pk)


@login_required
@require_POST
def qualification_document_upload(request, pk):
    """Attach an audit report (PDF) to a qualification; problems come back as a message on its page."""
    qualification = _qualification_for_change(request, pk)
    form = QualificationDocumentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            qualification_document_add(
                actor=request.user, qualification=qualification, title=form.cleaned_data["title"],
                file=form.cleaned_data["file"],
            )  # fmt: skip
        except ValidationError as exc:
            messages.error(request, "The audit report was not attached: " + " ".join(exc.messages))
        else:
            messages.success(request, f"Audit report “{form.cleaned_data['title']}” attached.")
    else:
        problems = [f"{form.fields[name].label}: {' '.join(errors)}" for name, errors in form.errors.items()]
        messages.error(request, "The audit report was not attached. " + " ".join(problems))
    return redirect(qualification.get_absolute_url())


@login_required
@require_safe
def qualification_document_download(request, pk):
    """An audit report, to the sponsor's people only (``for_user``), always as a download.

    Sent like certificates, by ``cro_cmo.downloads.pdf_attachment``.
    """
    document = get_object_or_404(
        QualificationDocument.objects.for_user(request.user).select_related("qualification__vendor"), pk=pk
    )
    return pdf_attachment(document.file, f"{document.qualification.vendor.slug}-audit-{document.pk}.pdf")


# --- Shortlists ------------------------------------------------------------------------------------


class ShortlistListView(SponsorPagesOnly, ObjectListView):
    queryset = Shortlist.objects.all()
    filterset_class = ShortlistFilterSet
    columns = ["name", "notes", "updated"]


class ShortlistDetailView(ObjectDetailView):
    queryset = Shortlist.objects.prefetch_related(
        Prefetch("entries", queryset=ShortlistEntry.objects.select_related("vendor", "added_by"))
    )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        shortlist = context["object"]
        entries = list(shortlist.entries.all())
        qualifications = {
            q.vendor_id: q
            for q in VendorQualification.objects.filter(
                sponsor_id=shortlist.sponsor_id, vendor_id__in=[e.vendor_id for e in entries]
            )
        }
        context["rows"] = [(entry, qualifications.get(entry.vendor_id)) for entry in entries]
        return context


class ShortlistEditView(SponsorPagesOnly, ObjectEditView):
    queryset = Shortlist.objects.all()
    form_class = ShortlistForm
    owner_field = "sponsor"


class ShortlistDeleteView(ObjectDeleteView):
    queryset = Shortlist.objects.all()

    def get_success_url(self, obj):
        return reverse("shortlist-list")


def _back(request, default: str):
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(target)
    return redirect(default)


@login_required
@require_POST
def shortlist_add(request):
    """Put vendors (``v``: slugs, from the directory, a profile or the compare page) on a shortlist."""
    if not request.user.can_act:
        raise PermissionDenied(VIEWER_READ_ONLY)
    shortlist_id = request.POST.get("shortlist", "")
    if not shortlist_id.isascii() or not shortlist_id.isdigit() or len(shortlist_id) > 18:
        raise Http404("No such shortlist")
    shortlist = get_object_or_404(Shortlist.objects.for_user(request.user, CHANGE), pk=shortlist_id)
    slugs = [slug for slug in request.POST.getlist("v") if slug.isascii()][:100]
    vendors = list(Vendor.objects.for_user(request.user).filter(slug__in=slugs))
    if not vendors:
        messages.error(request, SHORTLIST_NO_VENDOR)
        return _back(request, shortlist.get_absolute_url())
    added = shortlist_add_vendors(actor=request.user, shortlist=shortlist, vendors=vendors)
    names = ", ".join(v.name for v in vendors)
    if added:
        messages.success(request, f"Added to “{shortlist}”: {names}.")
    else:
        messages.info(request, f"Already on “{shortlist}”: {names}.")
    return _back(request, shortlist.get_absolute_url())


@login_required
@require_POST
def shortlist_remove(request, pk):
    """Take a vendor (``v``: slug) off a shortlist."""
    if not request.user.can_act:
        raise PermissionDenied(VIEWER_READ_ONLY)
    shortlist = get_object_or_404(Shortlist.objects.for_user(request.user, CHANGE), pk=pk)
    vendor = (
        Vendor.objects.filter(slug=request.POST.get("v", "")).first() if request.POST.get("v", "").isascii() else None
    )
    if vendor is not None and shortlist_remove_vendor(actor=request.user, shortlist=shortlist, vendor=vendor):
        messages.success(request, f"{vendor.name} taken off “{shortlist}”.")
    else:
        messages.error(request, "That vendor is not on this shortlist.")
    return redirect(shortlist.get_absolute_url())
