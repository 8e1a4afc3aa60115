"""The contract page's SVG charts: a text equivalent, marks readable without colour, escaped names."""

import datetime as dt
import html
import re
from decimal import Decimal

from contracts.charts import BudgetChange, BurnPoint, TimelineRow, burn_svg, milestone_timeline_svg

START, END, TODAY = dt.date(2026, 1, 1), dt.date(2027, 1, 1), dt.date(2026, 7, 2)


def test_the_timeline_describes_every_milestone_in_words_and_marks_today():
    rows = [
        TimelineRow("Engineering batch", dt.date(2026, 3, 1), dt.date(2026, 3, 11), "Accepted", done=True),
        TimelineRow("Validation <b>batches</b>", dt.date(2026, 6, 1), dt.date(2026, 6, 1), "Overdue"),
    ]
    svg = str(milestone_timeline_svg(rows, start=START, end=END, today=TODAY))
    desc = re.search(r"<desc[^>]*>(.*?)</desc>", svg, re.S).group(1)
    assert "Engineering batch: baseline 01 Mar 2026, due 11 Mar 2026 (+10 days), accepted" in desc
    assert "due 01 Jun 2026, overdue" in desc and "Today is 02 Jul 2026" in desc
    # States are written beside the marks (not colour alone), the slip too; today is a labelled line.
    assert "Accepted · +10 d" in svg and ">Overdue<" in svg and ">Today<" in svg
    assert "<b>" not in svg and "Validation &lt;b&gt;batches&lt;/b&gt;" in svg
    assert svg.count("<circle") == 3 and svg.count("<path") == 3  # per row + the legend's pair


def test_the_timeline_leaves_today_out_when_it_is_off_the_axis_and_draws_nothing_without_milestones():
    rows = [TimelineRow("Batch", dt.date(2026, 3, 1), dt.date(2026, 3, 1), "Planned")]
    before = str(milestone_timeline_svg(rows, start=START, end=END, today=dt.date(2025, 6, 1)))
    assert ">Today<" in before  # an early today stretches the axis rather than vanish
    assert str(milestone_timeline_svg([], start=START, end=END, today=TODAY)) == ""


def test_the_burn_chart_says_burn_and_time_elapsed_in_words():
    points = [BurnPoint(dt.date(2026, 2, 1), Decimal("100000")), BurnPoint(dt.date(2026, 5, 1), Decimal("425000"))]
    svg = str(burn_svg(points, budget=Decimal("500000"), currency="EUR", start=START, end=END, today=TODAY))
    assert "85 % of the budget of 500,000.00 EUR invoiced with 50 % of the contract's time elapsed" in svg
    assert svg.count("<rect x=") == 2 and ">100 %<" in svg and 'stroke-dasharray="6 4"' in svg


def test_the_burn_chart_copes_with_no_budget_no_invoices_and_over_budget():
    empty = str(burn_svg([], budget=Decimal("0"), currency="USD", start=START, end=END, today=TODAY))
    assert "0 % of the budget of 0.00 USD" in empty
    over = str(
        burn_svg(
            [BurnPoint(START, Decimal("1050"))],
            budget=Decimal("1000"),
            currency="CHF",
            start=START,
            end=END,
            today=TODAY,
        )
    )
    assert "105 % of the budget" in over and ">100 %<" in over and ">125 %<" in over


def _squares_y(svg: str) -> list[float]:
    return [float(y) + 3.5 for y in re.findall(r'<rect x="[^"]+" y="([^"]+)"', svg)]


def test_the_burn_chart_divides_each_past_point_by_the_budget_then_in_force():
    """Half of 1 000 invoiced in February; a change order doubles the budget in March; half of 2 000 invoiced
    by April: both squares sit at 50 %, the line steps down to 25 % at the change order, and the text says
    which budget each point is a share of. Dividing by today's budget would have drawn February at 25 %."""
    points = [BurnPoint(dt.date(2026, 2, 1), Decimal("500")), BurnPoint(dt.date(2026, 4, 1), Decimal("1000"))]
    changes = [BudgetChange(dt.date(2026, 3, 1), Decimal("1000"), Decimal("2000"))]
    kwargs = {"budget": Decimal("2000"), "currency": "EUR", "start": START, "end": END, "today": TODAY}
    svg = html.unescape(str(burn_svg(points, budget_changes=changes, **kwargs)))
    plain = html.unescape(str(burn_svg(points, **kwargs)))  # no change order: today's budget is the only one there was
    fifty, twenty_five = _squares_y(plain)[1], _squares_y(plain)[0]
    assert _squares_y(svg) == [fifty, fifty]
    step = re.search(r'<path d="([^"]+)" fill="none"', svg).group(1)
    assert f" {twenty_five} " in step + " "  # down to 25 % on the day of the change order
    assert "50 % of the budget of 2,000.00 EUR invoiced" in svg
    assert "a share of the budget in force that day; 1 approved change order moved it" in svg
    assert "budget in force" not in plain and "today's budget" not in plain


def test_the_burn_chart_says_when_it_divides_by_todays_budget():
    """A change order whose decision date or budgets are unknown: every point against today's budget,
    and the text equivalent says so."""
    points = [BurnPoint(dt.date(2026, 2, 1), Decimal("500"))]
    svg = html.unescape(str(burn_svg(points, budget=Decimal("2000"), currency="EUR", start=START, end=END,
                                     today=TODAY, budget_changes=None)))  # fmt: skip
    assert "Every point is shown as a share of today's budget" in svg
    assert "25 % of the budget of 2,000.00 EUR" in svg
