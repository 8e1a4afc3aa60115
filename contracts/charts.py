"""Server-drawn SVG charts for the contract page: the milestone timeline and the budget burn.

No chart library and no CDN: the charts are small, static and drawn here as SVG, so they render with
no JavaScript and no network. Each is readable without colour — baseline and current dates are
different shapes, states are written next to the marks, "today" is a labelled dashed line — and comes
with a text equivalent (the SVG's ``<title>``/``<desc>``, and the tables the page shows beside it).

The functions take plain data (dates, amounts) and return safe markup; they never query the database.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

WIDTH = 720
LABEL_WIDTH = 200  # left column for milestone names
ROW_HEIGHT = 28
TOP = 34  # room for the axis labels and the "Today" label
BOTTOM = 24
RIGHT = 24
MAX_NAME = 28  # characters of a milestone name drawn in the chart (the table has the full name)


@dataclass(frozen=True)
class TimelineRow:
    """One milestone on the timeline."""

    name: str
    baseline: datetime.date
    current: datetime.date
    state_label: str  # "Accepted", "Overdue", "In progress" … written beside the marks
    done: bool = False

    @property
    def slip_days(self) -> int:
        return (self.current - self.baseline).days


@dataclass(frozen=True)
class BurnPoint:
    """The invoiced total (approved and paid invoices) as of a day."""

    day: datetime.date
    invoiced: Decimal


@dataclass(frozen=True)
class BudgetChange:
    """An approved change order's effect on the budget: ``before`` until ``day``, ``after`` from then on."""

    day: datetime.date
    before: Decimal
    after: Decimal


def _budget_in_force(changes: Sequence[BudgetChange], day: datetime.date, current: Decimal) -> Decimal:
    """The budget on ``day``: the last change decided on or before it, else the one the first change replaced
    (the original), else today's (it never changed)."""
    in_force = changes[0].before if changes else current
    for change in changes:
        if change.day > day:
            break
        in_force = change.after
    return in_force


def _short(text: str) -> str:
    return text if len(text) <= MAX_NAME else text[: MAX_NAME - 1] + "…"


class _Scale:
    """Maps dates to x positions between ``left`` and ``right``."""

    def __init__(self, first: datetime.date, last: datetime.date, left: float, right: float):
        self.first = first
        self.span = max((last - first).days, 1)
        self.left, self.right = left, right

    def x(self, day: datetime.date) -> float:
        return round(self.left + (self.right - self.left) * (day - self.first).days / self.span, 1)


def _date_ticks(scale: _Scale, last: datetime.date, count: int = 5) -> list[datetime.date]:
    step = max(scale.span // count, 1)
    ticks = [scale.first + datetime.timedelta(days=step * i) for i in range(count)]
    return [*ticks, last]


def _axis(scale: _Scale, last: datetime.date, y: float) -> SafeString:
    ticks = _date_ticks(scale, last)
    return format_html_join(
        "",
        '<line class="chart-grid" x1="{0}" y1="{1}" x2="{0}" y2="{2}" stroke="#dee2e6"/>'
        '<text x="{0}" y="{3}" font-size="11" text-anchor="middle" fill="#495057">{4}</text>',
        ((scale.x(day), TOP - 4, y, y + 16, f"{day:%d %b %y}") for day in ticks),
    )


def _today(scale: _Scale, today: datetime.date, bottom: float) -> SafeString:
    if not (scale.first <= today <= scale.first + datetime.timedelta(days=scale.span)):
        return mark_safe("")
    x = scale.x(today)
    return format_html(
        '<line x1="{0}" y1="{1}" x2="{0}" y2="{2}" stroke="#212529" stroke-width="1.5" stroke-dasharray="4 3"/>'
        '<text x="{0}" y="{3}" font-size="11" font-weight="bold" text-anchor="middle" fill="#212529">Today</text>',
        x,
        TOP - 18,
        bottom,
        TOP - 22,
    )


def milestone_timeline_svg(
    rows: Sequence[TimelineRow], *, start: datetime.date, end: datetime.date, today: datetime.date
) -> SafeString:
    """Baseline (open circle) and current due date (filled diamond) of each milestone, joined by a line
    when it slipped; the contract's start and end bound the axis; today is a dashed line."""
    if not rows:
        return mark_safe("")
    first = min([start, today, *(r.baseline for r in rows), *(r.current for r in rows)])
    last = max([end, *(r.baseline for r in rows), *(r.current for r in rows)])
    if today > last:
        last = today
    scale = _Scale(first, last, LABEL_WIDTH, WIDTH - RIGHT)
    height = TOP + ROW_HEIGHT * len(rows) + BOTTOM
    bottom = TOP + ROW_HEIGHT * len(rows)
    marks = []
    for i, row in enumerate(rows):
        y = TOP + ROW_HEIGHT * i + ROW_HEIGHT / 2
        bx, cx = scale.x(row.baseline), scale.x(row.current)
        colour = "#198754" if row.done else ("#b02a37" if row.state_label == "Overdue" else "#0d6efd")
        marks.append(
            format_html(
                '<g><text x="4" y="{y}" font-size="12" dominant-baseline="middle" fill="#212529">{name}</text>'
                '<line x1="{bx}" y1="{y}" x2="{cx}" y2="{y}" stroke="#6c757d" stroke-width="2"/>'
                '<circle cx="{bx}" cy="{y}" r="5" fill="#fff" stroke="#495057" stroke-width="2"/>'
                '<path d="M{cx} {top} L{right} {y} L{cx} {low} L{left} {y} Z" fill="{colour}"/>'
                '<text x="{label_x}" y="{y}" font-size="11" dominant-baseline="middle" fill="#212529" '
                'paint-order="stroke" stroke="#fff" stroke-width="4">{label}</text>'
                "</g>",
                y=y,
                name=_short(row.name),
                bx=bx,
                cx=cx,
                top=y - 7,
                low=y + 7,
                left=cx - 7,
                right=cx + 7,
                colour=colour,
                label_x=min(max(bx, cx) + 10, WIDTH - RIGHT - 60),
                label=row.state_label + (f" · {row.slip_days:+d} d" if row.slip_days else ""),
            )
        )
    summary = "; ".join(
        f"{r.name}: baseline {r.baseline:%d %b %Y}, due {r.current:%d %b %Y}"
        f"{f' ({r.slip_days:+d} days)' if r.slip_days else ''}, {r.state_label.lower()}"
        for r in rows
    )
    return format_html(
        '<svg class="chart" viewBox="0 0 {w} {h}" width="100%" role="img" aria-labelledby="{id}-t {id}-d" '
        'xmlns="http://www.w3.org/2000/svg"><title id="{id}-t">Milestone timeline</title>'
        '<desc id="{id}-d">Open circle: baseline due date; diamond: current due date. Today is {today}. {summary}'
        "</desc>{axis}{today_line}{marks}"
        '<g font-size="11" fill="#212529"><circle cx="10" cy="10" r="4" fill="#fff" stroke="#495057" '
        'stroke-width="2"/><text x="18" y="10" dominant-baseline="middle">baseline</text>'
        '<path d="M80 4 L86 10 L80 16 L74 10 Z" fill="#495057"/>'
        '<text x="92" y="10" dominant-baseline="middle">current due date</text></g></svg>',
        w=WIDTH,
        h=height,
        id="timeline",
        today=f"{today:%d %b %Y}",
        summary=summary,
        axis=_axis(scale, last, bottom),
        marks=mark_safe("".join(marks)),
        today_line=_today(scale, today, bottom),
    )


def burn_svg(
    points: Sequence[BurnPoint],
    *,
    budget: Decimal,
    currency: str,
    start: datetime.date,
    end: datetime.date,
    today: datetime.date,
    budget_changes: Sequence[BudgetChange] | None = (),
) -> SafeString:
    """Invoiced as a share of the budget over time (a solid step line with square marks at each approval)
    against time elapsed (the dashed diagonal: on it, money and time are spent at the same pace); 100 % is
    marked.

    Each past point is divided by the budget in force on its day (``budget_changes``: the approved change
    orders, oldest first), and the line steps where a change order moved the budget. ``None`` says that
    history is not known (a change order without its decision date or budgets): every point is then divided
    by today's budget, and the text equivalent says so."""
    left, height, plot_top = 56, 260, TOP
    plot_bottom = height - BOTTOM
    last = max(end, today)
    scale = _Scale(start, last, left, WIDTH - RIGHT)
    changes = sorted(budget_changes or (), key=lambda c: c.day)

    def pct_of(amount: Decimal, base: Decimal) -> float:
        return float(amount * 100 / base) if base > 0 else 0.0

    # Events in day order: approvals (a square: the invoiced total moved) and change orders (the budget moved).
    events: list[tuple[datetime.date, float, bool]] = []  # (day, burn that day, marked)
    invoiced = Decimal("0")
    timeline = sorted([(p.day, 1, p) for p in points] + [(c.day, 0, c) for c in changes], key=lambda e: e[:2])
    for day, is_point, event in timeline:
        invoiced = event.invoiced if is_point else invoiced
        events.append((day, pct_of(invoiced, _budget_in_force(changes, day, budget)), bool(is_point)))
    top_pct = max([100, *(int(pct) + 10 for _, pct, _ in events)]) if budget > 0 else 100
    top_pct = min(-(-top_pct // 25) * 25, 400)  # up to the next gridline, so the top is labelled

    def y(pct: float) -> float:
        return round(plot_bottom - (plot_bottom - plot_top) * min(pct, top_pct) / top_pct, 1)

    steps = [f"M{scale.x(start)} {y(0)}"]
    previous = 0.0
    for day, pct, _ in events:
        x = scale.x(max(day, start))
        steps.append(f"L{x} {y(previous)} L{x} {y(pct)}")
        previous = pct
    steps.append(f"L{scale.x(min(today, last))} {y(previous)}")
    squares = format_html_join(
        "",
        '<rect x="{}" y="{}" width="7" height="7" fill="#0d6efd"/>',
        ((scale.x(max(day, start)) - 3.5, y(pct) - 3.5) for day, pct, marked in events if marked),
    )
    if budget_changes is None:
        basis = " Every point is shown as a share of today's budget (when earlier change orders moved it is not known)."
    elif changes:
        moved = len(changes)
        basis = (
            f" Each point is a share of the budget in force that day; {moved} approved change"
            f" order{'s' if moved > 1 else ''} moved it (the line steps there)."
        )
    else:
        basis = ""
    gridlines = format_html_join(
        "",
        '<line x1="{0}" y1="{1}" x2="{2}" y2="{1}" stroke="{3}" stroke-width="{4}"/>'
        '<text x="{5}" y="{1}" font-size="11" text-anchor="end" dominant-baseline="middle" fill="#495057">{6} %</text>',
        (
            (
                left,
                y(pct),
                WIDTH - RIGHT,
                "#212529" if pct == 100 else "#dee2e6",
                1.5 if pct == 100 else 1,
                left - 6,
                pct,
            )
            for pct in range(0, top_pct + 1, 25 if top_pct <= 150 else 50)
        ),
    )
    elapsed_end = scale.x(end)
    burn_now = previous
    span = max((end - start).days, 1)
    elapsed_now = max(0.0, min(100.0, (today - start).days * 100 / span))
    return format_html(
        '<svg class="chart" viewBox="0 0 {w} {h}" width="100%" role="img" aria-labelledby="{id}-t {id}-d" '
        'xmlns="http://www.w3.org/2000/svg"><title id="{id}-t">Budget burn against time elapsed</title>'
        '<desc id="{id}-d">{burn} % of the budget of {budget} {currency} invoiced with {elapsed} % of the '
        "contract's time elapsed. Solid line with squares: invoiced; dashed diagonal: time elapsed.{basis}</desc>"
        "{grid}{axis}"
        '<line x1="{x0}" y1="{y0}" x2="{x1}" y2="{y1}" stroke="#6c757d" stroke-width="1.5" stroke-dasharray="6 4"/>'
        '<path d="{steps}" fill="none" stroke="#0d6efd" stroke-width="2.5"/>{squares}{today_line}</svg>',
        w=WIDTH,
        h=height,
        id="burn",
        burn=f"{burn_now:.0f}",
        budget=f"{budget:,.2f}",
        currency=currency,
        elapsed=f"{elapsed_now:.0f}",
        basis=basis,
        grid=gridlines,
        axis=_axis(scale, last, plot_bottom),
        x0=scale.x(start),
        y0=y(0),
        x1=elapsed_end,
        y1=y(100),
        steps=" ".join(steps),
        squares=squares,
        today_line=_today(scale, today, plot_bottom),
    )
