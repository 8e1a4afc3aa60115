"""The alert checks benchmark's code path at toy size: the extra data gives every kind of check work, and one
short run of ``bench.checks`` measures ours, the floor and the naive loop, the floor writing the same alerts
and events as ours, the second runs nothing.

PostgreSQL only, as the benchmark (``generate_series``, data-modifying CTEs, ``gen_random_uuid``).
"""

import pytest
from django.db import connection

from alerts.definitions import ALERT_CHECKS

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the checks bench writes PostgreSQL SQL"),
    pytest.mark.django_db,
]


def test_a_short_run_measures_ours_the_floor_and_the_naive_loop_and_they_agree(db):
    from bench import checks, data

    data.generate_contracts(300, 3000, 600, vendors=12)
    checks.generate_extras(120)
    assert checks.extra_counts()[:2] == (120, 36)  # ten certificates per vendor in turn; 3 sponsors x 12 vendors
    lines: list[str] = []
    counts = (*data.contract_counts(), checks.extra_counts()[0])
    figures = checks.run(repetitions=1, naive_milestones_count=300, counts=counts, out=lines.append)

    assert figures["problems"] == [], lines
    assert any(line.startswith("agreement: the floor's first run writes the same") for line in lines)
    raised = figures["raised"]
    busy = {"milestone_overdue", "milestone_overdue_vendor", "certificate_expired", "certificate_expired_sponsors",
            "requalification_due"}  # fmt: skip
    assert [name for name in sorted(busy) if raised[name] == 0] == [], raised
    # Sponsor copies of a certificate alert: one per sponsor with an active contract with the vendor (at least one).
    assert raised["certificate_expired_sponsors"] >= raised["certificate_expired"]
    assert figures["alerts"] == sum(raised.values()) and figures["events"] == figures["alerts"]
    # A handful of statements per check; the second run emits no events, so never more than the first.
    assert set(figures["ours_queries"]) == {check.name for check in ALERT_CHECKS}
    assert all(second <= first <= 12 for first, second in figures["ours_queries"].values())
    assert set(figures["floor_queries"].values()) == {(3, 3)}  # its one statement, in a savepoint in a test
    assert figures["ours_over_floor"] > 0 and figures["naive_seconds"] > 0 and figures["peak_kib"] > 0
    assert any("EXTRAPOLATED" in line for line in lines)
