"""The comparison as an XLSX workbook (openpyxl): what the page shows, for people who work in spreadsheets.

Sheet "Comparison": a header row (aspect, then one column per proposal) and a row per aspect, in the
page's order. Money cells are numbers with their own currency in the number format (``#,##0.00 "EUR"``),
never summed across currencies. A best value is bold on a green fill *and* says so in words (the number
format adds "best price", "highest score" …), so it survives printing in black and white.
Sheet "Scores": every scorer's sheet, one row per score.

The budget ceiling's amount is not in the file (a file travels further than a page); the "Over
ceiling" marks are.
"""

from __future__ import annotations

import datetime
import io

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from contracts.comparison import Comparison, ProposalColumn

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BOLD = Font(bold=True)
BEST_FILL = PatternFill("solid", fgColor="D1E7DD")
HEADER_FILL = PatternFill("solid", fgColor="E9ECEF")
WRAP = Alignment(wrap_text=True, vertical="top")


def _money_format(currency: str, marker: str = "") -> str:
    suffix = f" {currency}" + (f" · {marker}" if marker else "")
    return f'#,##0.00"{suffix}"'


def _score_format(marker: str = "") -> str:
    return f'0.00" · {marker}"' if marker else "0.00"


def _local(moment: datetime.datetime | None):
    return timezone.localtime(moment).replace(tzinfo=None, microsecond=0) if moment else None


def _milestones(column: ProposalColumn) -> str:
    lines = []
    for m in column.milestones:
        due = f"due {m.due_date:%d %b %Y}" if m.due_date else f"{m.due_offset_days} days after the start"
        lines.append(f"{m.name}: {m.amount:,.2f} {column.currency}, {due}")
    return "\n".join(lines) or "—"


def _certificates(column: ProposalColumn) -> str:
    lines = []
    for c in column.certificates:
        until = f", until {c.expires_on:%d %b %Y}" if c.expires_on else ""
        lines.append(f"{c.type_label} ({c.authority_label}): {c.status_label}{until}")
    return "\n".join(lines) or "None recorded"


def _contracts(column: ProposalColumn) -> str:
    return ", ".join(f"{c.count} {c.label.lower()}" for c in column.contracts) or "None"


class _Sheet:
    """Writes rows of (label, [cell per proposal]) where a cell is (value, number_format, best)."""

    def __init__(self, sheet, columns: int):
        self.sheet, self.row, self.columns = sheet, 1, columns

    def put(self, label: str, cells: list[tuple]) -> None:
        head = self.sheet.cell(row=self.row, column=1, value=label)
        head.font, head.alignment = BOLD, WRAP
        for index, (value, number_format, best) in enumerate(cells, start=2):
            cell = self.sheet.cell(row=self.row, column=index, value=value)
            cell.alignment = WRAP
            if number_format:
                cell.number_format = number_format
            if best:
                cell.font, cell.fill = BOLD, BEST_FILL
        self.row += 1


def _comparison_sheet(sheet, comparison: Comparison) -> None:
    columns = comparison.proposals
    rows = _Sheet(sheet, len(columns))
    header = ["Aspect", *[c.vendor_name for c in columns]]
    for index, value in enumerate(header, start=1):
        cell = sheet.cell(row=1, column=index, value=value)
        cell.font, cell.fill, cell.alignment = BOLD, HEADER_FILL, WRAP
    rows.row = 2
    rows.put("State", [(c.state_label, None, False) for c in columns])
    rows.put(
        "Total price",
        [
            (c.total_price, _money_format(c.currency, "best price" if c.best_price else ""), c.best_price)
            for c in columns
        ],
    )
    rows.put("Budget ceiling check", [(c.ceiling_label or "No ceiling set", None, False) for c in columns])
    rows.put("Fees (line items)", [(c.fees_total, _money_format(c.currency), False) for c in columns])
    rows.put("Pass-through costs", [(c.pass_through_total, _money_format(c.currency), False) for c in columns])
    rows.put("Timeline", [(c.timeline or "—", None, False) for c in columns])
    rows.put(
        "Finish (last milestone)",
        [
            (c.finish_date, 'dd mmm yyyy" · earliest finish"' if c.best_finish else "dd mmm yyyy", c.best_finish)
            for c in columns
        ],
    )
    rows.put("Submitted", [(_local(c.submitted_at), "dd mmm yyyy hh:mm", False) for c in columns])
    rows.put("Milestones", [(_milestones(c), None, False) for c in columns])
    for index, criterion in enumerate(comparison.criteria):
        cells = []
        for c in columns:
            score = c.scores[index]
            if score.average is None:
                cells.append(("Not scored", None, False))
            else:
                scorers = f"{score.count} scorer{'s' if score.count != 1 else ''}"
                marker = f"{scorers} · highest" if score.best else scorers
                cells.append((score.average, _score_format(marker), score.best))
        rows.put(f"{criterion.name} (weight {criterion.weight}), average", cells)
    cells = []
    for c in columns:
        if c.weighted_total is None:
            cells.append(
                (f"Not every criterion scored ({c.scored_criteria} of {len(comparison.criteria)})", None, False)
            )
        else:
            cells.append((c.weighted_total, _score_format("highest" if c.best_total else ""), c.best_total))
    rows.put("Weighted total (0–10)", cells)
    rows.put("Certificates", [(_certificates(c), None, False) for c in columns])
    rows.put("Our qualification", [(c.qualification_label, None, False) for c in columns])
    rows.put("Contracts with us", [(_contracts(c), None, False) for c in columns])
    rows.put("RFPs awarded to it before", [(c.past_awards, "0", False) for c in columns])

    notes = [f"RFP: {comparison.rfp.title}", f"Exported {_local(timezone.now()):%d %b %Y %H:%M}."]
    if comparison.mixed_currencies:
        notes.append(
            f"Prices are in different currencies ({', '.join(comparison.currencies)}): they are not added up "
            "or compared across currencies."
        )
    notes.append("Best values are bold on green and named in the cell. The budget ceiling amount is not in this file.")
    rows.row += 1
    for note in notes:
        sheet.cell(row=rows.row, column=1, value=note)
        rows.row += 1
    sheet.column_dimensions["A"].width = 30
    for index in range(2, len(columns) + 2):
        sheet.column_dimensions[get_column_letter(index)].width = 32
    sheet.freeze_panes = "B2"


def _scores_sheet(sheet, comparison: Comparison) -> None:
    header = ["Scorer", "Vendor", "Criterion", "Weight", "Score", "Comment", "Last changed"]
    sheet.append(header)
    for cell in sheet[1]:
        cell.font, cell.fill = BOLD, HEADER_FILL
    for e in comparison.score_entries:
        sheet.append([e.scorer, e.vendor_name, e.criterion, e.weight, e.score, e.comment, _local(e.updated)])
        sheet.cell(row=sheet.max_row, column=5).number_format = "0.0"
        sheet.cell(row=sheet.max_row, column=7).number_format = "dd mmm yyyy hh:mm"
    for letter, width in zip("ABCDEFG", (24, 28, 24, 8, 8, 48, 18), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"


def comparison_xlsx(comparison: Comparison) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Comparison"
    if comparison.sealed_until is not None:
        until = _local(comparison.sealed_until)
        sheet["A1"] = f"Sealed until {until:%d %b %Y %H:%M}: the proposals open when the RFP closes."
    else:
        _comparison_sheet(sheet, comparison)
    _scores_sheet(workbook.create_sheet("Scores"), comparison)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
