"""The directory's facet index: for every facet value, the vendors that have it, as a bitmap.

Counting each facet over the vendors that pass the *other* filters is set algebra: with one bitmap (a
Python ``int``, bit *n* = the *n*-th vendor) per value, every count of a search is an AND and a
``bit_count()`` — about 200 of them, well under a millisecond — where one SQL statement joining the matching
vendors to their offerings, capabilities, sites and certificates took 30–50 ms at 10 000 vendors.

What the index holds (everything that does not depend on who asks or what they typed):
kind, headquarters country, the categories and capabilities of active offerings, site countries (and so
regions), and the certificates (type, authority, expiry: "valid on a day" is evaluated per day asked).
What stays in SQL, per request: the words, "verified", "changed since", visibility and the user's own
qualifications — ``vendors.search_facets`` combines the two.

Freshness: every write to what the index reads inserts a ``DirectoryChange`` row in the same transaction
(``directory_changed``: signals on every model the index reads, and ``vendor_search_refresh`` for bulk
writes). Each process keeps one index, tagged with the newest change (id and random token) and the number
of changes it saw, and reads that tag once per search (one query on a small table): a search never counts
from an index older than the data it can see. A rebuild reads six
lists (200–300 ms and ~4 MB at 10 000 vendors) and happens once per process after a change.
"""

import threading
from dataclasses import dataclass, field
from datetime import date

from django.db import connection
from django.db.models import Count, Window

from vendors.models import (
    Capability,
    Certification,
    DirectoryChange,
    ServiceCategory,
    ServiceOffering,
    Site,
    Vendor,
)
from vendors.regions import COUNTRY_REGION, EU_EEA, EU_EEA_COUNTRIES

_lock = threading.Lock()
BYTE_BITS = [tuple(bit for bit in range(8) if value >> bit & 1) for value in range(256)]  # set bits of each byte
_current: "FacetIndex | None" = None
PRUNE_EVERY = 500  # changes between two prunings of the change table
CERTIFICATE_DAYS_KEPT = 4  # "valid on" days whose certificate bitmaps an index keeps (today, and a few asked)


def directory_changed() -> None:
    """Record a change of the directory's facet data, in the caller's transaction (see the module docstring)."""
    change = DirectoryChange.objects.create()
    if change.pk % PRUNE_EVERY == 0:  # keep the table small: its count is read by every search
        DirectoryChange.objects.filter(pk__lte=change.pk - PRUNE_EVERY).delete()


def current_tag() -> tuple:
    """(newest change id, its token, number of changes): moves with every change the transaction can see."""
    changes = Window(Count("pk"))  # over the whole (small) table, on the newest row
    newest = DirectoryChange.objects.annotate(changes=changes).order_by("-pk").values_list("pk", "token", "changes")
    return newest.first() or (0, "", 0)


def bitmap(positions, size: int) -> int:
    """The bitmap with the given bit positions set."""
    buffer = bytearray((size + 7) // 8)
    for position in positions:
        buffer[position >> 3] |= 1 << (position & 7)
    return int.from_bytes(buffer, "little")


def any_of(bitmaps) -> int:
    """The union of some bitmaps (0 for none)."""
    found = 0
    for bits in bitmaps:
        found |= bits
    return found


@dataclass
class FacetIndex:
    """Bitmaps of one revision of the directory. Bit positions follow ``vendor_ids`` (ascending ids)."""

    key: tuple
    vendor_ids: list[int]
    position: dict[int, int]
    kind: dict[str, int]
    country: dict[str, int]  # headquarters
    category: dict[int, int]  # category id → vendors with an active offering in it
    capability: dict[int, int]  # capability id → vendors with an active offering holding it
    site_country: dict[str, int]
    region: dict[str, int]  # REGION_CHOICES' values, EU/EEA included
    categories: dict[int, tuple[str, str, int]]  # id → (code, name, position)
    capabilities: dict[int, tuple[str, str, int]]  # id → (slug, name, category id)
    certificates: list[tuple[int, str, str, date | None]]  # (position, type, authority, expires_on)
    _certificates_on: dict[date, dict[tuple[str, str], int]] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.vendor_ids)

    def of_ids(self, ids) -> int:
        """The bitmap of some vendor ids (ids the index does not know are left out)."""
        position = self.position
        return bitmap((position[i] for i in ids if i in position), self.size)

    def ids_of(self, bits: int) -> list[int]:
        """The vendor ids of a bitmap, ascending (byte by byte: clearing bits one by one copies the int each time)."""
        ids, vendor_ids = [], self.vendor_ids
        for offset, byte in enumerate(bits.to_bytes((self.size + 7) // 8, "little")):
            if byte:
                base = offset << 3
                ids.extend(vendor_ids[base + bit] for bit in BYTE_BITS[byte])
        return ids

    def certificates_on(self, day: date) -> dict[tuple[str, str], int]:
        """(type, authority) → vendors holding such a certificate valid on ``day`` (no expiry, or not before)."""
        found = self._certificates_on.get(day)
        if found is None:
            positions: dict[tuple[str, str], list[int]] = {}
            for position, kind, authority, expires_on in self.certificates:
                if expires_on is None or expires_on >= day:
                    positions.setdefault((kind, authority), []).append(position)
            found = {key: bitmap(p, self.size) for key, p in positions.items()}
            if len(self._certificates_on) >= CERTIFICATE_DAYS_KEPT:
                self._certificates_on.clear()
            self._certificates_on[day] = found
        return found


def facet_index() -> FacetIndex:
    """This process's index of the directory as the current transaction sees it (rebuilt when it changed)."""
    global _current
    key = (connection.alias, connection.settings_dict["NAME"], *current_tag())
    index = _current
    if index is not None and index.key == key:
        return index
    with _lock:
        if _current is None or _current.key != key:
            _current = _build(key)
        return _current


def _grouped(rows, position: dict[int, int], size: int) -> dict:
    """{value: bitmap} from (vendor id, value) rows."""
    positions: dict = {}
    for vendor_id, value in rows:
        if vendor_id in position:
            positions.setdefault(value, []).append(position[vendor_id])
    return {value: bitmap(p, size) for value, p in positions.items()}


def _build(key: tuple) -> FacetIndex:
    vendors = list(Vendor.objects.order_by("pk").values_list("pk", "kind", "hq_country"))
    vendor_ids = [pk for pk, _, _ in vendors]
    position = {pk: n for n, pk in enumerate(vendor_ids)}
    size = len(vendor_ids)
    active = ServiceOffering.objects.filter(is_active=True)
    links = ServiceOffering.capabilities.through.objects.filter(serviceoffering__is_active=True)
    site_country = _grouped(Site.objects.values_list("vendor_id", "country").distinct(), position, size)
    region: dict[str, int] = {}
    for country, bits in site_country.items():
        name = COUNTRY_REGION.get(country)
        if name:
            region[name] = region.get(name, 0) | bits
        if country in EU_EEA_COUNTRIES:
            region[EU_EEA] = region.get(EU_EEA, 0) | bits
    certificates = [
        (position[vendor_id], kind, authority, expires_on)
        for vendor_id, kind, authority, expires_on in Certification.objects.values_list(
            "vendor_id", "type", "authority", "expires_on"
        )
        if vendor_id in position
    ]
    return FacetIndex(
        key=key,
        vendor_ids=vendor_ids,
        position=position,
        kind=_grouped(((pk, kind) for pk, kind, _ in vendors), position, size),
        country=_grouped(((pk, country) for pk, _, country in vendors), position, size),
        category=_grouped(active.values_list("vendor_id", "category_id"), position, size),
        capability=_grouped(links.values_list("serviceoffering__vendor_id", "capability_id"), position, size),
        site_country=site_country,
        region=region,
        categories={
            pk: tuple(rest) for pk, *rest in ServiceCategory.objects.values_list("pk", "code", "name", "position")
        },
        capabilities={
            pk: tuple(rest) for pk, *rest in Capability.objects.values_list("pk", "slug", "name", "category_id")
        },
        certificates=certificates,
    )
