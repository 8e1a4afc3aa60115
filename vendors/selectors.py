"""Reads of the vendor directory: ranked search results and facet counts."""

from dataclasses import dataclass, field
from types import SimpleNamespace

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.http import QueryDict
from django.utils.translation import get_language
from django_countries import countries

from vendors.choices import CertificationType, VendorKind
from vendors.facet_index import facet_index
from vendors.filtersets import AUTHORITY_GROUPS, SEARCH_CONFIG, VendorFilterSet
from vendors.models import Certification, ServiceOffering, Site, Vendor
from vendors.regions import REGION_CHOICES, REGION_LABELS, region_countries
from vendors.search_facets import Selection, facet_rows

# The directory's facets, in the sidebar's order: kind first, then what, where, and certificates.
FACETS = ["kind", "category", "capability", "region", "site_country", "country", "certification", "authority"]
SORTS = {
    "relevance": "Best match",
    "name": "Name (A–Z)",
    "country": "Country",
    "newest": "Recently updated",
    "founded": "Oldest established",
}
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
    group: str = ""


@dataclass
class DirectoryResult:
    filterset: VendorFilterSet
    page: Page
    sort: str
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)
    site_countries: set[str] = field(default_factory=set)  # the site filter's countries (cards mark them)

    @property
    def is_valid(self) -> bool:
        return self.filterset.is_valid()


class CountedPaginator(Paginator):
    """A paginator told the total (counted with the facets), so it runs no COUNT query of its own."""

    def __init__(self, object_list, per_page, *, count: int):
        super().__init__(object_list, per_page)
        self.__dict__["count"] = count


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


def _facets(filterset: VendorFilterSet, base: QuerySet, user) -> tuple[QuerySet, int, dict[str, list[FacetValue]]]:
    """(results, total, facets): every facet counted over the vendors passing the other filters, from the
    facet index's bitmaps (vendors.search_facets), and the queryset of the vendors passing every filter.
    Options with no vendor are left out unless ticked; ticked ones keep their label. Two queries: the
    index's revision, and the vendors passing the SQL-only filters (words, verified, changed since)."""
    data = filterset.form.cleaned_data
    unfaceted = base
    for name in ("q", "verified", "updated_after"):
        unfaceted = filterset.filters[name].filter(unfaceted, data.get(name))
    index = facet_index()
    sponsor = getattr(user, "sponsor_id", None)
    qualified = None
    if sponsor:
        rows = _rows(unfaceted.annotate(is_qualified=Q(pk__in=filterset.qualified_vendor_ids())), "pk", "is_qualified")
        qualified = index.of_ids(pk for pk, is_qualified in rows if is_qualified)
        base_bits = index.of_ids(pk for pk, _ in rows)
    else:
        base_bits = index.of_ids(pk for (pk,) in _rows(unfaceted, "pk"))
    types, groups, day = filterset.certificate_terms()
    chosen = Selection(
        kind=list(data.get("kind") or []),
        category=[c.pk for c in data.get("category") or []],
        capability=[c.pk for c in data.get("capability") or []],
        country=list(data.get("country") or []),
        site_country=list(data.get("site_country") or []),
        region=list(data.get("region") or []),
        certification=types,
        authority=groups,
        valid_on=day,
        qualified=data.get("qualified"),
    )
    counted = facet_rows(index, base_bits, chosen, qualified=qualified)
    rows = counted.rows
    results = _matching(filterset, unfaceted, index, counted)
    counts: dict[str, dict[str, tuple]] = {}
    total = 0
    for facet, value, label, group, position, n in rows:
        if facet == "total":
            total = n
        elif value:
            counts.setdefault(facet, {})[value] = (label, group, position, n)

    def selected(key) -> set[str]:
        values = data.get(key) or []
        return {getattr(v, "code", None) or getattr(v, "slug", None) or str(v) for v in values}

    facets: dict[str, list[FacetValue]] = {}

    def fixed(key, choices):
        found, chosen = counts.get(key, {}), selected(key)
        return [
            FacetValue(value, label, found.get(value, (0, 0, 0, 0))[3], value in chosen)
            for value, label in choices
            if value in found or value in chosen
        ]

    facets["kind"] = fixed("kind", VendorKind.choices)
    found = counts.get("category", {})
    chosen_categories = {c.code: c for c in data.get("category") or []}
    rows = [(pos, code, label, n) for code, (label, _, pos, n) in found.items()]
    rows += [(c.position, code, c.name, 0) for code, c in chosen_categories.items() if code not in found]
    facets["category"] = [FacetValue(code, label, n, code in chosen_categories) for _, code, label, n in sorted(rows)]
    found = counts.get("capability", {})
    chosen_capabilities = {c.slug: c for c in data.get("capability") or []}
    rows = [(pos, group, label, slug, n) for slug, (label, group, pos, n) in found.items()]
    rows += [
        (c.category.position, c.category.name, c.name, slug, 0)
        for slug, c in chosen_capabilities.items()
        if slug not in found
    ]
    facets["capability"] = [
        FacetValue(slug, label, n, slug in chosen_capabilities, group) for _, group, label, slug, n in sorted(rows)
    ]
    facets["region"] = fixed("region", REGION_CHOICES)
    for key in ("site_country", "country"):
        found, chosen = counts.get(key, {}), selected(key)
        codes = set(found) | chosen
        names = country_names()
        rows = sorted((-found.get(c, (0, 0, 0, 0))[3], names.get(c, c), c) for c in codes)
        facets[key] = [FacetValue(code, name, -minus_n, code in chosen) for minus_n, name, code in rows]
    facets["certification"] = fixed("certification", CertificationType.choices)
    facets["authority"] = fixed("authority", [(g, label) for g, (label, _) in AUTHORITY_GROUPS.items()])
    if qualified is not None:
        n = counts.get("qualified", {}).get("true", (0, 0, 0, 0))[3]
        facets["qualified"] = [FacetValue("true", "Qualified by us", n, data.get("qualified") is True)]
    return results, total, facets


def _rows(queryset: QuerySet, *columns: str) -> list[tuple]:
    """The rows of ``queryset.values_list(*columns)``, unordered, fetched by the cursor: thousands of plain ids
    and flags need none of the ORM's per-row work (3 ms for 6 000 rows)."""
    sql, params = queryset.order_by().values_list(*columns).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


# Up to this many matching vendors, the page query reads them by id (from the bitmaps) and ranks only them;
# more, and it applies the filters in SQL (a long IN list costs more than it saves, and SQLite caps parameters).
PAGE_BY_IDS_MAX = 2000


def _matching(filterset, unfaceted: QuerySet, index, counted) -> QuerySet:
    """The vendors passing every filter: the SQL-only filters' queryset itself when no faceted filter is
    active; otherwise the bitmaps' ids — on PostgreSQL as one array parameter (an IN list of a thousand
    placeholders cost 1–2 ms of query parsing in psycopg), on SQLite as an IN list when few enough —
    or else the filterset's SQL conditions."""
    if not counted.filtered:
        return unfaceted
    if connection.vendor == "postgresql":
        table = Vendor._meta.db_table
        # One text parameter ('{1,2,…}'): psycopg quotes a long list element by element (3 ms for 2 000 ids).
        ids = "{" + ",".join(map(str, index.ids_of(counted.matching))) + "}"
        ids = RawSQL(f'"{table}"."id" = ANY(%s::bigint[])', (ids,), output_field=BooleanField())
        return unfaceted.filter(ids)
    if counted.matching.bit_count() <= PAGE_BY_IDS_MAX:
        return unfaceted.filter(pk__in=index.ids_of(counted.matching))
    return filterset.qs


_COUNTRY_NAMES: dict[str, dict[str, str]] = {}


def country_names() -> dict[str, str]:
    """{ISO code: name} in the active language, built once per language (``countries.name()`` per code
    translates and looks up each time: 100 facet labels cost ~3 ms)."""
    language = get_language() or ""
    names = _COUNTRY_NAMES.get(language)
    if names is None:
        names = _COUNTRY_NAMES[language] = {code: str(name) for code, name in countries}
    return names


def site_filter_countries(filterset: VendorFilterSet) -> set[str]:
    """The countries the site filters (site country, region) ask for: the cards and profile mark those sites."""
    if not filterset.is_valid():
        return set()
    data = filterset.form.cleaned_data
    return set(data.get("site_country") or []) | region_countries(data.get("region") or [])


def site_matches(sites, data: QueryDict) -> dict[int, str]:
    """{site id: "EU/EEA"…} for the sites in the countries a directory search asked for (the profile's marks).

    ``data`` is the query string the card's link carried; unknown codes are ignored (it only marks sites).
    """
    regions = [r for r in data.getlist("region") if r in REGION_LABELS]
    by_country = set(data.getlist("site_country"))
    found = {}
    for site in sites:
        code = site.country.code
        reasons = [REGION_LABELS[r] for r in regions if code in region_countries([r])]
        if code in by_country:
            reasons.insert(0, site.country.name)
        if reasons:
            found[site.pk] = ", ".join(reasons)
    return found


def directory_search(*, user, data: QueryDict, page_number=1, page_size: int = 20) -> DirectoryResult:
    """The directory page: validated filters, sorted and paginated vendors, and facet counts.

    1. Validate the query with the shared VendorFilterSet (an unknown code → errors, no results).
    2. Count the total and every facet from the facet index (``_facets``), each over the other filters.
    3. Sort (relevance needs ``q``; otherwise name) and paginate with that total (no COUNT query).
    4. Prefetch what each card shows: active offerings with their category, certificates, sites; the
       sites in the site filter's countries become ``vendor.matching_sites``.
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
    results, total, facets = _facets(filterset, base, user) if filterset.is_valid() else (base.none(), 0, {})
    results = _sorted(results, sort, q)
    # The cards never show the stored search columns (up to 200 kB of text a vendor): not read.
    results = results.defer("search_tags", "search_text", "search_vector")
    results = with_our_qualification(results, user).prefetch_related(
        Prefetch(
            "offerings",
            queryset=ServiceOffering.objects.filter(is_active=True)
            .select_related("category")
            .order_by("category__position"),
            to_attr="active_offerings",
        ),
        Prefetch("certifications", queryset=Certification.objects.order_by("type", "-expires_on")),
        Prefetch("sites", queryset=Site.objects.order_by("country", "city"), to_attr="site_list"),
    )
    page = CountedPaginator(results, page_size, count=total).get_page(page_number)
    wanted = site_filter_countries(filterset)
    for vendor in page.object_list:
        vendor.matching_sites = [s for s in vendor.site_list if s.country.code in wanted] if wanted else []
    return DirectoryResult(filterset=filterset, page=page, sort=sort, facets=facets, site_countries=wanted)


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
