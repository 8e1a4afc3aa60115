"""The directory's second pass: where the work is done, certificates by authority and date, facets, synonyms,
facet counts from the facet index."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_countries import countries

from vendors import demo
from vendors.models import Capability, Certification, ServiceOffering, Vendor
from vendors.regions import EU_EEA, EU_EEA_COUNTRIES, REGION_CHOICES, REGION_COUNTRIES, region_countries, regions_of
from vendors.search_synonyms import search_variants

pytestmark = pytest.mark.django_db

ALICE_SEARCH = {
    "kind": "cmo",
    "capability": "sterile-fill-finish",
    "certification": "gmp",
    "authority": "ema-eu",
    "region": "eu-eea",
}


@pytest.fixture
def directory(personas):
    demo.seed(generated=12)
    return personas


def slugs(response):
    return {v.slug for v in response.context["page"].object_list}


def facet(response, key):
    return {f.value: f.count for f in response.context["result"].facets[key]}


# --- regions -----------------------------------------------------------------------------------------------


def test_every_country_django_countries_knows_is_in_exactly_one_region():
    known = {country.code for country in countries}
    homes = {code: [region for region, members in REGION_COUNTRIES.items() if code in members] for code in known}
    assert {code: found for code, found in homes.items() if len(found) != 1} == {}
    assert set().union(*REGION_COUNTRIES.values()) == known  # no code that django-countries does not know
    assert known >= EU_EEA_COUNTRIES and {"DE", "IE", "NO", "IS", "LI"} <= EU_EEA_COUNTRIES
    assert not {"GB", "CH", "US", "CN"} & EU_EEA_COUNTRIES
    assert (
        regions_of("ES") == ["europe", EU_EEA]
        and regions_of("GB") == ["europe"]
        and regions_of("MX") == ["latin-america"]
    )
    assert {code for code, _ in REGION_CHOICES} == {*REGION_COUNTRIES, EU_EEA}


# --- where the work is done ----------------------------------------------------------------------------------


def test_a_vendor_headquartered_outside_europe_is_found_by_its_european_site(directory, browser_client_for):
    client = browser_client_for(directory.sponsor_a_admin)
    assert "cedar-biopharma" not in slugs(client.get("/vendors/", {"country": "IE", "page_size": 100}))  # HQ: China
    by_site = client.get("/vendors/", {"site_country": "IE", "page_size": 100})
    assert {"cedar-biopharma", "orbital-cdmo"} <= slugs(by_site)
    for region in ("eu-eea", "europe"):
        assert "cedar-biopharma" in slugs(client.get("/vendors/", {"region": region, "page_size": 100}))
    assert "cedar-biopharma" in slugs(client.get("/vendors/", {"region": "asia-pacific", "page_size": 100}))
    assert "cedar-biopharma" not in slugs(client.get("/vendors/", {"region": "north-america", "page_size": 100}))
    # The card names the matching site (Limerick), not the Chinese one; its link carries the filter.
    response = client.get("/vendors/", {"region": "eu-eea", "q": "cedar"})
    card = response.text[response.text.index("Cedar BioPharma") :]
    matching = card[card.index('data-testid="matching-sites"') :][:300]
    assert "Limerick, Ireland" in matching and "Suzhou" not in matching
    assert "/vendors/cedar-biopharma/?region=eu-eea" in response.text
    profile = client.get("/vendors/cedar-biopharma/", {"region": "eu-eea"})
    marks = [s for s in profile.context["sites"] if s.match_reason]
    assert [s.city for s in marks] == ["Limerick"] and marks[0].match_reason == "EU/EEA"


def test_site_facets_count_vendors_not_sites(directory, browser_client_for):
    client = browser_client_for(directory.sponsor_a_admin)
    response = client.get("/vendors/", {"kind": "cmo"})
    cmos = Vendor.objects.filter(kind="cmo")
    expected_eu = cmos.filter(sites__country__in=sorted(EU_EEA_COUNTRIES)).distinct().count()
    expected_de = cmos.filter(sites__country="DE").distinct().count()  # Helix has two German sites
    assert facet(response, "region")[EU_EEA] == expected_eu
    assert facet(response, "site_country")["DE"] == expected_de
    europe = cmos.filter(sites__country__in=sorted(region_countries(["europe"]))).distinct().count()
    assert facet(response, "region")["europe"] == europe
    # The region facet ignores its own filter and follows the others.
    ticked = client.get("/vendors/", {"kind": "cmo", "region": "north-america"})
    assert facet(ticked, "region")[EU_EEA] == expected_eu
    assert facet(ticked, "kind")["cmo"] == cmos.filter(sites__country__in=["US", "CA"]).distinct().count()


# --- certificates that mean something ----------------------------------------------------------------------


def test_gmp_from_fda_alone_does_not_satisfy_gmp_by_ema_eu(directory, browser_client_for):
    client = browser_client_for(directory.sponsor_a_admin)
    any_gmp = slugs(client.get("/vendors/", {"certification": "gmp", "page_size": 100}))
    eu_gmp = slugs(client.get("/vendors/", {"certification": "gmp", "authority": "ema-eu", "page_size": 100}))
    fda_gmp = slugs(client.get("/vendors/", {"certification": "gmp", "authority": "fda", "page_size": 100}))
    assert "mesa-parenterals" in any_gmp and "mesa-parenterals" in fda_gmp
    assert "mesa-parenterals" not in eu_gmp  # GMP by FDA only
    assert {"cedar-biopharma", "helix-manufacturing", "rheinland-sterile"} <= eu_gmp
    # Type and authority are held by ONE certificate: Northwind's MHRA GCP and ISO body ISO 27001 are no
    # "GCP by an ISO body".
    assert "northwind-clinical" not in slugs(
        client.get("/vendors/", {"certification": "gcp", "authority": "iso-body", "page_size": 100})
    )


def test_an_expired_certificate_does_not_satisfy_a_filter_on_today(directory, browser_client_for):
    today = timezone.localdate()
    lyon = Vendor.objects.get(slug="lyon-aseptic")
    eu = Certification.objects.get(vendor=lyon, type="gmp", authority="national")
    eu.expires_on = today - timedelta(days=1)
    eu.save()
    client = browser_client_for(directory.sponsor_a_admin)
    params = {"certification": "gmp", "authority": "ema-eu", "page_size": 100}
    assert "lyon-aseptic" not in slugs(client.get("/vendors/", params))
    assert "lyon-aseptic" in slugs(client.get("/vendors/", {"certification": "gmp", "page_size": 100}))  # FDA's
    # On a day it was still valid, it counts; on a day past another's expiry, that one does not.
    assert "lyon-aseptic" in slugs(client.get("/vendors/", {**params, "valid_on": str(today - timedelta(days=2))}))
    cedar_eu = Certification.objects.get(vendor__slug="cedar-biopharma", authority="national")
    later = client.get("/vendors/", {**params, "valid_on": str(cedar_eu.expires_on + timedelta(days=1))})
    assert "cedar-biopharma" not in slugs(later)
    chips = [label for _, _, label in later.context["active_filters"]]
    assert f"Certificates valid on {cedar_eu.expires_on + timedelta(days=1)}" in chips


def test_cards_show_authority_and_expiry(directory, browser_client_for):
    response = browser_client_for(directory.sponsor_a_admin).get("/vendors/", {"q": "cedar"})
    cedar_eu = Certification.objects.get(vendor__slug="cedar-biopharma", authority="national")
    assert f"GMP · EU · to {cedar_eu.expires_on:%b %Y}" in response.text
    assert "GMP · NMPA · to" in response.text


def test_alice_finds_eu_gmp_sterile_fill_finish_cmos_with_an_eu_site_in_one_search(directory, browser_client_for):
    response = browser_client_for(directory.sponsor_a_admin).get("/vendors/", {**ALICE_SEARCH, "page_size": 100})
    found = slugs(response)
    assert {"cedar-biopharma", "helix-manufacturing", "rheinland-sterile", "lyon-aseptic"} <= found
    assert not {"mesa-parenterals", "bavaria-oral-solids", "orbital-cdmo"} & found
    for vendor in response.context["page"].object_list:
        assert vendor.kind == "cmo" and vendor.matching_sites
    assert response.context["page"].paginator.count == len(found)


# --- facets a person can use ---------------------------------------------------------------------------------


def test_every_capability_with_vendors_is_offered_grouped_by_category_kind_first(directory, browser_client_for):
    response = browser_client_for(directory.sponsor_a_admin).get("/vendors/")
    offered = set(Capability.objects.filter(offerings__is_active=True).values_list("slug", flat=True).distinct())
    shown = response.context["result"].facets["capability"]
    assert {f.value for f in shown} == offered and "sterile-fill-finish" in offered
    assert all(f.count > 0 for f in shown)
    groups = [f.group for f in shown]
    assert groups == sorted(groups, key=lambda g: groups.index(g)) and "Finished Dosage Forms" in groups
    assert response.context["facet_groups"][0][0] == "kind"
    assert 'data-facet-search="Capability"' in response.text


def test_options_with_no_vendor_are_hidden_unless_ticked(directory, browser_client_for):
    client = browser_client_for(directory.sponsor_a_admin)
    response = client.get("/vendors/", {"kind": "cro", "site_country": "BR"})
    assert "finished-dosage-forms" not in facet(response, "category")  # no CRO makes doses
    assert facet(response, "site_country")["BR"] == 0 or "BR" in facet(response, "site_country")
    ticked = client.get("/vendors/", {"kind": "cro", "category": "finished-dosage-forms"})
    options = {f.value: f for f in ticked.context["result"].facets["category"]}
    assert options["finished-dosage-forms"].count == 0 and options["finished-dosage-forms"].selected


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("lyophilization", "helix-manufacturing"),
        ("freeze-drying", "lyon-aseptic"),
        ("fill and finish", "rheinland-sterile"),
        ("fill/finish", "helix-manufacturing"),
        ("active pharmaceutical ingredient", "orbital-cdmo"),
        ("serialization", "helix-manufacturing"),
        ("API", "cedar-biopharma"),  # "drug substance" in Cedar's site text
    ],
)
def test_synonyms_and_spelling_variants_are_found(directory, browser_client_for, words, expected):
    response = browser_client_for(directory.sponsor_a_admin).get("/vendors/", {"q": words, "page_size": 100})
    assert expected in slugs(response), (words, connection.vendor)


def test_synonyms_are_whole_words():
    assert "API" not in search_variants("Rapid therapies, capital projects")
    assert "lyophilization" in search_variants("Lyophilisation of vials")
    assert "fill-finish" in search_variants("aseptic fill and finish")


# --- queries ------------------------------------------------------------------------------------------------

FILTERS_ON = {
    "q": "sterile",
    "kind": ["cmo", "cdmo"],
    "category": "finished-dosage-forms",
    "capability": "sterile-fill-finish",
    "region": "eu-eea",
    "site_country": ["DE", "IE"],
    "certification": "gmp",
    "authority": "ema-eu",
}


def page_queries(client, params) -> int:
    client.get("/vendors/", params)  # warm caches (content types, sessions)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/vendors/", params)
    assert response.status_code == 200 and response.context["result"].is_valid
    # Cards with offerings, certificates and sites to prefetch, at both sizes.
    assert {"helix-manufacturing", "cedar-biopharma"} <= slugs(response) or len(slugs(response)) == 50
    return len(queries)


@pytest.mark.parametrize("params", [{}, FILTERS_ON], ids=["no filter", "filters on"])
def test_directory_queries_do_not_grow_with_vendors(directory, browser_client_for, params):
    demo.bulk_generate(5, offerings_per_vendor=8)
    client = browser_client_for(directory.sponsor_a_admin)
    few = page_queries(client, {**params, "page_size": 50})
    demo.bulk_generate(45, offerings_per_vendor=8)
    many = page_queries(client, {**params, "page_size": 50})
    assert ServiceOffering.objects.count() > 150
    assert few == many, (few, many)
    # Session, user, the codes of category and capability checked, the facet index's revision, the vendors
    # matching the words (with our qualification), page, offerings, certificates, sites; the layout's
    # (sponsor, shortlists, unread notifications, open alerts).
    assert many <= 14, many


def test_facets_and_total_come_from_the_index_not_from_counting_queries(directory, browser_client_for, api_client_for):
    client = browser_client_for(directory.sponsor_a_admin)
    client.get("/vendors/", FILTERS_ON)  # builds the facet index
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/vendors/", FILTERS_ON)
    directory_statements = [
        q["sql"]
        for q in queries.captured_queries
        if '"vendors_' in q["sql"] and "vendors_directorychange" not in q["sql"]
    ]
    # No statement counts or groups vendors, offerings, sites or certificates: the bitmaps do (the paginator
    # takes the total from them too), and an index already built reads no capability link.
    assert not [sql for sql in directory_statements if "COUNT(" in sql or "GROUP BY" in sql]
    assert not [sql for sql in directory_statements if "vendors_serviceoffering_capabilities" in sql]
    api = api_client_for(directory.sponsor_a_admin).get("/api/v1/vendors/", {**FILTERS_ON, "page_size": 100})
    assert response.context["page"].paginator.count == api.json()["count"] > 0  # the API filters in SQL
    assert slugs(response) == {row["slug"] for row in api.json()["results"]}


# --- API ----------------------------------------------------------------------------------------------------


def test_api_filters_by_site_region_and_certificate_authority(directory, api_client_for):
    client = api_client_for(directory.sponsor_a_admin)
    response = client.get("/api/v1/vendors/", {**ALICE_SEARCH, "page_size": 100})
    assert response.status_code == 200
    found = {row["slug"] for row in response.json()["results"]}
    assert "cedar-biopharma" in found and "mesa-parenterals" not in found
    by_site = client.get("/api/v1/vendors/", {"site_country": "IE", "page_size": 100}).json()["results"]
    assert "cedar-biopharma" in {row["slug"] for row in by_site}
    for bad in ({"region": "atlantis"}, {"authority": "nobody"}, {"valid_on": "2026-02-31"}, {"site_country": "XX"}):
        refused = client.get("/api/v1/vendors/", bad)
        assert refused.status_code == 400 and set(bad) <= set(refused.json()), bad
