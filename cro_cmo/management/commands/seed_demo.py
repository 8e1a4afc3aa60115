import contextlib

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts import demo as accounts_demo
from audit.context import audit_context
from contracts import demo as contracts_demo
from contracts import demo_contracts
from contracts.services.contracts import contract_alert_rechecks_skipped
from cro_cmo.checks import run_all_checks
from sponsors import demo as sponsors_demo
from vendors import demo as vendors_demo


class Command(BaseCommand):
    help = (
        "Create or refresh the demo data (idempotent), then run the background checks so the alerts show at "
        "once. Demo users sign in with 'demo-password'."
    )

    def add_arguments(self, parser):
        parser.add_argument("--vendors", type=int, default=60, help="Generated vendors besides the hand-made ones.")
        parser.add_argument("--no-checks", action="store_true", help="Do not run the background checks afterwards.")

    def handle(self, *args, **options):
        sponsors, vendors, users, rfps, contracts = self._seed(options["vendors"], checks=not options["no_checks"])
        self.stdout.write(self.style.SUCCESS(
            f"Demo data ready: {len(sponsors)} sponsors, {len(vendors)} vendors, {len(users)} users, {len(rfps)} RFPs, "
            f"{len(contracts)} contracts (password: {accounts_demo.DEMO_PASSWORD})."
        ))  # fmt: skip
        if options["no_checks"]:
            return
        # What `run_checks` would do now (it finds nothing more to raise afterwards): a demo shows its alerts at
        # once, not at the first beat. After the seed's commit, so each check sees the whole demo.
        outcomes = run_all_checks()
        raised = sum(o.counts["raised"] for o in outcomes if not o.error)
        failed = [o.name for o in outcomes if o.error]
        self.stdout.write(f"Background checks run: {raised} alert(s) raised" + (
            f"; failed: {', '.join(failed)} (see the log; run `manage.py run_checks` again)" if failed else "."
        ))  # fmt: skip

    @transaction.atomic
    def _seed(self, generated: int, *, checks: bool):
        # With the checks run after the commit (handle), the stories' steps need not each re-check their contract.
        skip = contract_alert_rechecks_skipped() if checks else contextlib.nullcontext()
        with audit_context(reason="Demo data"), skip:
            sponsors = sponsors_demo.seed()
            vendors = vendors_demo.seed(generated=generated)
            sponsors_demo.seed_sourcing(sponsors, vendors)
            users = accounts_demo.seed(sponsors, vendors, bid_desks=contracts_demo.bid_desk_vendors(vendors))
            # The stories are played by the demo users through the services: the contracts of the past months,
            # then the sourcing pipeline (its award makes today's contract), then that contract's signatures.
            demo_contracts.seed(sponsors, vendors, users)
            rfps = contracts_demo.seed(sponsors, vendors, users)
            contracts = demo_contracts.seed_awarded(sponsors, vendors, users)
        return sponsors, vendors, users, rfps, contracts
