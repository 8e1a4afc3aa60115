"""Benchmark data: N generated vendors with as many offerings as the one-per-category rule allows.

The issue asks for 10 000 vendors and 100 000 offerings (~10 per vendor). A vendor has at most one
offering per service category (constraint ``offering_one_per_vendor_and_category``) and there are
eight categories: CROs may offer the four CRO ones, CMOs the four CMO ones, CDMOs all eight. So ten
per vendor is impossible; ``generate`` asks ``bulk_generate`` for ten each, which gives every vendor
*all* the categories of its kind, and the caller reports the counts actually reached.
"""

from django.db import connection, transaction

from vendors.choices import Side, VendorKind
from vendors.demo import bulk_generate
from vendors.facet_index import directory_changed
from vendors.models import ServiceCategory, ServiceOffering, Vendor

ASKED_OFFERINGS_PER_VENDOR = 10
ISSUE_VENDORS, ISSUE_OFFERINGS = 10_000, 100_000
KIND_ROTATION = ["cro", "cmo", "cdmo"]  # bulk_generate gives vendor n the kind KIND_ROTATION[n % 3]


def counts() -> tuple[int, int]:
    """(vendors, offerings) now in the database."""
    return Vendor.objects.count(), ServiceOffering.objects.count()


def categories_per_kind() -> dict[str, int]:
    """How many categories each kind of vendor may offer (one offering per category at most)."""
    per_side = {side: ServiceCategory.objects.filter(side=side).count() for side in Side.values}
    return {
        VendorKind.CRO: per_side[Side.CRO],
        VendorKind.CMO: per_side[Side.CMO],
        VendorKind.CDMO: per_side[Side.CRO] + per_side[Side.CMO],
    }


def max_offerings(vendors: int, start: int = 0) -> int:
    """The most offerings ``bulk_generate`` can write for ``vendors`` new vendors (its kind rotation)."""
    limit = categories_per_kind()
    return sum(limit[KIND_ROTATION[n % 3]] for n in range(start, start + vendors))


def vendors_needed_for(offerings: int) -> int:
    """The fewest generated vendors whose offerings reach ``offerings`` under the kind rotation."""
    limit = categories_per_kind()
    total, n = 0, 0
    while total < offerings:
        total += limit[KIND_ROTATION[n % 3]]
        n += 1
    return n


def generate(vendors: int) -> tuple[int, int]:
    """Write ``vendors`` vendors in one transaction (all or nothing), then refresh planner statistics.

    1. ``bulk_generate`` with ten offerings asked per vendor (capped by the categories of its kind).
    2. VACUUM ANALYZE, as autovacuum (PostgreSQL) or a maintained SQLite database would have done: the
       search vectors written by an UPDATE sit in the GIN index's pending list until a vacuum, and the
       planner, costing that list, scanned all vendors for a word (45 ms) instead of the index (10 ms).
    """
    with transaction.atomic():
        bulk_generate(vendors, offerings_per_vendor=ASKED_OFFERINGS_PER_VENDOR)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    return counts()


def _n(number: int) -> str:
    return f"{number:,}".replace(",", " ")


def size_note(vendors: int, offerings: int) -> list[str]:
    """Plain words on what was asked and what the one-offering-per-category rule allows."""
    limit = categories_per_kind()
    every = limit[VendorKind.CDMO]
    return [
        f"asked: ~{ASKED_OFFERINGS_PER_VENDOR} offerings per vendor (the issue: {_n(ISSUE_VENDORS)} vendors / "
        f"{_n(ISSUE_OFFERINGS)} offerings); reached {offerings / max(vendors, 1):.2f} per vendor.",
        f"a vendor has at most one offering per category (CROs {limit[VendorKind.CRO]}, CMOs {limit[VendorKind.CMO]}, "
        f"CDMOs {every} categories), so {_n(ISSUE_OFFERINGS)} offerings on {_n(ISSUE_VENDORS)} vendors is IMPOSSIBLE: "
        f"even if all were CDMOs, {_n(ISSUE_VENDORS)} x {every} = {_n(ISSUE_VENDORS * every)}.",
        f"bulk_generate's CRO/CMO/CDMO rotation with all categories of each kind gives {_n(max_offerings(ISSUE_VENDORS))} "
        f"offerings on {_n(ISSUE_VENDORS)} vendors; {_n(ISSUE_OFFERINGS)} offerings need "
        f"BENCH_VENDORS={vendors_needed_for(ISSUE_OFFERINGS)}.",
    ]


# --- Contracts (``python -m bench contracts``; PostgreSQL) ----------------------------------------------------

ISSUE_CONTRACTS, ISSUE_MILESTONES, ISSUE_INVOICES = 100_000, 1_000_000, 300_000
CONTRACT_SPONSORS = 3  # the bench sponsor (the first) owns a third of the contracts
CONTRACT_VENDORS = 2_000
PROGRAMS_PER_SPONSOR = 20
BENCH_SPONSOR_SLUG = "bench-contracts-sponsor-1"
BENCH_CONTRACTS_EMAIL = "bench-contracts@bench.invalid"


def contract_counts() -> tuple[int, int, int]:
    """(contracts, milestones, invoices) now in the database."""
    from contracts.models import Contract, Invoice, Milestone

    return Contract.objects.count(), Milestone.objects.count(), Invoice.objects.count()


def _next_id(cursor, table: str) -> int:
    cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
    return cursor.fetchone()[0]


def _resync_sequence(cursor, table: str) -> None:
    cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")


def generate_contracts(contracts: int, milestones: int, invoices: int, *, vendors: int = CONTRACT_VENDORS) -> None:
    """Write the contract portfolio with set-based SQL (PostgreSQL): minutes, not hours, for the issue's sizes.

    1. Three sponsors with twenty programmes each, ``vendors`` vendors (ORM bulk inserts: small).
    2. ``contracts`` contracts in one ``INSERT … SELECT generate_series``, in blocks of six per sponsor and
       vendor: an MSA, three work orders under it, a stand-alone agreement, a CDA; sponsors take turns by
       block, so the first sponsor owns a third. States, values, currencies and dates vary by number.
    3. ``milestones`` milestones spread evenly over the contracts (one INSERT with ``generate_series`` per
       contract): due dates spaced between start and end, some slipped from the baseline, states by date
       (accepted long ago, submitted or in progress lately, planned ahead; some overdue).
    4. ``invoices`` invoices, one per milestone from the first, spread evenly (submitted, approved, paid,
       rejected); then the contracts' invoiced/paid figures from them in one UPDATE.
    5. An approved change order on every 13th and 17th contract moving its budget to ~85 % and ~105 % burn.
    6. The bench sponsor's reader and ANALYZE.
    Ids are given explicitly (after the current maximum) so that a work order can name its MSA in the same
    statement; the identity sequences are moved past them afterwards.
    """
    from contracts.models import Contract, Invoice, Milestone
    from sponsors.models import Program, Sponsor
    from vendors.models import Vendor

    with transaction.atomic():
        sponsors = [
            Sponsor.objects.create(
                name=f"Bench Contracts Sponsor {n}", slug=f"bench-contracts-sponsor-{n}", country="DE"
            )
            for n in range(1, CONTRACT_SPONSORS + 1)
        ]
        programs = Program.objects.bulk_create(
            Program(sponsor=sponsor, code=f"BP-{s}-{p:02d}", name=f"Bench programme {s}.{p}")
            for s, sponsor in enumerate(sponsors, 1)
            for p in range(1, PROGRAMS_PER_SPONSOR + 1)
        )
        kinds = ["cro", "cmo", "cdmo"]
        created = Vendor.objects.bulk_create(
            Vendor(name=f"Bench Vendor {n:05d}", slug=f"bench-vendor-{n:05d}", kind=kinds[n % 3], hq_country="DE")
            for n in range(1, vendors + 1)
        )
        vendor_ids = [v.pk for v in created]
        directory_changed()  # a bulk insert sends no signal: the directory's facet index must follow
        program_ids = [p.pk for p in programs]  # sponsor s's are [s*P, (s+1)*P)
        sponsor_ids = [s.pk for s in sponsors]
        with connection.cursor() as cursor:
            offset = _next_id(cursor, Contract._meta.db_table)
            _insert_contracts(cursor, offset, contracts, sponsor_ids, vendor_ids, program_ids)
            _resync_sequence(cursor, Contract._meta.db_table)
            _insert_milestones(cursor, offset, contracts, milestones)
            _resync_sequence(cursor, Milestone._meta.db_table)
            _insert_invoices(cursor, offset, contracts, min(invoices, milestones))
            _resync_sequence(cursor, Invoice._meta.db_table)
            _contract_figures(cursor, offset)
        bench_contracts_user()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _insert_contracts(cursor, offset, n, sponsor_ids, vendor_ids, program_ids) -> None:
    cursor.execute(
        """
        INSERT INTO contracts_contract (id, created, updated, kind, number, sequence, title, value, currency, start,
            "end", state, notes, parent_id, program_id, sponsor_id, vendor_id, source_proposal_id, activated_at,
            budget, invoiced, paid)
        SELECT %(offset)s + g, now(), now() - (g %% 5000) * interval '1 minute', k.kind,
            k.prefix || '-' || lpad(g::text, 7, '0'), g, 'Bench contract ' || g, x.value,
            CASE WHEN b %% 4 = 3 THEN 'USD' ELSE 'EUR' END, d.start, d.start + (200 + (g * 13) %% 800)::int, x.state, '',
            CASE WHEN r BETWEEN 1 AND 3 THEN %(offset)s + 6 * b + 1 END,
            CASE WHEN g %% 5 <> 0 THEN (%(programs)s::bigint[])[(b %% 3) * %(per)s + g %% %(per)s + 1] END,
            (%(sponsors)s::bigint[])[b %% 3 + 1],
            (%(vendors)s::bigint[])[(b * 7919) %% %(n_vendors)s + 1],
            NULL, CASE WHEN x.state IN ('active', 'completed') THEN d.start::timestamptz END, x.value, 0, 0
        FROM generate_series(1, %(n)s) AS g,
            LATERAL (SELECT (g - 1) / 6 AS b, (g - 1) %% 6 AS r) AS br,
            LATERAL (SELECT CASE WHEN r = 0 THEN 'msa' WHEN r <= 3 THEN 'work-order' WHEN r = 4 THEN 'standalone'
                         ELSE 'cda' END AS kind,
                         CASE WHEN r = 0 THEN 'MSA' WHEN r <= 3 THEN 'WO' WHEN r = 4 THEN 'SA' ELSE 'CDA' END AS prefix) k,
            LATERAL (SELECT date '2023-01-01' + ((g * 37) %% 1000)::int AS start) AS d,
            LATERAL (SELECT (20000 + (g * 7919) %% 480 * 1000)::numeric(16, 2) AS value,
                         CASE WHEN (g * 31) %% 20 < 2 THEN 'draft' WHEN (g * 31) %% 20 < 4 THEN 'pending_signature'
                              WHEN (g * 31) %% 20 < 16 THEN 'active' WHEN (g * 31) %% 20 < 18 THEN 'completed'
                              ELSE 'terminated' END AS state) AS x
        """,
        {"offset": offset, "n": n, "programs": program_ids, "per": PROGRAMS_PER_SPONSOR, "sponsors": sponsor_ids,
         "vendors": vendor_ids, "n_vendors": len(vendor_ids)},
    )  # fmt: skip


def _insert_milestones(cursor, offset, contracts, milestones) -> None:
    per, extra = divmod(milestones, contracts)
    cursor.execute(
        """
        INSERT INTO contracts_milestone (created, updated, position, name, baseline_due_date, due_date, amount,
            state, contract_id, decision_comment, submitted_at, decided_at, decided_by_id)
        SELECT now(), now(), k, 'Milestone ' || k, due - ((c.id + k) %% 4)::int * 7, due, round(c.value / m, 2),
            CASE WHEN c.state IN ('draft', 'pending_signature') THEN 'planned'
                 WHEN due < current_date - 60 THEN 'accepted'
                 WHEN due < current_date THEN (ARRAY['submitted', 'in_progress', 'accepted'])[k %% 3 + 1]
                 WHEN k %% 5 = 0 THEN 'in_progress' ELSE 'planned' END,
            c.id, '', NULL, NULL, NULL
        FROM contracts_contract c,
            LATERAL (SELECT %(per)s + CASE WHEN c.id - %(offset)s <= %(extra)s THEN 1 ELSE 0 END AS m) AS mc,
            LATERAL generate_series(1, m) AS k,
            LATERAL (SELECT c.start + ((c."end" - c.start) * k / (m + 1))::int AS due) AS d
        WHERE c.id > %(offset)s
        """,
        {"offset": offset, "per": per, "extra": extra},
    )


def _insert_invoices(cursor, offset, contracts, invoices) -> None:
    per, extra = divmod(invoices, contracts)
    cursor.execute(
        """
        INSERT INTO contracts_invoice (created, updated, number, issued_on, amount, currency, state, approved_at,
            paid_at, rejection_reason, override_reason, approved_by_id, contract_id, milestone_id, submitted_by_id,
            vendor_id)
        SELECT now(), now(), 'INV-' || m.id, LEAST(m.due_date, current_date), m.amount, c.currency, s.state,
            CASE WHEN s.state IN ('approved', 'paid') THEN LEAST(m.due_date, current_date) + 10 END,
            CASE WHEN s.state = 'paid' THEN LEAST(m.due_date, current_date) + 40 END,
            CASE WHEN s.state = 'rejected' THEN 'Bench: wrong amount' ELSE '' END, '', NULL, c.id, m.id, NULL,
            c.vendor_id
        FROM contracts_milestone m JOIN contracts_contract c ON c.id = m.contract_id,
            LATERAL (SELECT (ARRAY['rejected', 'submitted', 'submitted', 'approved', 'approved', 'approved',
                                   'approved', 'paid', 'paid', 'paid'])[m.id %% 10 + 1] AS state) AS s
        WHERE c.id > %(offset)s
          AND m.position <= %(per)s + CASE WHEN c.id - %(offset)s <= %(extra)s THEN 1 ELSE 0 END
        """,
        {"offset": offset, "per": per, "extra": extra},
    )


def _contract_figures(cursor, offset) -> None:
    """invoiced = approved + paid, paid = paid (as the services keep them); then a budget change order on some."""
    cursor.execute(
        """
        UPDATE contracts_contract c SET invoiced = s.invoiced, paid = s.paid
        FROM (SELECT contract_id,
                     COALESCE(SUM(amount) FILTER (WHERE state IN ('approved', 'paid')), 0) AS invoiced,
                     COALESCE(SUM(amount) FILTER (WHERE state = 'paid'), 0) AS paid
              FROM contracts_invoice GROUP BY contract_id) s
        WHERE c.id = s.contract_id AND c.id > %(offset)s
        """,
        {"offset": offset},
    )
    # An approved change order re-baselines the budget to ~85 % burn (every 13th) or ~105 % (every 17th).
    cursor.execute(
        """
        WITH target AS (
            SELECT id, budget, round(invoiced / CASE WHEN (id - %(offset)s) %% 17 = 0 THEN 1.05 ELSE 0.85 END, 2)
                       AS after
            FROM contracts_contract
            WHERE id > %(offset)s AND invoiced > 0 AND state = 'active'
              AND ((id - %(offset)s) %% 13 = 0 OR (id - %(offset)s) %% 17 = 0)
        ), orders AS (
            INSERT INTO contracts_changeorder (created, updated, sequence, proposed_by_side, reason, value_delta,
                new_end, state, decided_at, decision_reason, budget_before, budget_after, contract_id,
                decided_by_id, proposed_by_id)
            SELECT now(), now(), 1, 'vendor', 'Bench: scope change', after - budget, NULL, 'approved', now(), '',
                budget, after, id, NULL, NULL
            FROM target RETURNING contract_id, budget_after
        )
        UPDATE contracts_contract c SET budget = orders.budget_after FROM orders WHERE c.id = orders.contract_id
        """,
        {"offset": offset},
    )


def bench_contracts_user():
    """The bench sponsor's reader (a viewer: the list is a read)."""
    from accounts.models import Role, User
    from sponsors.models import Sponsor

    user = User.objects.filter(email=BENCH_CONTRACTS_EMAIL).first()
    if user is None:
        sponsor = Sponsor.objects.get(slug=BENCH_SPONSOR_SLUG)
        user = User.objects.create_user(
            BENCH_CONTRACTS_EMAIL, None, sponsor=sponsor, role=Role.VIEWER, full_name="Bench Contracts"
        )
    return user


def contract_size_note(contracts: int, milestones: int, invoices: int) -> list[str]:
    asked = f"the issue: {_n(ISSUE_CONTRACTS)} contracts / {_n(ISSUE_MILESTONES)} milestones / {_n(ISSUE_INVOICES)} invoices"
    if (contracts, milestones, invoices) == (ISSUE_CONTRACTS, ISSUE_MILESTONES, ISSUE_INVOICES):
        return [f"{asked} (as asked)"]
    return [f"{asked}; this run: {_n(contracts)} / {_n(milestones)} / {_n(invoices)} (BENCH_CONTRACTS, …)"]
