"""The contract pages (``/contracts/``, ``/contracts/<id>/``) through the Django test client: the list's
filters and sorting (the same ``ContractFilterSet`` as the API), who sees which actions, refusals as
messages (never a 500), and a constant number of queries whatever the number of rows."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import RequestFactory
from django.utils import timezone

from contracts.filtersets import ContractFilterSet
from contracts.models import Contract
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
