"""Demo vendors: the three demo organisations, a few hand-made ones, and deterministic generated ones.

``vendor_specs(n)`` describes vendors as plain data (same output for the same n); ``seed()`` writes
them idempotently for ``seed_demo``; ``bulk_generate()`` writes many fast for benchmarks.
"""

import random
from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone
from django.utils.text import slugify

from vendors.catalogue_data import ensure_catalogue
from vendors.models import Capability, Certification, ServiceCategory, ServiceOffering, Site, Vendor
from vendors.services import vendor_search_refresh

CITIES = {
    "US": ["Boston", "Raleigh", "San Diego", "Princeton"], "GB": ["Cambridge", "Oxford", "Edinburgh", "Macclesfield"],
    "DE": ["Munich", "Frankfurt", "Berlin", "Ludwigshafen"], "FR": ["Lyon", "Paris", "Strasbourg"],
    "IE": ["Cork", "Dublin", "Limerick"], "CH": ["Basel", "Visp", "Geneva"], "NL": ["Leiden", "Utrecht"],
    "BE": ["Ghent", "Brussels"], "IT": ["Milan", "Siena"], "ES": ["Barcelona", "Madrid"], "SE": ["Uppsala", "Lund"],
    "DK": ["Copenhagen", "Kalundborg"], "PL": ["Warsaw", "Krakow"], "IN": ["Hyderabad", "Ahmedabad", "Bengaluru"],
    "CN": ["Shanghai", "Suzhou", "Wuxi"], "JP": ["Osaka", "Tokyo"], "KR": ["Incheon", "Seoul"],
    "SG": ["Singapore"], "CA": ["Toronto", "Montreal"], "AU": ["Melbourne", "Sydney"], "IL": ["Rehovot"],
    "BR": ["São Paulo"],
}  # fmt: skip
AUTHORITY_BY_COUNTRY = {"US": "fda", "GB": "mhra", "JP": "pmda", "CA": "health-canada", "AU": "tga", "CH": "swissmedic",
                        "CN": "nmpa", "IN": "cdsco"}  # fmt: skip
EU = {"DE", "FR", "IE", "NL", "BE", "IT", "ES", "SE", "DK", "PL"}
PREFIXES = ["Aurora", "Bayside", "Cobalt", "Delta", "Evergreen", "Fjord", "Granite", "Harbor", "Iris", "Juniper",
            "Keystone", "Lumen", "Meridian", "Nova", "Oakridge", "Pinnacle", "Quantum", "Riverton", "Summit", "Tidal",
            "Unity", "Vantage", "Westbrook", "Xenon", "Yellowstone", "Zenith", "Alder", "Beacon", "Cedar", "Dune"]  # fmt: skip
SUFFIXES = {"cro": ["Clinical", "Research", "Trials", "Clinical Services"],
            "cmo": ["Manufacturing", "Pharma Services", "Sterile Solutions", "Fine Chemicals"],
            "cdmo": ["Biologics", "CDMO", "Pharma Solutions", "Life Sciences"]}  # fmt: skip
CATEGORY_BLURBS = {
    "clinical-trials": "Runs {caps} trials with experienced site monitoring teams.",
    "data-management": "Delivers {caps} for regulatory-grade datasets.",
    "regulatory-affairs": "Prepares {caps} submissions and agency interactions.",
    "project-management": "Provides {caps} for sponsors of every size.",
    "api-production": "Produces APIs: {caps}.",
    "finished-dosage-forms": "Manufactures finished doses: {caps}.",
    "packaging": "Packages and labels: {caps}.",
    "quality-control": "QC laboratory services: {caps}.",
}
CRO_CATEGORIES = ["clinical-trials", "data-management", "regulatory-affairs", "project-management"]
CMO_CATEGORIES = ["api-production", "finished-dosage-forms", "packaging", "quality-control"]

# Hand-made vendors: the demo organisations and those a newcomer's first searches should find.
HANDMADE = [
    {"slug": "northwind-clinical", "name": "Northwind Clinical", "kind": "cro", "hq_country": "GB", "founded_year": 2004,
     "headcount_band": "1000-4999", "website": "https://northwind.example",
     "description": "Full-service CRO for Phase I–III trials in oncology and CNS, with in-house data management and biostatistics.",
     "offerings": {"clinical-trials": ["Phase I", "Phase II", "Phase III", "Oncology", "CNS", "Site monitoring"],
                   "data-management": ["EDC build", "CDISC SDTM/ADaM", "Biostatistics"],
                   "project-management": ["Full-service study management", "Risk-based monitoring plans"]},
     "sites": [("Cambridge HQ", "Cambridge", "GB", "Clinical operations and data management"),
               ("Boston office", "Boston", "US", "US clinical operations")],
     "certs": [("gcp", "mhra", 700), ("iso-27001", "iso-body", 400)]},
    {"slug": "helix-manufacturing", "name": "Helix Manufacturing", "kind": "cmo", "hq_country": "DE", "founded_year": 1987,
     "headcount_band": "250-999", "website": "https://helix.example",
     "description": "GMP manufacturing of oral solid doses and sterile injectables, including aseptic fill-finish and lyophilisation.",
     "offerings": {"finished-dosage-forms": ["Sterile fill-finish", "Lyophilisation", "Injectables", "Tablets"],
                   "packaging": ["Vials", "Prefilled syringes", "Serialisation"],
                   "quality-control": ["Release testing", "Microbiology"]},
     "sites": [("Munich plant", "Munich", "DE", "Aseptic fill-finish lines, lyophilisers, vial and syringe filling"),
               ("Frankfurt OSD plant", "Frankfurt", "DE", "Tablets and capsules")],
     "certs": [("gmp", "national", 500), ("gmp", "fda", 60), ("iso-9001", "iso-body", -30)]},
    {"slug": "orbital-cdmo", "name": "Orbital CDMO", "kind": "cdmo", "hq_country": "IE", "founded_year": 2011,
     "headcount_band": "250-999", "website": "https://orbital.example",
     "description": "Integrated CDMO: small-molecule and HPAPI development, scale-up and commercial supply, with QC release testing.",
     "offerings": {"api-production": ["Small molecule", "HPAPI", "Kilo-lab scale", "Commercial scale"],
                   "quality-control": ["Release testing", "ICH stability studies", "Method validation"],
                   "regulatory-affairs": ["IND/CTA", "eCTD publishing"]},
     "sites": [("Cork API plant", "Cork", "IE", "HPAPI containment suites, 6,000 L reactor train")],
     # Its FDA GMP certificate expires within 90 days: Orbital and Acme (active contracts with it) are alerted.
     "certs": [("gmp", "national", 800), ("gmp", "fda", 75), ("iso-14001", "iso-body", 200)]},
    {"slug": "rheinland-sterile", "name": "Rheinland Sterile Solutions", "kind": "cmo", "hq_country": "DE", "founded_year": 1999,
     "headcount_band": "250-999", "website": "https://rheinland-sterile.example",
     "description": "Specialist in sterile fill-finish of biologics in vials, cartridges and prefilled syringes, from clinical to commercial batches.",
     "offerings": {"finished-dosage-forms": ["Sterile fill-finish", "Injectables", "Lyophilisation"],
                   "packaging": ["Prefilled syringes", "Vials", "Cold chain"]},
     "sites": [("Ludwigshafen fill-finish centre", "Ludwigshafen", "DE", "Isolator fill-finish lines for vials and syringes")],
     "certs": [("gmp", "national", 600), ("gmp", "fda", 450)]},
    {"slug": "bavaria-oral-solids", "name": "Bavaria Oral Solids", "kind": "cmo", "hq_country": "DE", "founded_year": 1972,
     "headcount_band": "50-249", "website": "https://bavaria-osd.example",
     "description": "Tablets, capsules and oral liquids for clinical and commercial supply. No sterile manufacturing.",
     "offerings": {"finished-dosage-forms": ["Tablets", "Capsules", "Oral liquids"], "packaging": ["Blister packs", "Bottles"]},
     "sites": [("Munich OSD", "Munich", "DE", "Granulation, compression, coating, encapsulation")],
     "certs": [("gmp", "national", 400)]},
    {"slug": "lyon-aseptic", "name": "Lyon Aseptic", "kind": "cmo", "hq_country": "FR", "founded_year": 2008,
     "headcount_band": "250-999", "website": "https://lyon-aseptic.example",
     "description": "Sterile fill-finish and lyophilisation of vaccines and biologics.",
     "offerings": {"finished-dosage-forms": ["Sterile fill-finish", "Lyophilisation", "Injectables"]},
     "sites": [("Lyon site", "Lyon", "FR", "Aseptic filling, freeze-drying")],
     "certs": [("gmp", "national", 30), ("gmp", "fda", 500)]},
    # Headquarters outside Europe, sterile work inside the EU: found by site country and region, not by HQ.
    {"slug": "cedar-biopharma", "name": "Cedar BioPharma", "kind": "cmo", "hq_country": "CN", "founded_year": 2002,
     "headcount_band": "1000-4999", "website": "https://cedar-biopharma.example",
     "description": "Biologics drug product manufacturer with aseptic fill and finish in Suzhou and in Limerick, Ireland.",
     "offerings": {"finished-dosage-forms": ["Sterile fill-finish", "Lyophilisation", "Injectables"],
                   "packaging": ["Vials", "Prefilled syringes"]},
     "sites": [("Suzhou plant", "Suzhou", "CN", "Drug substance and vial filling for the Chinese market"),
               ("Limerick fill-finish plant", "Limerick", "IE", "Isolator fill-finish and freeze-drying for EU supply")],
     "offering_sites": {"finished-dosage-forms": [0, 1], "packaging": [1]},
     "certs": [("gmp", "nmpa", 700), ("gmp", "national", 540, 1), ("gmp", "fda", 400, 1)]},
    # Sterile fill-finish in the US with an FDA GMP only: not an answer to "GMP by EMA/EU, site in the EU".
    {"slug": "mesa-parenterals", "name": "Mesa Parenterals", "kind": "cmo", "hq_country": "US", "founded_year": 2015,
     "headcount_band": "250-999", "website": "https://mesa-parenterals.example",
     "description": "Sterile fill-finish of clinical batches in vials and syringes.",
     "offerings": {"finished-dosage-forms": ["Sterile fill-finish", "Injectables"]},
     "sites": [("Raleigh plant", "Raleigh", "US", "Aseptic filling lines")],
     "certs": [("gmp", "fda", 500)]},
]  # fmt: skip


def _generated_spec(index: int, rng: random.Random, capability_names: dict[str, list[str]]) -> dict:
    kind = ["cro", "cmo", "cdmo"][index % 3]
    country = list(CITIES)[index % len(CITIES)]
    prefix = PREFIXES[index % len(PREFIXES)]
    suffix = SUFFIXES[kind][(index // len(PREFIXES)) % len(SUFFIXES[kind])]
    cycle = index // (len(PREFIXES) * len(SUFFIXES[kind]))
    name = f"{prefix} {suffix}" + (f" {cycle + 1}" if cycle else "")
    pool = {"cro": CRO_CATEGORIES, "cmo": CMO_CATEGORIES, "cdmo": CRO_CATEGORIES[:2] + CMO_CATEGORIES}[kind]
    offerings = {}
    for code in rng.sample(pool, k=min(len(pool), rng.randint(2, 3))):
        offerings[code] = rng.sample(capability_names[code], k=min(len(capability_names[code]), rng.randint(2, 4)))
    cities = CITIES[country]
    sites = [(f"{cities[0]} site", cities[0], country, "Headquarters and main operations")]
    if rng.random() < 0.4:
        other = rng.choice(list(CITIES))
        sites.append((f"{CITIES[other][-1]} site", CITIES[other][-1], other, "Satellite operations"))
    authority = AUTHORITY_BY_COUNTRY.get(country, "national" if country in EU else "other")
    certs = []
    if kind in ("cmo", "cdmo"):
        certs.append(("gmp", authority, rng.choice([900, 700, 500, 300, 120, 45, -20])))
        if rng.random() < 0.5:
            certs.append(("gmp", "fda", rng.choice([800, 400, 60, -90])))
    if kind in ("cro", "cdmo"):
        certs.append(("gcp", authority, rng.choice([900, 600, 200, 80, -10])))
    if rng.random() < 0.6:
        certs.append((rng.choice(["iso-9001", "iso-27001", "iso-13485"]), "iso-body", rng.choice([1000, 500, 30])))
    blurbs = [CATEGORY_BLURBS[code].format(caps=", ".join(caps)) for code, caps in offerings.items()]
    return {
        "slug": slugify(name), "name": name, "kind": kind, "hq_country": country,
        "founded_year": 1950 + (index * 7) % 73, "headcount_band": ["1-49", "50-249", "250-999", "1000-4999", "5000+"][index % 5],
        "website": f"https://{slugify(name)}.example", "description": " ".join(blurbs), "offerings": offerings,
        "sites": sites, "certs": certs,
    }  # fmt: skip


def vendor_specs(generated: int, seed: int = 42) -> list[dict]:
    rng = random.Random(seed)
    capability_names = {}
    for code, name in Capability.objects.values_list("category__code", "name").order_by("category__position", "name"):
        capability_names.setdefault(code, []).append(name)
    return HANDMADE + [_generated_spec(i, rng, capability_names) for i in range(generated)]


def _price_range(code: str, index: int) -> tuple[Decimal, Decimal, str]:
    low = Decimal(20_000 + (index % 17) * 15_000) * (5 if code in ("clinical-trials", "api-production") else 1)
    return low, low * 4, ["EUR", "USD", "GBP", "CHF"][index % 4]


# Demo vendors shown with the "Verified" badge: a CRO, two CMOs and a CDMO.
VERIFIED_DEMO_VENDORS = ("northwind-clinical", "helix-manufacturing", "orbital-cdmo", "lyon-aseptic")


def seed(generated: int = 60, today: date | None = None) -> dict[str, Vendor]:
    """Create or refresh the demo vendors (idempotent: keyed by slug; certificates by vendor, type, authority)."""
    today = today or date.today()
    ensure_catalogue(ServiceCategory, Capability)
    categories = {c.code: c for c in ServiceCategory.objects.all()}
    capabilities = {(c.category_id, c.name): c for c in Capability.objects.all()}
    vendors = {}
    for index, spec in enumerate(vendor_specs(generated)):
        fields = {k: v for k, v in spec.items() if k not in ("slug", "offerings", "sites", "certs", "offering_sites")}
        vendor, _ = Vendor.objects.update_or_create(slug=spec["slug"], defaults=fields)
        vendors[vendor.slug] = vendor
        sites = []
        for site_name, city, country, activities in spec["sites"]:
            site, _ = Site.objects.update_or_create(
                vendor=vendor, name=site_name, defaults={"city": city, "country": country, "activities": activities}
            )
            sites.append(site)
        for code, capability_names in spec["offerings"].items():
            category = categories[code]
            low, high, currency = _price_range(code, index)
            offering, _ = ServiceOffering.objects.update_or_create(
                vendor=vendor, category=category,
                defaults={"description": CATEGORY_BLURBS[code].format(caps=", ".join(capability_names)),
                          "lead_time_weeks": 4 + (index % 20), "price_min": low, "price_max": high, "currency": currency},
            )  # fmt: skip
            offering.capabilities.set([capabilities[(category.pk, n)] for n in capability_names])
            offering.sites.set([sites[i] for i in spec.get("offering_sites", {}).get(code, [0])])
        for cert_type, authority, days_left, *site_index in spec["certs"]:  # (type, authority, days[, site])
            expires = today + timedelta(days=days_left)
            Certification.objects.update_or_create(
                vendor=vendor, type=cert_type, authority=authority,
                defaults={"site": sites[site_index[0] if site_index else 0], "number": f"{cert_type.upper()}-{vendor.pk:04d}-{authority.upper()}",
                          "issued_on": expires - timedelta(days=3 * 365), "expires_on": expires},
            )  # fmt: skip
    # Platform staff have checked a few (what "Verified" means: /vendors/about/verified/); the first date stays.
    Vendor.objects.filter(slug__in=VERIFIED_DEMO_VENDORS, verified_at__isnull=True).update(
        verified_at=timezone.now() - timedelta(days=40)
    )
    vendor_search_refresh([v.pk for v in vendors.values()])
    return vendors


def bulk_generate(vendors: int, offerings_per_vendor: int = 10, seed: int = 7) -> None:
    """Write many vendors fast (bulk inserts) for benchmarks: ``vendors`` × ``offerings_per_vendor`` offerings.

    CDMOs may offer all eight categories, so up to 8 offerings each; the rest get a second "line"
    by repeating categories across the kinds' pools is not allowed (one offering per category), so
    ``offerings_per_vendor`` is capped at 8 and the total is reported by the caller.
    """
    rng = random.Random(seed)
    categories = list(ServiceCategory.objects.all())
    capabilities_by_category = {}
    for capability in Capability.objects.all():
        capabilities_by_category.setdefault(capability.category_id, []).append(capability)
    countries = list(CITIES)
    start = Vendor.objects.count()
    batch = []
    for i in range(vendors):
        n = start + i
        kind = ["cro", "cmo", "cdmo"][n % 3]
        name = f"{PREFIXES[n % len(PREFIXES)]} {SUFFIXES[kind][n % 4]} {n}"
        batch.append(Vendor(name=name, slug=f"bench-{n}", kind=kind, hq_country=countries[n % len(countries)],
                            description=f"{name} serves sponsors worldwide.", founded_year=1950 + n % 70))  # fmt: skip
    Vendor.objects.bulk_create(batch, batch_size=2000)
    created = list(
        Vendor.objects.filter(slug__in=[v.slug for v in batch]).order_by("pk").values_list("pk", "kind", "hq_country")
    )
    sides = {"cro": "cro", "cmo": "cmo"}
    offerings, sites, certs = [], [], []
    today = date.today()
    for pk, kind, country in created:
        pool = [c for c in categories if kind == "cdmo" or c.side == sides[kind]]
        for category in rng.sample(pool, k=min(len(pool), offerings_per_vendor)):
            offerings.append(ServiceOffering(vendor_id=pk, category=category, description=f"{category.name} services",
                                             lead_time_weeks=rng.randint(2, 40)))  # fmt: skip
        sites.append(Site(vendor_id=pk, name="Main site", city=CITIES[country][0], country=country))
        if rng.random() < 0.35:  # a second site abroad: where the work is done is not only the headquarters
            other = rng.choice([c for c in countries if c != country])
            sites.append(Site(vendor_id=pk, name="Second site", city=CITIES[other][-1], country=other))
        # The authority of the headquarters' country (an EU national authority inside the EU), some GMPs by FDA.
        cert_type = rng.choice(["gmp", "gcp", "iso-9001"])
        home = (
            "iso-body"
            if cert_type == "iso-9001"
            else AUTHORITY_BY_COUNTRY.get(country, "national" if country in EU else "other")
        )
        for authority in [home] + (["fda"] if cert_type == "gmp" and home != "fda" and rng.random() < 0.4 else []):
            certs.append(Certification(vendor_id=pk, type=cert_type, authority=authority, issued_on=today - timedelta(days=900),
                                       expires_on=today + timedelta(days=rng.randint(-200, 900))))  # fmt: skip
    ServiceOffering.objects.bulk_create(offerings, batch_size=5000)
    Site.objects.bulk_create(sites, batch_size=5000)
    Certification.objects.bulk_create(certs, batch_size=5000)
    through = ServiceOffering.capabilities.through
    links = []
    new_offerings = ServiceOffering.objects.filter(vendor_id__in=[pk for pk, _, _ in created]).order_by("pk")
    for offering_id, category_id in new_offerings.values_list("pk", "category_id"):
        for capability in rng.sample(capabilities_by_category[category_id], k=2):
            links.append(through(serviceoffering_id=offering_id, capability_id=capability.pk))
    through.objects.bulk_create(links, batch_size=10000, ignore_conflicts=True)
    vendor_search_refresh([pk for pk, _, _ in created])
