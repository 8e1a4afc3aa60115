"""Benchmark data: N generated vendors with as many offerings as the one-per-category rule allows.

The issue asks for 10 000 vendors and 100 000 offerings (~10 per vendor). A vendor has at most one
offering per service category (constraint ``offering_one_per_vendor_and_category``) and there are
eight categories: CROs may offer the four CRO ones, CMOs the four CMO ones, CDMOs all eight. So ten
per vendor is impossible; ``generate`` asks ``bulk_generate`` for ten each, which gives every vendor
*all* the categories of its kind, and the caller reports the counts actually reached.
"""

from django.db import connection, transaction

from vendors.choices import Side, VendorKind
from vendors.demo import bulk_generate
from vendors.models import ServiceCategory, ServiceOffering, Vendor

ASKED_OFFERINGS_PER_VENDOR = 10
ISSUE_VENDORS, ISSUE_OFFERINGS = 10_000, 100_000
KIND_ROTATION = ["cro", "cmo", "cdmo"]  # bulk_generate gives vendor n the kind KIND_ROTATION[n % 3]


def counts() -> tuple[int, int]:
    """(vendors, offerings) now in the database."""
    return Vendor.objects.count(), ServiceOffering.objects.count()


def categories_per_kind() -> dict[str, int]:
    """How many categories each kind of vendor may offer (one offering per category at most)."""
    per_side = {side: ServiceCategory.objects.filter(side=side).count() for side in Side.values}
    return {
        VendorKind.CRO: per_side[Side.CRO],
        VendorKind.CMO: per_side[Side.CMO],
        VendorKind.CDMO: per_side[Side.CRO] + per_side[Side.CMO],
    }


def max_offerings(vendors: int, start: int = 0) -> int:
    """The most offerings ``bulk_generate`` can write for ``vendors`` new vendors (its kind rotation)."""
    limit = categories_per_kind()
    return sum(limit[KIND_ROTATION[n % 3]] for n in range(start, start + vendors))


def vendors_needed_for(offerings: int) -> int:
    """The fewest generated vendors whose offerings reach ``offerings`` under the kind rotation."""
    limit = categories_per_kind()
    total, n = 0, 0
    while total < offerings:
        total += limit[KIND_ROTATION[n % 3]]
        n += 1
    return n


def generate(vendors: int) -> tuple[int, int]:
    """Write ``vendors`` vendors in one transaction (all or nothing), then refresh planner statistics.

    1. ``bulk_generate`` with ten offerings asked per vendor (capped by the categories of its kind).
    2. ANALYZE, as autovacuum (PostgreSQL) or a maintained SQLite database would have done.
    """
    with transaction.atomic():
        bulk_generate(vendors, offerings_per_vendor=ASKED_OFFERINGS_PER_VENDOR)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return counts()


def _n(number: int) -> str:
    return f"{number:,}".replace(",", " ")


def size_note(vendors: int, offerings: int) -> list[str]:
    """Plain words on what was asked and what the one-offering-per-category rule allows."""
    limit = categories_per_kind()
    every = limit[VendorKind.CDMO]
    return [
        f"asked: ~{ASKED_OFFERINGS_PER_VENDOR} offerings per vendor (the issue: {_n(ISSUE_VENDORS)} vendors / "
        f"{_n(ISSUE_OFFERINGS)} offerings); reached {offerings / max(vendors, 1):.2f} per vendor.",
        f"a vendor has at most one offering per category (CROs {limit[VendorKind.CRO]}, CMOs {limit[VendorKind.CMO]}, "
        f"CDMOs {every} categories), so {_n(ISSUE_OFFERINGS)} offerings on {_n(ISSUE_VENDORS)} vendors is IMPOSSIBLE: "
        f"even if all were CDMOs, {_n(ISSUE_VENDORS)} x {every} = {_n(ISSUE_VENDORS * every)}.",
        f"bulk_generate's CRO/CMO/CDMO rotation with all categories of each kind gives {_n(max_offerings(ISSUE_VENDORS))} "
        f"offerings on {_n(ISSUE_VENDORS)} vendors; {_n(ISSUE_OFFERINGS)} offerings need "
        f"BENCH_VENDORS={vendors_needed_for(ISSUE_OFFERINGS)}.",
    ]
