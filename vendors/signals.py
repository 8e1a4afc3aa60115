"""Every write to what the facet index reads records a directory change (``directory_changed``), in the
writing transaction: vendors, their offerings and the offerings' capabilities, sites, certificates, and
the category and capability names. Bulk writes that send no signals go through ``vendor_search_refresh``,
which does the same."""

from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from vendors.facet_index import directory_changed
from vendors.models import Capability, Certification, ServiceCategory, ServiceOffering, Site, Vendor

INDEXED = (Vendor, ServiceOffering, Site, Certification, ServiceCategory, Capability)


def _changed(sender, **kwargs):
    directory_changed()


for model in INDEXED:
    post_save.connect(_changed, sender=model, dispatch_uid=f"directory-changed-save-{model.__name__}")
    post_delete.connect(_changed, sender=model, dispatch_uid=f"directory-changed-delete-{model.__name__}")


@receiver(m2m_changed, sender=ServiceOffering.capabilities.through, dispatch_uid="directory-changed-capabilities")
def _capabilities_changed(sender, action, **kwargs):
    if action in ("post_add", "post_remove", "post_clear"):
        directory_changed()
