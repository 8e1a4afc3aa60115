"""The facet index (``vendors.facet_index``): every kind of write reaches the next search, a rolled-back
change leaves nothing behind, one rebuild per change, and the page read by ids equals the page read by the
filters' SQL."""

import pytest
from django.db import connection, transaction
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext

from tests.factories import VendorFactory
from vendors import facet_index as facet_index_module
from vendors import selectors
from vendors.facet_index import facet_index
from vendors.models import Capability, Certification, DirectoryChange, ServiceCategory, ServiceOffering, Site, Vendor
from vendors.selectors import directory_search
from vendors.services import vendor_search_refresh

pytestmark = pytest.mark.django_db


def facets(user, query: str = "") -> dict[str, dict[str, int]]:
    result = directory_search(user=user, data=QueryDict(query))
    return {key: {f.value: f.count for f in values} for key, values in result.facets.items()}


def gmp_pmda(vendor):
    return Certification.objects.create(vendor=vendor, type="gmp", authority="pmda", issued_on="2025-01-01")


def offering(vendor, code="packaging"):
    return ServiceOffering.objects.create(vendor=vendor, category=ServiceCategory.objects.get(code=code))


def nothing(vendor):
    return None


def first_packaging_capability():
    return Capability.objects.filter(category__code="packaging").first()


WRITES = {
    # name: (setup of vendor X, the write, facet, value, count before the write, count after)
    "site added": (nothing, lambda v: Site.objects.create(vendor=v, name="Reykjavik", city="Reykjavik",
                   country="IS"), "site_country", "IS", 0, 1),
    "site removed": (lambda v: Site.objects.create(vendor=v, name="Leeds", city="Leeds", country="GB"),
                     lambda v: Site.objects.get(vendor=v, country="GB").delete(), "site_country", "GB", 1, 0),
    "certificate added": (nothing, gmp_pmda, "authority", "pmda", 0, 1),
    "vendor's kind changed": (nothing, lambda v: _set_kind(v, "cdmo"), "kind", "cdmo", 0, 1),
    "offering added": (nothing, offering, "category", "packaging", 0, 1),
    "capability linked": (offering, lambda v: ServiceOffering.objects.get(vendor=v, category__code="packaging")
                          .capabilities.add(first_packaging_capability()), "capability", "first-packaging", 0, 1),
    "offering deactivated": (offering, lambda v: _deactivate(ServiceOffering.objects.get(
        vendor=v, category__code="packaging")), "category", "packaging", 1, 0),
}  # fmt: skip


def _set_kind(vendor, kind):
    vendor = Vendor.objects.get(pk=vendor.pk)
    vendor.kind = kind
    vendor.save()


def _deactivate(item):
    item.is_active = False
    item.save()


@pytest.mark.parametrize("write", WRITES, ids=list(WRITES))
def test_each_kind_of_write_reaches_the_next_search(personas, write):
    setup, change, key, value, before, after = WRITES[write]
    if value == "first-packaging":
        value = first_packaging_capability().slug
    # Only vendor X can count: the others are CROs without packaging, certificates or sites in IS or GB.
    others = Vendor.objects.exclude(pk=personas.vendor_x.pk)
    others.update(kind="cro")
    ServiceOffering.objects.filter(vendor__in=others, category__code="packaging").delete()
    Site.objects.filter(vendor__in=others, country__in=["IS", "GB"]).delete()
    Certification.objects.filter(vendor__in=others, authority="pmda").delete()
    Vendor.objects.filter(pk=personas.vendor_x.pk).update(kind="cmo")
    setup(personas.vendor_x)
    vendor_search_refresh()
    user = personas.sponsor_a_admin
    assert facets(user).get(key, {}).get(value, 0) == before
    change(personas.vendor_x)
    assert facets(user).get(key, {}).get(value, 0) == after


def test_a_bulk_write_reaches_the_search_through_the_search_refresh(personas):
    user = personas.sponsor_a_admin
    Site.objects.bulk_create([Site(vendor=personas.vendor_y, name="Oslo", city="Oslo", country="NO")])  # no signal
    vendor_search_refresh([personas.vendor_y.pk])  # what every bulk writer calls after writing
    assert facets(user)["site_country"].get("NO") == 1


def test_a_rolled_back_change_leaves_nothing_in_the_index(personas):
    user = personas.sponsor_a_admin
    assert "IS" not in facets(user)["site_country"]
    with pytest.raises(RuntimeError), transaction.atomic():
        Site.objects.create(vendor=personas.vendor_x, name="Reykjavik", city="Reykjavik", country="IS")
        assert facets(user)["site_country"]["IS"] == 1  # the index was built with the uncommitted site…
        raise RuntimeError("roll back")
    # …and is not used once the site is gone, even after the next change: were the tag a mere count of
    # changes, the next change would bring back the rolled-back tag, and with it the index that held the site.
    VendorFactory(name="The next change")
    assert "IS" not in facets(user)["site_country"]


def test_one_rebuild_per_change_not_per_search(personas):
    user = personas.sponsor_a_admin

    def search_statements():
        with CaptureQueriesContext(connection) as queries:
            facets(user)
        return [q["sql"] for q in queries.captured_queries]

    search_statements()
    assert not [sql for sql in search_statements() if "vendors_serviceoffering_capabilities" in sql]
    VendorFactory(name="New vendor")
    rebuilt = [sql for sql in search_statements() if "vendors_serviceoffering_capabilities" in sql]
    assert len(rebuilt) == 1
    assert not [sql for sql in search_statements() if "vendors_serviceoffering_capabilities" in sql]


def test_bitmaps_round_trip_vendor_ids(personas):
    index = facet_index()
    ids = sorted(index.vendor_ids)
    picked = [ids[-1], ids[0]]
    assert index.ids_of(index.of_ids([*picked, 10**9])) == sorted(picked)  # an unknown id is left out
    assert index.ids_of(0) == [] and index.of_ids([]) == 0


@pytest.mark.parametrize(
    "query",
    ["kind=cmo&kind=cdmo", "site_country=GB&q=vendor", "certification=gmp&authority=ema-eu", "qualified=false"],
)
def test_the_page_read_by_ids_equals_the_page_read_by_the_filters_sql(personas, monkeypatch, query):
    user = personas.sponsor_a_admin
    by_ids = directory_search(user=user, data=QueryDict(query))
    monkeypatch.setattr(selectors, "PAGE_BY_IDS_MAX", 0)  # SQLite then applies the filters in SQL
    by_sql = directory_search(user=user, data=QueryDict(query))
    assert [v.slug for v in by_ids.page.object_list] == [v.slug for v in by_sql.page.object_list]
    assert by_ids.page.paginator.count == by_sql.page.paginator.count


def test_the_change_table_is_pruned_and_the_index_still_follows(personas, monkeypatch):
    monkeypatch.setattr(facet_index_module, "PRUNE_EVERY", 3)
    user = personas.sponsor_a_admin
    for n in range(7):
        Site.objects.create(vendor=personas.vendor_y, name=f"Site {n}", city="Oslo", country="NO")
        assert facets(user)["site_country"]["NO"] == 1
        assert DirectoryChange.objects.count() <= 2 * 3
    Site.objects.filter(country="NO").delete()
    assert "NO" not in facets(user)["site_country"]


@pytest.mark.parametrize("page_by_ids_max", [2000, 0], ids=["page by ids", "page by SQL"])
def test_qualified_by_us_means_nobody_for_a_user_without_a_sponsor(personas, monkeypatch, page_by_ids_max):
    monkeypatch.setattr(selectors, "PAGE_BY_IDS_MAX", page_by_ids_max)
    user = personas.vendor_x_admin  # the filterset's rule: a user with no sponsor has qualified nobody
    nobody = directory_search(user=user, data=QueryDict("qualified=true"))
    assert nobody.page.paginator.count == 0 and list(nobody.page.object_list) == []
    everyone = directory_search(user=user, data=QueryDict("qualified=false"))
    assert everyone.page.paginator.count == Vendor.objects.count() > 0


def test_a_capability_deleted_while_the_index_was_read_is_left_out_not_a_crash(personas):
    capability = Capability.objects.filter(category__code="packaging").first()
    offering(personas.vendor_x).capabilities.add(capability)
    index = facet_index()
    del index.capabilities[capability.pk]  # as if deleted between the index's reads of links and of names
    facet_values = facets(personas.sponsor_a_admin)
    assert capability.slug not in facet_values["capability"] and facet_values["category"]["packaging"] == 1
