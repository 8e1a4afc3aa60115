"""Uploaded documents: refuse PDFs with active content.

A certificate is read by sponsors' staff on their own machines; a PDF that runs JavaScript, acts on
opening, launches programs or carries files inside it has no business being one. The check works
like Didier Stevens' pdfid: it looks for the PDF *names* that switch those features on, in the raw
file and inside Flate-compressed streams (object streams hide dictionaries there), with ``#xx``
escapes decoded (``/J#61vaScript`` is ``/JavaScript`` to a reader).
"""

import re
import zlib

# PDF name → what it does, in words for the error message.
ACTIVE_NAMES = {
    "JavaScript": "JavaScript",
    "JS": "JavaScript",
    "OpenAction": "an action run on opening",
    "AA": "automatic actions",
    "Launch": "a command that launches programs",
    "EmbeddedFile": "embedded files",
    "EmbeddedFiles": "embedded files",
    "RichMedia": "rich media (Flash or video)",
}
PDF_ACTIVE_CONTENT = (
    "This PDF contains active content ({found}), which could run on a reader's computer. Upload a plain "
    "PDF instead: print the certificate to PDF, or scan the paper certificate."
)

# A name is "/" and regular characters (anything but white space and the delimiters ()<>[]{}/%).
_NAME = re.compile(rb"/([^\x00\t\n\x0c\r ()<>\[\]{}/%]+)")
_HEX_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_STREAM = re.compile(rb"stream\r?\n(.*?)endstream", re.DOTALL)
# Decompression is bounded: a small "zip bomb" stream must not cost more than this in total.
MAX_INFLATED_BYTES = 64 * 1024 * 1024


def _names(data: bytes) -> set[str]:
    found = set()
    for match in _NAME.finditer(data):
        raw = match.group(1)
        if b"#" in raw:
            raw = _HEX_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), raw)
        name = raw.decode("latin-1")
        if name in ACTIVE_NAMES:
            found.add(name)
    return found


def _inflated_streams(data: bytes):
    budget = MAX_INFLATED_BYTES
    for match in _STREAM.finditer(data):
        if budget <= 0:
            return
        inflater = zlib.decompressobj()
        try:
            chunk = inflater.decompress(match.group(1), budget)
        except zlib.error:
            continue  # not Flate (or not compressed at all: already scanned as raw bytes)
        budget -= len(chunk)
        yield chunk


def active_content(data: bytes) -> list[str]:
    """The active-content features a PDF switches on, in words (empty for a plain PDF)."""
    names = _names(data)
    for chunk in _inflated_streams(data):
        names |= _names(chunk)
    return sorted({ACTIVE_NAMES[name] for name in names})
