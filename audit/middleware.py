from audit.context import audit_context


class AuditActorMiddleware:
    """Attribute history written during a browser request (including the admin) to its user."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with audit_context(actor=request.user):
            return self.get_response(request)
