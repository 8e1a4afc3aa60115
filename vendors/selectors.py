"""Reads of the vendor directory: ranked search results and facet counts."""

from dataclasses import dataclass, field
from types import SimpleNamespace

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import (
    Case,
    Count,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.http import QueryDict
from django.utils import timezone
from django_countries import countries

from vendors.choices import CertificationType, VendorKind
from vendors.filtersets import SEARCH_CONFIG, VendorFilterSet
from vendors.models import Capability, Certification, ServiceCategory, ServiceOffering, Vendor

FACETS = ["category", "capability", "country", "certification", "kind"]
SORTS = {
    "relevance": "Best match",
    "name": "Name (A–Z)",
    "country": "Country",
    "newest": "Recently updated",
    "founded": "Oldest established",
}
MAX_CAPABILITY_FACETS = 40
# Shown to sponsor people only: their own company's qualification of each vendor.
SPONSOR_FACETS = ["qualified"]


def facet_keys(user) -> list[str]:
    """The directory's facets for ``user``: a sponsor's people also filter by their own qualifications."""
    return FACETS + SPONSOR_FACETS if getattr(user, "sponsor_id", None) else FACETS


def with_our_qualification(queryset: QuerySet, user) -> QuerySet:
    """Annotate ``our_qualification`` (the status string, or None): the user's sponsor's record of each
    vendor, in the same query. Other sponsors' records never count; a vendor user gets None everywhere."""
    from sponsors.models import VendorQualification

    sponsor_id = getattr(user, "sponsor_id", None)
    if sponsor_id is None:
        return queryset.annotate(our_qualification=Value(None, output_field=IntegerField()))
    status = VendorQualification.objects.filter(sponsor_id=sponsor_id, vendor=OuterRef("pk")).values("status")[:1]
    return queryset.annotate(our_qualification=Subquery(status))


@dataclass
class FacetValue:
    value: str
    label: str
    count: int
    selected: bool


@dataclass
class DirectoryResult:
    filterset: VendorFilterSet
    page: Page
    sort: str
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)

    @property
    def is_valid(self) -> bool:
        return self.filterset.is_valid()


def rank_by_relevance(queryset: QuerySet, q: str) -> QuerySet:
    """Order a filtered queryset best match first (name hits over capabilities over descriptions)."""
    q = (q or "").strip()
    if not q:
        return queryset.order_by("name")
    if connection.vendor == "postgresql":
        query = SearchQuery(q, config=SEARCH_CONFIG, search_type="websearch")
        return queryset.annotate(rank=SearchRank(F("search_vector"), query)).order_by("-rank", "name")
    # SQLite fallback: each word scores 3 in the name, 2 in category/capability tags, 1 in descriptions.
    score = Value(0)
    for term in q.split():
        score = (
            score
            + Case(When(name__icontains=term, then=Value(3)), default=Value(0))
            + Case(When(search_tags__icontains=term, then=Value(2)), default=Value(0))
            + Case(
                When(description__icontains=term, then=Value(1)),
                When(search_text__icontains=term, then=Value(1)),
                default=Value(0),
            )
        )
    return queryset.annotate(rank=ExpressionWrapper(score, output_field=IntegerField())).order_by("-rank", "name")


def _sorted(queryset: QuerySet, sort: str, q: str) -> QuerySet:
    if sort == "relevance":
        return rank_by_relevance(queryset, q)
    return queryset.order_by(
        {"name": "name", "country": "hq_country", "newest": "-updated", "founded": "founded_year"}[sort], "name"
    )


def filtered_without(filterset: VendorFilterSet, base: QuerySet, key: str) -> QuerySet:
    """``base`` with every validated filter applied except ``key`` (validation happened once, up front)."""
    queryset = base
    for name, value in filterset.form.cleaned_data.items():
        if name != key:
            queryset = filterset.filters[name].filter(queryset, value)
    return queryset


def _facet_counts(data: QueryDict, filterset: VendorFilterSet, base: QuerySet) -> dict[str, list[FacetValue]]:
    """Counts per facet value over the results filtered by every *other* facet (so options stay visible).

    One query per facet, whatever the page size.
    """
    today = timezone.localdate()

    def others(key):
        return filtered_without(filterset, base, key).values("pk")

    selected = {key: set(data.getlist(key)) for key in FACETS}
    facets = {}
    rows = (
        ServiceOffering.objects.filter(vendor__in=others("category"), is_active=True)
        .values("category__code")
        .annotate(n=Count("vendor", distinct=True))
    )
    counts = {row["category__code"]: row["n"] for row in rows}
    facets["category"] = [
        FacetValue(c.code, c.name, counts.get(c.code, 0), c.code in selected["category"])
        for c in ServiceCategory.objects.all()
    ]
    capability_rows = (
        Capability.objects.filter(offerings__vendor__in=others("capability"), offerings__is_active=True)
        .values("slug", "name")
        .annotate(n=Count("offerings__vendor", distinct=True))
        .order_by("-n", "name")
    )
    if selected["category"]:
        capability_rows = capability_rows.filter(category__code__in=selected["category"])
    facets["capability"] = [
        FacetValue(r["slug"], r["name"], r["n"], r["slug"] in selected["capability"])
        for r in capability_rows[:MAX_CAPABILITY_FACETS]
    ]
    country_rows = others("country").order_by().values("hq_country").annotate(n=Count("pk")).order_by("-n")
    facets["country"] = [
        FacetValue(r["hq_country"], countries.name(r["hq_country"]), r["n"], r["hq_country"] in selected["country"])
        for r in country_rows
    ]
    cert_rows = (
        Certification.objects.valid_on(today)
        .filter(vendor__in=others("certification"))
        .values("type")
        .annotate(n=Count("vendor", distinct=True))
    )
    cert_counts = {r["type"]: r["n"] for r in cert_rows}
    facets["certification"] = [
        FacetValue(value, label, cert_counts[value], value in selected["certification"])
        for value, label in CertificationType.choices
        if cert_counts.get(value)
    ]
    if "qualified" in filterset.filters and getattr(filterset.request, "user", None) is not None:
        user = filterset.request.user
        if getattr(user, "sponsor_id", None):
            qualified = filterset.filters["qualified"].filter(others("qualified"), True).count()
            facets["qualified"] = [
                FacetValue("true", "Qualified by us", qualified, "true" in data.getlist("qualified"))
            ]
    kind_rows = others("kind").order_by().values("kind").annotate(n=Count("pk"))
    kind_counts = {r["kind"]: r["n"] for r in kind_rows}
    facets["kind"] = [
        FacetValue(value, label, kind_counts.get(value, 0), value in selected["kind"])
        for value, label in VendorKind.choices
    ]
    return facets


def directory_search(*, user, data: QueryDict, page_number=1, page_size: int = 20) -> DirectoryResult:
    """The directory page: validated filters, sorted and paginated vendors, and facet counts.

    1. Validate the query with the shared VendorFilterSet (an unknown code → errors, no results).
    2. Sort (relevance needs ``q``; otherwise name) and paginate.
    3. Prefetch what each card shows: active offerings with their category, certificates.
    4. Count facets, each over the results of the other filters.
    5. For a sponsor's people, each vendor carries ``our_qualification`` (a subquery, no extra query).
    """
    base = Vendor.objects.for_user(user)
    # The filterset reads the user (the "qualified by us" filter), as it does from the API's request.
    filterset = VendorFilterSet(data, queryset=base, request=SimpleNamespace(user=user))
    q = data.get("q", "")
    # Best match by default: without words it orders by name anyway.
    sort = data.get("sort") or "relevance"
    if sort not in SORTS:
        sort = "relevance"
    results = _sorted(filterset.qs, sort, q) if filterset.is_valid() else base.none()
    results = with_our_qualification(results, user).prefetch_related(
        Prefetch(
            "offerings",
            queryset=ServiceOffering.objects.filter(is_active=True)
            .select_related("category")
            .order_by("category__position"),
            to_attr="active_offerings",
        ),
        Prefetch("certifications", queryset=Certification.objects.order_by("type", "-expires_on")),
    )
    page = Paginator(results, page_size).get_page(page_number)
    facets = _facet_counts(data, filterset, base) if filterset.is_valid() else {}
    return DirectoryResult(filterset=filterset, page=page, sort=sort, facets=facets)


def vendor_profile(*, vendor: Vendor, user) -> dict:
    """What the profile page (and the comparison) shows of one vendor, in a fixed number of queries."""
    from cro_cmo.models import CHANGE
    from vendors.choices import Side

    # The offering queryset's for_user decides which inactive offerings show (the vendor's own people).
    offerings = list(
        ServiceOffering.objects.for_user(user)
        .filter(vendor=vendor)
        .select_related("category")
        .prefetch_related("capabilities", "sites")
        .order_by("category__position")
    )
    visible = [o for o in offerings if o.is_active]
    grouped = [(label, [o for o in visible if o.category.side == side]) for side, label in Side.choices]
    certifications = list(vendor.certifications.select_related("site").order_by("type", "-expires_on"))
    return {
        "offerings": offerings,
        "offering_groups": [(label, items) for label, items in grouped if items],
        "inactive_offerings": [o for o in offerings if not o.is_active],
        "sites": list(vendor.sites.order_by("country", "city")),
        "certifications": certifications,
        "can_edit_vendor": Vendor.objects.for_user(user, CHANGE).filter(pk=vendor.pk).exists(),
        "is_sponsor": user.is_sponsor,
        "our_qualification": _our_qualification(vendor, user),
    }


def _our_qualification(vendor: Vendor, user):
    """The user's sponsor's qualification record of ``vendor`` (None for vendors' people: never theirs to see)."""
    from sponsors.models import VendorQualification

    if not getattr(user, "sponsor_id", None):
        return None
    return VendorQualification.objects.for_user(user).filter(vendor=vendor).first()


def comparison_rows(profiles: list[dict]) -> list[tuple[str, list[str]]]:
    """Rows of the side-by-side comparison: one label, one cell per vendor."""
    today = timezone.localdate()
    rows = [
        ("Kind", [p["vendor"].get_kind_display() for p in profiles]),
        ("Headquarters", [p["vendor"].hq_country.name for p in profiles]),
        ("Founded", [str(p["vendor"].founded_year or "—") for p in profiles]),
        ("Headcount", [p["vendor"].get_headcount_band_display() or "—" for p in profiles]),
        ("Verified", ["Yes" if p["vendor"].is_verified else "No" for p in profiles]),
    ]
    for category in ServiceCategory.objects.all():
        cells, lead, price = [], [], []
        for p in profiles:
            offering = next((o for o in p["offerings"] if o.category_id == category.pk and o.is_active), None)
            if offering is None:
                cells.append("—")
                lead.append("—")
                price.append("—")
                continue
            cells.append(", ".join(c.name for c in offering.capabilities.all()) or "Offered")
            lead.append(f"{offering.lead_time_weeks} weeks" if offering.lead_time_weeks else "—")
            if offering.price_min is not None:
                price.append(
                    f"{offering.currency} {offering.price_min:,.0f}–{offering.price_max or offering.price_min:,.0f}"
                )
            else:
                price.append("On request")
        if any(cell != "—" for cell in cells):
            rows += [
                (category.name, cells),
                (f"{category.name}: lead time", lead),
                (f"{category.name}: indicative price", price),
            ]
    rows.append(("Sites", ["; ".join(f"{s.city} ({s.country.code})" for s in p["sites"]) or "—" for p in profiles]))
    rows.append((
        "Valid certificates",
        [", ".join(sorted({c.get_type_display() for c in p["certifications"] if c.status_on(today) != "expired"})) or "None"
         for p in profiles],
    ))  # fmt: skip
    rows.append((
        "Expired certificates",
        [", ".join(sorted({c.get_type_display() for c in p["certifications"] if c.status_on(today) == "expired"})) or "None"
         for p in profiles],
    ))  # fmt: skip
    return rows
