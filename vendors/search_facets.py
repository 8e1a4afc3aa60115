"""Every facet count of the directory, and the total, from the facet index's bitmaps.

A facet's counts are taken over the vendors that pass every *other* filter (so its options stay visible when
one is ticked):

1. ``base``: the vendors passing the filters that stay in SQL (words, verified, changed since, visibility),
   as a bitmap of the index (``vendors.facet_index``);
2. one bitmap per active faceted filter (kind, category, capability, country, site country, region, the
   certificate's type × authority × day, and "qualified by us"): the union of the ticked values' bitmaps;
3. for each facet, ``base`` AND the other filters' bitmaps, then one AND and ``bit_count()`` per value;
4. the total (every filter) — the paginator takes it instead of a COUNT of its own.

Rows are ``(facet, value, label, group, position, count)``, values with at least one vendor only; labels come
from the index (categories, capabilities) or from Python (countries, regions, choices) in the selector.
"""

from dataclasses import dataclass, field
from datetime import date

from vendors.facet_index import FacetIndex, any_of
from vendors.filtersets import AUTHORITY_GROUP_OF, AUTHORITY_GROUPS
from vendors.regions import region_countries


@dataclass
class Selection:
    """The faceted filters of one search, as validated (empty = not filtering)."""

    kind: list[str] = field(default_factory=list)
    category: list[int] = field(default_factory=list)  # ids
    capability: list[int] = field(default_factory=list)  # ids
    country: list[str] = field(default_factory=list)
    site_country: list[str] = field(default_factory=list)
    region: list[str] = field(default_factory=list)
    certification: list[str] = field(default_factory=list)  # types
    authority: list[str] = field(default_factory=list)  # authority groups
    valid_on: date | None = None
    qualified: bool | None = None


@dataclass
class FacetCounts:
    rows: list[tuple]
    matching: int  # bitmap of the vendors passing every filter
    filtered: bool  # whether any faceted filter is active (if not, ``matching`` is the base)


def _filters(index: FacetIndex, chosen: Selection, qualified: int | None) -> dict[str, int]:
    """The bitmap of each active faceted filter."""
    found = {}
    for key in ("kind", "category", "capability", "country", "site_country"):
        values = getattr(chosen, key)
        if values:
            found[key] = any_of(getattr(index, key).get(v, 0) for v in values)
    if chosen.region:
        found["region"] = any_of(index.site_country.get(c, 0) for c in region_countries(chosen.region))
    if chosen.certification or chosen.authority:
        found["certificate"] = any_of(
            bits
            for (kind, authority), bits in index.certificates_on(chosen.valid_on).items()
            if _certificate_wanted(kind, authority, chosen.certification, chosen.authority)
        )
    if chosen.qualified is not None:
        everyone = (1 << index.size) - 1
        # A user without a sponsor has qualified nobody: "true" finds none, "false" everyone (as in SQL).
        found["qualified"] = (qualified or 0) if chosen.qualified else everyone ^ (qualified or 0)
    return found


def _certificate_wanted(kind: str, authority: str, types, groups) -> bool:
    return (not types or kind in types) and (not groups or authority in _authorities(groups))


def _authorities(groups) -> set[str]:
    return {a for g in groups for a in AUTHORITY_GROUPS[g][1]}


def facet_rows(index: FacetIndex, base: int, chosen: Selection, *, qualified: int | None) -> FacetCounts:
    """Count every facet; ``base`` is the bitmap of the vendors after the unfaceted filters, ``qualified``
    the bitmap of the user's sponsor's qualified vendors (sponsors' people) or None."""
    filters = _filters(index, chosen, qualified)

    def others(*facet: str) -> int:
        bits = base
        for key, condition in filters.items():
            if key not in facet:
                bits &= condition
        return bits

    rows: list[tuple] = []

    def count(facet: str, within: int, options) -> None:
        """Add a row per option (value, label, group, position, bitmap) with at least one vendor."""
        for value, label, group, position, bits in options:
            n = (within & bits).bit_count()
            if n:
                rows.append((facet, value, label, group, position, n))

    def plain(bitmaps: dict) -> list:
        return [(value, "", "", 0, bits) for value, bits in bitmaps.items()]

    matching = others()
    rows.append(("total", "", "", "", 0, matching.bit_count()))
    count("kind", others("kind"), plain(index.kind))
    count("country", others("country"), plain(index.country))
    categories = index.categories
    # A category or capability missing from the names was deleted (or created) while the index was read:
    # left out until the rebuild that change brings on the next search.
    count(
        "category",
        others("category"),
        [(*categories[pk][:2], "", categories[pk][2], bits) for pk, bits in index.category.items() if pk in categories],
    )
    capabilities = []
    for pk, bits in index.capability.items():
        slug, name, category = index.capabilities.get(pk, ("", "", None))
        if category in categories and (not chosen.category or category in chosen.category):
            _, category_name, position = categories[category]
            capabilities.append((slug, name, category_name, position, bits))
    count("capability", others("capability"), capabilities)
    count("site_country", others("site_country"), plain(index.site_country))
    count("region", others("region"), plain(index.region))
    # Type and authority are held on one certificate: each facet keeps the other's choice (and the day).
    by_type: dict[str, int] = {}
    by_group: dict[str, int] = {}
    for (kind, authority), bits in index.certificates_on(chosen.valid_on).items():
        if _certificate_wanted(kind, authority, (), chosen.authority):
            by_type[kind] = by_type.get(kind, 0) | bits
        if _certificate_wanted(kind, authority, chosen.certification, ()):
            group = AUTHORITY_GROUP_OF.get(authority, authority)
            by_group[group] = by_group.get(group, 0) | bits
    within = others("certificate")
    count("certification", within, plain(by_type))
    count("authority", within, plain(by_group))
    if qualified is not None:
        count("qualified", others("qualified"), plain({"true": qualified}))
    return FacetCounts(rows=rows, matching=matching, filtered=bool(filters))
