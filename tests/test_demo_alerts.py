"""The demo, tried as a new user would (issue #10's acceptance): after ``seed_demo`` (which runs the background
checks itself) and ``run_checks``, each demo user sees the alerts of their own organisation only — alice
Acme's overdue milestones, budget warnings, programme cap and audits; erin the overdue milestones on Orbital's
contracts and Orbital's expiring certificate; bob none of Acme's — and accepting the overdue milestone
resolves its alert at once."""

import re
from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import User
from alerts.models import Alert, Audience
from contracts import demo_contracts
from contracts.models import Contract, Milestone
from contracts.services.milestones import milestone_accept

pytestmark = pytest.mark.django_db
OUTCOME = re.compile(r"^(\w+): raised (\d+), escalated (\d+), resolved (\d+)$", re.MULTILINE)


@pytest.fixture
def seeded(db):
    out = StringIO()
    call_command("seed_demo", vendors=5, stdout=out)
    return out.getvalue()


def user(email: str) -> User:
    return User.objects.get(email=email)


def run_checks() -> dict[str, tuple[int, int, int]]:
    out = StringIO()
    call_command("run_checks", stdout=out)
    return {name: (int(r), int(e), int(s)) for name, r, e, s in OUTCOME.findall(out.getvalue())}


def seen(email: str):
    return Alert.objects.for_user(user(email), "view").open()


def test_the_seed_runs_the_checks_and_run_checks_then_finds_nothing_new(seeded):
    raised = int(re.search(r"Background checks run: (\d+) alert\(s\) raised", seeded).group(1))
    assert raised == Alert.objects.count() > 0
    outcomes = run_checks()
    assert len(outcomes) >= 16 and set(outcomes.values()) == {(0, 0, 0)}, outcomes


def test_alice_sees_acmes_alerts_only(seeded):
    alerts = seen("alice@acme.test")
    acme = user("alice@acme.test").sponsor
    assert set(alerts.values_list("audience", "sponsor_id")) == {(Audience.SPONSOR, acme.pk)}
    everything_of_acme = Alert.objects.filter(sponsor=acme, audience=Audience.SPONSOR, resolved_at__isnull=True)
    assert set(everything_of_acme) == set(alerts)
    kinds = list(alerts.values_list("kind", flat=True))
    assert {"milestone_overdue", "budget_warning", "budget_exceeded", "burn_ahead_of_schedule", "contract_ending",
            "program_over_budget", "requalification_due", "certificate_expiring"} <= set(kinds)  # fmt: skip
    # Every alert about a contract is about one of Acme's contracts.
    contracts = Contract.objects.filter(pk__in=alerts.exclude(contract=None).values("contract_id"))
    assert set(contracts.values_list("sponsor__slug", flat=True)) == {"acme-pharma"}

    overdue = alerts.filter(kind="milestone_overdue")
    assert sorted(overdue.values_list("milestone__name", flat=True)) == [
        "Clinical packaging and labelling of batch 2", "Method transfer final report",
    ]  # fmt: skip
    [warning] = alerts.filter(kind="budget_warning")
    assert warning.contract.title == demo_contracts.SUPPLY_TITLE and "85 %" in warning.title
    [cap] = alerts.filter(kind="program_over_budget")
    assert cap.program.code == "ACM-204" and "against a cap of 750000" in cap.title  # (750000.00 on PostgreSQL)
    [audit] = alerts.filter(kind="requalification_due")
    assert audit.qualification.vendor.slug == "helix-manufacturing" and audit.severity == "critical"  # overdue
    # Orbital's expiring certificate reaches Acme (active contracts with Orbital).
    assert alerts.filter(kind="certificate_expiring", vendor__slug="orbital-cdmo").count() == 1


def test_erin_sees_the_alerts_on_orbitals_contracts_and_its_certificates(seeded):
    alerts = seen("erin@orbital.test")
    orbital = user("erin@orbital.test").vendor
    assert set(alerts.values_list("audience", "vendor_id")) == {(Audience.VENDOR, orbital.pk)}
    assert dict(alerts.values_list("kind", "severity").order_by("kind").distinct()) == {
        "milestone_overdue": "warning", "certificate_expiring": "warning",
    }  # fmt: skip
    overdue = alerts.filter(kind="milestone_overdue")
    assert set(overdue.values_list("contract__title", flat=True)) == {
        demo_contracts.SUPPLY_TITLE, demo_contracts.METHOD_TRANSFER_TITLE,
    }  # fmt: skip
    [certificate] = alerts.filter(kind="certificate_expiring")
    assert (certificate.certification.vendor_id, certificate.certification.type) == (orbital.pk, "gmp")
    # Acme's own business (budgets, its programme, its audits) never reaches the vendor.
    assert not alerts.filter(kind__in=["budget_warning", "budget_exceeded", "program_over_budget",
                                       "requalification_due"]).exists()  # fmt: skip


def test_bob_and_the_other_vendors_see_none_of_acmes(seeded):
    acme_contracts = Contract.objects.filter(sponsor__slug="acme-pharma")
    bob = seen("bob@borealis.test")
    assert not bob.filter(sponsor__slug="acme-pharma").exists()
    assert not bob.filter(contract__in=acme_contracts).exists()
    # Borealis works with Helix (an active CDA): it hears of Helix's certificates, and of nothing else.
    assert set(bob.values_list("kind", "vendor__slug")) == {
        ("certificate_expiring", "helix-manufacturing"), ("certificate_expired", "helix-manufacturing"),
    }  # fmt: skip
    for email in ("carol@northwind.test", "dave@helix.test"):
        assert not seen(email).filter(contract__vendor__slug="orbital-cdmo").exists()
        assert not seen(email).filter(audience=Audience.SPONSOR).exists()


def test_accepting_the_overdue_milestone_resolves_it_at_once(seeded, django_capture_on_commit_callbacks):
    packaging = Milestone.objects.get(name="Clinical packaging and labelling of batch 2")
    assert packaging.state == "submitted"  # delivered late, awaiting alice
    alerts = Alert.objects.filter(kind="milestone_overdue", milestone=packaging)
    assert alerts.filter(resolved_at__isnull=True).count() == 2  # alice's and erin's

    with django_capture_on_commit_callbacks(execute=True):
        milestone_accept(actor=user("alice@acme.test"), milestone=packaging, comment="Kits received.")
    assert alerts.filter(resolved_at__isnull=True).count() == 0 and alerts.count() == 2
    assert not seen("alice@acme.test").filter(milestone=packaging).exists()
    assert not seen("erin@orbital.test").filter(milestone=packaging).exists()
    assert seen("alice@acme.test").filter(kind="milestone_overdue").count() == 1  # the final report is still late

    # run_checks confirms: nothing raised, nothing resolved.
    outcomes = run_checks()
    assert outcomes["milestone_overdue"] == outcomes["milestone_overdue_vendor"] == (0, 0, 0)
    assert set(outcomes.values()) == {(0, 0, 0)}, outcomes
