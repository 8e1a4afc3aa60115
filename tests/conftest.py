"""Personas used by every access-rule test.

sponsor A admin, sponsor A viewer, sponsor B admin, vendor X admin (the one invited, later),
vendor Y admin (not invited), plus vendor X viewer and platform staff. Each persona owns some
data so that the walk over every route has something to leak.
"""

import pytest
from rest_framework.test import APIClient

from accounts.models import Role
from accounts.services import api_token_create
from tests.factories import ProgramFactory, SponsorFactory, UserFactory, VendorFactory

PASSWORD = "correct-horse-battery"
pytest_plugins = ["tests.browser"]  # browser and page fixtures


class Personas:
    """Namespace for the persona users and their organisations."""


@pytest.fixture
def personas(db):
    p = Personas()
    p.sponsor_a = SponsorFactory(name="Sponsor A", slug="sponsor-a")
    p.sponsor_b = SponsorFactory(name="Sponsor B", slug="sponsor-b")
    p.vendor_x = VendorFactory(name="Vendor X", slug="vendor-x")
    p.vendor_y = VendorFactory(name="Vendor Y", slug="vendor-y", kind="cmo")
    p.sponsor_a_admin = UserFactory(email="a-admin@a.test", sponsor=p.sponsor_a, role=Role.ADMIN)
    p.sponsor_a_viewer = UserFactory(email="a-viewer@a.test", sponsor=p.sponsor_a, role=Role.VIEWER)
    p.sponsor_b_admin = UserFactory(email="b-admin@b.test", sponsor=p.sponsor_b, role=Role.ADMIN)
    p.vendor_x_admin = UserFactory(email="x-admin@x.test", vendor=p.vendor_x, role=Role.ADMIN)
    p.vendor_x_viewer = UserFactory(email="x-viewer@x.test", vendor=p.vendor_x, role=Role.VIEWER)
    p.vendor_y_admin = UserFactory(email="y-admin@y.test", vendor=p.vendor_y, role=Role.ADMIN)
    p.staff = UserFactory(email="staff@platform.test", is_staff=True, is_superuser=True, role=Role.MEMBER)
    p.program_a = ProgramFactory(sponsor=p.sponsor_a, code="A-1")
    p.program_b = ProgramFactory(sponsor=p.sponsor_b, code="B-1")
    return p


@pytest.fixture
def world(personas):
    """The personas plus one of every resource each organisation owns, keyed by name.

    ``tests/test_access_table.py`` states, as data, which persona sees and changes which of
    these; a new resource joins this world (and that table) the day it is added. Names double
    as markers: each object's name is unique text that a browser list shows only to those who see it.
    """
    from datetime import date, timedelta

    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    from accounts.models import MemberInvite
    from notifications.models import Notification, OutboxEvent
    from vendors.models import Capability, Certification, ServiceCategory, ServiceOffering, Site

    p = personas
    p.program_a.name, p.program_b.name = "Alpha programme QZA", "Bravo programme QZB"
    p.program_a.save()
    p.program_b.save()
    clinical = ServiceCategory.objects.get(code="clinical-trials")
    objects = {
        "sponsor_a": p.sponsor_a,
        "sponsor_b": p.sponsor_b,
        "program_a": p.program_a,
        "program_b": p.program_b,
        "vendor_x": p.vendor_x,
        "vendor_y": p.vendor_y,
        "site_x": Site.objects.create(vendor=p.vendor_x, name="Xanadu site QZX", city="Leeds", country="GB"),
        "site_y": Site.objects.create(vendor=p.vendor_y, name="Yonder site QZY", city="Lyon", country="FR"),
        "offering_x": ServiceOffering.objects.create(vendor=p.vendor_x, category=clinical, description="QZX trials"),
        "offering_x_inactive": ServiceOffering.objects.create(
            vendor=p.vendor_x,
            category=ServiceCategory.objects.get(code="data-management"),
            description="QZX retired data management",
            is_active=False,
        ),
        "offering_y": ServiceOffering.objects.create(
            vendor=p.vendor_y, category=ServiceCategory.objects.get(code="packaging"), description="QZY packs"
        ),
        "cert_x": Certification.objects.create(
            vendor=p.vendor_x, type="gcp", authority="mhra", number="QZX-GCP", issued_on=date(2024, 1, 1)
        ),
        "cert_y": Certification.objects.create(
            vendor=p.vendor_y, type="gmp", authority="national", number="QZY-GMP", issued_on=date(2024, 1, 1)
        ),
        "category": clinical,
        "capability": Capability.objects.filter(category=clinical).order_by("pk").first(),
    }
    for name in ["cert_x", "cert_y"]:
        pdf = SimpleUploadedFile(f"{name}.pdf", b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n")
        objects[name].document = pdf
        objects[name].save()
    for name in [*PERSONA_NAMES, "staff"]:
        objects[name] = getattr(p, name)
    for name in ["sponsor_a_admin", "vendor_x_viewer"]:
        objects[f"token_{name}"], _ = api_token_create(user=objects[name], name=f"Token of {name} QZT")
    objects["invite_a"] = MemberInvite.objects.create(
        sponsor=p.sponsor_a, email="invitee-qzi@a.test", token_hash="0" * 64, invited_by=p.sponsor_a_admin,
        expires_at=timezone.now() + timedelta(days=7),
    )  # fmt: skip
    for name in ["sponsor_a_admin", "vendor_x_admin"]:
        user = objects[name]
        event = OutboxEvent.objects.create(event_type="test.notice", title=f"Notice for {name} QZN")
        objects[f"notification_{name}"] = Notification.objects.create(user=user, event=event)
    objects.update(_sponsor_records_world(p))
    objects.update(_sourcing_world(p))
    objects.update(_contracts_world(p))
    objects.update(_alerts_world(p, objects))
    return objects


def _alerts_world(p, objects) -> dict:
    """Alerts: A's and X's own copies of the overdue alert on A–X's milestone (each side sees and acknowledges
    its own) and B's budget warning on B–Y's agreement. Titles are the list markers."""
    from django.utils import timezone

    from alerts.models import Alert

    milestone, now = objects["milestone_a_x"], timezone.now()
    on_milestone = {"kind": "milestone_overdue", "severity": "critical", "raised_at": now, "sponsor": p.sponsor_a,
                    "vendor": p.vendor_x, "contract": milestone.contract, "milestone": milestone}  # fmt: skip
    return {
        "alert_a": Alert.objects.create(
            audience="sponsor", key=f"milestone:{milestone.pk}:s", title="Overdue alert QZLA", **on_milestone
        ),
        "alert_x": Alert.objects.create(
            audience="vendor", key=f"milestone:{milestone.pk}:v", title="Overdue alert QZLX", **on_milestone
        ),
        "alert_b": Alert.objects.create(
            kind="budget_warning",
            severity="warning",
            audience="sponsor",
            raised_at=now,
            sponsor=p.sponsor_b,
            vendor=p.vendor_y,
            contract=objects["contract_b_y"],
            key=f"contract:{objects['contract_b_y'].pk}:s",
            title="Budget alert QZLB",
        ),
    }


def _sponsor_records_world(p) -> dict:
    """Sponsors' private records of vendors: A's and B's qualifications of vendor X (which X must never
    see), A's audit report and A's shortlist. Notes, MSA references and names are unique markers."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from sponsors.models import QualificationDocument, Shortlist, ShortlistEntry, VendorQualification

    objects = {
        "qualification_a_x": VendorQualification.objects.create(
            sponsor=p.sponsor_a, vendor=p.vendor_x, status="approved", risk="low", msa_reference="QZQA-MSA",
            notes="Sponsor A private audit notes QZQ-NOTES-A",
        ),
        "qualification_b_x": VendorQualification.objects.create(
            sponsor=p.sponsor_b, vendor=p.vendor_x, status="disqualified", risk="high", msa_reference="QZQB-MSA",
            notes="Sponsor B private audit notes QZQ-NOTES-B",
        ),
        "shortlist_a": Shortlist.objects.create(sponsor=p.sponsor_a, name="Shortlist QZS of A"),
    }  # fmt: skip
    ShortlistEntry.objects.create(shortlist=objects["shortlist_a"], vendor=p.vendor_x)
    pdf = SimpleUploadedFile("audit.pdf", b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n")
    objects["qualification_doc_a"] = QualificationDocument.objects.create(
        qualification=objects["qualification_a_x"], title="Audit report QZD", file=pdf
    )
    return objects


def _sourcing_world(p) -> dict:
    """Sourcing: A's sealed RFP, published, with vendor X invited and its submitted proposal (milestones add
    up to the total); A's draft RFP (never seen by a vendor); B's draft RFP. Titles are the list markers;
    the ceiling 424242 is the secret no vendor's rendering may contain."""
    from decimal import Decimal

    from django.core.files.uploadedfile import SimpleUploadedFile

    from contracts import services as sourcing
    from contracts.services.documents import document_upload
    from tests.factories import RFPFactory

    rfp_a = RFPFactory(
        program=p.program_a, title="Alpha RFP QZRA", sealed=True, budget_ceiling=Decimal("424242.00"),
        budget_currency="EUR",
    )  # fmt: skip
    (invitation_a_x,), _ = sourcing.rfp_invite(actor=p.sponsor_a_admin, rfp=rfp_a, vendors=[p.vendor_x])
    pdf = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
    rfp_document = document_upload(actor=p.sponsor_a_admin, target=rfp_a, title="RFP attachment QZDR",
                                   file=SimpleUploadedFile("scope.pdf", pdf))  # fmt: skip
    sourcing.rfp_publish(actor=p.sponsor_a_admin, rfp=rfp_a)
    milestones = [
        {"name": "Kick-off QZM", "due_offset_days": 0, "amount": Decimal("40000.00")},
        {"name": "Final report QZM", "due_offset_days": 180, "amount": Decimal("60000.00")},
    ]
    proposal = sourcing.proposal_save_draft(
        actor=p.vendor_x_admin, rfp=rfp_a, milestones=milestones,
        data={"total_price": Decimal("100000.00"), "currency": "EUR", "timeline": "Proposal timeline QZP"},
    )  # fmt: skip
    proposal_document = document_upload(actor=p.vendor_x_admin, target=proposal, title="Proposal file QZDP",
                                        file=SimpleUploadedFile("offer.pdf", pdf))  # fmt: skip
    sourcing.proposal_submit(actor=p.vendor_x_admin, proposal=proposal)
    invitation_a_x.refresh_from_db()
    return {
        "rfp_a": rfp_a,
        "rfp_a_draft": RFPFactory(program=p.program_a, title="Alpha draft RFP QZRD"),
        "rfp_b": RFPFactory(program=p.program_b, title="Bravo RFP QZRB"),
        "invitation_a_x": invitation_a_x,
        "proposal_a_x": proposal,
        # Documents: the RFP's attachment (both sides read it), the sealed proposal's file (its vendor only).
        "document_rfp_a": rfp_document,
        "document_proposal_a_x": proposal_document,
    }


def _contracts_world(p) -> dict:
    """Contracts: A–X's active MSA with an active work order under it (an accepted milestone, a change order
    the vendor proposed, an invoice for the milestone, a transferred activity, a file on the change order and
    one on the invoice); A–Y's and B–Y's agreements, which vendor X must never see. Titles, names and numbers
    are the list markers."""
    from datetime import date
    from decimal import Decimal

    from django.core.files.uploadedfile import SimpleUploadedFile

    from contracts.models import ChangeOrder, ContractActivity, Invoice
    from contracts.services.documents import document_upload
    from tests.factories import ContractFactory, MilestoneFactory

    msa = ContractFactory(sponsor=p.sponsor_a, vendor=p.vendor_x, kind="msa", title="Master agreement QZCM",
                          state="active")  # fmt: skip
    work_order = ContractFactory(
        sponsor=p.sponsor_a, vendor=p.vendor_x, kind="work-order", parent=msa, title="Work order QZCW",
        state="active", value=Decimal("100000.00"),
    )  # fmt: skip
    milestone = MilestoneFactory(contract=work_order, name="Milestone QZMS", state="accepted")
    change_order = ChangeOrder.objects.create(
        contract=work_order,
        sequence=1,
        proposed_by_side="vendor",
        proposed_by=p.vendor_x_admin,
        reason="Change order QZCO",
        value_delta=Decimal("5000.00"),
    )
    invoice = Invoice.objects.create(
        contract=work_order,
        vendor=p.vendor_x,
        milestone=milestone,
        number="INV-QZIN",
        issued_on=date.today(),
        amount=milestone.amount,
        currency="EUR",
        submitted_by=p.vendor_x_admin,
    )
    pdf = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
    return {
        "msa_a_x": msa,
        "work_order_a_x": work_order,
        "milestone_a_x": milestone,
        "activity_a_x": ContractActivity.objects.create(
            contract=work_order, activity="data_management", detail="Transferred QZAC"
        ),
        "change_order_a_x": change_order,
        "invoice_a_x": invoice,
        # Contract documents: the vendor's backup for its change order and its invoice PDF (both parties read them).
        "document_change_order_a_x": document_upload(
            actor=p.vendor_x_admin,
            target=change_order,
            title="Change order backup QZDC",
            file=SimpleUploadedFile("quote.pdf", pdf),
        ),
        "document_invoice_a_x": document_upload(
            actor=p.vendor_x_admin, target=invoice, title="Invoice QZDI", file=SimpleUploadedFile("inv.pdf", pdf)
        ),
        "contract_a_y": ContractFactory(sponsor=p.sponsor_a, vendor=p.vendor_y, title="Agreement QZCAY"),
        "contract_b_y": ContractFactory(sponsor=p.sponsor_b, vendor=p.vendor_y, title="Agreement QZCBY"),
    }


PERSONA_NAMES = [
    "sponsor_a_admin",
    "sponsor_a_viewer",
    "sponsor_b_admin",
    "vendor_x_admin",
    "vendor_x_viewer",
    "vendor_y_admin",
]


@pytest.fixture
def api_client_for():
    """``api_client_for(user)`` → an APIClient authenticated with a real API token of that user."""

    def make(user):
        client = APIClient()
        _, key = api_token_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        return client

    return make


@pytest.fixture
def browser_client_for(client):
    def make(user):
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        return client

    return make


# Lines for the end of the run, so a CI log states what really ran (e.g. the real worker's broker).
RUN_SUMMARY: list[str] = []


def _broker_label(url: str) -> str:
    return "filesystem (embedded default)" if url.startswith("filesystem") else url.split("@")[-1]


def pytest_report_header(config):
    from django.conf import settings

    db = settings.DATABASES["default"]
    return [
        f"database: {db['ENGINE'].rsplit('.', 1)[-1]} ({db['NAME']})",
        f"broker: {_broker_label(settings.CELERY_BROKER_URL)}",
    ]


def pytest_terminal_summary(terminalreporter):
    for line in RUN_SUMMARY:
        terminalreporter.write_line(line)
