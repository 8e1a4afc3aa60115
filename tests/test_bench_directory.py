"""The directory benchmark at toy size: its three implementations agree on the second pass's facets, and a
run with fewer requests than queries (BENCH_REQUESTS < 5) reports instead of crashing."""

import pytest

from bench import directory
from vendors import demo

pytestmark = pytest.mark.django_db


@pytest.fixture
def generated(db):
    demo.bulk_generate(60, offerings_per_vendor=8)


def test_real_selector_naive_and_floor_agree_on_every_query(generated):
    floor = directory.Timing("floor")
    others = [directory.Timing("real"), directory.Timing("selector"), directory.Timing("naive")]
    implementations = [directory.real_implementation(), directory.selector_implementation(), directory.naive]
    for query in directory.QUERIES:
        floor.outcomes[query] = directory.floor_implementation()(query)
        for timing, implementation in zip(others, implementations, strict=True):
            timing.outcomes[query] = implementation(query)
    assert directory.check_agreement(floor, others) == []
    # The queries exercise the new facets: some answers, and region/authority counts among them.
    answered = [floor.outcomes[q] for q in directory.QUERIES]
    assert sum(o.count for o in answered) > 0
    assert any(o.facets.get("region") for o in answered) and any(o.facets.get("authority") for o in answered)


def test_a_run_with_fewer_requests_than_queries_reports(generated, capsys):
    directory.run(requests=2, vendors=60, offerings=0)
    out = capsys.readouterr().out
    assert "goals (issue #11)" in out and "agreement: all 5 queries" in out
