from django.core.management.base import BaseCommand
from django.db import transaction

from accounts import demo as accounts_demo
from audit.context import audit_context
from contracts import demo as contracts_demo
from contracts import demo_contracts
from sponsors import demo as sponsors_demo
from vendors import demo as vendors_demo


class Command(BaseCommand):
    help = "Create or refresh the demo data (idempotent). Demo users sign in with 'demo-password'."

    def add_arguments(self, parser):
        parser.add_argument("--vendors", type=int, default=60, help="Generated vendors besides the hand-made ones.")

    @transaction.atomic
    def handle(self, *args, **options):
        with audit_context(reason="Demo data"):
            sponsors = sponsors_demo.seed()
            vendors = vendors_demo.seed(generated=options["vendors"])
            sponsors_demo.seed_sourcing(sponsors, vendors)
            users = accounts_demo.seed(sponsors, vendors, bid_desks=contracts_demo.bid_desk_vendors(vendors))
            # The stories are played by the demo users through the services: the contracts of the past months,
            # then the sourcing pipeline (its award makes today's contract), then that contract's signatures.
            demo_contracts.seed(sponsors, vendors, users)
            rfps = contracts_demo.seed(sponsors, vendors, users)
            contracts = demo_contracts.seed_awarded(sponsors, vendors, users)
        self.stdout.write(self.style.SUCCESS(
            f"Demo data ready: {len(sponsors)} sponsors, {len(vendors)} vendors, {len(users)} users, {len(rfps)} RFPs, "
            f"{len(contracts)} contracts (password: {accounts_demo.DEMO_PASSWORD})."
        ))  # fmt: skip
