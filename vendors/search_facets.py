"""Every facet count of the directory, and the total, in ONE SQL statement over the matching vendors.

A facet's counts are taken over the vendors that pass every *other* filter (so its options stay visible
when one is ticked). Instead of one query per facet, the statement:

1. builds ``hits``: the vendors passing the unfaceted filters (words, verified, changed since) and failing at
   most one faceted filter (one failing two counts in no facet), each with a
   boolean column per active faceted filter (``p_kind``, ``p_region``…; the ``Q`` conditions of
   ``VendorFilterSet.conditions()``, rendered by the ORM, so there is one definition of each filter), and
   for a sponsor's people ``is_qualified``. On PostgreSQL the CTE is MATERIALIZED: computed once;
2. joins each related table to the hits once, in a CTE of its own carrying the flags: ``ho`` (active
   offerings), ``hk`` (their capabilities), ``hs`` (site countries), ``hc`` (certificates valid on the day);
3. counts each facet over the rows whose other flags are all true, as branches of one UNION ALL;
4. adds the total (every flag true), which the paginator then takes instead of a COUNT of its own.

Rows are ``(facet, value, label, group, position, count)``; labels come from the joined tables
(categories, capabilities) or from Python (countries, regions, choices) in the selector.
"""

import re

from django.db import connection
from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet

from vendors.filtersets import AUTHORITY_GROUP_OF, AUTHORITY_GROUPS
from vendors.models import Capability, Certification, ServiceCategory, ServiceOffering, Site
from vendors.regions import COUNTRY_REGION, EU_EEA, EU_EEA_COUNTRIES

VENDOR_COLUMNS = ("id", "kind", "hq_country")
CODE = re.compile(r"^[A-Za-z0-9-]{1,40}$")


def _literals(values) -> str:
    """Quoted SQL literals of fixed codes from our own tables (ISO countries, authority slugs), checked."""
    values = sorted(values)
    assert all(CODE.match(v) for v in values), values
    return ", ".join(f"'{v}'" for v in values)


def _region_case(column: str) -> str:
    by_region: dict[str, list[str]] = {}
    for country, region in COUNTRY_REGION.items():
        by_region.setdefault(region, []).append(country)
    whens = " ".join(f"WHEN {column} IN ({_literals(c)}) THEN '{r}'" for r, c in sorted(by_region.items()))
    return f"CASE {whens} ELSE '' END"


def _authority_case(column: str) -> str:
    grouped = {a: g for a, g in AUTHORITY_GROUP_OF.items() if a != g}
    whens = " ".join(f"WHEN {column} = '{a}' THEN '{g}'" for a, g in sorted(grouped.items()))
    return f"CASE {whens} ELSE {column} END" if whens else column


def facet_rows(
    base: QuerySet,
    conditions: dict[str, Q],
    *,
    certificate_terms: tuple[list[str], list[str], object],
    categories: list[int],
    qualified: Q | None,
) -> list[tuple]:
    """Run the statement; ``base`` is the vendors after the unfaceted filters, ``conditions`` the active
    faceted ones (key → Q), ``qualified`` the user's qualification condition (sponsors' people) or None."""
    flags = {f"p_{key}": ExpressionWrapper(q, output_field=BooleanField()) for key, q in conditions.items()}
    if qualified is not None:
        flags["is_qualified"] = ExpressionWrapper(qualified, output_field=BooleanField())
    hits_sql, hits_params = base.order_by().annotate(**flags).values(*VENDOR_COLUMNS, *flags).query.sql_with_params()
    keys = list(conditions)

    def others(*facet: str) -> str:
        return " AND ".join(f"h.p_{k}" for k in keys if k not in facet) or "1 = 1"

    types, groups, day = certificate_terms
    day = connection.ops.adapt_datefield_value(day)
    offering, category = ServiceOffering._meta.db_table, ServiceCategory._meta.db_table
    capability, link = Capability._meta.db_table, ServiceOffering.capabilities.through._meta.db_table
    site, certificate = Site._meta.db_table, Certification._meta.db_table
    materialized = "MATERIALIZED " if connection.vendor == "postgresql" else ""

    # Each related table is joined to the hits once, in its own CTE (offerings, sites, valid certificates),
    # and every facet that needs it reads that CTE: one hash of 50 000 offerings instead of two, and so on.
    flag_columns = "".join(f", h.p_{k}" for k in keys) + (", h.is_qualified" if qualified is not None else "")
    # Only the rows some facet reads: a vendor failing two filters counts nowhere, an offering row only
    # matters to a vendor passing every filter but category or capability, and so on.
    ctes = [
        (f"ho AS {materialized}(SELECT h.id, o.id AS offering_id, o.category_id{flag_columns} FROM hits h"
         f" JOIN {offering} o ON o.vendor_id = h.id WHERE o.is_active = %s"
         f" AND ({others('category')} OR {others('capability')}))", [True]),
        # Capabilities of those offerings, through the link table's index (not a hash of all its rows).
        (f"hk AS {materialized}(SELECT h.id, oc.capability_id FROM ho h"
         f" JOIN {link} oc ON oc.serviceoffering_id = h.offering_id WHERE {others('capability')})", []),
        (f"hs AS {materialized}(SELECT DISTINCT h.id, s.country{flag_columns} FROM hits h"
         f" JOIN {site} s ON s.vendor_id = h.id WHERE {others('site_country')} OR {others('region')})", []),
        (f"hc AS {materialized}(SELECT DISTINCT h.id, ce.type, ce.authority{flag_columns} FROM hits h"
         f" JOIN {certificate} ce ON ce.vendor_id = h.id WHERE (ce.expires_on IS NULL OR ce.expires_on >= %s)"
         f" AND {others('certificate')})", [day]),
    ]  # fmt: skip
    branches: list[tuple[str, list]] = [
        (f"SELECT 'total', '', '', '', 0, COUNT(*) FROM hits h WHERE {others()}", []),
        (f"SELECT 'kind', h.kind, '', '', 0, COUNT(*) FROM hits h WHERE {others('kind')} GROUP BY h.kind", []),
        (
            f"SELECT 'country', h.hq_country, '', '', 0, COUNT(*) FROM hits h WHERE {others('country')}"
            " GROUP BY h.hq_country",
            [],
        ),
        # One offering per vendor and category, one category per capability: COUNT(*) counts vendors.
        (
            f"SELECT 'category', c.code, c.name, '', c.position, COUNT(*) FROM ho h"
            f" JOIN {category} c ON c.id = h.category_id WHERE {others('category')} GROUP BY c.code, c.name, c.position",
            [],
        ),
    ]
    in_categories = f" AND cap.category_id IN ({', '.join(['%s'] * len(categories))})" if categories else ""
    branches.append(
        (
            f"SELECT 'capability', cap.slug, cap.name, c.name, c.position, COUNT(*) FROM hk h"
            f" JOIN {capability} cap ON cap.id = h.capability_id JOIN {category} c ON c.id = cap.category_id"
            f" WHERE 1 = 1{in_categories} GROUP BY cap.slug, cap.name, c.name, c.position",
            [*categories],
        )
    )
    branches.append(
        (
            f"SELECT 'site_country', h.country, '', '', 0, COUNT(*) FROM hs h WHERE {others('site_country')}"
            " GROUP BY h.country",
            [],
        )
    )
    region = _region_case("h.country")
    branches.append(
        (
            f"SELECT 'region', {region}, '', '', 0, COUNT(DISTINCT h.id) FROM hs h WHERE {others('region')}"
            f" GROUP BY {region}",
            [],
        )
    )
    branches.append(
        (
            f"SELECT 'region', '{EU_EEA}', '', '', 0, COUNT(DISTINCT h.id) FROM hs h"
            f" WHERE {others('region')} AND h.country IN ({_literals(EU_EEA_COUNTRIES)})",
            [],
        )
    )
    # Type and authority are held on one certificate: each facet keeps the other's choice (and the date).
    authorities = [a for g in groups for a in AUTHORITY_GROUPS[g][1]]
    by_authority = f" AND h.authority IN ({_literals(authorities)})" if authorities else ""
    branches.append(
        (
            f"SELECT 'certification', h.type, '', '', 0, COUNT(DISTINCT h.id) FROM hc h"
            f" WHERE {others('certificate')}{by_authority} GROUP BY h.type",
            [],
        )
    )
    authority = _authority_case("h.authority")
    by_type = f" AND h.type IN ({', '.join(['%s'] * len(types))})" if types else ""
    branches.append(
        (
            f"SELECT 'authority', {authority}, '', '', 0, COUNT(DISTINCT h.id) FROM hc h"
            f" WHERE {others('certificate')}{by_type} GROUP BY {authority}",
            [*types],
        )
    )
    if qualified is not None:
        branches.append(
            (
                f"SELECT 'qualified', 'true', '', '', 0, COUNT(*) FROM hits h WHERE {others('qualified')} AND h.is_qualified",
                [],
            )
        )
    failing = " + ".join(f"CASE WHEN h.p_{k} THEN 0 ELSE 1 END" for k in keys)
    hits = f"hits AS {materialized}({hits_sql})"
    if len(keys) >= 2:
        hits = f"candidates AS ({hits_sql}), hits AS {materialized}(SELECT * FROM candidates h WHERE {failing} <= 1)"
    sql = f"WITH {hits}, " + ", ".join(c for c, _ in ctes) + " " + " UNION ALL ".join(b for b, _ in branches)
    params = [*hits_params, *(p for _, ps in ctes for p in ps), *(p for _, ps in branches for p in ps)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
