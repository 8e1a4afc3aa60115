"""The contracts benchmark's code path at toy size: the SQL generator writes what was asked, and one short
run of ``bench.contracts`` measures ours, the naive peer and the floor, which all answer the same JSON.

PostgreSQL only, as the benchmark (``generate_series``, ``LEFT JOIN LATERAL``).
"""

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection
from django.urls import clear_url_caches
from django.utils import timezone

from contracts.models import ChangeOrder, Contract, Invoice, Milestone

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the contracts bench generates data with PostgreSQL SQL"
    ),
    pytest.mark.django_db,
]


@pytest.fixture
def wsgi_keeps_the_test_connection():
    """The bench calls the WSGI application, which closes the connection after each request; the test's
    transaction lives on it (see ``tests/test_api_fuzz.py``)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def test_the_generator_writes_the_portfolio_asked_for(db):
    from bench import data

    data.generate_contracts(72, 250, 90, vendors=7)

    assert data.contract_counts() == (72, 250, 90)
    owner = data.bench_contracts_user().sponsor
    assert Contract.objects.filter(sponsor=owner).count() == 24  # a third: blocks of six, sponsors in turn
    work_orders = Contract.objects.filter(kind="work-order").select_related("parent")
    assert work_orders.count() == 36 and all(
        (wo.parent.kind, wo.parent.sponsor_id, wo.parent.vendor_id) == ("msa", wo.sponsor_id, wo.vendor_id)
        for wo in work_orders
    )
    for contract in Contract.objects.filter(invoices__isnull=False).distinct()[:20]:
        invoices = contract.invoices.filter(state__in=["approved", "paid"])
        assert contract.invoiced == sum((i.amount for i in invoices), start=0)
        deltas = sum((c.value_delta for c in contract.change_orders.filter(state="approved")), start=0)
        assert contract.budget == contract.value + deltas
    assert Invoice.objects.values("milestone").distinct().count() == 90  # each milestone billed at most once
    assert Milestone.objects.filter(due_date__lt=timezone.localdate()).exclude(state="accepted").exists()  # overdue
    assert ChangeOrder.objects.filter(state="approved").exists()


def test_a_short_run_measures_all_three_and_they_agree(db, settings, wsgi_keeps_the_test_connection):
    from bench import contracts, data

    data.generate_contracts(150, 900, 300, vendors=9)
    lines: list[str] = []
    try:
        figures = contracts.run(requests=4, counts=data.contract_counts(), out=lines.append)
    finally:
        clear_url_caches()

    assert figures["problems"] == [], lines
    assert any(line.startswith("agreement: all 4 requests give the same JSON") for line in lines)
    # The token's look-up, the COUNT and the page, whatever the request (the token's last use is written once).
    assert set(figures["ours_queries"].values()) <= {2, 3}  # 2: no overdue contract, no page to read
    table = {line.split("  ")[0]: line for line in lines if line.startswith(("ours (", "naive ", "raw SQL + json"))}
    assert set(table) == {"ours (GET /api/v1/contracts/)", "naive ModelViewSet", "raw SQL + json.dumps floor"}
    naive_queries = float(table["naive ModelViewSet"].split()[-2])
    assert naive_queries > 100  # five aggregates or look-ups per contract of the page
    assert figures["ours_over_floor"] > 0 and figures["naive_over_ours"] > 1
    page = figures["page"]
    assert page is not None and page["page_over_floor"] > 0
    # The page lists the floor's contracts, in its order, flagging the same ones overdue (the one definition).
    assert page["problems"] == [], lines
    assert any(line.startswith("agreement: all 4 pages list the same contracts") for line in lines)
