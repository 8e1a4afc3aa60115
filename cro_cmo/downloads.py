"""Serving stored documents: the one way a file leaves storage (nothing under /media/ is routed).

Views find the object through ``for_user`` first (out of reach → 404); this sends the file.
"""

from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404


def pdf_attachment(file: FieldFile, filename: str) -> FileResponse:
    """The stored PDF as a download, never rendered inline in our origin.

    ``Content-Disposition: attachment``; ``nosniff`` so no browser second-guesses the PDF type; a
    sandboxing CSP should one open it anyway; ``no-store`` so shared caches keep no copy.
    """
    if not file:
        raise Http404("No document")
    try:
        handle = file.open("rb")
    except FileNotFoundError:
        raise Http404("The document is missing from storage") from None
    response = FileResponse(handle, content_type="application/pdf", as_attachment=True, filename=filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["Cache-Control"] = "private, no-store"
    return response
