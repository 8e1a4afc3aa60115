"""Vendor self-service bulk update of the service catalogue from a CSV or XLSX file.

Three steps, all through the same validation path:

1. ``catalogue_parse`` reads the uploaded file (CSV, UTF-8 with or without BOM, ``,`` ``;`` or tab
   delimited, or the first sheet of an XLSX workbook) into spreadsheet rows, then
   ``catalogue_validate`` checks every row fully *without writing*: it builds the vendor's offering of
   the row's category (existing → "update", else "create"), calls ``full_clean()`` and
   ``clean_m2m()`` and collects every error with its row number (header = row 1) and column.
2. The view stores the cleaned rows of a valid preview as JSON in the session (``session_data``).
3. ``catalogue_apply`` re-validates those rows inside one transaction and saves each through
   ``vendor_record_save``; any error rolls everything back.

This module knows nothing of HTTP: the views ``catalogue_import`` (upload → preview → apply) and
``catalogue_export`` (the current catalogue as a CSV, which is also the import template) are in
``vendors.views`` and call the functions here.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import transaction
from django.db.models.functions import Lower

from vendors.models import Capability, ServiceCategory, ServiceOffering, Site, Vendor
from vendors.services import vendor_record_save

COLUMNS = (
    "category",
    "capabilities",
    "description",
    "lead_time_weeks",
    "price_min",
    "price_max",
    "currency",
    "sites",
    "active",
)
COLUMN_HELP = [
    ("category", "Required. The service category code, e.g. clinical-trials or finished-dosage-forms."),
    ("capabilities", "Capability names or codes of that category, separated by semicolons."),
    ("description", "Free text."),
    ("lead_time_weeks", "Typical lead time in whole weeks, or blank."),
    ("price_min", "Indicative price from, e.g. 125000.00, or blank."),
    ("price_max", "Indicative price to, or blank."),
    ("currency", "ISO 4217 code such as EUR or USD; required when a price is given."),
    ("sites", "Names of your own sites that deliver it, separated by semicolons, or blank."),
    ("active", "yes / no (also true/false, 1/0); blank means yes."),
]
# The work a file may cause is bounded before and while it is parsed, never after: by bytes, by
# rows (blank lines included), by columns and, for an XLSX (a zip), by its unpacked size.
MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 500
MAX_COLUMNS = 30
MAX_LINES = 2 * MAX_ROWS + 1  # physical lines or sheet rows, blank ones included
MAX_HEADER_CHARS = 4096
MAX_UNPACKED_BYTES = 20 * 1024 * 1024
MAX_ZIP_MEMBERS = 200
LIMITS = f"CSV or XLSX, at most {MAX_BYTES // 1024 // 1024} MB, {MAX_ROWS} rows and {MAX_COLUMNS} columns"
TOO_MANY_ROWS = f"The file has more than {MAX_ROWS} rows; split it into several files."
# Prices have 16 digits, 2 of them decimals (cro_cmo.money); a longer text is never a valid price, and
# checking the text first keeps Decimal and int() away from 5 000-digit numbers and exponents like 1e400.
PRICE_PATTERN = re.compile(r"[+-]?(?P<whole>[0-9]*)(?:\.(?P<fraction>[0-9]*))?")
PRICE_INTEGER_DIGITS = 14
MAX_NUMBER_CHARS = 30
LEAD_TIME_PATTERN = re.compile(r"[0-9]{1,4}")
EXTENSIONS = (".csv", ".xlsx")
REASON = "Catalogue import"
LIST_SEPARATOR = ";"
# Cells that a spreadsheet would evaluate as a formula; the export prefixes them with an apostrophe
# (CSV injection) and the import removes that apostrophe again, so a round trip is lossless.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
TRUE_WORDS = {"yes", "y", "true", "1"}
FALSE_WORDS = {"no", "n", "false", "0"}
FIELD_COLUMNS = {"is_active": "active", "vendor": "", NON_FIELD_ERRORS: ""}
DECIMAL_COMMA = re.compile(r"^\d+,\d{1,2}$")
CENT = Decimal("0.01")


class CatalogueFileError(Exception):
    """The file as a whole cannot be read: wrong type, too large, not UTF-8, no header…"""


class RowError(NamedTuple):
    """One problem in one row; ``column`` is blank for a problem of the row as a whole."""

    column: str
    message: str


@dataclass
class CatalogueRow:
    """One data row of the file: its values as given, the cleaned values and the offering they make."""

    number: int
    values: dict[str, str]
    errors: list[RowError] = field(default_factory=list)
    cleaned: dict[str, str] = field(default_factory=dict)
    action: str = ""
    category: ServiceCategory | None = None
    capabilities: list[Capability] = field(default_factory=list)
    sites: list[Site] = field(default_factory=list)
    instance: ServiceOffering | None = None
    m2m: dict[str, list] = field(default_factory=dict)
    changes: list[str] = field(default_factory=list)
    # (column, old text, new text) per cell that changes: every given value of a new offering ("" before).
    diffs: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def is_valid(self) -> bool:
        return not self.errors

    @property
    def status(self) -> str:
        """ "error", "new", "changed" or "unchanged": what applying the row would do."""
        if self.errors:
            return "error"
        if self.action == "create":
            return "new"
        return "changed" if self.changes else "unchanged"

    @property
    def writes(self) -> bool:
        return self.status in ("new", "changed")

    def add_error(self, column: str, message: str) -> None:
        error = RowError(column, message)
        if error not in self.errors:
            self.errors.append(error)

    @property
    def category_label(self) -> str:
        return self.category.name if self.category else self.values.get("category", "")

    @property
    def capability_labels(self) -> list[str]:
        if self.capabilities or "capabilities" not in self.values:
            return [c.name for c in self.capabilities]
        return _split_list(self.values["capabilities"])

    @property
    def lead_time(self) -> str:
        if self.is_valid and self.instance is not None:
            value = self.instance.lead_time_weeks
            return "" if value is None else f"{value} wk"
        return self.values.get("lead_time_weeks", "")

    @property
    def price(self) -> str:
        if self.is_valid and self.instance is not None:
            low, high, currency = self.instance.price_min, self.instance.price_max, self.instance.currency
        else:
            low, high = self.values.get("price_min", ""), self.values.get("price_max", "")
            currency = self.values.get("currency", "")
        amounts = [f"{a:,.2f}" if isinstance(a, Decimal) else a for a in (low, high) if a not in (None, "")]
        return f"{'–'.join(amounts)} {currency}".strip() if amounts else ""


@dataclass
class CataloguePreview:
    """The outcome of reading and validating a catalogue file; nothing has been written yet."""

    vendor_id: int
    columns: list[str] = field(default_factory=list)
    rows: list[CatalogueRow] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    filename: str = ""

    @property
    def is_valid(self) -> bool:
        return not self.errors and bool(self.rows) and all(row.is_valid for row in self.rows)

    @property
    def invalid_rows(self) -> list[CatalogueRow]:
        return [row for row in self.rows if not row.is_valid]

    @property
    def created(self) -> int:
        return sum(1 for row in self.rows if row.action == "create")

    @property
    def updated(self) -> int:
        return sum(1 for row in self.rows if row.action == "update")

    @property
    def counts(self) -> dict[str, int]:
        """Rows by what applying them does: new, changed, unchanged (left alone) and with errors."""
        counts = {"new": 0, "changed": 0, "unchanged": 0, "error": 0}
        for row in self.rows:
            counts[row.status] += 1
        return counts

    @property
    def to_apply(self) -> int:
        """Rows that would write something: new offerings and changed ones."""
        return sum(1 for row in self.rows if row.writes)

    def error_messages(self) -> list[str]:
        """Every problem as one readable line, file-level problems first."""
        lines = list(self.errors)
        for row in self.rows:
            for error in row.errors:
                where = f"row {row.number}, {error.column}" if error.column else f"row {row.number}"
                lines.append(f"{where.capitalize()}: {error.message}")
        return lines

    def session_data(self) -> dict[str, Any]:
        """The cleaned rows as JSON-safe data, to apply later without re-uploading the file."""
        return {
            "vendor_id": self.vendor_id,
            "filename": self.filename,
            "columns": list(self.columns),
            "rows": [{"number": row.number, "values": row.cleaned} for row in self.rows],
        }


# --- reading the file ------------------------------------------------------------------------------


def _normalise_header(value: str) -> str:
    return re.sub(r"[\s\-]+", "_", value.strip().lower())


def _cell_text(value: Any) -> str:
    """A cell (CSV text or XLSX value) as stripped text; XLSX numbers lose a spurious ``.0``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, float) and value.is_integer():
        text = str(int(value))
    elif hasattr(value, "isoformat"):
        text = value.isoformat()
    else:
        text = str(value)
    text = text.strip()
    if len(text) > 1 and text[0] == "'" and text[1] in FORMULA_PREFIXES:
        text = text[1:]
    return text


def _guess_delimiter(first_line: str) -> str:
    """The most frequent of ``,`` ``;`` and tab in the header line (comma when none): one linear pass.

    ``csv.Sniffer`` was quadratic on crafted input (a header of ``,"`` repeated took seconds per 32 KB),
    and the header is the one line whose delimiters are known to be delimiters: column names hold none.
    """
    head = first_line[:MAX_HEADER_CHARS]
    counts = {delimiter: head.count(delimiter) for delimiter in (",", ";", "\t")}
    return max(counts, key=counts.get) if any(counts.values()) else ","


class _RowCounter:
    """Stops reading a file at the limits, before the rows are kept: data rows, lines, columns."""

    def __init__(self):
        self.lines = 0
        self.filled = 0

    def take(self, cells: list[str]) -> list[str]:
        self.lines += 1
        while cells and not cells[-1]:
            cells.pop()  # spreadsheets pad rows with empty cells up to their widest row
        if cells:
            self.filled += 1
        if self.filled > MAX_ROWS + 1:  # + the header
            raise CatalogueFileError(TOO_MANY_ROWS)
        if self.lines > MAX_LINES:
            raise CatalogueFileError(
                f"The file runs past line {MAX_LINES:,} (empty lines count too); a catalogue file may have at most "
                f"{MAX_ROWS} rows. Delete the empty rows below your data, or copy the data to a new file."
            )
        if len(cells) > MAX_COLUMNS:
            raise CatalogueFileError(
                f"Row {self.lines} has values in {len(cells)} columns; a catalogue file may have at most "
                f"{MAX_COLUMNS} columns (it needs {len(COLUMNS)})."
            )
        return cells


def _read_csv(data: bytes) -> list[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CatalogueFileError(
            "The file is not UTF-8 text. In Excel save it as “CSV UTF-8 (comma delimited)”, or upload the .xlsx workbook."
        ) from None
    if "\x00" in text:
        raise CatalogueFileError("The file is not a text CSV file. Upload a .csv or .xlsx file.")
    first_line = text.split("\n", 1)[0].strip()
    hint = re.fullmatch(r"sep=(.)", first_line, flags=re.IGNORECASE)
    if hint:  # Excel's "sep=;" line names the delimiter and is not a row of the sheet
        delimiter = hint.group(1)
        text = text.split("\n", 1)[1] if "\n" in text else ""
    else:
        delimiter = _guess_delimiter(first_line)
    counter = _RowCounter()
    try:
        # csv.reader is lazy: the counter stops a file of a million empty lines after MAX_LINES of them.
        return [
            counter.take([_cell_text(cell) for cell in record])
            for record in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        ]
    except csv.Error as exc:
        raise CatalogueFileError(f"The CSV file cannot be read: {exc}.") from None


def _check_zip(data: bytes) -> None:
    """Refuse a workbook whose parts unpack to more than MAX_UNPACKED_BYTES (a zip bomb) before opening it.

    The sizes come from the zip's directory; ``zipfile`` never reads a member past its declared size,
    so a member that lies about its size is cut off (and then fails to parse) rather than growing.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise CatalogueFileError("The file is not a valid Excel workbook (.xlsx).") from None
    if len(members) > MAX_ZIP_MEMBERS or sum(member.file_size for member in members) > MAX_UNPACKED_BYTES:
        raise CatalogueFileError(
            f"The workbook unpacks to more than {MAX_UNPACKED_BYTES // 1024 // 1024} MB; a catalogue of "
            f"{MAX_ROWS} rows never needs that much. Save only the catalogue sheet in a new workbook."
        )


def _read_xlsx(data: bytes) -> list[list[str]]:
    import openpyxl

    _check_zip(data)
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # a corrupt or foreign file can fail in zipfile, XML or openpyxl in many ways
        raise CatalogueFileError("The file is not a valid Excel workbook (.xlsx).") from None
    try:
        if not workbook.worksheets:
            raise CatalogueFileError("The workbook has no worksheet.")
        sheet = workbook.worksheets[0]
        # The declared used range (<dimension ref="A1:C3000000">) is read without reading any row: refuse
        # a sheet that claims to be huge at once. It may be absent or lie, so the row loop is bounded too.
        if (sheet.max_row or 0) > MAX_LINES:
            raise CatalogueFileError(
                f"The first sheet’s used range runs to row {sheet.max_row:,}; a catalogue file may have at most "
                f"{MAX_ROWS} rows. Delete the rows below your data, or copy the data to a new workbook."
            )
        if (sheet.max_column or 0) > MAX_COLUMNS:
            raise CatalogueFileError(
                f"The first sheet’s used range is {sheet.max_column:,} columns wide; a catalogue file may have at "
                f"most {MAX_COLUMNS} columns. Delete the columns right of your data."
            )
        counter = _RowCounter()
        # Read-only mode yields an empty row for every row missing in the file (one cell at A3000000 means
        # three million rows): max_row stops the generator itself, the counter reports why.
        rows = sheet.iter_rows(max_row=MAX_LINES + 1, max_col=MAX_COLUMNS + 1, values_only=True)
        return [counter.take([_cell_text(value) for value in values]) for values in rows]
    except CatalogueFileError:
        raise
    except Exception:
        raise CatalogueFileError("The workbook cannot be read. Save it again as .xlsx and retry.") from None
    finally:
        workbook.close()


def _read_file(uploaded_file) -> list[list[str]]:
    """The file's rows as lists of stripped text; raises ``CatalogueFileError`` for an unusable file."""
    name = getattr(uploaded_file, "name", "") or ""
    extension = ("." + name.rsplit(".", 1)[-1].lower()) if "." in name else ""
    if extension not in EXTENSIONS:
        hint = " Save the Excel file as .xlsx." if extension in (".xls", ".xlsm", ".ods") else ""
        raise CatalogueFileError(
            f"“{name or 'The file'}” is not a CSV or XLSX file. Upload a .csv or .xlsx file.{hint}"
        )
    size = uploaded_file.size or 0
    if size > MAX_BYTES:
        raise CatalogueFileError(f"The file is {size / 1024 / 1024:.1f} MB; a catalogue file may be at most 2 MB.")
    if size == 0:
        raise CatalogueFileError("The file is empty.")
    uploaded_file.seek(0)
    data = uploaded_file.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise CatalogueFileError("The file is larger than 2 MB; a catalogue file may be at most 2 MB.")
    if data.startswith(b"%PDF-"):
        raise CatalogueFileError("The file is a PDF document. Upload a .csv or .xlsx file.")
    if data.startswith(b"PK\x03\x04"):
        return _read_xlsx(data)
    if extension == ".xlsx":
        raise CatalogueFileError("The file is not a valid Excel workbook (.xlsx).")
    return _read_csv(data)


def _records(table: list[list[str]]) -> tuple[list[str], list[tuple[int, dict[str, str]]], list[RowError | None]]:
    """Split the header from the data rows; returns the columns, the non-blank rows and row-level problems."""
    while table and not any(table[-1]):
        table.pop()
    if not table or not any(table[0]):
        raise CatalogueFileError("The file is empty. The first row must be the header: " + ", ".join(COLUMNS) + ".")
    header = [_normalise_header(cell) for cell in table[0]]
    named = [name for name in header if name]
    unknown = [name for name in named if name not in COLUMNS]
    if unknown:
        raise CatalogueFileError(
            f"Unknown column{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}. "
            f"The columns are: {', '.join(COLUMNS)}."
        )
    duplicated = sorted({name for name in named if named.count(name) > 1})
    if duplicated:
        raise CatalogueFileError(f"Column{'s' if len(duplicated) > 1 else ''} given twice: {', '.join(duplicated)}.")
    if "category" not in named:
        raise CatalogueFileError("The header row has no “category” column: it says which offering a row is.")
    records, problems = [], []
    for number, cells in enumerate(table[1:], start=2):
        if not any(cells):
            continue
        if len(records) >= MAX_ROWS:
            raise CatalogueFileError(TOO_MANY_ROWS)
        values = {name: "" for name in named}
        problem = None
        for index, cell in enumerate(cells):
            if not cell:
                continue
            if index < len(header) and header[index]:
                values[header[index]] = cell
            else:
                problem = RowError("", f"A value in column {index + 1} has no header: “{cell[:40]}”.")
        records.append((number, values))
        problems.append(problem)
    if not records:
        raise CatalogueFileError("The file has a header but no data rows.")
    return named, records, problems


# --- validating rows -------------------------------------------------------------------------------


def _split_list(text: str) -> list[str]:
    items = [item.strip() for item in text.split(LIST_SEPARATOR)]
    return list(dict.fromkeys(item for item in items if item))


def _shorten(text: str, limit: int = 24) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _parse_decimal(text: str) -> Decimal:
    """A price as written in the file; raises ValueError with a message for the row.

    The text is checked before Decimal sees it: no exponents (``1e400`` made ``quantize`` raise), no
    digits beyond what the column can hold (a 5 000-digit number), ASCII digits only.
    """
    if DECIMAL_COMMA.match(text):
        text = text.replace(",", ".")
    match = PRICE_PATTERN.fullmatch(text)
    if match is None or not (match["whole"] or match["fraction"]):
        raise ValueError(f"“{_shorten(text)}” is not a number; write it like 125000.00 (no thousands separators).")
    if len(match["whole"].lstrip("0")) > PRICE_INTEGER_DIGITS:
        raise ValueError(
            f"“{_shorten(text)}” is too large: at most {PRICE_INTEGER_DIGITS} digits before the decimal point."
        )
    if len(text) > MAX_NUMBER_CHARS:
        raise ValueError(f"“{_shorten(text)}” has too many digits; write it like 125000.00.")
    value = Decimal(text)
    # 100 and 100.00 are the same price: quantise so that history shows no spurious change.
    return value.quantize(CENT) if value == value.quantize(CENT) else value


class _Lookups:
    """Reference data read once per validation: categories, capabilities, the vendor's sites and offerings."""

    def __init__(self, vendor: Vendor, records: list[tuple[int, dict[str, str]]]):
        self.categories = {}
        all_categories = list(ServiceCategory.objects.all())
        for category in all_categories:
            self.categories.setdefault(category.code.lower(), category)
        for category in all_categories:
            self.categories.setdefault(category.name.lower(), category)
        self.codes = [c.code for c in all_categories]
        self.capabilities = list(Capability.objects.select_related("category"))
        self.sites = {site.name.lower(): site for site in Site.objects.filter(vendor=vendor)}
        wanted = {name.lower() for _, values in records for name in _split_list(values.get("sites", ""))}
        self.foreign_sites = {}
        if wanted - set(self.sites):
            others = Site.objects.exclude(vendor=vendor).annotate(lname=Lower("name"))
            for site in others.filter(lname__in=wanted - set(self.sites)).select_related("vendor"):
                self.foreign_sites.setdefault(site.lname, site)
        offerings = ServiceOffering.objects.filter(vendor=vendor).prefetch_related("capabilities", "sites")
        self.offerings = {o.category_id: o for o in offerings}

    def category(self, text: str) -> ServiceCategory | None:
        return self.categories.get(text.lower())

    def capability(self, text: str, category: ServiceCategory | None) -> Capability | None:
        """By slug or name, within the row's category first, then anywhere (clean_m2m reports a mismatch)."""
        key = text.lower()
        candidates = [c for c in self.capabilities if key in (c.slug.lower(), c.name.lower())]
        candidates.sort(key=lambda c: (category is None or c.category_id != category.pk, c.slug.lower() != key))
        return candidates[0] if candidates else None

    def site(self, text: str) -> Site | None:
        key = text.lower()
        return self.sites.get(key) or self.foreign_sites.get(key)


def _validate_row(
    *, vendor: Vendor, number: int, values: dict[str, str], lookups: _Lookups, seen: dict[int, int]
) -> CatalogueRow:
    row = CatalogueRow(number=number, values=values)
    cleaned: dict[str, str] = {}

    category = None
    code = values.get("category", "")
    if not code:
        row.add_error("category", "Required: a service category code such as clinical-trials.")
    else:
        category = lookups.category(code)
        if category is None:
            row.add_error("category", f"Unknown category “{code}”. Use one of: {', '.join(lookups.codes)}.")
        elif category.pk in seen:
            row.add_error("category", f"{category.name} is already in row {seen[category.pk]}: one row per category.")
        else:
            seen[category.pk] = number
            cleaned["category"] = category.code
    row.category = category

    fields: dict[str, Any] = {}
    broken: set[str] = set()
    if "description" in values:
        fields["description"] = cleaned["description"] = values["description"]
    if "lead_time_weeks" in values:
        text = values["lead_time_weeks"]
        fields["lead_time_weeks"] = None
        if text:
            if LEAD_TIME_PATTERN.fullmatch(text):  # ASCII digits, and few: int() of 5 000 digits raises
                fields["lead_time_weeks"] = int(text)
            else:
                row.add_error("lead_time_weeks", f"“{_shorten(text)}” is not a whole number of weeks.")
                broken.add("lead_time_weeks")
        cleaned["lead_time_weeks"] = "" if fields["lead_time_weeks"] is None else str(fields["lead_time_weeks"])
    for name in ("price_min", "price_max"):
        if name in values:
            text = values[name]
            fields[name] = None
            if text:
                try:
                    fields[name] = _parse_decimal(text)
                except ValueError as exc:
                    row.add_error(name, str(exc))
                    broken.add(name)
            cleaned[name] = "" if fields[name] is None else str(fields[name])
    if "currency" in values:
        fields["currency"] = cleaned["currency"] = values["currency"].upper()
    if "active" in values:
        text = values["active"].lower()
        if text in TRUE_WORDS or not text:
            fields["is_active"] = True
        elif text in FALSE_WORDS:
            fields["is_active"] = False
        else:
            row.add_error("active", f"“{values['active']}” is not yes or no.")
            broken.add("is_active")
        if "is_active" in fields:
            cleaned["active"] = "yes" if fields["is_active"] else "no"

    if "capabilities" in values:
        found = []
        for item in _split_list(values["capabilities"]):
            capability = lookups.capability(item, category)
            if capability is None:
                where = f" in {category.name}" if category else ""
                row.add_error("capabilities", f"Unknown capability “{item}”{where}.")
            elif capability not in found:
                found.append(capability)
        row.capabilities = found
        cleaned["capabilities"] = f"{LIST_SEPARATOR} ".join(c.slug for c in found)
    if "sites" in values:
        found = []
        for item in _split_list(values["sites"]):
            site = lookups.site(item)
            if site is None:
                row.add_error("sites", f"{vendor} has no site named “{item}”.")
            elif site not in found:
                found.append(site)
        row.sites = found
        cleaned["sites"] = f"{LIST_SEPARATOR} ".join(s.name for s in found)

    if category is not None:
        existing = lookups.offerings.get(category.pk)
        row.action = "update" if existing else "create"
        instance = existing or ServiceOffering(vendor=vendor, category=category)
        before_m2m, before_cells = {}, {}
        if existing:
            before_m2m = {
                "capabilities": {c.pk for c in existing.capabilities.all()},
                "sites": {s.pk for s in existing.sites.all()},
            }
            before_cells = _cells(existing, list(existing.capabilities.all()), list(existing.sites.all()))
        for name, value in fields.items():
            setattr(instance, name, value)
        try:
            instance.full_clean(exclude=broken)
        except ValidationError as exc:
            _add_model_errors(row, exc)
        if "capabilities" in values:
            row.m2m["capabilities"] = row.capabilities
        if "sites" in values:
            row.m2m["sites"] = row.sites
        try:
            instance.clean_m2m(row.m2m)
        except ValidationError as exc:
            _add_model_errors(row, exc)
        row.instance = instance
        if existing:
            row.changes = _changed_columns(instance, before_m2m, row.m2m)
            after = _cells(
                instance,
                row.m2m.get("capabilities", existing.capabilities.all()),
                row.m2m.get("sites", existing.sites.all()),
            )
            row.diffs = [(column, before_cells[column], after[column]) for column in row.changes]
        else:
            after = _cells(instance, row.m2m.get("capabilities", []), row.m2m.get("sites", []))
            row.diffs = [(c, "", after[c]) for c in COLUMNS[1:] if c in values and after[c] and c != "active"]
    row.errors.sort(key=lambda error: COLUMNS.index(error.column) + 1 if error.column in COLUMNS else 0)
    row.cleaned = {name: cleaned[name] for name in values if name in cleaned}
    return row


def _cells(offering: ServiceOffering, capabilities, sites) -> dict[str, str]:
    """An offering's cells as the preview shows them (old → new), one text per column."""

    def price(value):
        return "" if value is None else f"{value:,.2f}"

    return {
        "category": offering.category.name if offering.category_id else "",
        "capabilities": ", ".join(sorted((c.name for c in capabilities), key=str.lower)),
        "description": offering.description,
        "lead_time_weeks": "" if offering.lead_time_weeks is None else f"{offering.lead_time_weeks} wk",
        "price_min": price(offering.price_min),
        "price_max": price(offering.price_max),
        "currency": offering.currency,
        "sites": ", ".join(sorted((s.name for s in sites), key=str.lower)),
        "active": "yes" if offering.is_active else "no",
    }


def _changed_columns(instance: ServiceOffering, before_m2m: dict[str, set], m2m: dict[str, list]) -> list[str]:
    """The columns whose values differ from the stored offering (for the preview of an update)."""
    snapshot = getattr(instance, "_history_snapshot", {})
    now = instance.history_values()
    changed = {
        FIELD_COLUMNS.get(name, name) for name, value in now.items() if name in snapshot and snapshot[name] != value
    }
    changed |= {name for name, items in m2m.items() if {item.pk for item in items} != before_m2m.get(name)}
    return [column for column in COLUMNS if column in changed]


def _add_model_errors(row: CatalogueRow, exc: ValidationError) -> None:
    if not hasattr(exc, "error_dict"):
        for message in exc.messages:
            row.add_error("", message)
        return
    for name, messages_ in exc.message_dict.items():
        column = FIELD_COLUMNS.get(name, name)
        for message in messages_:
            row.add_error(column, message)


def catalogue_validate(
    *, vendor: Vendor, columns: list[str], records: list[tuple[int, dict[str, str]]], filename: str = ""
) -> CataloguePreview:
    """Validate data rows (``(row number, {column: text})``) against the database without writing anything.

    Used for a fresh upload and again, from the stored cleaned rows, when the preview is applied.
    """
    preview = CataloguePreview(vendor_id=vendor.pk, columns=list(columns), filename=filename)
    lookups = _Lookups(vendor, records)
    seen: dict[int, int] = {}
    for number, values in records:
        row = _validate_row(vendor=vendor, number=number, values=values, lookups=lookups, seen=seen)
        preview.rows.append(row)
    return preview


def catalogue_parse(*, vendor: Vendor, uploaded_file) -> CataloguePreview:
    """Read an uploaded CSV/XLSX catalogue and validate every row for ``vendor``; writes nothing.

    File-level problems (type, size, encoding, header, row count) land in ``preview.errors`` and leave
    ``rows`` empty; row problems land on each row with the column they concern.
    """
    filename = getattr(uploaded_file, "name", "") or ""
    try:
        columns, records, problems = _records(_read_file(uploaded_file))
    except CatalogueFileError as exc:
        return CataloguePreview(vendor_id=vendor.pk, errors=[str(exc)], filename=filename)
    preview = catalogue_validate(vendor=vendor, columns=columns, records=records, filename=filename)
    for row, problem in zip(preview.rows, problems, strict=True):
        if problem is not None:
            row.add_error(problem.column, problem.message)
    return preview


def catalogue_restore(*, vendor: Vendor, data: Any) -> CataloguePreview | None:
    """Re-validate the cleaned rows stored by ``CataloguePreview.session_data``; None if absent or not ``vendor``'s."""
    if not isinstance(data, dict) or data.get("vendor_id") != vendor.pk:
        return None
    columns, rows = data.get("columns"), data.get("rows")
    if not isinstance(columns, list) or not isinstance(rows, list) or not rows:
        return None
    columns = [c for c in columns if c in COLUMNS]
    records = []
    for item in rows:
        if not isinstance(item, dict) or not isinstance(item.get("values"), dict):
            return None
        number = item.get("number")
        if not isinstance(number, int):
            return None
        values = {name: str(item["values"].get(name, "")) for name in columns}
        records.append((number, values))
    return catalogue_validate(vendor=vendor, columns=columns, records=records, filename=str(data.get("filename", "")))


def catalogue_apply(*, actor, vendor: Vendor, preview: CataloguePreview) -> int:
    """Save the rows of a valid ``preview`` that change something (new and changed offerings), all or
    nothing; unchanged rows are left alone (no history entry). Returns the rows saved.

    Inside one transaction the rows are validated again against the current data (another user may
    have changed a site or an offering since the preview), then each offering is saved through
    ``vendor_record_save`` with its capabilities and sites. Any error raises ``ValidationError`` and
    nothing is saved. ``actor`` must be an admin or member of ``vendor`` (or platform staff); None is a
    system import.
    """
    if actor is not None and not (actor.is_superuser or (actor.vendor_id == vendor.pk and actor.can_act)):
        raise PermissionDenied("Only the vendor's admins and members change its catalogue.")
    if preview.vendor_id != vendor.pk:
        raise ValidationError("This preview belongs to another vendor.")
    if not preview.is_valid:
        raise ValidationError(preview.error_messages() or ["The file has no rows to apply."])
    records = [(row.number, dict(row.cleaned)) for row in preview.rows]
    with transaction.atomic():
        # Serialise imports of one vendor: the second waits, then validates against the first one's result.
        Vendor.objects.select_for_update().filter(pk=vendor.pk).first()
        fresh = catalogue_validate(vendor=vendor, columns=preview.columns, records=records, filename=preview.filename)
        if not fresh.is_valid:
            raise ValidationError(fresh.error_messages())
        for row in fresh.rows:
            if not row.writes:
                continue
            try:
                vendor_record_save(actor=actor, instance=row.instance, m2m=row.m2m, reason=REASON)
            except ValidationError as exc:
                raise ValidationError([f"Row {row.number}: {message}" for message in exc.messages]) from exc
    preview.rows = fresh.rows
    return fresh.to_apply


# --- export ----------------------------------------------------------------------------------------


def _export_cell(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def _export_rows(vendor: Vendor) -> list[list]:
    """The vendor's offerings in the import's columns, values typed (None for blank)."""
    offerings = (
        ServiceOffering.objects.filter(vendor=vendor)
        .select_related("category")
        .prefetch_related("capabilities", "sites")
        .order_by("category__position")
    )
    rows = []
    for offering in offerings:
        capabilities = sorted(offering.capabilities.all(), key=lambda c: c.name.lower())
        sites = sorted(offering.sites.all(), key=lambda s: s.name.lower())
        rows.append(
            [
                offering.category.code,
                f"{LIST_SEPARATOR} ".join(c.slug if LIST_SEPARATOR in c.name else c.name for c in capabilities),
                offering.description,
                offering.lead_time_weeks,
                offering.price_min,
                offering.price_max,
                offering.currency,
                f"{LIST_SEPARATOR} ".join(s.name for s in sites),
                "yes" if offering.is_active else "no",
            ]
        )
    return rows


def catalogue_export_csv(*, vendor: Vendor) -> str:
    """The vendor's offerings as CSV text in the import format (one row per offering, header first)."""
    output = io.StringIO()
    writer = csv.writer(output, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in _export_rows(vendor):
        writer.writerow(
            [
                _export_cell(value) if index in (2, 7) else ("" if value is None else value)
                for index, value in enumerate(row)
            ]
        )
    return output.getvalue()


def catalogue_export_xlsx(*, vendor: Vendor) -> bytes:
    """The same catalogue as an Excel workbook (one sheet, same columns); imports back unchanged.

    Text cells are written as text, never as formulas (a description starting with "=" stays words);
    lead times and prices are numbers.
    """
    import openpyxl
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("Catalogue")
    bold = Font(bold=True)
    header = []
    for name in COLUMNS:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for row in _export_rows(vendor):
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # openpyxl would store "=…" as a formula
            elif isinstance(value, Decimal):
                cell.number_format = "0.00"
            cells.append(cell)
        sheet.append(cells)
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()
