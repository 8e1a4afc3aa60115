"""One rule for text no database column can hold: NUL characters and unpaired UTF-16 surrogates.

PostgreSQL refuses NUL in text (psycopg raises before the query is sent) and psycopg cannot encode a
lone surrogate ("\\ud800", which JSON allows as an escape) to UTF-8; either surfaced as a 500 from
whichever filter, lookup or save touched the value first, and so did rendering a surrogate back
in an error message. Rather than guard every field, this middleware refuses them where they enter:

- the query string, on every route: the API answers 400 with the parameter as the field
  (``{"kind": ["…"]}``); a browser page is redirected to the same address without the offending
  values, with a message that they were ignored;
- JSON request bodies: 400 with the top-level field that holds the character. Integers beyond 64 bits
  are refused there too: SQLite raises OverflowError binding one (an id like 10**20 was a 500).

Browser form posts need no rule here: Django's form fields already refuse NUL ("Null characters are
not allowed.") and form decoding turns undecodable bytes into U+FFFD, never into a surrogate.
"""

import json
import re
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponseRedirect, JsonResponse

BAD_CHARACTER_MESSAGE = "Contains a character that is not allowed (a NUL character or an unpaired surrogate)."
NUMBER_TOO_LARGE_MESSAGE = "Contains a whole number too large for 64 bits."
INT64 = 2**63
BODY_TOO_LARGE_MESSAGE = "The request body is too large."
BAD_CHARACTERS = re.compile("[\x00\ud800-\udfff]")
API_PREFIX = "/api/"
NON_FIELD = "non_field_errors"


def has_bad_character(text: str) -> bool:
    return BAD_CHARACTERS.search(text) is not None


def _holds_bad_character(value) -> bool:
    """True if any string in a parsed JSON value (keys included) has a bad character; no recursion."""
    return _find(value, lambda item: isinstance(item, str) and has_bad_character(item))


def _holds_huge_integer(value) -> bool:
    """True if a JSON integer does not fit a 64-bit column (SQLite raises OverflowError binding it)."""
    return _find(value, lambda item: type(item) is int and not -INT64 <= item < INT64)


def _find(value, test) -> bool:
    """True if ``test`` holds for any item of a parsed JSON value, keys included; no recursion."""
    stack = [value]
    while stack:
        item = stack.pop()
        if test(item):
            return True
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _is_json(request) -> bool:
    content_type = request.content_type or ""
    return content_type == "application/json" or content_type.endswith("+json")


class RejectUnstorableTextMiddleware:
    """Refuse NUL characters and lone surrogates in query strings and JSON bodies (see the module docstring).

    Sits after the message middleware, so a browser redirect can carry its message.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self._check_query(request)
        if response is None and request.method in ("POST", "PUT", "PATCH", "DELETE") and _is_json(request):
            response = self._check_json_body(request)
        return response or self.get_response(request)

    def _check_query(self, request):
        bad = [(key, value) for key, values in request.GET.lists() for value in values
               if has_bad_character(key) or has_bad_character(value)]  # fmt: skip
        if not bad:
            return None
        names = list(dict.fromkeys(NON_FIELD if has_bad_character(key) else key for key, _ in bad))
        if request.path.startswith(API_PREFIX) or request.method not in ("GET", "HEAD"):
            return JsonResponse({name: [BAD_CHARACTER_MESSAGE] for name in names}, status=400)
        kept = [(key, value) for key, values in request.GET.lists() for value in values if (key, value) not in bad]
        shown = ", ".join(f"“{name}”" for name in names if name != NON_FIELD) or "a parameter"
        messages.warning(
            request, f"Ignored {shown} in the address: {BAD_CHARACTER_MESSAGE[0].lower()}{BAD_CHARACTER_MESSAGE[1:]}"
        )
        return HttpResponseRedirect(request.path + ("?" + urlencode(kept) if kept else ""))

    def _check_json_body(self, request):
        try:
            data = json.loads(request.body)
        except RequestDataTooBig:
            return JsonResponse({"detail": BODY_TOO_LARGE_MESSAGE}, status=413)
        except RecursionError:  # nesting thousands deep: no field of ours is shaped like that
            return JsonResponse({NON_FIELD: ["The JSON is nested too deeply."]}, status=400)
        except ValueError:
            return None  # not JSON: the API's parser answers with its own 400
        for holds, message in (
            (_holds_bad_character, BAD_CHARACTER_MESSAGE),
            (_holds_huge_integer, NUMBER_TOO_LARGE_MESSAGE),
        ):
            if not holds(data):
                continue
            if isinstance(data, dict):
                names = [NON_FIELD if has_bad_character(key) else key
                         for key, value in data.items() if has_bad_character(key) or holds(value)]  # fmt: skip
            else:
                names = [NON_FIELD]
            return JsonResponse({name: [message] for name in dict.fromkeys(names)}, status=400)
        return None
