"""Comparing vendors side by side: the selection a user builds on the directory, and the comparison itself.

The selection (at most ``COMPARE_MAX`` vendors) lives in the session under a key per user, so it survives
filter changes, pagination and the trip to a profile — and works without JavaScript (plain POST forms).

``vendor_comparison`` builds the one structure the page, the XLSX and the CSV all show: sections of rows,
one cell per vendor, each cell a tuple of ``Line`` (text plus an optional mark such as "expired"). A row
``differs`` when its cells do not all read the same. Prices stay per currency: a category priced in two
currencies gets one row per currency and nothing is converted or added up. The "Our qualification" section
is the user's own sponsor's record and exists only for sponsors' people (a vendor never gets one).
The queries are a fixed number whatever the number of vendors (prefetches, one query per relation).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Prefetch, prefetch_related_objects
from django.utils import timezone
from django.utils.formats import date_format

from vendors.choices import CertificateStatus
from vendors.models import Certification, ServiceOffering, Site, Vendor

COMPARE_MIN, COMPARE_MAX = 2, 6
EMPTY = "—"


# --- the selection (session) ---------------------------------------------------------------------------


def _session_key(user) -> str:
    return f"vendor_compare_{user.pk}"


def compare_selection_ids(request) -> list[int]:
    """The primary keys of the vendors the signed-in user has picked to compare, in the order picked."""
    value = request.session.get(_session_key(request.user), [])
    return [pk for pk in value if isinstance(pk, int)][:COMPARE_MAX] if isinstance(value, list) else []


def compare_selection_vendors(request) -> list[Vendor]:
    """The picked vendors the user may see, in the order picked (one query; none when nothing is picked)."""
    ids = compare_selection_ids(request)
    if not ids:
        return []
    found = {v.pk: v for v in Vendor.objects.for_user(request.user).filter(pk__in=ids)}
    return [found[pk] for pk in ids if pk in found]


@dataclass
class SelectionChange:
    """What ``compare_selection_update`` did: names added, removed, refused (over the maximum)."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    vendors: list[Vendor] = field(default_factory=list)
    unticked: list[str] = field(default_factory=list)  # slugs whose directory box must be unticked again

    def messages(self) -> list[tuple[str, str]]:
        """(level, text) for the user: what changed and, above all, what was refused and why."""
        out = []
        if self.added:
            out.append(("success", f"Added to your comparison: {', '.join(self.added)}."))
        if self.removed:
            out.append(("info", f"Taken out of your comparison: {', '.join(self.removed)}."))
        if self.refused:
            out.append((
                "error",
                f"You can compare at most {COMPARE_MAX} vendors: {', '.join(self.refused)} "
                f"{'was' if len(self.refused) == 1 else 'were'} not added. Remove a vendor from the comparison first.",
            ))  # fmt: skip
        return out


def compare_selection_update(request, *, add=(), remove=(), shown=None, ticked=(), clear=False) -> SelectionChange:
    """Change the user's compare selection and store it in the session.

    ``add``/``remove``: vendor slugs. ``shown`` + ``ticked``: the vendors listed on a directory page and those
    ticked there — the ticks replace the page's vendors in the selection, vendors picked on other pages stay.
    Never more than ``COMPARE_MAX``: vendors beyond it are refused (named in the change), the earlier picks kept.
    Unknown slugs, and vendors the user may not see, are ignored.
    """
    slugs = {s for s in [*add, *remove, *(shown or ()), *ticked] if isinstance(s, str) and s.isascii()}
    known = {v.slug: v for v in Vendor.objects.for_user(request.user).filter(slug__in=list(slugs)[:100])}
    current = compare_selection_vendors(request)
    change = SelectionChange()
    if clear:
        change.removed = [v.name for v in current]
        change.unticked = [v.slug for v in current]
        current, ticked = [], ()
    drop = {s for s in remove if s in known}
    if shown is not None:
        drop |= {s for s in shown if s in known and s not in ticked}
    kept = []
    for vendor in current:
        if vendor.slug in drop:
            change.removed.append(vendor.name)
            change.unticked.append(vendor.slug)
        else:
            kept.append(vendor)
    for slug in dict.fromkeys([*add, *ticked]):
        vendor = known.get(slug)
        if vendor is None or vendor.slug in drop or any(v.pk == vendor.pk for v in kept):
            continue
        if len(kept) >= COMPARE_MAX:
            change.refused.append(vendor.name)
            change.unticked.append(vendor.slug)
            continue
        kept.append(vendor)
        change.added.append(vendor.name)
    request.session[_session_key(request.user)] = [v.pk for v in kept]
    change.vendors = kept
    return change


# --- the comparison ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    text: str
    mark: str = ""  # "expired" / "expiring soon": a badge on the page, words in brackets in the exports
    qualification: str = ""  # a qualification status code: the page shows the sponsor's badge for it

    def __str__(self):
        return f"{self.text} ({self.mark})" if self.mark else self.text


@dataclass
class Row:
    label: str
    cells: list[tuple[Line, ...]]

    @staticmethod
    def cell_text(cell: tuple[Line, ...], separator: str = "; ") -> str:
        return separator.join(str(line) for line in cell) or EMPTY

    @property
    def texts(self) -> list[str]:
        return [self.cell_text(cell) for cell in self.cells]

    @property
    def differs(self) -> bool:
        return len(set(self.texts)) > 1


@dataclass
class Section:
    title: str
    rows: list[Row]
    note: str = ""


@dataclass
class Comparison:
    vendors: list[Vendor]
    sections: list[Section]
    currencies: list[str]
    shows_qualification: bool

    @property
    def rows(self) -> list[Row]:
        return [row for section in self.sections for row in section.rows]

    @property
    def differing(self) -> int:
        return sum(row.differs for row in self.rows)


def _one(text) -> tuple[Line, ...]:
    return (Line(str(text)),) if text not in (None, "") else ()


def _date(day) -> str:
    return date_format(day, "j M Y")


def _price(offering: ServiceOffering) -> str:
    low, high = offering.price_min, offering.price_max
    if low is not None and high is not None and low != high:
        return f"{offering.currency} {low:,.0f} – {high:,.0f}"
    if low is not None or high is not None:
        amount = low if low is not None else high
        return f"{offering.currency} {amount:,.0f}" if low is not None else f"up to {offering.currency} {amount:,.0f}"
    return ""


def _certificate_line(certification: Certification, today) -> Line:
    authority = certification.get_authority_display()
    site = f" · {certification.site.city}" if certification.site_id else ""
    status = certification.status_on(today)
    if certification.expires_on is None:
        return Line(f"{authority} · no expiry date{site}")
    if status == CertificateStatus.EXPIRED:
        return Line(f"{authority} · expired {_date(certification.expires_on)}{site}", "expired")
    mark = "expiring soon" if status == CertificateStatus.EXPIRING else ""
    return Line(f"{authority} · valid until {_date(certification.expires_on)}{site}", mark)


def _qualification_section(vendors, user) -> Section | None:
    """The user's own sponsor's qualification of each vendor; None for anyone who is not a sponsor's person."""
    from sponsors.models import VendorQualification

    if not getattr(user, "sponsor_id", None):
        return None
    records = {
        q.vendor_id: q for q in VendorQualification.objects.for_user(user).filter(vendor__in=[v.pk for v in vendors])
    }
    found = [records.get(v.pk) for v in vendors]
    rows = [
        Row(
            "Status",
            [
                (Line(q.get_status_display(), qualification=q.status),) if q else (Line("Not qualified by us"),)
                for q in found
            ],
        ),
        Row("Risk rating", [_one(q.get_risk_display()) if q else () for q in found]),
        Row("Last audit", [_one(q.last_audit_on and _date(q.last_audit_on)) if q else () for q in found]),
        Row("Next audit due", [_one(q.next_audit_due and _date(q.next_audit_due)) if q else () for q in found]),
        Row("CDA signed", [_one(q.cda_signed_on and _date(q.cda_signed_on)) if q else () for q in found]),
        Row("MSA reference", [_one(q.msa_reference) if q else () for q in found]),
    ]
    return Section("Our qualification", rows, note="Your company's own records: never shown to vendors.")


def vendor_comparison(*, vendors: list[Vendor], user) -> Comparison:
    """The comparison of ``vendors`` (loaded through ``for_user``, in order) as ``user`` may see it.

    A fixed number of queries: the vendors' active offerings (category, capabilities), sites,
    certificates (with their site), and — for sponsors' people — the sponsor's qualification records.
    """
    today = timezone.localdate()
    vendors = list(vendors)
    prefetch_related_objects(
        vendors,
        Prefetch(
            "offerings",
            ServiceOffering.objects.filter(is_active=True)
            .select_related("category")
            .prefetch_related("capabilities")
            .order_by("category__position"),
            to_attr="compare_offerings",
        ),
        Prefetch("sites", Site.objects.order_by("country", "city"), to_attr="compare_sites"),
        Prefetch(
            "certifications",
            Certification.objects.select_related("site").order_by("type", "-expires_on"),
            to_attr="compare_certificates",
        ),
    )
    sections = [
        Section(
            "Overview",
            [
                Row("Kind", [_one(v.get_kind_display()) for v in vendors]),
                Row("Headquarters", [_one(v.hq_country.name) for v in vendors]),
                Row("Founded", [_one(v.founded_year) for v in vendors]),
                Row("Headcount", [_one(v.get_headcount_band_display()) for v in vendors]),
                Row("Verified by cro_cmo", [(Line("Yes" if v.is_verified else "No"),) for v in vendors]),
            ],
        )
    ]
    qualification = _qualification_section(vendors, user)
    if qualification:
        sections.append(qualification)

    offerings = [{o.category_id: o for o in v.compare_offerings} for v in vendors]
    categories = {o.category_id: o.category for v in vendors for o in v.compare_offerings}
    categories = sorted(categories.values(), key=lambda c: c.position)
    services, prices, currencies = [], [], set()
    for category in categories:
        mine = [by_category.get(category.pk) for by_category in offerings]
        services.append(
            Row(
                f"{category.name}: capabilities",
                [
                    tuple(Line(c.name) for c in sorted(o.capabilities.all(), key=lambda c: c.name.lower()))
                    or (Line("Offered, no capability listed"),)
                    if o
                    else (Line("Not offered"),)
                    for o in mine
                ],
            )
        )
        services.append(
            Row(
                f"{category.name}: lead time",
                [_one(o and o.lead_time_weeks and f"{o.lead_time_weeks} weeks") for o in mine],
            )
        )
        priced = sorted({o.currency for o in mine if o and _price(o)})
        currencies.update(priced)
        for currency in priced or [""]:
            cells = []
            for o in mine:
                if o is None:
                    cells.append(())
                elif not _price(o):
                    cells.append((Line("On request"),))
                elif o.currency == currency:
                    cells.append((Line(_price(o)),))
                else:
                    cells.append((Line(f"Priced in {o.currency}"),))
            label = f"{category.name} ({currency})" if currency else category.name
            prices.append(Row(label, cells))
    if services:
        sections.append(Section("Services", services))
    if prices:
        many = len(currencies) > 1
        note = (
            f"Prices are in {', '.join(sorted(currencies))}: shown per currency, never converted or added up."
            if many
            else "Indicative ranges from each vendor's catalogue, per currency."
        )
        sections.append(Section("Indicative prices", prices, note=note))

    types = sorted({c.type for v in vendors for c in v.compare_certificates}, key=lambda t: t != "gmp")
    certificates = [
        Row(
            dict(Certification._meta.get_field("type").choices).get(kind, kind),
            [tuple(_certificate_line(c, today) for c in v.compare_certificates if c.type == kind) for v in vendors],
        )
        for kind in types
    ]
    if certificates:
        sections.append(Section("Certificates", certificates, note=f"Status on {_date(today)}."))
    else:
        sections.append(Section("Certificates", [Row("Certificates", [() for _ in vendors])]))

    sections.append(
        Section(
            "Sites",
            [
                Row(
                    "Sites",
                    [tuple(Line(f"{s.city}, {s.country.name} ({s.name})") for s in v.compare_sites) for v in vendors],
                ),
                Row(
                    "Countries",
                    [tuple(Line(name) for name in sorted({s.country.name for s in v.compare_sites})) for v in vendors],
                ),
            ],
        )
    )
    return Comparison(vendors, sections, sorted(currencies), qualification is not None)
