"""The sourcing pages through the Django test client: every page and action, refusals as messages or form
errors (never a 500), the budget ceiling never on a page a vendor reaches, sealed prices hidden until close."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from contracts import services
from contracts.models import RFP, Invitation, Proposal, Question
from tests.factories import RFPFactory

pytestmark = pytest.mark.django_db

CEILING = Decimal("987654.32")
CEILING_TEXT = "987,654.32"


@pytest.fixture
def rfp(personas):
    """A sealed, published RFP of sponsor A with a secret ceiling, inviting vendor X only."""
    rfp = RFPFactory(
        program=personas.program_a, title="Fill-finish QZR", sealed=True, budget_ceiling=CEILING, budget_currency="EUR"
    )
    services.rfp_invite(actor=personas.sponsor_a_admin, rfp=rfp, vendors=[personas.vendor_x])
    services.rfp_publish(actor=personas.sponsor_a_admin, rfp=rfp)
    return rfp


def login(client, user):
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def test_sponsor_creates_an_rfp_from_a_programme(client, personas):
    login(client, personas.sponsor_a_admin)
    page = client.get(reverse("rfp-add") + f"?program={personas.program_a.pk}")
    assert page.status_code == 200
    assert f'value="{personas.program_a.pk}" selected' in page.content.decode()
    assert personas.program_b.name not in page.content.decode()  # another sponsor's programme
    response = client.post(reverse("rfp-add"), {
        "program": personas.program_a.pk, "title": "Sterile fill-finish", "scope": "Three batches.",
        "desired_start": "2030-01-01", "desired_end": "2030-06-30", "budget_ceiling": "500000",
        "budget_currency": "EUR", "response_deadline": "2029-12-01T17:00", "time_zone": "Europe/Paris",
        "criteria-TOTAL_FORMS": "2", "criteria-INITIAL_FORMS": "0",
        "criteria-0-name": "Price", "criteria-0-weight": "60", "criteria-1-name": "Timeline", "criteria-1-weight": "40",
    })  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:3000]
    rfp = RFP.objects.get(title="Sterile fill-finish")
    assert response.url == reverse("rfp-detail", args=[rfp.pk])
    assert rfp.sponsor == personas.sponsor_a and rfp.state == "draft"
    # 17:00 in Paris in December is 16:00 UTC: the chosen zone is the one used.
    assert rfp.response_deadline == timezone.datetime(2029, 12, 1, 16, 0, tzinfo=timezone.UTC)
    assert [(c.name, c.weight) for c in rfp.criteria.all()] == [("Price", 60), ("Timeline", 40)]


def test_bad_rfp_input_is_a_form_error_not_a_500(client, personas):
    login(client, personas.sponsor_a_admin)
    response = client.post(reverse("rfp-add"), {
        "program": personas.program_b.pk, "title": "", "desired_start": "2030-06-01", "desired_end": "2030-01-01",
        "budget_ceiling": "5", "response_deadline": "not a date", "time_zone": "Mars/Olympus",
        "criteria-TOTAL_FORMS": "1", "criteria-INITIAL_FORMS": "0", "criteria-0-name": "Price", "criteria-0-weight": "0",
    })  # fmt: skip
    assert response.status_code == 200
    html = response.content.decode()
    assert "error-summary" in html and "Select a valid choice" in html
    assert not RFP.objects.exists()
    # Dates the model refuses (end before start) come back as errors too.
    response = client.post(reverse("rfp-add"), {
        "program": personas.program_a.pk, "title": "T", "desired_start": "2030-06-01", "desired_end": "2030-01-01",
        "response_deadline": "2029-12-01T17:00", "time_zone": "UTC",
        "criteria-TOTAL_FORMS": "0", "criteria-INITIAL_FORMS": "0",
    })  # fmt: skip
    assert response.status_code == 200
    assert "The desired end must be after the desired start." in response.content.decode()
    assert not RFP.objects.exists()


def test_draft_edits_and_published_is_fixed(client, personas):
    draft = RFPFactory(program=personas.program_a, title="Draft QZD")
    login(client, personas.sponsor_a_admin)
    data = {
        "program": personas.program_a.pk, "title": "Renamed QZD", "scope": "s", "desired_start": "2030-01-01",
        "desired_end": "2030-06-30", "response_deadline": "2029-12-01T17:00", "time_zone": "UTC",
        "criteria-TOTAL_FORMS": "1", "criteria-INITIAL_FORMS": "0", "criteria-0-name": "Price", "criteria-0-weight": "1",
    }  # fmt: skip
    assert client.post(reverse("rfp-edit", args=[draft.pk]), data).status_code == 302
    draft.refresh_from_db()
    assert draft.title == "Renamed QZD" and draft.criteria.get().name == "Price"
    services.rfp_invite(actor=personas.sponsor_a_admin, rfp=draft, vendors=[personas.vendor_x])
    services.rfp_publish(actor=personas.sponsor_a_admin, rfp=draft)
    response = client.post(reverse("rfp-edit", args=[draft.pk]), {**data, "title": "Changed after publishing"})
    assert response.status_code == 200 and "only a draft can be edited" in response.content.decode()
    draft.refresh_from_db()
    assert draft.title == "Renamed QZD"


def test_lists_for_sponsor_and_vendor(client, rfp, personas):
    html = login(client, personas.sponsor_a_admin).get(reverse("rfp-list")).content.decode()
    assert "Fill-finish QZR" in html and "Sealed" in html and "UTC" in html
    assert "Fill-finish QZR" not in login(client, personas.sponsor_b_admin).get(reverse("rfp-list")).content.decode()
    assert "Fill-finish QZR" not in login(client, personas.vendor_y_admin).get(reverse("rfp-list")).content.decode()
    html = login(client, personas.vendor_x_admin).get(reverse("rfp-list")).content.decode()
    assert "Fill-finish QZR" in html and "Invited" in html and "none yet" in html
    assert CEILING_TEXT not in html
    # Filters: state and search narrow; an unknown state is a filter error, not a 500.
    login(client, personas.sponsor_a_admin)
    assert "Fill-finish QZR" not in client.get(reverse("rfp-list") + "?state=draft").content.decode()
    assert "Fill-finish QZR" in client.get(reverse("rfp-list") + "?q=fill").content.decode()
    response = client.get(reverse("rfp-list") + "?state=nonsense&program=99999999999999999999")
    assert response.status_code == 200 and "Some filters are not valid" in response.content.decode()


def test_out_of_reach_is_404_and_viewers_cannot_act(client, rfp, personas):
    for user in [personas.sponsor_b_admin, personas.vendor_y_admin]:
        login(client, user)
        assert client.get(reverse("rfp-detail", args=[rfp.pk])).status_code == 404
        assert client.post(reverse("rfp-close", args=[rfp.pk])).status_code == 404
    login(client, personas.sponsor_a_viewer)
    page = client.get(reverse("rfp-detail", args=[rfp.pk])).content.decode()
    assert "Close bidding now" not in page and "Cancel RFP" not in page
    assert client.post(reverse("rfp-close", args=[rfp.pk])).status_code == 403
    login(client, personas.vendor_x_viewer)
    page = client.get(reverse("rfp-detail", args=[rfp.pk])).content.decode()
    assert "Write a proposal" not in page and "Decline invitation" not in page
    invitation = Invitation.objects.get(rfp=rfp)
    assert client.post(reverse("proposal-start", args=[invitation.pk])).status_code == 403
    rfp.refresh_from_db()
    assert rfp.state == "published"


def test_vendor_never_sees_the_ceiling_or_the_invitees(client, rfp, personas):
    services.rfp_invite(actor=personas.sponsor_a_admin, rfp=rfp, vendors=[personas.vendor_y])
    login(client, personas.sponsor_a_admin)
    html = client.get(reverse("rfp-detail", args=[rfp.pk])).content.decode()
    assert CEILING_TEXT in html and "Vendor Y" in html
    login(client, personas.vendor_x_admin)
    invitation = Invitation.objects.get(rfp=rfp, vendor=personas.vendor_x)
    client.post(reverse("proposal-start", args=[invitation.pk]))
    proposal = Proposal.objects.get(rfp=rfp, vendor=personas.vendor_x)
    for url in [
        reverse("rfp-list"),
        reverse("rfp-detail", args=[rfp.pk]),
        reverse("proposal-edit", args=[proposal.pk]),
    ]:
        html = client.get(url).content.decode()
        assert CEILING_TEXT not in html and "987654" not in html, url
        assert "Vendor Y" not in html, url


def test_vendor_proposal_journey_and_sealed_prices(client, rfp, personas):
    invitation = Invitation.objects.get(rfp=rfp)
    login(client, personas.vendor_x_admin)
    response = client.post(reverse("proposal-start", args=[invitation.pk]))
    proposal = Proposal.objects.get(rfp=rfp, vendor=personas.vendor_x)
    assert response.url == reverse("proposal-edit", args=[proposal.pk])
    form = {
        "total_price": "120000", "currency": "EUR", "timeline": "Six months", "assumptions": "",
        "items-TOTAL_FORMS": "1", "items-INITIAL_FORMS": "0",
        "items-0-description": "Batch", "items-0-quantity": "3", "items-0-unit": "batch", "items-0-unit_price": "40000",
        "milestones-TOTAL_FORMS": "2", "milestones-INITIAL_FORMS": "0",
        "milestones-0-name": "Kick-off", "milestones-0-due_offset_days": "0", "milestones-0-amount": "20000",
        "milestones-1-name": "Release", "milestones-1-due_date": "2030-05-01", "milestones-1-amount": "90000",
    }  # fmt: skip
    # Milestones not adding up to the total: saved as a draft, refused at submission with the sums.
    assert client.post(reverse("proposal-edit", args=[proposal.pk]), form).status_code == 302
    client.post(reverse("proposal-submit", args=[proposal.pk]))
    proposal.refresh_from_db()
    assert proposal.state == "draft"
    page = client.get(reverse("rfp-detail", args=[rfp.pk])).content.decode()
    assert "The milestone amounts add up to 110,000.00 EUR, not the total price of 120,000.00 EUR." in page
    # A row with both a date and an offset is a form error, not a 500.
    bad = {**form, "milestones-0-due_date": "2030-01-01"}
    response = client.post(reverse("proposal-edit", args=[proposal.pk]), bad)
    assert response.status_code == 200 and "not both" in response.content.decode()
    assert (
        client.post(reverse("proposal-edit", args=[proposal.pk]), {**form, "milestones-1-amount": "100000"}).status_code
        == 302
    )
    client.post(reverse("proposal-submit", args=[proposal.pk]))
    proposal.refresh_from_db()
    assert proposal.state == "submitted" and proposal.milestones.count() == 2
    # Sealed: the sponsor sees that vendor X responded and when, but no price.
    login(client, personas.sponsor_a_admin)
    html = client.get(reverse("rfp-detail", args=[rfp.pk])).content.decode()
    assert "Responded" in html and "Vendor X" in html
    assert "120,000.00" not in html and "sealed-note" in html
    assert client.get(reverse("proposal-edit", args=[proposal.pk])).status_code == 404
    # Closed: the prices open.
    client.post(reverse("rfp-close", args=[rfp.pk]))
    assert "120,000.00" in client.get(reverse("rfp-detail", args=[rfp.pk])).content.decode()


def test_withdraw_and_decline(client, rfp, personas):
    login(client, personas.vendor_x_admin)
    invitation = Invitation.objects.get(rfp=rfp)
    client.post(reverse("proposal-start", args=[invitation.pk]))
    proposal = Proposal.objects.get(rfp=rfp)
    client.post(reverse("proposal-withdraw", args=[proposal.pk]))
    proposal.refresh_from_db()
    assert proposal.state == "withdrawn"
    response = client.post(reverse("rfp-invitation-decline", args=[invitation.pk]), {"reason": " "}, follow=True)
    assert services.DECLINE_REASON_REQUIRED in response.content.decode()
    client.post(reverse("rfp-invitation-decline", args=[invitation.pk]), {"reason": "No capacity in Q3"})
    invitation.refresh_from_db()
    assert invitation.state == "declined"
    login(client, personas.sponsor_a_admin)
    assert "No capacity in Q3" in client.get(reverse("rfp-detail", args=[rfp.pk])).content.decode()


def test_questions_answers_and_the_askers_identity(client, rfp, personas):
    services.rfp_invite(actor=personas.sponsor_a_admin, rfp=rfp, vendors=[personas.vendor_y])
    login(client, personas.vendor_x_admin)
    invitation = Invitation.objects.get(rfp=rfp, vendor=personas.vendor_x)
    response = client.post(reverse("rfp-question-ask", args=[invitation.pk]), {"text": ""}, follow=True)
    assert response.status_code == 200 and not Question.objects.exists()
    client.post(reverse("rfp-question-ask", args=[invitation.pk]), {"text": "Which fill volume QZQ?"})
    question = Question.objects.get()
    login(client, personas.sponsor_a_admin)
    html = client.get(reverse("rfp-detail", args=[rfp.pk])).content.decode()
    assert "Which fill volume QZQ?" in html and "— Vendor X" in html
    client.post(reverse("rfp-question-answer", args=[question.pk]), {"answer": "2 mL vials."})
    login(client, personas.vendor_y_admin)
    html = client.get(reverse("rfp-detail", args=[rfp.pk])).content.decode()
    assert "2 mL vials." in html and "Vendor X" not in html


def test_publish_refusals_are_messages(client, personas):
    draft = RFPFactory(program=personas.program_a, response_deadline=timezone.now() - timedelta(days=1))
    login(client, personas.sponsor_a_admin)
    response = client.post(reverse("rfp-publish", args=[draft.pk]), follow=True)
    html = response.content.decode()
    assert services.PUBLISH_NEEDS_INVITEE in html and services.PUBLISH_DEADLINE_PAST in html
    response = client.post(reverse("rfp-cancel", args=[draft.pk]), {"reason": ""}, follow=True)
    assert services.CANCEL_REASON_REQUIRED in response.content.decode()
    client.post(reverse("rfp-cancel", args=[draft.pk]), {"reason": "Programme stopped"})
    draft.refresh_from_db()
    assert draft.state == "cancelled"


def test_invite_from_the_directory(client, personas):
    draft = RFPFactory(program=personas.program_a, title="Draft QZI")
    login(client, personas.sponsor_a_admin)
    page = client.get(reverse("rfp-invite-picker") + "?vendor=vendor-x&vendor=vendor-y").content.decode()
    assert "Draft QZI" in page
    response = client.post(reverse("rfp-invite-picker"), {"rfp": draft.pk, "vendors": [personas.vendor_x.pk]})
    assert response.status_code == 302
    assert list(draft.invitations.values_list("vendor__name", flat=True)) == ["Vendor X"]
    other = RFPFactory(program=personas.program_b)
    response = client.post(reverse("rfp-invite-picker"), {"rfp": other.pk, "vendors": [personas.vendor_x.pk]})
    assert response.status_code == 200 and not other.invitations.exists()
    assert login(client, personas.vendor_x_admin).get(reverse("rfp-invite-picker")).status_code == 403
