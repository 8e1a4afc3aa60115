from cro_cmo.generic_views import ObjectDetailView, ObjectListView
from vendors.filtersets import VendorFilterSet
from vendors.models import Vendor


class VendorListView(ObjectListView):
    queryset = Vendor.objects.all()
    filterset_class = VendorFilterSet
    columns = ["name", "kind", "hq_country"]


class VendorDetailView(ObjectDetailView):
    queryset = Vendor.objects.all()
    lookup_field = "slug"
