"""The one content check for uploaded documents (RFP attachments, proposal files, contract documents).

A file is judged by what it *is*, never by its name or the type the browser claims: the first bytes
and, for Office documents, the parts inside the zip. Accepted:

- PDF (``%PDF-``) without active content (``vendors.documents.active_content``: JavaScript, actions on
  opening, launch commands, embedded files);
- Word, Excel and PowerPoint documents in their Open XML form (.docx, .xlsx, .pptx): a zip holding
  ``[Content_Types].xml`` that declares the main part, which must exist — macro-enabled ones
  (``vbaProject.bin``, a ``macroEnabled`` content type) are refused;
- PNG and JPEG images;
- plain text and CSV: valid UTF-8, no NUL byte.

Everything else is refused with a message naming what is accepted. Reading is bounded: the size is
checked before anything is read, a zip's member count and declared sizes before any member is opened,
and the one member read (``[Content_Types].xml``) is read with a cap, so a zip bomb costs nothing.

``document_check(file)`` returns the detected content type and a safe download filename; the caller
stores those (``contracts.services.documents.document_upload``).
"""

from __future__ import annotations

import codecs
import os
import re
import unicodedata
import zipfile
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError

DEFAULT_DOCUMENT_MAX_BYTES = 25 * 1024 * 1024

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
PNG = "image/png"
JPEG = "image/jpeg"
TEXT = "text/plain"
CSV = "text/csv"
# Every content type a document can have, for the API schema of the download.
ACCEPTED_CONTENT_TYPES = (PDF, DOCX, XLSX, PPTX, PNG, JPEG, TEXT, CSV)
# The file extensions a browser's file picker offers (``accept``); the content decides regardless.
ACCEPT_ATTRIBUTE = ".pdf,.docx,.xlsx,.pptx,.png,.jpg,.jpeg,.txt,.csv"

# Extensions that fit each type: the first is added to a name that has none of them.
EXTENSIONS = {
    PDF: (".pdf",),
    DOCX: (".docx",),
    XLSX: (".xlsx",),
    PPTX: (".pptx",),
    PNG: (".png",),
    JPEG: (".jpg", ".jpeg"),
    TEXT: (".txt", ".text", ".md", ".log"),
    CSV: (".csv",),
}

# Office Open XML: the main part's content type → the document's type. The macro-enabled variants
# (.docm, .xlsm, .pptm) and templates declare other main types and are not accepted.
OOXML_MAIN_TYPES = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": DOCX,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": XLSX,
    "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml": PPTX,
}
# Bounds on what a zip may declare before we look inside (a real Office document is far below them).
ZIP_MAX_MEMBERS = 5_000
ZIP_MAX_TOTAL_BYTES = 512 * 1024 * 1024
ZIP_MAX_RATIO = 200  # declared size over compressed size, per member: a zip bomb's tell
CONTENT_TYPES_MAX_BYTES = 1024 * 1024

# --- Messages (tests assert these texts) ---------------------------------------------------------

ACCEPTED_WORDS = (
    "a PDF, a Word, Excel or PowerPoint document (.docx, .xlsx, .pptx), a PNG or JPEG image, "
    "or plain text or CSV in UTF-8"
)
TYPE_REFUSED = (
    "This type of file is not accepted (its content is checked, not its name). Upload " + ACCEPTED_WORDS + "."
)
FILE_EMPTY = "The file is empty."
FILE_TOO_LARGE = "The file is {size}; documents may be at most {limit}."
PDF_ACTIVE = (
    "This PDF contains active content ({found}), which could run on a reader's computer. Upload a plain "
    "PDF instead: print the document to PDF, or export it again without scripts, actions or attachments."
)
OFFICE_MACROS = (
    "This Office document contains macros, which could run on a reader's computer. Save it without macros "
    "(as .docx, .xlsx or .pptx) and upload that."
)
OFFICE_BROKEN = (
    "This file looks like an Office document but cannot be read as one (a damaged or unusual zip). Save "
    "it again as .docx, .xlsx or .pptx, or upload it as a PDF."
)
ZIP_TOO_LARGE = (
    "This Office document unpacks to far more than it weighs (a compressed archive bomb?), so it is not "
    "accepted. Upload it as a PDF instead."
)
TEXT_NOT_UTF8 = (
    "This file is not UTF-8 text, nor another accepted type. If it is text or CSV, save it as UTF-8 (in Excel: "
    "“CSV UTF-8”); otherwise upload " + ACCEPTED_WORDS + "."
)


@dataclass(frozen=True)
class CheckedUpload:
    """What the check found: the content type to store and serve, and the name to download it under."""

    content_type: str
    filename: str


def document_max_bytes() -> int:
    return int(getattr(settings, "DOCUMENT_MAX_BYTES", DEFAULT_DOCUMENT_MAX_BYTES))


def size_words(size: int) -> str:
    """A size as people read it: 1.5 MB, 12 KB, 300 bytes; whole megabytes without decimals (25 MB)."""
    if size >= 1024 * 1024:
        value = size / 1024 / 1024
        return f"{value:g} MB" if value == int(value) else f"{value:.1f} MB"
    if size >= 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size} byte{'s' if size != 1 else ''}"


def _read_head(file, count: int) -> bytes:
    file.seek(0)
    head = file.read(count)
    file.seek(0)
    return head


def document_check(file) -> CheckedUpload:
    """Check an uploaded file (a Django ``File``/``UploadedFile``); return its type and a safe name.

    Raises ``ValidationError`` with a message a person can act on (size, type, active content, macros).
    The file is left at position 0.
    """
    limit = document_max_bytes()
    size = file.size
    if size is None:
        raise ValidationError(TYPE_REFUSED)
    if size == 0:
        raise ValidationError(FILE_EMPTY)
    if size > limit:
        raise ValidationError(FILE_TOO_LARGE.format(size=size_words(size), limit=size_words(limit)))
    head = _read_head(file, 8)
    if head.startswith(b"%PDF-"):
        content_type = _check_pdf(file, limit)
    elif head.startswith(b"\x89PNG\r\n\x1a\n"):
        content_type = PNG
    elif head.startswith(b"\xff\xd8\xff"):
        content_type = JPEG
    elif head.startswith(b"PK\x03\x04"):
        content_type = _check_office(file)
    else:
        content_type = _check_text(file, getattr(file, "name", "") or "")
    file.seek(0)
    return CheckedUpload(content_type=content_type, filename=safe_filename(getattr(file, "name", ""), content_type))


def _check_pdf(file, limit: int) -> str:
    from vendors.documents import active_content

    file.seek(0)
    data = file.read(limit + 1)
    found = active_content(data)
    if found:
        raise ValidationError(PDF_ACTIVE.format(found=", ".join(found)))
    return PDF


_CONTENT_TYPE_ATTR = re.compile(rb'ContentType\s*=\s*["\']([^"\']+)["\']')
_OVERRIDE = re.compile(rb"<(?:\w+:)?Override\b[^>]*>", re.IGNORECASE)
_PART_NAME_ATTR = re.compile(rb'PartName\s*=\s*["\']([^"\']+)["\']')


def _check_office(file) -> str:
    file.seek(0)
    try:
        with zipfile.ZipFile(file) as archive:
            return _check_ooxml(archive)
    except ValidationError:
        raise
    except Exception:  # BadZipFile, encrypted or unsupported members, truncated data…
        raise ValidationError(OFFICE_BROKEN) from None


def _check_ooxml(archive: zipfile.ZipFile) -> str:
    members = archive.infolist()
    if len(members) > ZIP_MAX_MEMBERS:
        raise ValidationError(ZIP_TOO_LARGE)
    total = 0
    for member in members:
        total += member.file_size
        if member.file_size > 1024 * 1024 and member.file_size > ZIP_MAX_RATIO * max(member.compress_size, 1):
            raise ValidationError(ZIP_TOO_LARGE)
    if total > ZIP_MAX_TOTAL_BYTES:
        raise ValidationError(ZIP_TOO_LARGE)
    names = {member.filename.lstrip("/").lower(): member for member in members}
    if any(name.rsplit("/", 1)[-1] == "vbaproject.bin" for name in names):
        raise ValidationError(OFFICE_MACROS)
    types_member = names.get("[content_types].xml")
    if types_member is None:
        raise ValidationError(TYPE_REFUSED)  # a plain zip (or a JAR, an APK…), not an Office document
    with archive.open(types_member) as handle:
        declared = handle.read(CONTENT_TYPES_MAX_BYTES + 1)
    if len(declared) > CONTENT_TYPES_MAX_BYTES:
        raise ValidationError(OFFICE_BROKEN)
    content_types = {
        match.group(1).decode("latin-1").strip().lower() for match in _CONTENT_TYPE_ATTR.finditer(declared)
    }
    if any("macroenabled" in value or "vbaproject" in value for value in content_types):
        raise ValidationError(OFFICE_MACROS)
    for override in _OVERRIDE.finditer(declared):
        tag = override.group(0)
        kind = _CONTENT_TYPE_ATTR.search(tag)
        part = _PART_NAME_ATTR.search(tag)
        if kind is None or part is None:
            continue
        document_type = OOXML_MAIN_TYPES.get(kind.group(1).decode("latin-1").strip().lower())
        if document_type is not None:
            if part.group(1).decode("latin-1").lstrip("/").lower() not in names:
                raise ValidationError(OFFICE_BROKEN)  # declares a main part it does not contain
            return document_type
    raise ValidationError(TYPE_REFUSED)  # another Open XML kind (a template, a Visio drawing…)


def _check_text(file, name: str) -> str:
    """UTF-8 (a byte-order mark allowed) without NUL, read in chunks; CSV when the name says so."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
    file.seek(0)
    try:
        for chunk in file.chunks() if hasattr(file, "chunks") else iter(lambda: file.read(64 * 1024), b""):
            if b"\x00" in chunk:
                raise ValidationError(TYPE_REFUSED)  # binary: a program, an archive, a legacy Office file…
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise ValidationError(TEXT_NOT_UTF8) from None
    return CSV if os.path.splitext(name)[1].lower() == ".csv" else TEXT


_UNSAFE_NAME_CHARACTERS = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')
MAX_FILENAME_LENGTH = 120


def safe_filename(name: str, content_type: str) -> str:
    """A name to download the file under: no path, no control or reserved characters, not hidden, at
    most 120 characters, and ending in an extension that fits the detected type (``report`` → ``report.pdf``,
    ``notes.exe`` holding text → ``notes.exe.txt``)."""
    name = str(name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = unicodedata.normalize("NFC", name)
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")  # control, format, surrogates
    name = _UNSAFE_NAME_CHARACTERS.sub("_", name)
    name = " ".join(name.split()).strip(" .")
    stem, extension = os.path.splitext(name)
    allowed = EXTENSIONS.get(content_type, ())
    if extension.lower() not in allowed:
        stem, extension = name, allowed[0] if allowed else ""
    stem = (stem or "document")[: MAX_FILENAME_LENGTH - len(extension)].rstrip(" .") or "document"
    return stem + extension.lower()
