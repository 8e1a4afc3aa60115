"""Event-driven re-checks for records that have no service of their own.

Programmes and qualifications are saved through the generic ``cro_cmo.services.object_save`` (browser and
API alike); a changed cap or audit date re-checks that record's alerts after commit here, rather than
teaching the generic layer about alerts. Contracts, milestones, change orders, invoices and certificates
re-check from their own services.
"""

from django.db.models.signals import post_save
from django.dispatch import receiver

from alerts.services import alerts_recheck_on_commit
from sponsors.models import Program, VendorQualification


@receiver(post_save, sender=Program, dispatch_uid="alerts.program_recheck")
def program_saved(sender, instance: Program, raw=False, **kwargs):
    if not raw:  # not while loading fixtures
        alerts_recheck_on_commit(program_ids=[instance.pk])


@receiver(post_save, sender=VendorQualification, dispatch_uid="alerts.qualification_recheck")
def qualification_saved(sender, instance: VendorQualification, raw=False, **kwargs):
    if not raw:
        alerts_recheck_on_commit(qualification_ids=[instance.pk])
