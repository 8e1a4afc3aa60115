"""Directory search with ``q`` plus facets: the real page, a naive Python version, and the raw SQL floor.

All three answer the same queries over the same data: the vendor count, the first page of 20 vendors
(best match first, then name) and the counts of every facet (kind, category, capability, headquarters
country, site country, region, certificate type, authority), each counted over the results of the *other*
filters (as ``vendors.search_facets`` does from the facet index's bitmaps). The queries use the second pass's filters:
region, site country, certificates by authority.

1. ``real``: ``GET /vendors/?q=…&…`` through ``django.test.Client`` as a signed-in sponsor: middleware,
   session, ``directory_search`` (filterset, ranking, pagination, prefetch, facets) and the template.
2. ``naive``: every vendor with its offerings, capabilities, sites and certificates loaded (prefetched),
   then filtered, ranked, counted and paged in Python.
3. ``floor``: hand-written SQL through ``connection.cursor()``: one statement for the page of ids and the
   total, one per facet (regions through a VALUES list of country/region pairs); the fixed category and
   capability ids are looked up once per process.
   PostgreSQL: the stored ``search_vector``, ``websearch_to_tsquery`` and ``ts_rank``; SQLite: ``LIKE``,
   scored like the SQLite fallback of ``rank_by_relevance``.
"""

import math
import os
import re
import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.db import connection
from django.db.models import Prefetch
from django.http import QueryDict
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, User
from sponsors.models import Sponsor
from vendors.filtersets import AUTHORITY_GROUP_OF, AUTHORITY_GROUPS, SEARCH_CONFIG
from vendors.models import Capability, Certification, ServiceCategory, ServiceOffering, Site, Vendor
from vendors.regions import COUNTRY_REGION, EU_EEA, EU_EEA_COUNTRIES, region_countries
from vendors.search_synonyms import search_variants
from vendors.selectors import FACETS, directory_search

PAGE_SIZE = 20
P95_GOAL_MS, FLOOR_RATIO_GOAL = 50, 2  # the real page's goals at 10 000 vendors (issue #11)
NAIVE_BUDGET_SECONDS = 90  # the naive version stops early (after one round of every query) past this
BENCH_EMAIL = "bench-sponsor@bench.invalid"


@dataclass(frozen=True)
class Query:
    q: str
    filters: tuple[tuple[str, str], ...]

    @property
    def label(self) -> str:
        return " ".join([f"q={self.q}", *(f"{key}={value}" for key, value in self.filters)])

    def values(self, key: str) -> list[str]:
        return [value for k, value in self.filters if k == key]

    def querydict(self) -> QueryDict:
        return QueryDict(urlencode([("q", self.q), *self.filters]))


# Words that occur in the generated data: vendor names ("… Sterile Solutions", "… Biologics"), capability
# names (Phase I–IV, Oncology, Lyophilisation, Biologics (mammalian)…) and category names.
# The second pass adds where the work is done (site country, region) and certificates by authority.
QUERIES = [
    Query("sterile", (("category", "finished-dosage-forms"), ("region", "eu-eea"))),
    Query("phase", (("category", "clinical-trials"), ("certification", "gcp"))),
    Query("biologics", (("kind", "cdmo"), ("country", "US"))),
    Query("oncology", (("category", "clinical-trials"), ("site_country", "GB"))),
    Query("lyophilisation", (("certification", "gmp"), ("authority", "ema-eu"), ("region", "europe"))),
]


@dataclass
class Outcome:
    """What an implementation answered: total, the page (vendor ids) and {facet: {value: vendors}}."""

    count: int
    page: list[int]
    facets: dict[str, dict[str, int]] = field(default_factory=dict)


@dataclass
class Timing:
    name: str
    samples: dict[Query, list[float]] = field(default_factory=dict)
    queries: dict[Query, int] = field(default_factory=dict)
    sql_ms: dict[Query, float] = field(default_factory=dict)
    outcomes: dict[Query, Outcome] = field(default_factory=dict)

    @property
    def all_samples(self) -> list[float]:
        return [s for samples in self.samples.values() for s in samples]

    @property
    def median(self) -> float:
        return statistics.median(self.all_samples)

    @property
    def p95(self) -> float:
        return percentile(self.all_samples, 95)

    @property
    def queries_per_request(self) -> float:
        return statistics.mean(self.queries.values())


def percentile(samples: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


# --- 1. The real thing -------------------------------------------------------------------------------------

COUNT_RE = re.compile(r'data-testid="result-count">(\d+)<')
CARD_RE = re.compile(r'id="cmp-([^"]+)"')
FACET_RE = re.compile(r'for="f-([a-z_]+)-([^"]+)">\s*<span>.*?</span><span class="[^"]*facet-count">(\d+)<', re.S)


def sponsor_user() -> User:
    """A sponsor viewer to sign in as (created once in the bench database)."""
    sponsor, _ = Sponsor.objects.get_or_create(
        slug="bench-sponsor", defaults={"name": "Bench Sponsor", "country": "DE"}
    )
    user = User.objects.filter(email=BENCH_EMAIL).first()
    if user is None:
        user = User.objects.create_user(BENCH_EMAIL, None, sponsor=sponsor, role=Role.VIEWER, full_name="Bench")
    return user


def real_implementation() -> Callable[[Query], Outcome]:
    client = Client(HTTP_HOST="localhost")  # DEBUG is off: "testserver" is not an allowed host
    client.force_login(sponsor_user())
    url = reverse("vendor-list")
    slug_to_id: dict[str, int] = {}

    def real(query: Query) -> Outcome:
        response = client.get(url, query.querydict())
        if response.status_code != 200:
            raise RuntimeError(f"GET {url}?{query.querydict().urlencode()} answered {response.status_code}")
        html = response.content.decode()
        slugs = CARD_RE.findall(html)
        facets: dict[str, dict[str, int]] = {}
        for key, value, count in FACET_RE.findall(html):
            if int(count):
                facets.setdefault(key, {})[value] = int(count)
        missing = [s for s in slugs if s not in slug_to_id]
        if missing:  # only while warming up: the timed requests find every slug already mapped
            slug_to_id.update(Vendor.objects.filter(slug__in=missing).values_list("slug", "pk"))
        return Outcome(int(COUNT_RE.search(html).group(1)), [slug_to_id[s] for s in slugs], facets)

    return real


def selector_implementation() -> Callable[[Query], Outcome]:
    """Diagnostic: ``directory_search`` alone (no middleware, session or template), cards' prefetch included."""
    user = sponsor_user()

    def selector(query: Query) -> Outcome:
        result = directory_search(user=user, data=query.querydict())
        vendors = list(result.page.object_list)  # runs the page query and the cards' prefetches
        facets = {key: {f.value: f.count for f in values if f.count} for key, values in result.facets.items()}
        return Outcome(result.page.paginator.count, [v.pk for v in vendors], facets)

    return selector


# --- 2. Naive: everything into Python ------------------------------------------------------------------------


def naive(query: Query) -> Outcome:
    """What a reasonable but naive developer writes: load every vendor with its relations, then loop."""
    today = timezone.localdate()
    vendors = Vendor.objects.prefetch_related(
        Prefetch(
            "offerings",
            queryset=ServiceOffering.objects.select_related("category").prefetch_related("capabilities"),
        ),
        "sites",
        "certifications",
    )
    terms = [term.lower() for term in query.q.split()]
    wanted = {key: set(query.values(key)) for key in FACETS}
    region_wanted = region_countries(wanted["region"])
    wanted_authorities = {a for g in wanted["authority"] for a in AUTHORITY_GROUPS[g][1]}
    rows = []
    for vendor in vendors:
        active = [o for o in vendor.offerings.all() if o.is_active]
        categories = {o.category.code for o in active}
        capabilities = {c.slug: (c.name, o.category.code) for o in active for c in o.capabilities.all()}
        certificates = [
            (c.type, c.authority) for c in vendor.certifications.all() if c.expires_on is None or c.expires_on >= today
        ]
        site_countries = {s.country.code for s in vendor.sites.all()}
        name, description = vendor.name.lower(), vendor.description.lower()
        tags = " · ".join(sorted({o.category.name for o in active} | {name for name, _ in capabilities.values()}))
        tags = f"{tags} {' '.join(search_variants(tags))}".lower()
        text = " ".join([o.description for o in active] + [f"{s.city} {s.activities}" for s in vendor.sites.all()])
        text = f"{text} {' '.join(search_variants(f'{vendor.name} {vendor.description} {text}'))}".lower()
        score = 0
        matches = True
        for term in terms:
            hit = (
                (3 if term in name else 0)
                + (2 if term in tags else 0)
                + (1 if term in description or term in text else 0)
            )
            matches = matches and hit > 0
            score += hit
        passes = {
            "kind": not wanted["kind"] or vendor.kind in wanted["kind"],
            "category": not wanted["category"] or bool(categories & wanted["category"]),
            "capability": not wanted["capability"] or bool(capabilities.keys() & wanted["capability"]),
            "country": not wanted["country"] or vendor.hq_country.code in wanted["country"],
            "site_country": not wanted["site_country"] or bool(site_countries & wanted["site_country"]),
            "region": not wanted["region"] or bool(site_countries & region_wanted),
            # Type and authority on one certificate.
            "certificate": (not wanted["certification"] and not wanted["authority"])
            or any(
                (not wanted["certification"] or kind in wanted["certification"])
                and (not wanted_authorities or authority in wanted_authorities)
                for kind, authority in certificates
            ),
        }
        if matches:
            rows.append((vendor, score, passes, categories, capabilities, certificates, site_countries))

    results = sorted((r for r in rows if all(r[2].values())), key=lambda r: (-r[1], r[0].name))
    counters = {key: Counter() for key in FACETS}
    for vendor, _, passes, categories, capabilities, certificates, site_countries in rows:

        def others_pass(*keys, passes=passes):
            return all(ok for k, ok in passes.items() if k not in keys)

        if others_pass("kind"):
            counters["kind"][vendor.kind] += 1
        if others_pass("category"):
            counters["category"].update(categories)
        if others_pass("capability"):
            for slug, (_, category) in capabilities.items():
                if not wanted["category"] or category in wanted["category"]:
                    counters["capability"][slug] += 1
        if others_pass("country"):
            counters["country"][vendor.hq_country.code] += 1
        if others_pass("site_country"):
            counters["site_country"].update(site_countries)
        if others_pass("region"):
            counters["region"].update({COUNTRY_REGION[c] for c in site_countries})
            if site_countries & EU_EEA_COUNTRIES:
                counters["region"][EU_EEA] += 1
        if others_pass("certificate"):
            counters["certification"].update(
                {k for k, a in certificates if not wanted_authorities or a in wanted_authorities}
            )
            counters["authority"].update(
                {
                    AUTHORITY_GROUP_OF[a]
                    for k, a in certificates
                    if not wanted["certification"] or k in wanted["certification"]
                }
            )
    facets = {key: {value: n for value, n in counter.items() if n} for key, counter in counters.items()}
    return Outcome(len(results), [r[0].pk for r in results[:PAGE_SIZE]], facets)


# --- 3. The raw SQL floor ------------------------------------------------------------------------------------

VENDOR = Vendor._meta.db_table
OFFERING = ServiceOffering._meta.db_table
CATEGORY = ServiceCategory._meta.db_table
CAPABILITY = Capability._meta.db_table
OFFERING_CAPABILITY = ServiceOffering.capabilities.through._meta.db_table
CERTIFICATE = Certification._meta.db_table


def _like(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _in(values) -> str:
    return ", ".join(["%s"] * len(values))


def _text_sql(q: str) -> tuple[str, list, str, list]:
    """(WHERE fragment, its params, rank expression, its params) for ``q`` on this database."""
    if connection.vendor == "postgresql":
        tsquery = f"websearch_to_tsquery('{SEARCH_CONFIG}', %s)"
        return f"v.search_vector @@ {tsquery}", [q], f"ts_rank(v.search_vector, {tsquery})", [q]
    where, where_params, rank, rank_params = [], [], [], []
    for term in q.split():
        like = _like(term)
        where.append(
            "(v.name LIKE %s ESCAPE '\\' OR v.description LIKE %s ESCAPE '\\' "
            "OR v.search_tags LIKE %s ESCAPE '\\' OR v.search_text LIKE %s ESCAPE '\\')"
        )
        where_params += [like] * 4
        rank.append(
            "CASE WHEN v.name LIKE %s ESCAPE '\\' THEN 3 ELSE 0 END"
            " + CASE WHEN v.search_tags LIKE %s ESCAPE '\\' THEN 2 ELSE 0 END"
            " + CASE WHEN v.description LIKE %s ESCAPE '\\' OR v.search_text LIKE %s ESCAPE '\\' THEN 1 ELSE 0 END"
        )
        rank_params += [like] * 4
    return " AND ".join(where) or "TRUE", where_params, " + ".join(rank) or "0", rank_params


@dataclass(frozen=True)
class Reference:
    """The fixed reference rows (categories, capabilities) by code/slug, read once like any cached lookup."""

    category_ids: dict[str, int]
    capability_ids: dict[str, int]
    category_codes: dict[int, str]
    capability_slugs: dict[int, str]

    @classmethod
    def load(cls) -> "Reference":
        categories = dict(ServiceCategory.objects.values_list("code", "pk"))
        capabilities = list(Capability.objects.values_list("slug", "pk"))
        return cls(
            category_ids=categories,
            capability_ids=dict(capabilities),
            category_codes={pk: code for code, pk in categories.items()},
            capability_slugs={pk: slug for slug, pk in capabilities},
        )

    def ids(self, lookup: dict[str, int], values: list[str]) -> list[int]:
        return [lookup.get(value, -1) for value in values]  # an unknown code matches nothing


SITE = Site._meta.db_table
REGION_PAIRS = sorted(COUNTRY_REGION.items()) + [(country, EU_EEA) for country in sorted(EU_EEA_COUNTRIES)]


def _where(query: Query, ref: Reference, today: str, without: str | None = None) -> tuple[str, list]:
    """The WHERE clause over ``vendors_vendor v`` for every filter of ``query`` except ``without``
    (``certificate`` stands for type and authority together: they are held on one certificate)."""
    clauses, params = [], []
    if query.q.strip():
        text, text_params, _, _ = _text_sql(query.q.strip())
        clauses.append(text)
        params += text_params
    if without != "kind" and (values := query.values("kind")):
        clauses.append(f"v.kind IN ({_in(values)})")
        params += values
    if without != "category" and (values := query.values("category")):
        clauses.append(
            f"v.id IN (SELECT vendor_id FROM {OFFERING} WHERE is_active = %s AND category_id IN ({_in(values)}))"
        )
        params += [True, *ref.ids(ref.category_ids, values)]
    if without != "capability" and (values := query.values("capability")):
        clauses.append(
            f"v.id IN (SELECT o.vendor_id FROM {OFFERING} o JOIN {OFFERING_CAPABILITY} oc ON oc.serviceoffering_id = o.id"
            f" WHERE o.is_active = %s AND oc.capability_id IN ({_in(values)}))"
        )
        params += [True, *ref.ids(ref.capability_ids, values)]
    if without != "country" and (values := query.values("country")):
        clauses.append(f"v.hq_country IN ({_in(values)})")
        params += values
    if without != "site_country" and (values := query.values("site_country")):
        clauses.append(f"v.id IN (SELECT vendor_id FROM {SITE} WHERE country IN ({_in(values)}))")
        params += values
    if without != "region" and (values := query.values("region")):
        countries = sorted(region_countries(values))
        clauses.append(f"v.id IN (SELECT vendor_id FROM {SITE} WHERE country IN ({_in(countries)}))")
        params += countries
    types, groups = query.values("certification"), query.values("authority")
    if without != "certificate" and (types or groups):
        clause, clause_params = _certificate_clause(types, groups, today)
        clauses.append(f"v.id IN (SELECT vendor_id FROM {CERTIFICATE} ce WHERE {clause})")
        params += clause_params
    return " AND ".join(clauses) or "1 = 1", params


def _certificate_clause(types: list[str], groups: list[str], today: str, *, skip: str = "") -> tuple[str, list]:
    """Certificates valid on ``today`` of one of ``types`` from one of the authority ``groups`` (``skip``: leave
    the type or the authority out, for that facet's own counts)."""
    clause, params = "(ce.expires_on IS NULL OR ce.expires_on >= %s)", [today]
    if types and skip != "type":
        clause += f" AND ce.type IN ({_in(types)})"
        params += types
    authorities = [a for g in groups for a in AUTHORITY_GROUPS[g][1]]
    if authorities and skip != "authority":
        clause += f" AND ce.authority IN ({_in(authorities)})"
        params += authorities
    return clause, params


def _hits(where: str) -> str:
    """The matching vendors as a CTE, materialised on PostgreSQL: computed once, and the planner does not
    fold it into the facet's joins (where a low row estimate made it pick nested loops over 80 000 rows)."""
    materialized = "MATERIALIZED " if connection.vendor == "postgresql" else ""
    return f"WITH hits AS {materialized}(SELECT v.id FROM {VENDOR} v WHERE {where})"


def floor_implementation() -> Callable[[Query], Outcome]:
    """One statement for the page and total, one per facet (hand-written, nothing but the cursor)."""
    ref = Reference.load()

    def floor(query: Query) -> Outcome:
        today = timezone.localdate().isoformat()
        q = query.q.strip()
        types, groups = query.values("certification"), query.values("authority")
        with connection.cursor() as cursor:
            where, params = _where(query, ref, today)
            _, _, rank, rank_params = _text_sql(q) if q else ("", [], "0", [])
            cursor.execute(
                f"SELECT v.id, COUNT(*) OVER () FROM {VENDOR} v WHERE {where}"
                f" ORDER BY {rank} DESC, v.name LIMIT {PAGE_SIZE}",
                params + rank_params,
            )
            rows = cursor.fetchall()

            where, params = _where(query, ref, today, without="kind")
            cursor.execute(f"SELECT v.kind, COUNT(*) FROM {VENDOR} v WHERE {where} GROUP BY v.kind", params)
            kind = dict(cursor.fetchall())

            where, params = _where(query, ref, today, without="category")
            cursor.execute(
                f"{_hits(where)} SELECT o.category_id, COUNT(*) FROM hits"
                f" JOIN {OFFERING} o ON o.vendor_id = hits.id WHERE o.is_active = %s GROUP BY o.category_id",
                [*params, True],
            )
            category = {ref.category_codes[pk]: n for pk, n in cursor.fetchall()}

            where, params = _where(query, ref, today, without="capability")
            categories = ref.ids(ref.category_ids, query.values("category"))
            in_category = f" AND cap.category_id IN ({_in(categories)})" if categories else ""
            cursor.execute(
                f"{_hits(where)} SELECT oc.capability_id, COUNT(*) FROM hits"
                f" JOIN {OFFERING} o ON o.vendor_id = hits.id JOIN {OFFERING_CAPABILITY} oc ON oc.serviceoffering_id = o.id"
                f" JOIN {CAPABILITY} cap ON cap.id = oc.capability_id WHERE o.is_active = %s{in_category}"
                " GROUP BY oc.capability_id",
                [*params, True, *categories],
            )
            capability = {ref.capability_slugs[pk]: n for pk, n in cursor.fetchall()}

            where, params = _where(query, ref, today, without="country")
            cursor.execute(f"SELECT v.hq_country, COUNT(*) FROM {VENDOR} v WHERE {where} GROUP BY v.hq_country", params)
            country = dict(cursor.fetchall())

            where, params = _where(query, ref, today, without="site_country")
            cursor.execute(
                f"{_hits(where)} SELECT s.country, COUNT(DISTINCT s.vendor_id) FROM hits"
                f" JOIN {SITE} s ON s.vendor_id = hits.id GROUP BY s.country",
                params,
            )
            site_country = dict(cursor.fetchall())

            # Regions through a VALUES list of (country, region) pairs, EU/EEA countries twice.
            where, params = _where(query, ref, today, without="region")
            pairs = ", ".join(["(%s, %s)"] * len(REGION_PAIRS))
            cursor.execute(
                f"{_hits(where)}, regions (country, region) AS (VALUES {pairs})"
                f" SELECT r.region, COUNT(DISTINCT s.vendor_id) FROM hits JOIN {SITE} s ON s.vendor_id = hits.id"
                " JOIN regions r ON r.country = s.country GROUP BY r.region",
                [*params, *(value for pair in REGION_PAIRS for value in pair)],
            )
            region = dict(cursor.fetchall())

            where, params = _where(query, ref, today, without="certificate")
            clause, clause_params = _certificate_clause(types, groups, today, skip="type")
            cursor.execute(
                f"{_hits(where)} SELECT ce.type, COUNT(DISTINCT ce.vendor_id) FROM hits"
                f" JOIN {CERTIFICATE} ce ON ce.vendor_id = hits.id WHERE {clause} GROUP BY ce.type",
                [*params, *clause_params],
            )
            certification = dict(cursor.fetchall())
            clause, clause_params = _certificate_clause(types, groups, today, skip="authority")
            cursor.execute(
                f"{_hits(where)} SELECT DISTINCT ce.vendor_id, ce.authority FROM hits"
                f" JOIN {CERTIFICATE} ce ON ce.vendor_id = hits.id WHERE {clause}",
                [*params, *clause_params],
            )
            authority = Counter(group for _, group in {(v, AUTHORITY_GROUP_OF[a]) for v, a in cursor.fetchall()})
        facets = {"kind": kind, "category": category, "capability": capability, "country": country}
        facets |= {"site_country": site_country, "region": region, "certification": certification}
        facets |= {"authority": authority}
        facets = {key: {value: n for value, n in counts.items() if n} for key, counts in facets.items()}
        return Outcome(rows[0][1] if rows else 0, [row[0] for row in rows], facets)

    return floor


# --- Measuring ------------------------------------------------------------------------------------------------


def _warm_up(timing: Timing, implementation, warmups: int) -> None:
    """Untimed rounds over every query; the last one counts SQL statements and keeps the answers."""
    for round_number in range(warmups):
        for query in QUERIES:
            if round_number < warmups - 1:
                implementation(query)
                continue
            with CaptureQueriesContext(connection) as captured:
                timing.outcomes[query] = implementation(query)
            timing.queries[query] = len(captured.captured_queries)
            timing.sql_ms[query] = sum(float(entry["time"]) * 1000 for entry in captured.captured_queries)
            if timing.name.startswith("real"):
                _remember_slowest(query, captured.captured_queries)


def measure_interleaved(implementations: list[tuple[str, Callable]], requests: int) -> list[Timing]:
    """Time ``requests`` requests of each implementation, round-robin over the queries and interleaved
    (request i of every implementation, in rotating order), so a busy moment on the machine hits all alike."""
    names = ", ".join(name.strip() for name, _ in implementations)
    print(f"measuring {names}, interleaved…", end=" ", flush=True)
    begun = time.perf_counter()
    timings = [Timing(name) for name, _ in implementations]
    for timing, (_, implementation) in zip(timings, implementations, strict=True):
        _warm_up(timing, implementation, warmups=2)
    pairs = list(zip(timings, [impl for _, impl in implementations], strict=True))
    for i in range(requests):
        query = QUERIES[i % len(QUERIES)]
        shift = i % len(pairs)
        for timing, implementation in pairs[shift:] + pairs[:shift]:
            begin = time.perf_counter()
            implementation(query)
            timing.samples.setdefault(query, []).append((time.perf_counter() - begin) * 1000)
    print(f"{time.perf_counter() - begun:.0f} s", flush=True)
    return timings


def measure_budgeted(name: str, implementation, requests: int, budget: float) -> Timing:
    """One warm-up round, then up to ``requests`` requests, stopping past ``budget`` seconds after a full round."""
    print(f"measuring {name}…", end=" ", flush=True)
    begun = time.perf_counter()
    timing = Timing(name)
    _warm_up(timing, implementation, warmups=1)
    started = time.perf_counter()
    for i in range(requests):
        query = QUERIES[i % len(QUERIES)]
        begin = time.perf_counter()
        implementation(query)
        timing.samples.setdefault(query, []).append((time.perf_counter() - begin) * 1000)
        if i + 1 >= len(QUERIES) and time.perf_counter() - started > budget:
            break
    print(f"{time.perf_counter() - begun:.0f} s", flush=True)
    return timing


SLOWEST: list[tuple[float, str, str]] = []


def _remember_slowest(query: Query, captured: list[dict]) -> None:
    for entry in captured:
        SLOWEST.append((float(entry["time"]) * 1000, query.label, entry["sql"]))


def _normalised(outcome: Outcome) -> dict[str, dict[str, int]]:
    """Facets comparable across implementations: every facet, every option with a vendor (no cut any more)."""
    return {key: dict(outcome.facets.get(key, {})) for key in FACETS}


def check_agreement(reference: Timing, others: list[Timing]) -> list[str]:
    """Warnings where implementations disagree on count, facets, or (between SQL ones) the page."""
    warnings = []
    for query in QUERIES:
        expected = reference.outcomes[query]
        for other in others:
            got = other.outcomes[query]
            if got.count != expected.count:
                warnings.append(f"{query.label}: {other.name} counts {got.count}, {reference.name} {expected.count}")
            if _normalised(got) != _normalised(expected):
                diff = {
                    key: (_normalised(got)[key], _normalised(expected)[key])
                    for key in FACETS
                    if _normalised(got)[key] != _normalised(expected)[key]
                }
                warnings.append(f"{query.label}: {other.name} facets differ from {reference.name}: {diff}")
            same_order_expected = connection.vendor != "postgresql" or not other.name.startswith("naive")
            if got.page != expected.page and same_order_expected:
                warnings.append(f"{query.label}: {other.name} page differs from {reference.name}")
    return warnings


def run(*, requests: int, vendors: int, offerings: int) -> None:
    engine = connection.vendor
    load_before = os.getloadavg()[0]
    print(
        f"directory search, q + facets, {len(QUERIES)} queries round-robin; vendors: {vendors}, "
        f"offerings: {offerings}; {engine}"
    )
    for query in QUERIES:
        print(f"  {query.label}")
    print(flush=True)

    real, selector, floor_timing = measure_interleaved(
        [
            ("real (GET /vendors/)", real_implementation()),
            ("  of which selector", selector_implementation()),
            ("raw SQL floor", floor_implementation()),
        ],
        requests,
    )
    # BENCH_NAIVE=0 leaves the naive version out: at 10 000 vendors its warm-up round alone takes minutes.
    with_naive = os.environ.get("BENCH_NAIVE", "1").strip() != "0"
    naive_timing = (
        measure_budgeted("naive (Python)", naive, requests, budget=NAIVE_BUDGET_SECONDS) if with_naive else None
    )
    print()

    print(
        f"1-minute load average: {load_before:.1f} before, {os.getloadavg()[0]:.1f} after, on {os.cpu_count()} CPUs"
        " (other processes on the machine show up in the p95)"
    )
    print()
    rows = [t for t in (real, selector, naive_timing, floor_timing) if t is not None]
    print(f"{'implementation':<22}{'requests':>9}{'median ms':>11}{'p95 ms':>10}{'queries/request':>17}")
    for timing in rows:
        print(
            f"{timing.name:<22}{len(timing.all_samples):>9}{timing.median:>11.1f}{timing.p95:>10.1f}"
            f"{timing.queries_per_request:>17.1f}"
        )
    print()
    print(
        f"real/floor:  {real.median / floor_timing.median:.1f}x median, {real.p95 / floor_timing.p95:.1f}x p95"
        "   (what the ORM, view, session and template add to the same SQL work)"
    )
    if naive_timing is not None:
        print(
            f"naive/real:  {naive_timing.median / real.median:.1f}x median, {naive_timing.p95 / real.p95:.1f}x p95"
            "   (what pushing the work into the database saves)"
        )
    goals = [
        (f"p95 {real.p95:.1f} ms <= {P95_GOAL_MS} ms", real.p95 <= P95_GOAL_MS),
        (f"median {real.median / floor_timing.median:.2f}x the floor <= {FLOOR_RATIO_GOAL}x",
         real.median <= FLOOR_RATIO_GOAL * floor_timing.median),
        (f"{min(real.queries.values())}–{max(real.queries.values())} queries per request < 14.6",
         max(real.queries.values()) < 14.6),
    ]  # fmt: skip
    print("goals (issue #11): " + "; ".join(f"{text}: {'met' if ok else 'NOT MET'}" for text, ok in goals))
    print()
    print(
        f"{'per query (median ms)':<66}{'results':>8}{'real':>9}{'real SQL':>10}{'selector':>10}{'floor':>8}{'naive':>9}"
    )
    for query in QUERIES:
        print(
            f"{query.label:<66}{real.outcomes[query].count:>8}"
            + "".join(
                # BENCH_REQUESTS below the number of queries times some queries not at all: a dash, not a crash.
                f"{statistics.median(t.samples[query]):>{w}.1f}" if query in t.samples else f"{'-':>{w}}"
                for t, w in ((real, 9),)
            )
            + f"{real.sql_ms[query]:>10.1f}"
            + "".join(
                f"{statistics.median(t.samples[query]):>{w}.1f}" if query in t.samples else f"{'-':>{w}}"
                for t, w in ((selector, 10), (floor_timing, 8), (naive_timing or Timing("naive"), 9))
            )
        )
    print()
    print("real SQL: time inside SQL statements during one warm real request (ms granularity per statement).")
    print("slowest SQL statements of the real request (one warm request per query):")
    for ms, label, sql in sorted(SLOWEST, reverse=True)[:3]:
        print(f"  {ms:7.1f} ms  [{label}]  {sql[:220]}{'…' if len(sql) > 220 else ''}")
    print()
    warnings = check_agreement(floor_timing, [t for t in (real, selector, naive_timing) if t is not None])
    if warnings:
        for warning in warnings:
            print(f"WARNING: {warning}")
    else:
        print(f"agreement: all {len(QUERIES)} queries give the same count and facet counts in all implementations")
    if engine == "postgresql":
        print(
            "note: naive matches words as substrings and orders by a word score, not ts_rank, so its page order"
            " is not compared on PostgreSQL; counts and facets are."
        )
