from django.utils import timezone
from rest_framework import authentication, exceptions

from accounts.models import ApiToken, hash_secret

TOKEN_INVALID = "Invalid or revoked token."
TOKEN_EXPIRED = (
    "This API token expired on {date}: request a new one (POST /api/v1/auth/token/) "
    "or create one on your API tokens page (/accounts/tokens/)."
)


class ApiTokenAuthentication(authentication.TokenAuthentication):
    """``Authorization: Token <key>``, looked up by the key's SHA-256 (keys are never stored in clear).

    Revoked tokens, tokens of deactivated users and expired tokens answer 401, the last with a
    message saying what to do.
    """

    keyword = "Token"

    def authenticate_credentials(self, key):
        token = (
            ApiToken.objects.select_related("user", "user__sponsor", "user__vendor")
            .filter(key_hash=hash_secret(key), revoked_at__isnull=True)
            .first()
        )
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed(TOKEN_INVALID)
        if token.is_expired:
            raise exceptions.AuthenticationFailed(TOKEN_EXPIRED.format(date=f"{token.expires_at:%Y-%m-%d %H:%M} UTC"))
        now = timezone.now()
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 300:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token
