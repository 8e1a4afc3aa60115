"""``GET /api/v1/contracts/`` (a page of 50) as a sponsor owning a third of the contracts: ours, a naive DRF
ModelViewSet, and the raw SQL floor; then the ``/contracts/`` page against its floor.

All answer the same requests (the first page; a page in the middle; active contracts by value; contracts with
an overdue milestone by end date), with the same figures: parties, programme, parent MSA, value, budget,
invoiced, paid, remaining, burn and time elapsed, and the next open milestone.

1. ``ours``: the real endpoint through the project's WSGI application (URL conf, middleware, a real API token,
   ``ContractFilterSet``, pagination, ``ContractSummarySerializer``).
2. ``naive``: what a typical DRF project writes — a ``ModelViewSet`` with nested ``ModelSerializer``s for the
   sponsor, vendor, programme, parent and next milestone, the budget figures as per-object properties that
   sum the change orders and invoices (``NaiveBudget``), through the same WSGI application and filterset.
3. ``floor``: hand-written SQL through ``connection.cursor()`` (the count; the page with the parties joined and
   the next milestone by ``LEFT JOIN LATERAL``) and ``json.dumps`` of the same JSON as ours, byte for byte
   comparable once parsed.

For the ``/contracts/`` page: the real page (signed-in session, template) against the same SQL rows written
into a bare HTML table by string formatting.
"""

from __future__ import annotations

import datetime
import io
import json
import os
import re
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import parse_qsl, urlencode

from django.core.handlers.wsgi import WSGIHandler
from django.db import connection
from django.db.models import Sum
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import include, path
from django.utils import timezone
from django.utils.html import escape
from rest_framework import serializers, viewsets
from rest_framework.pagination import PageNumberPagination

from accounts.services import api_token_create
from bench import data
from contracts.budget import burn_percent, time_elapsed_percent
from contracts.choices import CLOSED_MILESTONE_STATES, INVOICED_STATES, ChangeOrderState, InvoiceState
from contracts.filtersets import ContractFilterSet
from contracts.models import Contract
from contracts.services.milestones import milestone_is_overdue
from cro_cmo.api.filters import FilterBackend

PAGE_SIZE = 50
API_PATH = "/api/v1/contracts/"
NAIVE_PATH = "/bench/naive/contracts/"
HOST = "localhost"
NAIVE_BUDGET_SECONDS = 120  # the naive peer stops early (after at least one round) past this


def percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, -(-len(ordered) * pct // 100) - 1)] if ordered else float("nan")


# --- Calling the WSGI application ---------------------------------------------------------------------------


class Wsgi:
    """Calls the project's WSGI application in-process, as a server would (no test-client extras)."""

    def __init__(self, headers: dict[str, str]):
        self.app = WSGIHandler()
        self.headers = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}

    def get(self, path: str, query: str = "") -> bytes:
        environ = {
            "REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": query, "SERVER_NAME": HOST,
            "SERVER_PORT": "80", "HTTP_HOST": HOST, "REMOTE_ADDR": "127.0.0.1", "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.input": io.BytesIO(b""), "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr,
            "wsgi.multithread": False, "wsgi.multiprocess": False, "wsgi.run_once": False, "wsgi.version": (1, 0),
            **self.headers,
        }  # fmt: skip
        status = []
        body = b"".join(self.app(environ, lambda s, h, exc=None: status.append(s)))
        if not status[0].startswith("200"):
            raise RuntimeError(f"GET {path}?{query} answered {status[0]}: {body[:300]!r}")
        return body


# --- 2. The naive peer --------------------------------------------------------------------------------------


class NaiveBudget:
    """Budget figures as properties of one contract, each summing what it needs (the typical way)."""

    def __init__(self, contract: Contract, today: datetime.date):
        self.contract, self.today = contract, today

    @property
    def budget(self) -> Decimal:
        deltas = self.contract.change_orders.filter(state=ChangeOrderState.APPROVED).aggregate(s=Sum("value_delta"))
        return self.contract.value + (deltas["s"] or 0)

    @property
    def invoiced(self) -> Decimal:
        total = self.contract.invoices.filter(state__in=INVOICED_STATES).aggregate(s=Sum("amount"))["s"]
        return total or Decimal("0.00")

    @property
    def paid(self) -> Decimal:
        return self.contract.invoices.filter(state=InvoiceState.PAID).aggregate(s=Sum("amount"))["s"] or Decimal("0.00")

    @property
    def remaining(self) -> Decimal:
        return self.budget - self.invoiced

    @property
    def burn_percent(self) -> Decimal | None:
        return burn_percent(self.invoiced, self.budget)

    @property
    def time_elapsed_percent(self) -> Decimal:
        return time_elapsed_percent(self.contract.start, self.contract.end, self.today)


class NaiveNamed(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class NaiveProgram(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()


class NaiveParent(serializers.ModelSerializer):
    class Meta:
        model = Contract
        fields = ["id", "number"]


class NaiveMilestone(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    due_date = serializers.DateField()
    overdue = serializers.SerializerMethodField()

    def get_overdue(self, milestone) -> bool:
        # The one definition (its contract is the one the related manager read it from: no query).
        return milestone_is_overdue(milestone, self.context["today"])


def _money(value) -> str | None:
    return None if value is None else str(Decimal(value).quantize(Decimal("0.01")))


class NaiveContractSerializer(serializers.ModelSerializer):
    sponsor = NaiveNamed()
    vendor = NaiveNamed()
    program = NaiveProgram(allow_null=True)
    parent = NaiveParent(allow_null=True)
    budget = serializers.SerializerMethodField()
    invoiced = serializers.SerializerMethodField()
    paid = serializers.SerializerMethodField()
    remaining = serializers.SerializerMethodField()
    burn_percent = serializers.SerializerMethodField()
    time_elapsed_percent = serializers.SerializerMethodField()
    next_milestone = serializers.SerializerMethodField()

    class Meta:
        model = Contract
        fields = [
            "id", "number", "title", "kind", "state", "sponsor", "vendor", "program", "parent", "value", "currency",
            "start", "end", "budget", "invoiced", "paid", "remaining", "burn_percent", "time_elapsed_percent",
            "next_milestone", "created", "updated",
        ]  # fmt: skip

    def _figures(self, contract) -> NaiveBudget:
        return NaiveBudget(contract, self.context["today"])

    def get_budget(self, contract):
        return _money(self._figures(contract).budget)

    def get_invoiced(self, contract):
        return _money(self._figures(contract).invoiced)

    def get_paid(self, contract):
        return _money(self._figures(contract).paid)

    def get_remaining(self, contract):
        return _money(self._figures(contract).remaining)

    def get_burn_percent(self, contract):
        value = self._figures(contract).burn_percent
        return None if value is None else str(value)

    def get_time_elapsed_percent(self, contract):
        return str(self._figures(contract).time_elapsed_percent)

    def get_next_milestone(self, contract):
        upcoming = (
            contract.milestones.exclude(state__in=CLOSED_MILESTONE_STATES)
            .order_by("due_date", "position", "id")
            .first()
        )
        return None if upcoming is None else NaiveMilestone(upcoming, context=self.context).data


class NaivePagination(PageNumberPagination):
    page_size = PAGE_SIZE


class NaiveContractViewSet(viewsets.ModelViewSet):
    serializer_class = NaiveContractSerializer
    filterset_class = ContractFilterSet
    filter_backends = [FilterBackend]
    pagination_class = NaivePagination

    def get_queryset(self):
        return Contract.objects.filter(sponsor=self.request.user.sponsor).select_related(
            "sponsor", "vendor", "program", "parent"
        )

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "today": timezone.localdate()}


# The bench's URL conf: the project's, plus the naive peer (set as ROOT_URLCONF while the bench runs).
urlpatterns = [
    path(NAIVE_PATH.strip("/") + "/", NaiveContractViewSet.as_view({"get": "list"})),
    path("", include("cro_cmo.urls")),
]


def naive_flattened(payload: dict) -> dict:
    """The naive peer's nested parties in our flat shape (``vendor: {id, name}`` → ``vendor``,
    ``vendor_name``) and its links on our path, so that its answers can be compared with ours."""
    rows = []
    for row in payload["results"]:
        flat = dict(row)
        for key in ("sponsor", "vendor"):
            flat[key], flat[f"{key}_name"] = row[key]["id"], row[key]["name"]
        program = row["program"] or {}
        flat["program"], flat["program_code"], flat["program_name"] = (
            program.get("id"), program.get("code"), program.get("name"),
        )  # fmt: skip
        parent = row["parent"] or {}
        flat["parent"], flat["parent_number"] = parent.get("id"), parent.get("number")
        rows.append(flat)
    links = {key: payload[key] and payload[key].replace(NAIVE_PATH, API_PATH) for key in ("next", "previous")}
    return {**payload, **links, "results": rows}


# --- 3. The raw SQL floor -----------------------------------------------------------------------------------

ORDERINGS = {
    "": "c.start DESC, c.id DESC",
    "-value": "c.value DESC NULLS LAST, c.id DESC",
    "end": 'c."end" ASC NULLS LAST, c.id DESC',
}
FLOOR_PAGE_SQL = """
    SELECT c.id, c.number, c.title, c.kind, c.state, c.sponsor_id, s.name, c.vendor_id, v.name, c.program_id,
           p.code, p.name, c.parent_id, par.number, c.value::text, c.currency, c.start, c."end", c.budget::text,
           c.invoiced::text, c.paid::text, (c.budget - c.invoiced)::text,
           CASE WHEN c.invoiced = 0 THEN '0.0' WHEN c.budget = 0 THEN NULL
                ELSE round(c.invoiced * 100 / c.budget, 1)::text END,
           CASE WHEN c."end" <= c.start THEN CASE WHEN %(today)s >= c."end" THEN '100' ELSE '0.0' END
                ELSE round(LEAST(GREATEST(%(today)s - c.start, 0), c."end" - c.start) * 100.0
                           / (c."end" - c.start), 1)::text END,
           nm.id, nm.name, nm.due_date, c.created, c.updated
    FROM (SELECT * FROM contracts_contract c WHERE {where} ORDER BY {order} LIMIT %(limit)s OFFSET %(offset)s) c
    JOIN sponsors_sponsor s ON s.id = c.sponsor_id
    JOIN vendors_vendor v ON v.id = c.vendor_id
    LEFT JOIN sponsors_program p ON p.id = c.program_id
    LEFT JOIN contracts_contract par ON par.id = c.parent_id
    LEFT JOIN LATERAL (
        SELECT m.id, m.name, m.due_date FROM contracts_milestone m
        WHERE m.contract_id = c.id AND m.state NOT IN ('accepted', 'removed')
        ORDER BY m.due_date, m.position, m.id LIMIT 1
    ) nm ON TRUE
    ORDER BY {order}
"""
# Overdue (contracts.services.milestones, the one definition): an active contract's milestone whose due date
# has passed, neither accepted nor removed.
OVERDUE_SQL = (
    "c.state = 'active' AND EXISTS (SELECT 1 FROM contracts_milestone m WHERE m.contract_id = c.id"
    " AND m.due_date < %(today)s AND m.state NOT IN ('accepted', 'removed'))"
)


def _iso(value: datetime.datetime) -> str:
    text = value.astimezone(datetime.UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _floor_where(params: dict, query: dict) -> str:
    where = ["c.sponsor_id = %(sponsor)s"]
    if "state" in query:
        where.append("c.state = %(state)s")
        params["state"] = query["state"]
    if query.get("overdue") == "true":
        where.append(OVERDUE_SQL)
    return " AND ".join(where)


def _page_links(path: str, query: dict, page: int, count: int) -> tuple[str | None, str | None]:
    """``next``/``previous`` as DRF's page-number pagination writes them (parameters sorted; page 1 without
    ``page``)."""
    last = max(1, -(-count // PAGE_SIZE))

    def link(number: int) -> str:
        params = {k: v for k, v in query.items() if k != "page"}
        if number != 1:
            params["page"] = str(number)
        return f"http://{HOST}{path}" + (f"?{urlencode(sorted(params.items()))}" if params else "")

    return (link(page + 1) if page < last else None), (link(page - 1) if page > 1 else None)


def floor_rows(sponsor_id: int, query: dict, today: datetime.date, limit: int) -> tuple[int, list[tuple]]:
    page = int(query.get("page", "1"))
    params = {"sponsor": sponsor_id, "today": today, "limit": limit, "offset": (page - 1) * limit}
    where = _floor_where(params, query)
    order = ORDERINGS[query.get("ordering", "")]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM contracts_contract c WHERE {where}", params)
        count = cursor.fetchone()[0]
        cursor.execute(FLOOR_PAGE_SQL.format(where=where, order=order), params)
        return count, cursor.fetchall()


def floor_implementation(sponsor_id: int) -> Callable[[str], bytes]:
    def floor(query_string: str) -> bytes:
        query = dict(parse_qsl(query_string))
        today = timezone.localdate()
        count, rows = floor_rows(sponsor_id, query, today, PAGE_SIZE)
        results = []
        today_text = today.isoformat()
        for r in rows:
            upcoming = None
            if r[24] is not None:
                due = r[26].isoformat()
                late = due < today_text and r[4] == "active"  # the next open milestone: its state is open
                upcoming = {"id": r[24], "name": r[25], "due_date": due, "overdue": late}
            results.append({
                "id": r[0], "number": r[1], "title": r[2], "kind": r[3], "state": r[4], "sponsor": r[5],
                "sponsor_name": r[6], "vendor": r[7], "vendor_name": r[8], "program": r[9], "program_code": r[10],
                "program_name": r[11], "parent": r[12], "parent_number": r[13], "value": r[14], "currency": r[15],
                "start": r[16].isoformat(), "end": r[17].isoformat(), "budget": r[18], "invoiced": r[19],
                "paid": r[20], "remaining": r[21], "burn_percent": r[22], "time_elapsed_percent": r[23],
                "next_milestone": upcoming, "created": _iso(r[27]), "updated": _iso(r[28]),
            })  # fmt: skip
        following, previous = _page_links(API_PATH, query, int(query.get("page", "1")), count)
        return json.dumps({"count": count, "next": following, "previous": previous, "results": results}).encode()

    return floor


# --- The /contracts/ page -------------------------------------------------------------------------------------

PAGE_ROWS = 25  # the page's own page size (ContractListView.paginate_by)


def page_floor_implementation(sponsor_id: int) -> Callable[[str], bytes]:
    """The page's rows from the same SQL, written into a bare HTML table by string formatting: the least work
    that shows a person the same figures (no layout, filters, navigation or template)."""

    def page_floor(query_string: str) -> bytes:
        query = dict(parse_qsl(query_string))
        today = timezone.localdate()
        count, rows = floor_rows(sponsor_id, query, today, PAGE_ROWS)
        cells = []
        for r in rows:
            upcoming = "" if r[24] is None else f"{escape(r[25])} {r[26].isoformat()}"
            if r[24] is not None and r[26] < today and r[4] == "active":
                upcoming += " overdue"
            cells.append(
                f'<tr><td><a href="/contracts/{r[0]}/">{escape(r[1])}</a> {escape(r[2])}</td><td>{escape(r[8])}</td>'
                f"<td>{escape(r[11] or '')}</td><td>{r[4]}</td><td>{r[17].isoformat()}</td><td>{r[18]} {r[15]}</td>"
                f"<td>{r[19]}</td><td>{r[22] or '—'} %</td><td>{r[23]} %</td><td>{upcoming}</td></tr>"
            )
        html = (
            "<!doctype html><html lang=en><title>Contracts</title><main><h1>Contracts</h1>"
            f"<p>{count} contracts</p><table><tbody>{''.join(cells)}</tbody></table></main></html>"
        )
        return html.encode()

    return page_floor


# --- Measuring ------------------------------------------------------------------------------------------------


@dataclass
class Timing:
    name: str
    samples: list[float] = field(default_factory=list)
    queries: dict[str, int] = field(default_factory=dict)
    sql_ms: dict[str, float] = field(default_factory=dict)
    answers: dict[str, bytes] = field(default_factory=dict)
    peak_kib: float = 0.0
    per_query: dict[str, list[float]] = field(default_factory=dict)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def p95(self) -> float:
        return percentile(self.samples, 95)

    @property
    def queries_per_request(self) -> float:
        return statistics.mean(self.queries.values())


def _warm(timing: Timing, implementation, queries: list[str]) -> None:
    """Untimed: two rounds; the second counts SQL statements and keeps the answers; then the peak memory of one
    request per query under tracemalloc (slow, so never during the timed requests)."""
    for query in queries:
        implementation(query)
    for query in queries:
        with CaptureQueriesContext(connection) as captured:
            timing.answers[query] = implementation(query)
        timing.queries[query] = len(captured.captured_queries)
        timing.sql_ms[query] = sum(float(entry["time"]) * 1000 for entry in captured.captured_queries)
    peaks = []
    for query in queries:
        tracemalloc.start()
        implementation(query)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    timing.peak_kib = max(peaks) / 1024


def measure(implementations: list[tuple[str, Callable[[str], bytes]]], queries: list[str], requests: int,
            budget: float | None = None) -> list[Timing]:  # fmt: skip
    """Warm up each, then ``requests`` timed rounds, interleaved (request i of every implementation in rotating
    order) and round-robin over ``queries``; stops early past ``budget`` seconds once every query ran once."""
    timings = [Timing(name) for name, _ in implementations]
    for timing, (_, implementation) in zip(timings, implementations, strict=True):
        _warm(timing, implementation, queries)
    pairs = list(zip(timings, [impl for _, impl in implementations], strict=True))
    started = time.perf_counter()
    for i in range(requests):
        query = queries[i % len(queries)]
        shift = i % len(pairs)
        for timing, implementation in pairs[shift:] + pairs[:shift]:
            begin = time.perf_counter()
            implementation(query)
            elapsed = (time.perf_counter() - begin) * 1000
            timing.samples.append(elapsed)
            timing.per_query.setdefault(query, []).append(elapsed)
        if budget is not None and i + 1 >= len(queries) and time.perf_counter() - started > budget:
            break
    return timings


def check_agreement(ours: Timing, floor: Timing, naive: Timing | None) -> list[str]:
    problems = []
    for query, answer in ours.answers.items():
        mine = json.loads(answer)
        if json.loads(floor.answers[query]) != mine:
            problems.append(f"[{query or 'first page'}] the floor's JSON differs from ours")
        if naive is not None and naive_flattened(json.loads(naive.answers[query])) != mine:
            problems.append(f"[{query or 'first page'}] the naive peer's JSON differs from ours (flattened)")
    return problems


def bench_queries(count: int) -> list[str]:
    """The requests: the first page, a page in the middle, active contracts by value, overdue by end date."""
    middle = max(1, -(-count // PAGE_SIZE) // 2)
    return ["", f"page={middle}", "state=active&ordering=-value", "overdue=true&ordering=end"]


def _row(timing: Timing) -> str:
    return (
        f"{timing.name:<30}{len(timing.samples):>9}{timing.median:>11.2f}{timing.p95:>10.2f}"
        f"{timing.queries_per_request:>10.1f}{timing.peak_kib:>13.0f}"
    )


HEADER = f"{'implementation':<30}{'requests':>9}{'median ms':>11}{'p95 ms':>10}{'queries':>10}{'peak KiB':>13}"


def run(*, requests: int, counts: tuple[int, int, int], out=print) -> dict:
    """Measure and print; returns the figures (for the smoke test and the report).

    The bench's URL conf (the project's plus the naive peer) applies only while it runs: ``override_settings``
    puts the project's back afterwards, with its error handlers (the smoke test runs inside the suite)."""
    with override_settings(ROOT_URLCONF="bench.contracts"):
        return _run(requests=requests, counts=counts, out=out)


def _run(*, requests: int, counts: tuple[int, int, int], out=print) -> dict:
    user = data.bench_contracts_user()
    _, key = api_token_create(user=user, name="bench")
    sponsor_id = user.sponsor_id
    owned = Contract.objects.filter(sponsor_id=sponsor_id).count()
    queries = bench_queries(owned)
    api = Wsgi({"Authorization": f"Token {key}"})

    out(
        f"GET {API_PATH} (page of {PAGE_SIZE}) as a sponsor owning {owned} of {counts[0]} contracts; "
        f"{counts[1]} milestones, {counts[2]} invoices; {connection.vendor}"
    )
    for query in queries:
        out(f"  ?{query}" if query else "  (first page)")
    load_before = os.getloadavg()[0]
    begun = time.perf_counter()
    ours, floor = measure(
        [("ours (GET /api/v1/contracts/)", lambda q: api.get(API_PATH, q)),
         ("raw SQL + json.dumps floor", floor_implementation(sponsor_id))],
        queries, requests,
    )  # fmt: skip
    (naive,) = measure(
        [("naive ModelViewSet", lambda q: api.get(NAIVE_PATH, q))], queries, requests, budget=NAIVE_BUDGET_SECONDS
    )
    out(f"measured in {time.perf_counter() - begun:.0f} s; 1-minute load average {load_before:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after, on {os.cpu_count()} CPUs")  # fmt: skip
    out("")
    out(HEADER)
    for timing in (ours, naive, floor):
        out(_row(timing))
    out("")
    figures = {
        "ours_over_floor": ours.median / floor.median,
        "naive_over_ours": naive.median / ours.median,
        "ours_queries": ours.queries,
    }
    out(
        f"ours/floor:  {figures['ours_over_floor']:.2f}x median, {ours.p95 / floor.p95:.2f}x p95   (target: at most 2x)"
    )
    out(
        f"naive/ours:  {figures['naive_over_ours']:.1f}x median, {naive.p95 / ours.p95:.1f}x p95   (target: at least 5x)"
    )
    out("")
    out(f"{'per request (median ms)':<40}{'ours':>9}{'ours SQL':>10}{'floor':>8}{'floor SQL':>11}{'naive':>9}")
    for query in queries:
        out(
            f"{('?' + query) if query else '(first page)':<40}{statistics.median(ours.per_query[query]):>9.2f}"
            f"{ours.sql_ms[query]:>10.1f}{statistics.median(floor.per_query[query]):>8.2f}"
            f"{floor.sql_ms[query]:>11.1f}{statistics.median(naive.per_query[query]):>9.1f}"
        )
    out("ours SQL / floor SQL: time inside SQL statements in one warm request (CaptureQueriesContext).")
    problems = check_agreement(ours, floor, naive)
    out("")
    for problem in problems:
        out(f"WARNING: {problem}")
    if not problems:
        out(f"agreement: all {len(queries)} requests give the same JSON in all three (naive's nesting flattened)")
    figures["problems"] = problems
    figures["page"] = run_page(requests=requests, queries=queries, sponsor_id=sponsor_id, user=user, out=out)
    return figures


def run_page(*, requests: int, queries: list[str], sponsor_id: int, user, out) -> dict | None:
    from django.urls import NoReverseMatch, reverse

    try:
        url = reverse("contract-list")
    except NoReverseMatch:
        out("\n/contracts/ page: not built yet (no URL named contract-list); not measured.")
        return None
    client = Client(HTTP_HOST=HOST)
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    # The page pages by 25: the middle page of the API (by 50) is a different page here; same filters otherwise.
    owned = Contract.objects.filter(sponsor_id=sponsor_id).count()
    middle = max(1, -(-owned // PAGE_ROWS) // 2)
    page_queries = [q if not q.startswith("page=") else f"page={middle}" for q in queries]

    def real_page(query: str) -> bytes:
        response = client.get(url, dict(parse_qsl(query)))
        if response.status_code != 200:
            raise RuntimeError(f"GET {url}?{query} answered {response.status_code}")
        return response.content

    out("")
    out(f"GET {url} (the page, {PAGE_ROWS} rows) as the same sponsor, signed in")
    real, floor = measure(
        [("real page (GET /contracts/)", real_page), ("raw SQL + HTML string floor", page_floor_implementation(sponsor_id))],
        page_queries, requests,
    )  # fmt: skip
    out("")
    out(HEADER)
    for timing in (real, floor):
        out(_row(timing))
    ratio = real.median / floor.median
    out("")
    out(f"page/floor:  {ratio:.2f}x median, {real.p95 / floor.p95:.2f}x p95")
    out(f"{'per request (median ms)':<40}{'page':>9}{'page SQL':>10}{'floor':>8}")
    for query in page_queries:
        out(
            f"{('?' + query) if query else '(first page)':<40}{statistics.median(real.per_query[query]):>9.2f}"
            f"{real.sql_ms[query]:>10.1f}{statistics.median(floor.per_query[query]):>8.2f}"
        )
    problems = check_page_agreement(real, floor)
    out("")
    for problem in problems:
        out(f"WARNING: {problem}")
    if not problems:
        out(f"agreement: all {len(page_queries)} pages list the same contracts in the same order, overdue alike")
    return {
        "page_over_floor": ratio,
        "page_median_ms": real.median,
        "floor_median_ms": floor.median,
        "page_queries": real.queries,
        "problems": problems,
    }


CONTRACT_LINK = re.compile(r'href="/contracts/(\d+)/"')


def _page_rows(html: bytes) -> tuple[list[str], int]:
    """The contracts a page lists (their links' ids, in order) and how many rows it flags overdue."""
    text = html.decode()
    return CONTRACT_LINK.findall(text), text.count('data-testid="overdue"') + text.count(" overdue</td>")


def check_page_agreement(real: Timing, floor: Timing) -> list[str]:
    """The page and its floor list the same contracts, in the same order, with as many flagged overdue."""
    problems = []
    for query, answer in real.answers.items():
        if _page_rows(answer) != _page_rows(floor.answers[query]):
            problems.append(f"[{query or 'first page'}] the page's rows differ from the floor's (ids, overdue)")
    return problems
