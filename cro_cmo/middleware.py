"""Small cross-cutting response rules."""

API_PREFIX = "/api/"


class ApiNoStoreMiddleware:
    """Every response under ``/api/`` carries ``Cache-Control: no-store``.

    API bodies hold tokens (the token endpoint) and organisation data read with a bearer token;
    neither a shared proxy nor the browser's disk cache may keep them. Placed near the top of
    MIDDLEWARE so it also covers error responses (404/500 pages, lock-out, throttling).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith(API_PREFIX):
            response["Cache-Control"] = "no-store"
        return response
