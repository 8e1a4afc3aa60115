"""Writes of the vendor directory: profile, sites, offerings, certificates, search index, verification."""

from collections import defaultdict
from collections.abc import Iterable

from django.db import connection, models, transaction
from django.utils import timezone

from audit.context import audit_context
from cro_cmo.services import object_delete, object_save
from vendors.facet_index import directory_changed
from vendors.models import Certification, ServiceOffering, Site, Vendor
from vendors.search_synonyms import search_variants

SEARCH_CONFIG = "english"
# Each site and offering text is capped, but a vendor may have hundreds of them: PostgreSQL refuses a
# tsvector over 1 MB ("string is too long for tsvector"), so the searchable text is cut well below it.
SEARCH_TEXT_MAX = 200_000


def vendor_search_refresh(vendor_ids: Iterable[int] | None = None, *, record_change: bool = True) -> int:
    """Rebuild the search text (and on PostgreSQL the weighted search vector) of some or all vendors.

    Set-based: a few reads and one bulk write whatever the number of vendors.
    1. Collect category and capability names (tags) and offering/site descriptions (text) per vendor.
    2. Add the synonyms and spelling variants of what they hold (``vendors.search_synonyms``).
    3. Store them on the vendors in batches.
    4. On PostgreSQL, recompute ``search_vector`` = name (A) + tags (B) + description and text (C) in one UPDATE.
    5. Record a directory change for the facet index (``record_change``: off only in a migration that runs
       before the change table exists).
    """
    vendors = Vendor.objects.all() if vendor_ids is None else Vendor.objects.filter(pk__in=list(vendor_ids))
    own_text = {
        pk: f"{name}\n{description}" for pk, name, description in vendors.values_list("pk", "name", "description")
    }
    ids = list(own_text)
    if not ids:
        return 0
    tags, text = defaultdict(set), defaultdict(list)
    active = ServiceOffering.objects.filter(vendor_id__in=ids, is_active=True)
    for vendor_id, category, description in active.values_list("vendor_id", "category__name", "description"):
        tags[vendor_id].add(category)
        if description:
            text[vendor_id].append(description)
    through = ServiceOffering.capabilities.through.objects.filter(serviceoffering__in=active)
    for vendor_id, capability in through.values_list("serviceoffering__vendor_id", "capability__name"):
        tags[vendor_id].add(capability)
    for vendor_id, city, activities in (
        Site.objects.filter(vendor_id__in=ids).order_by("pk").values_list("vendor_id", "city", "activities")
    ):
        text[vendor_id].append(f"{city} {activities}".strip())
    rows = []
    for pk in ids:
        # Synonyms and spelling variants (vendors.search_synonyms) stored beside what the vendor wrote.
        tag_text = " · ".join(sorted(tags[pk]))
        tag_text += "".join(f" · {v}" for v in search_variants(tag_text))
        body = "\n".join(text[pk])[:SEARCH_TEXT_MAX]
        extra = [v for v in search_variants(f"{own_text[pk]}\n{body}") if v not in tag_text]
        variants = "\n" + " · ".join(extra) if extra else ""
        # The variants are kept whole; the vendor's own text gives way so the total stays within the cap.
        body = body[: max(SEARCH_TEXT_MAX - len(variants), 0)]
        rows.append(Vendor(pk=pk, search_tags=tag_text, search_text=body + variants))
    Vendor.objects.bulk_update(rows, ["search_tags", "search_text"], batch_size=1000)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                """
                UPDATE vendors_vendor SET search_vector =
                    setweight(to_tsvector(%(config)s, coalesce(name, '')), 'A')
                    || setweight(to_tsvector(%(config)s, coalesce(search_tags, '')), 'B')
                    || setweight(to_tsvector(%(config)s, coalesce(description, '') || ' ' || coalesce(search_text, '')), 'C')
                WHERE id = ANY(%(ids)s)
                """,
                {"config": SEARCH_CONFIG, "ids": ids},
            )
    if record_change:  # bulk writes (the demo's, the bench's) send no signals: the facet index follows here
        directory_changed()
    return len(ids)


@transaction.atomic
def vendor_record_save(*, actor, instance: models.Model, m2m: dict | None = None, reason: str = "") -> models.Model:
    """Save a vendor profile, site, offering or certificate, then refresh that vendor's search entry."""
    object_save(actor=actor, instance=instance, m2m=m2m, reason=reason)
    vendor_id = instance.pk if isinstance(instance, Vendor) else instance.vendor_id
    vendor_search_refresh([vendor_id])
    _certificate_alerts_recheck(instance)
    return instance


@transaction.atomic
def vendor_record_delete(*, actor, instance: models.Model, reason: str = "") -> None:
    vendor_id = instance.vendor_id
    if isinstance(instance, Site):
        # The cascade on the link table fires no m2m signal: detach first so each offering's history says so.
        with audit_context(actor=actor, reason=reason):
            for offering in instance.offerings.all():
                offering.sites.remove(instance)
    object_delete(actor=actor, instance=instance, reason=reason)
    vendor_search_refresh([vendor_id])
    _certificate_alerts_recheck(instance)


def _certificate_alerts_recheck(instance: models.Model) -> None:
    """A certificate added, renewed (a later expiry, or a newer one of the same type, authority and site) or
    deleted: re-check the vendor's certificate alerts — its own and its sponsors' — once the change commits."""
    if isinstance(instance, Certification):
        from alerts.services import alerts_recheck_on_commit

        alerts_recheck_on_commit(vendor_ids=[instance.vendor_id])


@transaction.atomic
def vendor_verify(*, actor, vendor: Vendor, verified: bool = True) -> Vendor:
    """Platform staff vouch for a vendor (or withdraw it): the badge on profile and directory."""
    with audit_context(actor=actor, reason="Verified by platform staff" if verified else "Verification withdrawn"):
        vendor.verified_at = timezone.now() if verified else None
        vendor.save(update_fields=["verified_at", "updated"])
    return vendor
