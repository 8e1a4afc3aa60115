"""The vendor comparison as XLSX (openpyxl) and CSV: the same rows as the page, built by ``vendor_comparison``.

One header row (section, aspect, one column per vendor, "Differs"), then a row per aspect in the page's
order. A row whose vendors differ says so in words in the last column (and, in the XLSX, on a yellow fill:
never colour alone). Prices stay text per currency, as on the page: nothing is converted or summed. Only
what the user may see is in the file: the comparison leaves out the qualification section for anyone who
is not a sponsor's person. Cells that a spreadsheet would run as a formula are written as text.
"""

from __future__ import annotations

import csv
import io

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from vendors.catalogue import FORMULA_PREFIXES
from vendors.compare import Comparison, Row

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BOLD = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="E9ECEF")
DIFFERS_FILL = PatternFill("solid", fgColor="FFF3CD")
WRAP = Alignment(wrap_text=True, vertical="top")
DIFFERS = "differs"


def _header(comparison: Comparison) -> list[str]:
    return ["Section", "Aspect", *[v.name for v in comparison.vendors], "Differs"]


def _rows(comparison: Comparison, separator: str):
    for section in comparison.sections:
        for row in section.rows:
            cells = [Row.cell_text(cell, separator) for cell in row.cells]
            yield row, [section.title, row.label, *cells, DIFFERS if row.differs else ""]


def _safe(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def comparison_csv(comparison: Comparison) -> str:
    """The comparison as CSV text (UTF-8 with a BOM added by the view for spreadsheets), a header row first."""
    output = io.StringIO()
    writer = csv.writer(output, lineterminator="\r\n")
    writer.writerow([_safe(value) for value in _header(comparison)])
    for _, values in _rows(comparison, "; "):
        writer.writerow([_safe(value) for value in values])
    return output.getvalue()


def comparison_xlsx(comparison: Comparison) -> bytes:
    """The comparison as an XLSX workbook: sheet "Comparison", header frozen, differing rows filled and marked."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Comparison"
    sheet.append(["Vendor comparison", f"exported {timezone.localtime():%d %b %Y %H:%M}"])
    sheet["A1"].font = BOLD
    header_row = 2
    for index, value in enumerate(_header(comparison), start=1):
        cell = sheet.cell(row=header_row, column=index, value=value)
        cell.data_type = "s"  # a vendor named "=…" stays text
        cell.font, cell.fill, cell.alignment = BOLD, HEADER_FILL, WRAP
    for offset, (row, values) in enumerate(_rows(comparison, "\n"), start=header_row + 1):
        for index, value in enumerate(values, start=1):
            cell = sheet.cell(row=offset, column=index, value=value)
            cell.data_type = "s"
            cell.alignment = WRAP
            if index <= 2:
                cell.font = BOLD
            if row.differs:
                cell.fill = DIFFERS_FILL
    sheet.freeze_panes = sheet.cell(row=header_row + 1, column=3)
    widths = [18, 30, *[36] * len(comparison.vendors), 10]
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()
