"""Sourcing and contracts in the Django admin: every page loads for platform staff and shows the records;
states, prices and files are read-only; nothing is added or deleted there (the services do that)."""

from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.test import Client

from audit.models import HistoryEntry
from contracts import services
from contracts.models import RFP, Contract, Document, Milestone, Proposal, ProposalScore, Question
from sponsors.models import VendorQualification
from tests.test_sourcing_domain import LINES, create_rfp, in_days, published_rfp, submitted

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(personas):
    client = Client()
    client.force_login(personas.staff, backend="django.contrib.auth.backends.ModelBackend")
    return client


@pytest.fixture
def records(personas):
    """One of each: a draft RFP, an awarded RFP with its question, proposals, score, contract and document."""
    p = personas
    draft = create_rfp(p, title="Draft RFP QADR")
    rfp = published_rfp(p, vendors=[p.vendor_x, p.vendor_y], title="Awarded RFP QAAW", qa_cutoff=in_days(7))
    question = services.question_ask(actor=p.vendor_x_admin, rfp=rfp, text="Is cold chain in scope QAQ?")
    services.question_answer(actor=p.sponsor_a_admin, question=question, answer="Yes, 2-8 °C QAA.")
    lines = [LINES[0], {**LINES[1], "description": "Glass vials QAL"}]
    x = submitted(p, rfp, line_items=lines)
    submitted(p, rfp, actor=p.vendor_y_admin)
    services.rfp_close(actor=p.sponsor_a_admin, rfp=rfp)
    criterion = rfp.criteria.get(name="Price")
    score = ProposalScore.objects.create(proposal=x, criterion=criterion, scorer=p.sponsor_a_admin, score="7.5")
    VendorQualification.objects.create(sponsor=p.sponsor_a, vendor=p.vendor_x, status="approved")
    contract = services.rfp_award(actor=p.sponsor_a_admin, proposal=x)
    document = Document(
        contract=contract, title="Signed agreement QADOC", filename="agreement.pdf", content_type="application/pdf",
        size=8, sha256="ab" * 32, uploaded_by=p.sponsor_a_admin,
    )  # fmt: skip
    document.file.save("agreement.pdf", ContentFile(b"%PDF-1.4"), save=False)
    document.save()
    return {
        "draft": draft, "rfp": rfp, "question": question, "proposal": x, "score": score, "contract": contract,
        "milestone": contract.milestones.first(), "document": document,
    }  # fmt: skip


CHANGELISTS = [
    ("rfp", ["Draft RFP QADR", "Awarded RFP QAAW", "Awarded"]),
    ("proposal", ["Awarded RFP QAAW", "Vendor X", "Vendor Y", "Accepted", "Rejected"]),
    ("question", ["Is cold chain in scope QAQ?"]),
    ("proposalscore", ["7.5"]),
    ("contract", ["SA-00001", "Awarded RFP QAAW", "Stand-alone agreement"]),
    ("milestone", ["Kick-off", "Batch release"]),
    ("document", ["Signed agreement QADOC", "agreement.pdf"]),
]


@pytest.mark.parametrize("model,texts", CHANGELISTS, ids=[m for m, _ in CHANGELISTS])
def test_each_changelist_lists_the_records(staff_client, records, model, texts):
    response = staff_client.get(f"/admin/contracts/{model}/")
    assert response.status_code == 200
    page = response.content.decode()
    for text in texts:
        assert text in page, text
    assert f'href="/admin/contracts/{model}/add/"' not in page  # added through the services only


CHANGE_PAGES = [
    ("rfp", "rfp", ["Awarded RFP QAAW", "Vendor X", "Vendor Y", "Price", "987654.32"]),
    ("proposal", "proposal", ["Glass vials QAL", "Kick-off", "100000.00"]),
    ("question", "question", ["Is cold chain in scope QAQ?", "Yes, 2-8 °C QAA."]),
    ("proposalscore", "score", ["7.5", "Price (40)"]),
    ("contract", "contract", ["SA-00001", "Kick-off", "Batch release", "100000.00"]),
    ("milestone", "milestone", ["Kick-off", "30000.00"]),
    ("document", "document", ["Signed agreement QADOC", "ab" * 32, "application/pdf"]),
]


@pytest.mark.parametrize("model,key,texts", CHANGE_PAGES, ids=[m for m, _, _ in CHANGE_PAGES])
def test_each_change_page_shows_the_record_with_its_state_read_only(staff_client, records, model, key, texts):
    obj = records[key]
    response = staff_client.get(f"/admin/contracts/{model}/{obj.pk}/change/")
    assert response.status_code == 200
    page = response.content.decode()
    for text in texts:
        assert text in page, text
    assert 'name="state"' not in page  # a state is shown, never a field to change
    assert f"/admin/contracts/{model}/{obj.pk}/delete/" not in page


def test_a_document_is_named_never_linked_to_a_media_url(staff_client, records):
    document = records["document"]
    page = staff_client.get(f"/admin/contracts/document/{document.pk}/change/").content.decode()
    assert document.file.name in page
    assert "/media/" not in page and 'name="sha256"' not in page


def test_a_published_rfp_is_view_only_and_a_post_changes_nothing(staff_client, records):
    rfp = records["rfp"]
    page = staff_client.get(f"/admin/contracts/rfp/{rfp.pk}/change/").content.decode()
    assert 'name="title"' not in page and 'name="_save"' not in page
    response = staff_client.post(f"/admin/contracts/rfp/{rfp.pk}/change/", {"title": "Renamed", "state": "draft"})
    assert response.status_code == 403
    rfp.refresh_from_db()
    assert (rfp.title, rfp.state) == ("Awarded RFP QAAW", "awarded")


def test_a_draft_rfps_wording_is_editable_but_not_its_state(staff_client, records):
    draft = records["draft"]
    page = staff_client.get(f"/admin/contracts/rfp/{draft.pk}/change/").content.decode()
    assert 'name="title"' in page and 'name="criteria-0-weight"' in page
    assert 'name="state"' not in page and 'name="sponsor"' not in page


MILESTONE_FORMSET = {
    "milestones-TOTAL_FORMS": "2", "milestones-INITIAL_FORMS": "2", "milestones-MIN_NUM_FORMS": "0",
    "milestones-MAX_NUM_FORMS": "1000",
}  # fmt: skip


def test_a_contracts_value_and_state_are_read_only_its_title_editable(staff_client, records):
    contract = records["contract"]
    page = staff_client.get(f"/admin/contracts/contract/{contract.pk}/change/").content.decode()
    assert 'name="title"' in page and 'name="notes"' in page
    for field in ("value", "currency", "state", "vendor", "number"):
        assert f'name="{field}"' not in page, field
    data = {"title": "Fill-finish work order QAT", "notes": "", "value": "1", "state": "active"}
    response = staff_client.post(f"/admin/contracts/contract/{contract.pk}/change/", {**data, **MILESTONE_FORMSET})
    assert response.status_code == 302  # saved: the title only
    contract.refresh_from_db()
    assert (contract.title, contract.value, contract.state) == (
        "Fill-finish work order QAT",
        Decimal("100000.00"),
        "draft",
    )


def test_nothing_is_added_or_deleted_in_the_admin(staff_client, records):
    for model in ("rfp", "proposal", "question", "proposalscore", "contract", "milestone", "document"):
        assert staff_client.get(f"/admin/contracts/{model}/add/").status_code == 403, model
    proposal = records["proposal"]
    response = staff_client.post(
        "/admin/contracts/proposal/", {"action": "delete_selected", "_selected_action": [proposal.pk], "post": "yes"}
    )
    assert response.status_code in (200, 403)
    counts = [m.objects.count() for m in (RFP, Proposal, Question, ProposalScore, Contract, Milestone, Document)]
    assert counts == [2, 2, 1, 1, 1, 2, 1]


def test_staff_correct_a_draft_rfps_wording_and_the_history_says_who(staff_client, records, personas):
    draft = records["draft"]
    page = staff_client.get(f"/admin/contracts/rfp/{draft.pk}/change/").content.decode()
    assert 'name="criteria-TOTAL_FORMS"' in page
    criteria = list(draft.criteria.all())
    data = {
        "program": draft.program_id, "title": "Draft RFP QADR (typo fixed)", "scope": draft.scope,
        "desired_start": draft.desired_start.isoformat(), "desired_end": draft.desired_end.isoformat(),
        "budget_ceiling": "987654.32", "budget_currency": "EUR",
        "response_deadline_0": draft.response_deadline.date().isoformat(), "response_deadline_1": "17:00:00",
        "qa_cutoff_0": "", "qa_cutoff_1": "", "sealed": "",
        "criteria-TOTAL_FORMS": str(len(criteria)), "criteria-INITIAL_FORMS": str(len(criteria)),
        "criteria-MIN_NUM_FORMS": "0", "criteria-MAX_NUM_FORMS": "1000",
        "invitations-TOTAL_FORMS": "0", "invitations-INITIAL_FORMS": "0",
        "invitations-MIN_NUM_FORMS": "0", "invitations-MAX_NUM_FORMS": "1000",
    }  # fmt: skip
    for i, criterion in enumerate(criteria):
        data |= {f"criteria-{i}-id": criterion.pk, f"criteria-{i}-rfp": draft.pk, f"criteria-{i}-name": criterion.name,
                 f"criteria-{i}-weight": criterion.weight, f"criteria-{i}-position": criterion.position}  # fmt: skip
    response = staff_client.post(f"/admin/contracts/rfp/{draft.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[-3000:]
    draft.refresh_from_db()
    assert (draft.title, draft.state) == ("Draft RFP QADR (typo fixed)", "draft")
    [entry] = HistoryEntry.objects.for_object(draft).filter(action="changed")
    assert entry.changes["title"] == ["Draft RFP QADR", "Draft RFP QADR (typo fixed)"] and entry.actor == personas.staff
