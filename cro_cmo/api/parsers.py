"""Request parsers beyond DRF's defaults."""

from rest_framework.exceptions import ParseError
from rest_framework.parsers import MultiPartParser


class StrictMultiPartParser(MultiPartParser):
    """Multipart (for file uploads) that refuses a body without a single field.

    A malformed multipart body parses as an empty form, and an empty PATCH is a valid "change nothing":
    the client would get a 200 for a request the server never understood.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        parsed = super().parse(stream, media_type, parser_context)
        if not parsed.data and not parsed.files:
            raise ParseError("The multipart body has no fields.")
        return parsed
