"""Who is the client: the one definition of a request's IP address, for throttling and lock-out.

``X-Forwarded-For`` is written by whoever sends the request, so it is trusted only as far as
the proxies we run: with ``TRUSTED_PROXY_COUNT = n`` the client is the address the n-th proxy
from the right saw (the right-most n entries were appended by our own proxies). With 0 (the
default) the header is ignored and the client is ``REMOTE_ADDR`` — a changed header then gives
no fresh throttle budget and no fresh lock-out count.

DRF's throttles (``REST_FRAMEWORK["NUM_PROXIES"]``) and django-axes (``AXES_CLIENT_IP_CALLABLE``)
both read the same setting through this rule.
"""

from django.conf import settings


def client_ip(request) -> str:
    """The client's address as far as our trusted proxies vouch for it."""
    meta = getattr(request, "META", {})
    remote = (meta.get("REMOTE_ADDR") or "").strip()
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    hops = [hop.strip() for hop in (meta.get("HTTP_X_FORWARDED_FOR") or "").split(",") if hop.strip()]
    if not hops:
        return remote
    # The right-most entries come from our proxies; never read further left than the header is long.
    return hops[-min(proxies, len(hops))]
