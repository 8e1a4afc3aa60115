"""The contract pages (``/contracts/``, ``/contracts/<id>/``) through the Django test client: the list's
filters and sorting (the same ``ContractFilterSet`` as the API), who sees which actions, refusals as
messages (never a 500), and a constant number of queries whatever the number of rows."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from contracts.filtersets import ContractFilterSet
from contracts.models import Contract
from contracts.services import change_orders as co
from contracts.services import contracts as ct
from contracts.services import invoices as inv
from contracts.services import milestones as ms
from contracts.services import signatures as sig
from tests.conftest import PASSWORD
from tests.factories import ContractFactory, MilestoneFactory, ProgramFactory

pytestmark = pytest.mark.django_db


def login(client, user):
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def today():
    return timezone.localdate()


@pytest.fixture
def portfolio(personas):
    """Sponsor A's contracts with vendors X and Y, each differing in one filtered property; B's one."""
    p = personas
    other_program = ProgramFactory(sponsor=p.sponsor_a, code="A-2", name="Second programme")
    rows = {
        "msa": ContractFactory(sponsor=p.sponsor_a, vendor=p.vendor_x, kind="msa", state="active",
                               title="MSA QZ1", number="MSA-001", value=Decimal("1000.00"),
                               end=today() + timedelta(days=900)),
        "cda": ContractFactory(sponsor=p.sponsor_a, vendor=p.vendor_y, kind="cda", title="CDA QZ2", number="CDA-002",
                               value=Decimal("3000.00"), end=today() + timedelta(days=30), program=other_program),
        "over": ContractFactory(sponsor=p.sponsor_a, vendor=p.vendor_x, title="Over budget QZ3", number="SA-003",
                                value=Decimal("2000.00"), state="active", program=p.program_a,
                                end=today() + timedelta(days=400)),
        "late": ContractFactory(sponsor=p.sponsor_a, vendor=p.vendor_x, title="Late QZ4", number="SA-004",
                                value=Decimal("4000.00"), state="active", end=today() + timedelta(days=200)),
        "other_sponsor": ContractFactory(sponsor=p.sponsor_b, vendor=p.vendor_x, title="Other sponsor QZ5",
                                         number="SA-005"),
    }  # fmt: skip
    # Over budget: invoiced beyond the budget (the figures are kept by the services; set here directly).
    Contract.objects.filter(pk=rows["over"].pk).update(invoiced=Decimal("2500.00"))
    Contract.objects.filter(pk=rows["msa"].pk).update(invoiced=Decimal("500.00"))
    # Late: one milestone past due and not accepted. The others' past milestones are accepted or removed.
    MilestoneFactory(contract=rows["late"], name="Late QZM", due_date=today() - timedelta(days=3))
    MilestoneFactory(contract=rows["over"], state="accepted", due_date=today() - timedelta(days=3))
    MilestoneFactory(contract=rows["msa"], state="removed", due_date=today() - timedelta(days=3))
    MilestoneFactory(contract=rows["cda"], due_date=today() + timedelta(days=3))
    return rows


def filtered(user, **params):
    request = RequestFactory().get("/contracts/", params)
    request.user = user
    filterset = ContractFilterSet(request.GET, queryset=Contract.objects.for_user(user), request=request)
    assert filterset.is_valid(), filterset.errors
    return [c.title for c in filterset.qs]


def test_each_filter_narrows_the_list(personas, portfolio):
    alice = personas.sponsor_a_admin
    assert set(filtered(alice)) == {"MSA QZ1", "CDA QZ2", "Over budget QZ3", "Late QZ4"}
    assert set(filtered(alice, state="active")) == {"MSA QZ1", "Over budget QZ3", "Late QZ4"}
    assert filtered(alice, kind="cda") == ["CDA QZ2"]
    assert set(filtered(alice, kind=["cda", "msa"])) == {"CDA QZ2", "MSA QZ1"}
    assert filtered(alice, vendor=personas.vendor_y.pk) == ["CDA QZ2"]
    assert filtered(alice, program=personas.program_a.pk) == ["Over budget QZ3"]
    assert filtered(alice, end_before=(today() + timedelta(days=60)).isoformat()) == ["CDA QZ2"]
    assert filtered(alice, over_budget="true") == ["Over budget QZ3"]
    assert "Over budget QZ3" not in filtered(alice, over_budget="false")
    assert filtered(alice, overdue="true") == ["Late QZ4"]
    assert set(filtered(alice, overdue="false")) == {"MSA QZ1", "CDA QZ2", "Over budget QZ3"}
    assert filtered(alice, q="qz4") == ["Late QZ4"]
    # A vendor's people: only their own contracts, whichever sponsor.
    assert set(filtered(personas.vendor_x_admin)) == {"MSA QZ1", "Over budget QZ3", "Late QZ4", "Other sponsor QZ5"}


def test_sorting_by_number_end_value_and_burn(personas, portfolio):
    alice = personas.sponsor_a_admin
    assert filtered(alice, ordering="number") == ["CDA QZ2", "MSA QZ1", "Over budget QZ3", "Late QZ4"]
    assert filtered(alice, ordering="end") == ["CDA QZ2", "Late QZ4", "Over budget QZ3", "MSA QZ1"]
    assert filtered(alice, ordering="-value") == ["Late QZ4", "CDA QZ2", "Over budget QZ3", "MSA QZ1"]
    # Burn: 125 % (over), 50 % (MSA), then the two with nothing invoiced (by id, newest first).
    assert filtered(alice, ordering="-burn")[:2] == ["Over budget QZ3", "MSA QZ1"]


def test_filters_refuse_what_the_user_cannot_see(personas, portfolio):
    """Another sponsor's programme, a vendor the sponsor has no contract with: a form error, like an id
    that does not exist; a word that is not a boolean is an error, not "no filter"."""
    request = RequestFactory().get(
        "/contracts/", {"program": personas.program_b.pk, "over_budget": "maybe", "end_before": "soon"}
    )
    request.user = personas.sponsor_a_admin
    filterset = ContractFilterSet(request.GET, queryset=Contract.objects.all(), request=request)
    assert not filterset.is_valid()
    assert set(filterset.errors) == {"program", "over_budget", "end_before"}
    request = RequestFactory().get("/contracts/", {"vendor": personas.vendor_y.pk})
    request.user = personas.sponsor_b_admin
    filterset = ContractFilterSet(request.GET, queryset=Contract.objects.all(), request=request)
    assert "vendor" in filterset.errors


# --- The pages -------------------------------------------------------------------------------------------


def request_from():
    return RequestFactory().post("/contracts/sign/", REMOTE_ADDR="127.0.0.1")


def work_order(p, milestones=2, value=Decimal("100000.00"), **data):
    """A work order of sponsor A with vendor X under a fresh MSA, with ``milestones`` milestones, sent for
    signature (pending): built through the services, as the pages would."""
    msa = ct.contract_create(actor=p.sponsor_a_admin, data={
        "kind": "msa", "vendor": p.vendor_x, "title": "MSA QZP", "value": Decimal("0.00"), "currency": "EUR",
        "start": today() - timedelta(days=30), "end": today() + timedelta(days=700)})  # fmt: skip
    fields = {"kind": "work-order", "vendor": p.vendor_x, "program": p.program_a, "parent": msa,
              "title": "Phase II monitoring QZW", "value": value, "currency": "EUR",
              "start": today() - timedelta(days=30), "end": today() + timedelta(days=335)}  # fmt: skip
    fields.update(data)
    rows = [
        {
            "name": f"Deliverable {i + 1}",
            "due_date": today() + timedelta(days=20 + 30 * i),
            "amount": Decimal("10000.00"),
        }
        for i in range(milestones)
    ]
    contract = ct.contract_create(actor=p.sponsor_a_admin, data=fields, milestones=rows,
                                  activities=[{"activity": "data_management", "detail": "EDC build QZD"}])  # fmt: skip
    ct.contract_send_for_signature(actor=p.sponsor_a_admin, contract=contract)
    contract.refresh_from_db()
    return contract


def signed(p, contract):
    sig.contract_sign(actor=p.sponsor_a_admin, contract=contract, password=PASSWORD, request=request_from())
    sig.contract_sign(actor=p.vendor_x_admin, contract=contract, password=PASSWORD, request=request_from())
    contract.refresh_from_db()
    assert contract.state == "active"
    return contract


def page(client, contract):
    response = client.get(reverse("contract-detail", args=[contract.pk]))
    assert response.status_code == 200
    return response.content.decode()


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def test_the_list_shows_burn_next_milestone_and_the_other_party(client, personas, portfolio):
    login(client, personas.sponsor_a_admin)
    html = client.get(reverse("contract-list")).content.decode()
    for title in ("MSA QZ1", "CDA QZ2", "Over budget QZ3", "Late QZ4"):
        assert title in html
    assert "Other sponsor QZ5" not in html
    assert html.count('data-testid="over-budget"') == 1 and "125.0 %" in html and "50.0 %" in html
    assert html.count('data-testid="overdue"') == 1 and "Late QZM" in html
    assert "Vendor Y" in html and personas.program_a.code in html
    # The vendor's people: the sponsor as the other party, no programme column, only their contracts.
    login(client, personas.vendor_x_admin)
    html = client.get(reverse("contract-list")).content.decode()
    assert "Sponsor B" in html and "Other sponsor QZ5" in html and "CDA QZ2" not in html
    assert "Programme" not in html and personas.program_a.code not in html


def test_the_list_filters_and_sorts_through_the_page(client, personas, portfolio):
    login(client, personas.sponsor_a_admin)
    html = client.get(reverse("contract-list"), {"over_budget": "true"}).content.decode()
    assert "Over budget QZ3" in html and "Late QZ4" not in html and "MSA QZ1" not in html
    response = client.get(reverse("contract-list"), {"ordering": "-value"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert "<html" not in html  # htmx gets the results only
    assert html.index("Late QZ4") < html.index("CDA QZ2") < html.index("Over budget QZ3") < html.index("MSA QZ1")
    # A filter that is not valid: a warning and no rows, not a 500 and not every row.
    html = client.get(reverse("contract-list"), {"end_before": "soon"}).content.decode()
    assert 'data-testid="filter-errors"' in html and 'data-testid="contract-row"' not in html


def test_the_list_costs_the_same_queries_for_2_or_20_contracts(client, personas, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    login(client, personas.sponsor_a_admin)

    def make(n):
        for _ in range(n):
            contract = ContractFactory(sponsor=personas.sponsor_a, vendor=personas.vendor_x, program=personas.program_a,
                                       state="active")  # fmt: skip
            MilestoneFactory(contract=contract, due_date=today() - timedelta(days=1))
            MilestoneFactory(contract=contract)

    def count():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("contract-list"), {"ordering": "-burn"})
        assert response.status_code == 200
        return len(queries), response.content.decode().count('data-testid="contract-row"')

    make(2)
    small, rows = count()
    assert rows == 2
    make(18)
    large, rows = count()
    assert rows == 20
    assert large == small


def test_the_list_costs_the_same_queries_with_every_filter_whatever_it_finds(client, personas):
    """The filters and the sort the bench exercises (overdue by end date, a vendor's name, burn): the page's
    queries do not grow with the rows it finds either."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    login(client, personas.sponsor_a_admin)
    params = {"overdue": "true", "ordering": "end", "vendor_name": "vendor x", "state": "active"}

    def make(n):
        for _ in range(n):
            contract = ContractFactory(sponsor=personas.sponsor_a, vendor=personas.vendor_x, state="active")
            MilestoneFactory(contract=contract, due_date=today() - timedelta(days=2))

    def count():
        with CaptureQueriesContext(connection) as queries:
            html = client.get(reverse("contract-list"), params).content.decode()
        return len(queries), html.count('data-testid="contract-row"'), html.count('data-testid="overdue"')

    make(2)
    small = count()
    make(18)
    large = count()
    assert small[1:] == (2, 2) and large[1:] == (20, 20)
    assert large[0] == small[0]


def test_the_vendor_filter_is_a_name_search_and_a_link_with_vendor_ids_still_filters(client, personas, portfolio):
    """A sponsor may have contracts with thousands of vendors: the sidebar searches them by name instead of
    listing every one; the API's ``vendor`` ids in a link still filter, listing only the chosen vendor."""
    login(client, personas.sponsor_a_admin)
    html = client.get(reverse("contract-list")).content.decode()
    assert 'name="vendor_name"' in html and 'name="vendor"' not in html
    html = client.get(reverse("contract-list"), {"vendor_name": "DOR y"}).content.decode()  # "Vendor Y", any case
    assert "CDA QZ2" in html and "MSA QZ1" not in html and "Late QZ4" not in html
    html = client.get(reverse("contract-list"), {"vendor": personas.vendor_x.pk}).content.decode()
    assert "MSA QZ1" in html and "CDA QZ2" not in html
    assert f'value="{personas.vendor_x.pk}"' in html and f'value="{personas.vendor_y.pk}"' not in html
    assert filtered(personas.sponsor_a_admin, vendor_name="vendor y") == ["CDA QZ2"]  # the API's filter too
    # A vendor's people filter by neither: they are the vendor.
    login(client, personas.vendor_x_admin)
    html = client.get(reverse("contract-list")).content.decode()
    assert 'name="vendor_name"' not in html and 'name="vendor"' not in html


def test_overdue_means_the_same_on_the_page_its_filter_and_the_api(client, personas, api_client_for):
    """One definition (``contracts.services.milestones``): due date passed, neither accepted nor removed, and
    the contract active (a draft's dates are not yet binding). A draft with a milestone long past its date
    is overdue nowhere: not flagged on its row, not found by ``overdue=true``, not in the API's contract list
    nor its milestones; the active contract's late milestone is, everywhere."""
    p = personas
    draft = ContractFactory(sponsor=p.sponsor_a, vendor=p.vendor_x, state="draft", title="Draft QZD1")
    late_draft = MilestoneFactory(contract=draft, name="Not binding yet", due_date=today() - timedelta(days=9))
    active = ContractFactory(sponsor=p.sponsor_a, vendor=p.vendor_x, state="active", title="Active QZA1")
    late = MilestoneFactory(contract=active, name="Really late", due_date=today() - timedelta(days=9))
    MilestoneFactory(contract=active, name="Done late", due_date=today() - timedelta(days=20), state="accepted")
    alice = p.sponsor_a_admin

    login(client, alice)
    html = client.get(reverse("contract-list")).content.decode()
    rows = {
        row.split("</tr>")[0].count('data-testid="overdue"'): row
        for row in html.split('data-testid="contract-row"')[1:]
    }
    assert "Really late" in rows[1] and "Not binding yet" in rows[0]  # both shown as next milestone; one flagged
    assert filtered(alice, overdue="true") == ["Active QZA1"]
    assert filtered(alice, overdue="false") == ["Draft QZD1"]
    html = client.get(reverse("contract-list"), {"overdue": "true"}).content.decode()
    assert "Active QZA1" in html and "Draft QZD1" not in html

    api = api_client_for(alice)
    listed = {row["title"]: row["next_milestone"] for row in api.get("/api/v1/contracts/").json()["results"]}
    assert listed["Active QZA1"]["overdue"] is True and listed["Active QZA1"]["name"] == "Really late"
    assert listed["Draft QZD1"]["overdue"] is False and listed["Draft QZD1"]["name"] == "Not binding yet"
    milestones = {m["id"]: m["overdue"] for m in api.get("/api/v1/milestones/").json()["results"]}
    assert milestones[late.pk] is True and milestones[late_draft.pk] is False
    assert [m["id"] for m in api.get("/api/v1/milestones/", {"overdue": "true"}).json()["results"]] == [late.pk]
    assert set(ms.overdue()) == {late}
    # The rule itself, on values already read.
    assert ms.is_overdue(today() - timedelta(days=1), "submitted", "active")
    assert not ms.is_overdue(today() - timedelta(days=1), "submitted", "draft")
    assert not ms.is_overdue(today() - timedelta(days=1), "removed", "active")
    assert not ms.is_overdue(today(), "planned", "active")


def test_the_sponsor_signs_a_pending_work_order_and_sees_what_the_signature_means(client, personas):
    contract = work_order(personas)
    login(client, personas.sponsor_a_viewer)
    html = page(client, contract)
    assert "Phase II monitoring QZW" in html and 'data-testid="sign-form"' not in html
    assert "EDC build QZD" in html and "Whatever is not listed here stays with the sponsor" in html
    login(client, personas.sponsor_a_admin)
    html = page(client, contract)
    assert 'data-testid="sign-form"' in html and "Approved as sponsor" in html
    response = client.post(reverse("contract-sign", args=[contract.pk]), {"password": "wrong"}, follow=True)
    assert sig.WRONG_PASSWORD in messages_of(response)
    assert not contract.signatures.exists()
    response = client.post(reverse("contract-sign", args=[contract.pk]), {"password": PASSWORD}, follow=True)
    assert any("Approved as sponsor by" in m for m in messages_of(response))
    html = response.content.decode()
    assert 'data-testid="signature-matches"' in html and 'data-testid="sign-form"' not in html
    assert "Awaiting the signature of: vendor" in html
    # The vendor signs on the same page: now the contract is active.
    login(client, personas.vendor_x_admin)
    html = page(client, contract)
    assert "Accepted as vendor" in html and 'data-testid="sign-form"' in html
    response = client.post(reverse("contract-sign", args=[contract.pk]), {"password": PASSWORD}, follow=True)
    assert any("the contract is now active" in m for m in messages_of(response))
    contract.refresh_from_db()
    assert contract.state == "active" and contract.signatures.count() == 2


def test_each_side_sees_its_own_steps_and_a_viewer_none(client, personas):
    contract = signed(personas, work_order(personas))
    first = contract.milestones.order_by("due_date").first()
    ms.milestone_start(actor=personas.vendor_x_admin, milestone=first)
    ms.milestone_submit(actor=personas.vendor_x_admin, milestone=first, comment="Done")
    login(client, personas.sponsor_a_admin)
    html = page(client, contract)
    assert (
        reverse("milestone-accept", args=[first.pk]) in html and reverse("milestone-start", args=[first.pk]) not in html
    )
    assert 'data-testid="invoice-submit"' not in html and 'data-testid="change-order-propose"' in html
    login(client, personas.vendor_x_admin)
    html = page(client, contract)
    assert reverse("milestone-accept", args=[first.pk]) not in html
    second = contract.milestones.order_by("due_date").last()
    assert reverse("milestone-start", args=[second.pk]) in html
    assert 'data-testid="invoice-submit"' in html and 'data-testid="change-order-propose"' in html
    for viewer in (personas.sponsor_a_viewer, personas.vendor_x_viewer):
        login(client, viewer)
        html = page(client, contract)
        assert "Phase II monitoring QZW" in html
        for testid in ("sign-form", "milestone-steps", "invoice-submit", "change-order-propose", "invoice-actions"):
            assert f'data-testid="{testid}"' not in html
        # And posting anyway is refused by role before anything is looked up.
        response = client.post(reverse("milestone-accept", args=[first.pk]))
        assert response.status_code == 403
    first.refresh_from_db()
    assert first.state == "submitted"


def test_the_other_sponsor_and_vendor_get_404_everywhere(client, personas):
    contract = signed(personas, work_order(personas))
    milestone = contract.milestones.first()
    for outsider in (personas.sponsor_b_admin, personas.vendor_y_admin):
        login(client, outsider)
        for url in (reverse("contract-detail", args=[contract.pk]), reverse("milestone-detail", args=[milestone.pk])):
            response = client.get(url)
            assert response.status_code == 404 and "Phase II monitoring QZW" not in response.content.decode()
        for name, pk in (("contract-sign", contract.pk), ("milestone-start", milestone.pk),
                         ("change-order-propose", contract.pk), ("invoice-submit", contract.pk)):  # fmt: skip
            response = client.post(reverse(name, args=[pk]), {"password": PASSWORD, "reason": "x"})
            assert response.status_code == 404
        assert "Phase II monitoring QZW" not in client.get(reverse("contract-list")).content.decode()
    milestone.refresh_from_db()
    assert milestone.state == "planned" and not contract.change_orders.exists()


def test_bad_input_comes_back_as_a_message_not_a_500(client, personas):
    contract = signed(personas, work_order(personas))
    milestone = contract.milestones.first()
    login(client, personas.vendor_x_admin)
    # An invoice with an amount that is no number, then one for a milestone not accepted yet: messages,
    # and the input is shown again.
    response = client.post(reverse("invoice-submit", args=[contract.pk]),
                           {"number": "INV-QZ1", "issued_on": today().isoformat(), "amount": "lots"}, follow=True)  # fmt: skip
    assert any("Amount: Enter a number." in m for m in messages_of(response))
    assert 'value="INV-QZ1"' in response.content.decode()
    response = client.post(reverse("invoice-submit", args=[contract.pk]), {
        "number": "INV-QZ1", "issued_on": today().isoformat(), "amount": "100", "milestone": milestone.pk}, follow=True)  # fmt: skip
    assert any("it can be invoiced once the sponsor has accepted it" in m for m in messages_of(response))
    assert not contract.invoices.exists()
    # A change order that would make the value negative; one with a row that makes no sense.
    response = client.post(reverse("change-order-propose", args=[contract.pk]), {
        "reason": "Cut", "value_delta": "-500000", "items-TOTAL_FORMS": "0", "items-INITIAL_FORMS": "0"}, follow=True)  # fmt: skip
    assert any("would make the contract's value negative" in m for m in messages_of(response))
    response = client.post(reverse("change-order-propose", args=[contract.pk]), {
        "reason": "More", "items-TOTAL_FORMS": "1", "items-INITIAL_FORMS": "0", "items-0-action": "add",
        "items-0-due_date": "someday"}, follow=True)  # fmt: skip
    assert any("Due date: Enter a valid date." in m for m in messages_of(response))
    assert not contract.change_orders.exists()
    # A step in the wrong state; a reason that is missing.
    response = client.post(reverse("milestone-submit", args=[milestone.pk]), follow=True)
    assert any("only an in progress milestone can be" in m.lower() for m in messages_of(response))
    login(client, personas.sponsor_a_admin)
    ms.milestone_start(actor=personas.vendor_x_admin, milestone=milestone)
    ms.milestone_submit(actor=personas.vendor_x_admin, milestone=milestone)
    response = client.post(reverse("milestone-reject", args=[milestone.pk]), {"reason": ""}, follow=True)
    assert ms.MILESTONE_REJECT_REASON_REQUIRED in messages_of(response)
    # A vendor cannot approve its own change order: the message, nothing applied.
    change_order = co.change_order_propose(actor=personas.vendor_x_admin, contract=contract, reason="More",
                                           value_delta=Decimal("1000"))  # fmt: skip
    login(client, personas.vendor_x_admin)
    response = client.post(reverse("change-order-approve", args=[change_order.pk]), {"password": PASSWORD}, follow=True)
    assert co.CO_OWN_SIDE in messages_of(response)
    change_order.refresh_from_db()
    assert change_order.state == "proposed"


def test_the_steps_that_take_a_reason_apply_it_or_say_what_is_missing(client, personas):
    """Rejecting or withdrawing a change order and rejecting an invoice (one helper, ``_reason_step``): the
    service's refusal or the form's error comes back as a message with nothing changed; a reason applies
    the step; each lands on its section of the contract page."""
    p = personas
    contract = signed(p, work_order(p))
    milestone = contract.milestones.order_by("due_date").first()
    rejected = co.change_order_propose(
        actor=p.vendor_x_admin, contract=contract, reason="More", value_delta=Decimal("1")
    )
    login(client, p.sponsor_a_admin)
    response = client.post(reverse("change-order-reject", args=[rejected.pk]), {"reason": ""}, follow=True)
    assert co.CO_REJECT_REASON_REQUIRED in messages_of(response)
    response = client.post(reverse("change-order-reject", args=[rejected.pk]), {"reason": "x" * 5_001}, follow=True)
    assert any(m.startswith("Reason: Ensure this value has at most 5000 characters") for m in messages_of(response))
    rejected.refresh_from_db()
    assert rejected.state == "proposed"
    response = client.post(reverse("change-order-reject", args=[rejected.pk]), {"reason": "Not now"})
    assert response["Location"].endswith("#change-orders")
    rejected.refresh_from_db()
    assert (rejected.state, rejected.decision_reason) == ("rejected", "Not now")

    withdrawn = co.change_order_propose(
        actor=p.vendor_x_admin, contract=contract, reason="Less", value_delta=Decimal("-1")
    )
    login(client, p.vendor_x_admin)
    response = client.post(reverse("change-order-withdraw", args=[withdrawn.pk]), {"reason": "Typo"}, follow=True)
    assert f"CO-{withdrawn.sequence} withdrawn." in messages_of(response)
    withdrawn.refresh_from_db()
    assert withdrawn.state == "withdrawn"

    ms.milestone_start(actor=p.vendor_x_admin, milestone=milestone)
    ms.milestone_submit(actor=p.vendor_x_admin, milestone=milestone)
    ms.milestone_accept(actor=p.sponsor_a_admin, milestone=milestone)
    invoice = inv.invoice_submit(actor=p.vendor_x_admin, contract=contract, number="INV-QZR", issued_on=today(),
                                 amount=milestone.amount, currency="EUR", milestone=milestone)  # fmt: skip
    login(client, p.sponsor_a_admin)
    response = client.post(reverse("invoice-reject", args=[invoice.pk]), {"reason": ""}, follow=True)
    assert inv.INVOICE_REJECT_REASON_REQUIRED in messages_of(response)
    response = client.post(reverse("invoice-reject", args=[invoice.pk]), {"reason": "Wrong amount"})
    assert response["Location"].endswith("#invoices")
    response = client.get(response["Location"])
    assert "Invoice INV-QZR rejected." in messages_of(response)
    invoice.refresh_from_db()
    assert (invoice.state, invoice.rejection_reason) == ("rejected", "Wrong amount")


def test_the_burn_chart_reads_the_budget_in_force_from_the_approved_change_orders(client, personas):
    p = personas
    contract = signed(p, work_order(p))
    change_order = co.change_order_propose(actor=p.vendor_x_admin, contract=contract, reason="More",
                                           value_delta=Decimal("50000"))  # fmt: skip
    co.change_order_approve(actor=p.sponsor_a_admin, change_order=change_order, password=PASSWORD,
                            request=request_from())  # fmt: skip
    login(client, p.sponsor_a_admin)
    html = page(client, contract)
    assert "a share of the budget in force that day; 1 approved change order moved it" in html
    assert "of the budget of 150,000.00 EUR" in html


def _fill(p, contract, n, approve_change_orders):
    """n accepted and invoiced milestones (approved invoices) and n change orders adding a milestone: approved
    with a signature, or one left proposed and the others rejected."""
    for milestone in list(contract.milestones.order_by("due_date"))[:n]:
        ms.milestone_start(actor=p.vendor_x_admin, milestone=milestone)
        ms.milestone_submit(actor=p.vendor_x_admin, milestone=milestone)
        ms.milestone_accept(actor=p.sponsor_a_admin, milestone=milestone)
        invoice = inv.invoice_submit(actor=p.vendor_x_admin, contract=contract, number=f"I-{milestone.pk}",
                                     issued_on=today(), amount=milestone.amount, currency="EUR", milestone=milestone)  # fmt: skip
        inv.invoice_approve(actor=p.sponsor_a_admin, invoice=invoice)
    for i in range(n):
        change_order = co.change_order_propose(
            actor=p.vendor_x_admin, contract=contract, reason=f"Extra {i}", value_delta=Decimal("1000"),
            items=[{"action": "add", "name": f"Extra {i}", "due_date": today() + timedelta(days=90), "amount": Decimal("1000")}],
        )  # fmt: skip
        if approve_change_orders:
            co.change_order_approve(actor=p.sponsor_a_admin, change_order=change_order, password=PASSWORD,
                                    request=request_from())  # fmt: skip
        elif i:
            co.change_order_reject(actor=p.sponsor_a_admin, change_order=change_order, reason="No")


def _page_queries(client, p, contract):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    login(client, p.sponsor_a_admin)
    with CaptureQueriesContext(connection) as queries:
        html = page(client, contract)
    return len(queries), html


def test_the_detail_page_costs_the_same_queries_whatever_it_holds(client, personas):
    """Milestones, invoices, change orders with their items, history: a fixed number of queries."""
    small = signed(personas, work_order(personas, milestones=1))
    _fill(personas, small, 1, approve_change_orders=False)
    large = signed(personas, work_order(personas, milestones=5, title="Large QZL"))
    _fill(personas, large, 5, approve_change_orders=False)
    small_count, _ = _page_queries(client, personas, small)
    large_count, html = _page_queries(client, personas, large)
    assert html.count('data-testid="invoice-row"') == 5 and html.count('data-testid="change-order"') == 5
    assert html.count('data-testid="milestone-row"') == 5
    assert large_count == small_count


def test_the_detail_page_costs_the_same_queries_with_signed_change_orders(client, personas):
    small = signed(personas, work_order(personas, milestones=1))
    _fill(personas, small, 1, approve_change_orders=True)
    large = signed(personas, work_order(personas, milestones=4, title="Large QZL"))
    _fill(personas, large, 4, approve_change_orders=True)
    small_count, _ = _page_queries(client, personas, small)
    large_count, html = _page_queries(client, personas, large)
    assert html.count('data-testid="change-order-signature"') == 4
    assert large_count == small_count
