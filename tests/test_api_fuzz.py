"""Fuzz every operation of the committed schema (openapi.yaml) with schemathesis, as three callers.

For each operation and caller, Hypothesis generates schema-valid (positive) and schema-breaking
(negative) requests; each goes through the real Django WSGI application in this process (test
database, real middleware, real token authentication) and every response is checked with all of
schemathesis' checks: no server error, status code / content type / headers / body as the schema
declares them, invalid data rejected, valid data not refused with a status the schema cannot explain.

One deliberate setting: ``positive_data_acceptance`` also expects 400. Schema-valid data can break a
rule no JSON Schema states (a programme code already taken, a price range reversed, a capability of
another category, a site of another vendor) and the API answers those with a 400 field error; the
schema declares that 400 on every write.

Bounded for CI on two cores: ``FUZZ_EXAMPLES`` examples per operation, mode and caller (default 8; a third of that again on random ids),
no shrinking. ``FUZZ_RESOURCES`` (comma-separated, e.g. ``contracts,invoices``) limits the run to those resources.
The run ends with a summary line (operations, cases, seconds) in the pytest output.
"""

import contextlib
import os
import time
from datetime import date
from pathlib import Path

import hypothesis
import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.core.failures import FailureGroup

from accounts.services import api_token_create
from notifications.models import Notification, OutboxEvent
from tests.conftest import RUN_SUMMARY
from vendors import demo as vendors_demo
from vendors.models import Capability, Certification, ServiceCategory, ServiceOffering, Site

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db]

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "openapi.yaml"
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "8"))
# FUZZ_RESOURCES=contracts,invoices fuzzes only those resources (a quick check of a change); empty: all.
RESOURCES = {name.strip() for name in os.environ.get("FUZZ_RESOURCES", "").split(",") if name.strip()}
CALLERS = ["anonymous", "sponsor", "vendor"]
BASE_URL = "http://localhost"
# Business rules beyond the schema are 400 field errors: see the module docstring.
CONFIG = schemathesis.Config.from_dict(
    {"checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "400", "401", "403", "404", "409", "429"]}}}
)
SCHEMA = schemathesis.openapi.from_path(SCHEMA_PATH, config=CONFIG)


def _all_checks():
    load_all_checks()
    return list(CHECKS.get_all())


@pytest.fixture
def fuzz_data(personas):
    """Personas, a small demo directory and one object of each resource, so detail operations find rows.

    Returns the personas and, per resource, an id that the sponsor or the vendor may change: the fuzzed
    PUT/PATCH/DELETE bodies then reach validation and the database, not only the 404 of a random id.
    """
    vendors_demo.seed(generated=3)
    site = Site.objects.create(vendor=personas.vendor_x, name="Fuzz Plant", city="Basel", country="CH")
    offering = ServiceOffering.objects.create(
        vendor=personas.vendor_x, category=ServiceCategory.objects.get(code="clinical-trials"), description="Phase I"
    )
    offering.sites.set([site])
    certification = Certification.objects.create(
        vendor=personas.vendor_x, site=site, type="gcp", authority="mhra", issued_on=date(2024, 1, 1)
    )
    event = OutboxEvent.objects.create(event_type="fuzz", title="Fuzz")
    for user in (personas.sponsor_a_admin, personas.vendor_x_admin):
        Notification.objects.create(user=user, event=event)
    ids = {
        "sponsor": {"programs": personas.program_a.pk, "sponsors": personas.sponsor_a.pk,
                    "users": personas.sponsor_a_admin.pk, "notifications": personas.sponsor_a_admin.notifications.get().pk},
        "vendor": {"vendors": personas.vendor_x.pk, "sites": site.pk, "offerings": offering.pk,
                   "certifications": certification.pk, "users": personas.vendor_x_admin.pk,
                   "notifications": personas.vendor_x_admin.notifications.get().pk},
    }  # fmt: skip
    shared = {"service-categories": ServiceCategory.objects.first().pk, "capabilities": Capability.objects.first().pk}
    for known in ids.values():
        known.update(shared)
    for caller, known in _sourcing_ids(personas).items():
        ids[caller].update(known)
    for caller, known in _contract_ids(personas).items():
        ids[caller].update(known)
    for caller, known in _alert_ids(personas).items():
        ids[caller].update(known)
    ids["anonymous"] = dict(ids["vendor"])
    return personas, ids


def _sourcing_ids(personas) -> dict:
    """A published RFP of sponsor A with vendor X invited and X's draft proposal; a second, draft RFP."""
    from contracts import services as sourcing
    from tests.factories import RFPFactory

    rfp = RFPFactory(program=personas.program_a, title="Fuzz RFP")
    (invitation,), _ = sourcing.rfp_invite(actor=personas.sponsor_a_admin, rfp=rfp, vendors=[personas.vendor_x])
    sourcing.rfp_publish(actor=personas.sponsor_a_admin, rfp=rfp)
    proposal = sourcing.proposal_save_draft(actor=personas.vendor_x_admin, rfp=rfp, data={"timeline": "Fuzz"})
    draft = RFPFactory(program=personas.program_a, title="Fuzz draft RFP")
    return {"sponsor": {"rfps": draft.pk, "invitations": invitation.pk},
            "vendor": {"rfps": rfp.pk, "invitations": invitation.pk, "proposals": proposal.pk}}  # fmt: skip


def _contract_ids(personas) -> dict:
    """An active work order of sponsor A with vendor X: a milestone in progress, a change order the vendor
    proposed, an invoice it submitted; and a draft MSA the sponsor may still edit."""
    from decimal import Decimal

    from contracts.services import change_orders, invoices
    from tests.factories import ContractFactory, MilestoneFactory

    p = personas
    msa = ContractFactory(sponsor=p.sponsor_a, vendor=p.vendor_x, kind="msa", title="Fuzz MSA", state="active")
    work_order = ContractFactory(sponsor=p.sponsor_a, vendor=p.vendor_x, kind="work-order", parent=msa,
                                 title="Fuzz work order", state="active")  # fmt: skip
    milestone = MilestoneFactory(contract=work_order, name="Fuzz milestone", state="in_progress")
    change_order = change_orders.change_order_propose(
        actor=p.vendor_x_admin, contract=work_order, reason="Fuzz change", value_delta=Decimal("10.00")
    )
    invoice = invoices.invoice_submit(actor=p.vendor_x_admin, contract=work_order, number="FUZZ-1",
                                      issued_on=date.today(), amount=Decimal("10.00"), currency="EUR")  # fmt: skip
    draft = ContractFactory(sponsor=p.sponsor_a, vendor=p.vendor_x, kind="msa", title="Fuzz draft MSA")
    shared = {"milestones": milestone.pk, "change-orders": change_order.pk, "invoices": invoice.pk}
    return {"sponsor": {"contracts": draft.pk, **shared}, "vendor": {"contracts": work_order.pk, **shared}}


def _alert_ids(personas) -> dict:
    """An open alert for sponsor A and one for vendor X (each acknowledged at most once: then 409)."""
    from django.utils import timezone

    from alerts.models import Alert

    p, now = personas, timezone.now()
    common = {"kind": "certificate_expiring", "severity": "warning", "raised_at": now, "vendor": p.vendor_x}
    sponsor = Alert.objects.create(audience="sponsor", sponsor=p.sponsor_a, key="fuzz:s", title="Fuzz alert", **common)
    vendor = Alert.objects.create(audience="vendor", key="fuzz:v", title="Fuzz alert", **common)
    return {"sponsor": {"alerts": sponsor.pk}, "vendor": {"alerts": vendor.pk}}


@pytest.fixture
def wsgi_app():
    """The project's WSGI application, keeping the test database connection open between requests.

    Django closes the connection at the end of every request; the test client stops that (the test's
    transaction lives on the connection), and so must a test that calls the WSGI application itself.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _headers_for(caller: str, personas) -> dict[str, str]:
    if caller == "anonymous":
        return {}
    user = personas.sponsor_a_admin if caller == "sponsor" else personas.vendor_x_admin
    _, key = api_token_create(user=user)
    return {"Authorization": f"Token {key}"}


def _operations():
    for result in SCHEMA.get_all_operations():
        yield result.ok()


OPERATIONS = list(_operations())


def _resource(operation) -> str:
    return operation.path.removeprefix("/api/v1/").split("/", 1)[0]


def _fuzz(operation, mode, headers, checks, failures: list[str], label: str, examples: int, **fixed) -> int:
    """Run one operation in one generation mode; record the first failure of each kind; return the cases sent."""
    seen: set[str] = set()
    sent = 0

    @hypothesis.given(case=operation.as_strategy(generation_mode=mode, **fixed))
    @hypothesis.settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case):
        nonlocal sent
        sent += 1
        response = case.call(base_url=BASE_URL, headers=headers)
        try:
            transport = {"base_url": BASE_URL, "headers": headers}
            case.validate_response(response, checks=checks, headers=headers, transport_kwargs=transport)
        except FailureGroup as exc:  # keep the first failure of each kind and go on fuzzing
            kind = "\n".join(str(exc).splitlines()[:2])
            if kind not in seen:
                seen.add(kind)
                failures.append(f"{operation.label} [{label}, {mode.value}]\n{exc}")

    with contextlib.suppress(hypothesis.errors.Unsatisfiable):
        run()
    return sent


@pytest.mark.parametrize("caller", CALLERS)
def test_every_operation_holds_to_the_schema(fuzz_data, wsgi_app, caller):
    personas, ids = fuzz_data
    headers = _headers_for(caller, personas)
    checks = _all_checks()
    failures: list[str] = []
    cases = 0
    started = time.perf_counter()

    SCHEMA.app = wsgi_app  # every request, also those that checks send (e.g. ignored_auth, without the token)
    for operation in OPERATIONS:
        if RESOURCES and _resource(operation) not in RESOURCES:
            continue
        operation.app = wsgi_app
        known = ids[caller].get(_resource(operation)) if "{id}" in operation.path else None
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            if known is None:
                cases += _fuzz(operation, mode, headers, checks, failures, caller, EXAMPLES)
                continue
            # Most examples on an object the caller can reach (DELETE last: it is the last operation of its
            # path in the schema), a few on random ids (404s and id-type errors).
            cases += _fuzz(operation, mode, headers, checks, failures, f"{caller}, id {known}", EXAMPLES,
                           path_parameters={"id": known})  # fmt: skip
            cases += _fuzz(operation, mode, headers, checks, failures, caller, max(1, EXAMPLES // 3))

    seconds = time.perf_counter() - started
    RUN_SUMMARY.append(
        f"schemathesis [{caller}]: {len(OPERATIONS)} operations, {cases} cases, {seconds:.0f} s, {len(failures)} failures"
    )
    assert not failures, "\n\n".join(failures[:30])
