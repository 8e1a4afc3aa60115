"""World regions for the directory's "where the work is done" filter: a fixed mapping of ISO 3166 countries.

Every country django-countries knows belongs to exactly one region (tests/test_directory_search.py checks it).
The regions follow how sourcing teams split the world (EMEA is split into Europe and Middle East & Africa):

- **Europe**: the EU and EEA, the UK, Switzerland, the Balkans, Ukraine, Belarus, Russia, Türkiye and the
  South Caucasus (Council of Europe members), the microstates and Crown dependencies.
- **North America**: the United States, Canada, Greenland, Bermuda, Saint Pierre and Miquelon, the US
  minor outlying islands. Mexico counts as Latin America.
- **Latin America & Caribbean**: Mexico, Central and South America, the Caribbean.
- **Asia-Pacific**: South, Central, East and South-East Asia, Australia, New Zealand and Oceania.
- **Middle East & Africa**: the Gulf, the Levant, Iran, Iraq and all of Africa.
- **Antarctica**: Antarctica and the uninhabited sub-Antarctic islands (so that every code has a home).

**EU/EEA** is an overlay, not a region of its own: the 27 EU member states, Iceland, Liechtenstein and
Norway, the EU's outermost regions that have their own ISO code (French Guiana, Guadeloupe, Martinique,
Réunion, Mayotte, Saint Martin) and the Åland Islands. A Spanish site is in both Europe and EU/EEA.
Filtering by ``eu-eea`` selects those countries; its facet counts vendors with a site in any of them.
"""

REGIONS: dict[str, tuple[str, str]] = {
    "europe": (
        "Europe",
        """
        AD AL AM AT AX AZ BA BE BG BY CH CY CZ DE DK EE ES FI FO FR GB GE GG GI GR HR HU IE IM IS IT JE
        LI LT LU LV MC MD ME MK MT NL NO PL PT RO RS RU SE SI SJ SK SM TR UA VA
    """,
    ),
    "north-america": ("North America", "BM CA GL PM UM US"),
    "latin-america": (
        "Latin America & Caribbean",
        """
        AG AI AR AW BB BL BO BQ BR BS BZ CL CO CR CU CW DM DO EC FK GD GF GP GT GY HN HT JM KN KY LC MF
        MQ MS MX NI PA PE PR PY SR SV SX TC TT UY VC VE VG VI
    """,
    ),
    "asia-pacific": (
        "Asia-Pacific",
        """
        AF AS AU BD BN BT CC CK CN CX FJ FM GU HK ID IN IO JP KG KH KI KP KR KZ LA LK MH MM MN MO MP MV MY
        NC NF NP NR NU NZ PF PG PH PK PN PW SB SG TH TJ TK TL TM TO TV TW UZ VN VU WF WS
    """,
    ),
    "middle-east-africa": (
        "Middle East & Africa",
        """
        AE AO BF BH BI BJ BW CD CF CG CI CM CV DJ DZ EG EH ER ET GA GH GM GN GQ GW IL IQ IR JO KE KM KW LB
        LR LS LY MA MG ML MR MU MW MZ NA NE NG OM PS QA RE RW SA SC SD SH SL SN SO SS ST SY SZ TD TG TN TZ
        UG YE YT ZA ZM ZW
    """,
    ),
    "antarctica": ("Antarctica", "AQ BV GS HM TF"),
}
EU_EEA = "eu-eea"
EU_EEA_LABEL = "EU/EEA"
_EU_EEA = """
    AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK
    IS LI NO  GF GP MQ RE YT MF AX
"""
EU_EEA_COUNTRIES = frozenset(_EU_EEA.split())

REGION_COUNTRIES: dict[str, frozenset[str]] = {code: frozenset(codes.split()) for code, (_, codes) in REGIONS.items()}
COUNTRY_REGION: dict[str, str] = {country: code for code, members in REGION_COUNTRIES.items() for country in members}
# The filter's choices, in the facet's order: the overlay first (the question sponsors ask most), then regions.
REGION_CHOICES: list[tuple[str, str]] = [(EU_EEA, EU_EEA_LABEL)] + [
    (code, label) for code, (label, _) in REGIONS.items()
]
REGION_LABELS: dict[str, str] = dict(REGION_CHOICES)


def region_countries(codes) -> set[str]:
    """The ISO countries of some region codes (``eu-eea`` included), united."""
    countries: set[str] = set()
    for code in codes:
        countries |= EU_EEA_COUNTRIES if code == EU_EEA else REGION_COUNTRIES[code]
    return countries


def regions_of(country: str) -> list[str]:
    """The region codes a country belongs to: its one region, and ``eu-eea`` when in the overlay."""
    country = str(country)
    found = [COUNTRY_REGION[country]] if country in COUNTRY_REGION else []
    return found + ([EU_EEA] if country in EU_EEA_COUNTRIES else [])
