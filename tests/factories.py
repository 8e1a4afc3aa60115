"""factory_boy factories for the domain; the personas in conftest.py are built from these."""

import factory
from factory.django import DjangoModelFactory

from accounts.models import Role, User
from sponsors.models import Program, Sponsor
from vendors.models import Vendor


class SponsorFactory(DjangoModelFactory):
    class Meta:
        model = Sponsor
        django_get_or_create = ["slug"]

    name = factory.Sequence(lambda n: f"Sponsor {n}")
    slug = factory.Sequence(lambda n: f"sponsor-{n}")
    type = "pharma"
    country = "US"
    default_currency = "USD"


class VendorFactory(DjangoModelFactory):
    class Meta:
        model = Vendor
        django_get_or_create = ["slug"]

    name = factory.Sequence(lambda n: f"Vendor {n}")
    slug = factory.Sequence(lambda n: f"vendor-{n}")
    kind = "cro"
    hq_country = "GB"
    description = "A contract research organisation."


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["email"]
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    full_name = factory.Sequence(lambda n: f"User {n}")
    role = Role.ADMIN
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class ProgramFactory(DjangoModelFactory):
    class Meta:
        model = Program

    sponsor = factory.SubFactory(SponsorFactory)
    code = factory.Sequence(lambda n: f"PRG-{n:03d}")
    name = factory.Sequence(lambda n: f"Programme {n}")
    phase = "phase-2"


# --- Sourcing and contracts (contracts app) ----------------------------------------------------------------

from datetime import timedelta  # noqa: E402 - this section was appended while others worked on the file
from decimal import Decimal  # noqa: E402

from django.utils import timezone  # noqa: E402


def _in_days(days: int):
    return timezone.now() + timedelta(days=days)


class RFPFactory(DjangoModelFactory):
    """A draft RFP of a programme, deadline in 14 days. Publish it through the services (or set ``state``
    and ``published_at`` here for read-only fixtures)."""

    class Meta:
        model = "contracts.RFP"

    program = factory.SubFactory(ProgramFactory)
    sponsor = factory.SelfAttribute("program.sponsor")
    title = factory.Sequence(lambda n: f"RFP {n}")
    scope = "Sterile fill-finish of 3 clinical batches."
    desired_start = factory.LazyFunction(lambda: _in_days(30).date())
    desired_end = factory.LazyFunction(lambda: _in_days(210).date())
    budget_ceiling = None
    budget_currency = ""
    response_deadline = factory.LazyFunction(lambda: _in_days(14))
    sealed = False


class RFPCriterionFactory(DjangoModelFactory):
    class Meta:
        model = "contracts.RFPCriterion"

    rfp = factory.SubFactory(RFPFactory)
    name = factory.Sequence(lambda n: f"Criterion {n}")
    weight = 1


class InvitationFactory(DjangoModelFactory):
    class Meta:
        model = "contracts.Invitation"

    rfp = factory.SubFactory(RFPFactory)
    vendor = factory.SubFactory(VendorFactory)


class QuestionFactory(DjangoModelFactory):
    class Meta:
        model = "contracts.Question"

    rfp = factory.SubFactory(RFPFactory)
    asked_by_vendor = factory.SubFactory(VendorFactory)
    text = factory.Sequence(lambda n: f"Question {n}?")


class ProposalFactory(DjangoModelFactory):
    """A draft proposal (no milestones). ``ProposalFactory.complete(...)`` adds milestones summing to the total."""

    class Meta:
        model = "contracts.Proposal"

    rfp = factory.SubFactory(RFPFactory)
    vendor = factory.SubFactory(VendorFactory)
    total_price = factory.LazyFunction(lambda: Decimal("100000.00"))
    currency = "EUR"
    timeline = "Six months from kick-off."

    @classmethod
    def complete(cls, **kwargs):
        """A draft with two milestones that add up to its total (one by date, one by offset)."""
        proposal = cls(**kwargs)
        half = (proposal.total_price / 2).quantize(Decimal("0.01"))
        ProposedMilestoneFactory(proposal=proposal, name="Kick-off", due_offset_days=10, due_date=None, amount=half)
        ProposedMilestoneFactory(
            proposal=proposal, name="Final report", due_offset_days=None,
            due_date=proposal.rfp.desired_start + timedelta(days=90),
            amount=proposal.total_price - half,
        )  # fmt: skip
        return proposal


class ProposalLineItemFactory(DjangoModelFactory):
    class Meta:
        model = "contracts.ProposalLineItem"

    proposal = factory.SubFactory(ProposalFactory)
    description = factory.Sequence(lambda n: f"Line {n}")
    quantity = 1
    unit = "batch"
    unit_price = factory.LazyFunction(lambda: Decimal("1000.00"))


class ProposedMilestoneFactory(DjangoModelFactory):
    class Meta:
        model = "contracts.ProposedMilestone"

    proposal = factory.SubFactory(ProposalFactory)
    name = factory.Sequence(lambda n: f"Milestone {n}")
    due_offset_days = 30
    due_date = None
    amount = factory.LazyFunction(lambda: Decimal("1000.00"))


class ContractFactory(DjangoModelFactory):
    """A draft stand-alone agreement; pass ``kind="msa"`` (and ``state``) for an MSA."""

    class Meta:
        model = "contracts.Contract"

    sponsor = factory.SubFactory(SponsorFactory)
    vendor = factory.SubFactory(VendorFactory)
    kind = "standalone"
    sequence = factory.Sequence(lambda n: 90_000 + n)
    number = factory.LazyAttribute(lambda o: f"T-{o.sequence:05d}")
    title = factory.Sequence(lambda n: f"Agreement {n}")
    value = factory.LazyFunction(lambda: Decimal("50000.00"))
    currency = "EUR"
    start = factory.LazyFunction(lambda: _in_days(-30).date())
    end = factory.LazyFunction(lambda: _in_days(335).date())


class MilestoneFactory(DjangoModelFactory):
    class Meta:
        model = "contracts.Milestone"

    contract = factory.SubFactory(ContractFactory)
    name = factory.Sequence(lambda n: f"Deliverable {n}")
    due_date = factory.LazyFunction(lambda: _in_days(60).date())
    baseline_due_date = factory.SelfAttribute("due_date")
    amount = factory.LazyFunction(lambda: Decimal("10000.00"))


# --- Contract execution (contracts app): signatures, activities, change orders, invoices --------------------


class ContractActivityFactory(DjangoModelFactory):
    """An entry of a work order's transferred-activities register: pass the work order as ``contract``."""

    class Meta:
        model = "contracts.ContractActivity"

    activity = "data_management"
    detail = "Transferred to the vendor."


class ChangeOrderFactory(DjangoModelFactory):
    """A proposed change order raising the value by 5,000 (proposed by the vendor; apply it through the
    services, which also move the budget)."""

    class Meta:
        model = "contracts.ChangeOrder"

    contract = factory.SubFactory(ContractFactory, state="active")
    sequence = factory.Sequence(lambda n: n + 1)
    proposed_by_side = "vendor"
    reason = factory.Sequence(lambda n: f"Change {n}")
    value_delta = factory.LazyFunction(lambda: Decimal("5000.00"))


class InvoiceFactory(DjangoModelFactory):
    """A submitted invoice in the contract's currency (``contract.invoiced`` moves only through the services)."""

    class Meta:
        model = "contracts.Invoice"

    contract = factory.SubFactory(ContractFactory, state="active")
    vendor = factory.SelfAttribute("contract.vendor")
    number = factory.Sequence(lambda n: f"INV-{n:05d}")
    issued_on = factory.LazyFunction(lambda: timezone.localdate())
    amount = factory.LazyFunction(lambda: Decimal("1000.00"))
    currency = factory.SelfAttribute("contract.currency")
