"""Files attached to sourcing and contract records, versioned, with who uploaded them and a SHA-256."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from cro_cmo.models import BaseModel, VisibleQuerySet

# What a document can be attached to: exactly one of these foreign keys is set (a check constraint).
DOCUMENT_TARGETS = ("rfp", "proposal", "contract", "milestone", "change_order", "invoice")


def document_upload_to(instance, filename):
    # The stored name never matters to readers (downloads use ``filename``); a timestamp keeps versions apart.
    target = instance.target_name
    return f"documents/{target}/{getattr(instance, f'{target}_id')}/{timezone.now():%Y%m%d%H%M%S%f}-{filename}"


def _exactly_one_target() -> Q:
    condition = Q()
    for name in DOCUMENT_TARGETS:
        one = Q(**{f"{name}__isnull": False})
        for other in DOCUMENT_TARGETS:
            if other != name:
                one &= Q(**{f"{other}__isnull": True})
        condition |= one
    return condition


class DocumentQuerySet(VisibleQuerySet):
    def visible_to(self, user, action):
        """Whoever may see the record a document is attached to sees the document (a sealed proposal's
        files stay closed with the proposal). Changing means adding a version: the same rule as the
        record's own change rule, which the services narrow further (who uploads what, and when)."""
        from contracts.models import RFP, ChangeOrder, Contract, Invoice, Milestone, Proposal

        return self.filter(
            Q(rfp__in=RFP.objects.for_user(user, action))
            | Q(proposal__in=Proposal.objects.for_user(user, action))
            | Q(contract__in=Contract.objects.for_user(user, action))
            | Q(milestone__in=Milestone.objects.for_user(user, action))
            | Q(change_order__in=ChangeOrder.objects.for_user(user, action))
            | Q(invoice__in=Invoice.objects.for_user(user, action))
        )


class Document(BaseModel):
    """A file attached to an RFP, a proposal, a contract, a milestone, a change order or an invoice.

    Versioned by title: uploading a file under a title the record already has adds the next version;
    earlier versions stay readable. Immutable once stored — the SHA-256 of the bytes, their size and
    the detected content type are recorded at upload (``contracts.services.document_upload``, which
    also checks the type by content, the size and PDFs for active content). Served only through an
    access-checked download view, never from a public media URL.
    """

    rfp = models.ForeignKey("contracts.RFP", null=True, blank=True, on_delete=models.CASCADE, related_name="documents")
    proposal = models.ForeignKey(
        "contracts.Proposal", null=True, blank=True, on_delete=models.CASCADE, related_name="documents"
    )
    contract = models.ForeignKey(
        "contracts.Contract", null=True, blank=True, on_delete=models.PROTECT, related_name="documents"
    )
    milestone = models.ForeignKey(
        "contracts.Milestone", null=True, blank=True, on_delete=models.PROTECT, related_name="documents"
    )
    change_order = models.ForeignKey(
        "contracts.ChangeOrder", null=True, blank=True, on_delete=models.PROTECT, related_name="documents"
    )
    invoice = models.ForeignKey(
        "contracts.Invoice", null=True, blank=True, on_delete=models.PROTECT, related_name="documents"
    )
    title = models.CharField(max_length=200, help_text="Files under the same title are versions of one document.")
    version = models.PositiveIntegerField(default=1, editable=False)
    file = models.FileField(upload_to=document_upload_to, max_length=255, editable=False)
    filename = models.CharField(max_length=255, editable=False, help_text="The name the file was uploaded with.")
    content_type = models.CharField(max_length=100, editable=False)
    size = models.PositiveBigIntegerField(editable=False)
    sha256 = models.CharField("SHA-256", max_length=64, editable=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    objects = DocumentQuerySet.as_manager()

    class Meta:
        ordering = ["title", "-version"]
        constraints = [
            models.CheckConstraint(
                condition=_exactly_one_target(),
                name="document_exactly_one_target",
                violation_error_message="A document belongs to exactly one record.",
            ),
            *(
                models.UniqueConstraint(
                    fields=[name, "title", "version"],
                    condition=Q(**{f"{name}__isnull": False}),
                    name=f"document_version_unique_per_{name}",
                    violation_error_message="This version of the document exists already.",
                )
                for name in DOCUMENT_TARGETS
            ),
        ]

    def __str__(self):
        return f"{self.title} (v{self.version})"

    @property
    def target_name(self) -> str:
        """Which kind of record the document is attached to ("rfp", "proposal", …)."""
        return next(name for name in DOCUMENT_TARGETS if getattr(self, f"{name}_id") is not None)

    @property
    def target(self):
        return getattr(self, self.target_name)
