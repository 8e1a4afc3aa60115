"""API tokens: expiry, revocation on a password change (every path), the browser's token page,
and the token endpoint's throttle keyed on the real client (not on a header the client writes)."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.core import mail
from django.core.cache import cache
from django.test import Client, override_settings
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from accounts.authentication import TOKEN_EXPIRED
from accounts.models import ApiToken
from accounts.network import client_ip
from accounts.services import TOKEN_NAME_REQUIRED, api_token_create
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "plum-tractor-lantern-42"
RESET_LINK = re.compile(r"https?://[^/\s]+(/accounts/reset/[^/\s]+/[^/\s]+/)")
PROGRAMS = "/api/v1/programs/"


def token_client(key, **extra):
    client = APIClient(**extra)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def browser(user):
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


# --- Expiry ----------------------------------------------------------------------------------------


def test_token_from_the_endpoint_expires_after_the_default_lifetime(personas, settings):
    settings.API_TOKEN_DAYS = 30
    response = APIClient().post("/api/v1/auth/token/", {"email": "a-admin@a.test", "password": PASSWORD})
    assert response.status_code == 200
    token = ApiToken.objects.get(user=personas.sponsor_a_admin)
    assert timedelta(days=29, hours=23) < token.expires_at - timezone.now() <= timedelta(days=30)
    assert response.json()["expires_at"].startswith(token.expires_at.strftime("%Y-%m-%dT%H:%M"))


def test_lifetime_zero_means_never(personas, settings):
    settings.API_TOKEN_DAYS = 0
    token, key = api_token_create(user=personas.sponsor_a_admin)
    assert token.expires_at is None
    assert token_client(key).get(PROGRAMS).status_code == 200


def test_expired_token_is_401_with_a_message_that_says_what_to_do(personas):
    token, key = api_token_create(user=personas.sponsor_a_admin, days=7)
    client = token_client(key)
    assert client.get(PROGRAMS).status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.get(PROGRAMS)
    assert response.status_code == 401
    detail = response.json()["detail"]
    assert detail.startswith(TOKEN_EXPIRED.split("{date}")[0])
    assert "/api/v1/auth/token/" in detail and "/accounts/tokens/" in detail
    assert response["WWW-Authenticate"] == "Token"


# --- A password change revokes every token, whichever way the password was set ----------------------


@pytest.fixture
def two_tokens(personas):
    user = personas.sponsor_a_admin
    keys = [api_token_create(user=user, name=name)[1] for name in ("ERP", "BI")]
    other_key = api_token_create(user=personas.sponsor_a_viewer)[1]
    for key in [*keys, other_key]:
        assert token_client(key).get(PROGRAMS).status_code == 200
    return user, keys, other_key


def assert_revoked(keys, other_key):
    for key in keys:
        response = token_client(key).get(PROGRAMS)
        assert response.status_code == 401
        assert response.json()["detail"] == "Invalid or revoked token."
    assert token_client(other_key).get(PROGRAMS).status_code == 200  # a colleague's tokens are untouched


def test_browser_password_change_revokes_the_users_tokens(two_tokens):
    user, keys, other_key = two_tokens
    response = browser(user).post(
        "/accounts/password_change/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert_revoked(keys, other_key)
    assert ApiToken.objects.filter(user=user, revoked_at__isnull=True).count() == 0


def test_failed_password_change_revokes_nothing(two_tokens):
    user, keys, _ = two_tokens
    response = browser(user).post(
        "/accounts/password_change/",
        {"old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["old_password"]
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert ApiToken.objects.filter(user=user, revoked_at__isnull=True).count() == 2
    for key in keys:
        assert token_client(key).get(PROGRAMS).status_code == 200


def test_password_reset_revokes_the_users_tokens(two_tokens):
    user, keys, other_key = two_tokens
    Client().post("/accounts/password_reset/", {"email": user.email})
    [message] = mail.outbox
    assert message.to == [user.email]
    link = RESET_LINK.search(message.body).group(1)
    reset = Client()
    page = reset.get(link, follow=True)
    response = reset.post(page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert_revoked(keys, other_key)
    assert not ApiToken.objects.filter(user=user, revoked_at__isnull=True).exists()


def test_admin_password_change_revokes_the_users_tokens(two_tokens, personas):
    user, keys, other_key = two_tokens
    staff = browser(personas.staff)
    response = staff.post(
        f"/admin/accounts/user/{user.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert_revoked(keys, other_key)


def test_admin_disabling_password_sign_in_revokes_the_users_tokens(two_tokens):
    user, keys, other_key = two_tokens
    form = AdminPasswordChangeForm(user, {"usable_password": "false"})
    assert form.is_valid(), form.errors
    form.save()
    assert not user.has_usable_password()
    assert_revoked(keys, other_key)


def test_saving_a_user_without_a_new_password_keeps_the_tokens(two_tokens):
    user, keys, _ = two_tokens
    user.full_name = "Renamed"
    user.save()
    assert ApiToken.objects.filter(user=user, revoked_at__isnull=True).count() == 2
    for key in keys:
        assert token_client(key).get(PROGRAMS).status_code == 200


def test_sign_in_that_upgrades_the_password_hash_keeps_the_tokens(two_tokens):
    """A transparent rehash (new hasher settings) is not a password change."""
    user, keys, _ = two_tokens
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.PBKDF2PasswordHasher",
                                             "django.contrib.auth.hashers.MD5PasswordHasher"]):  # fmt: skip
        assert user.check_password(PASSWORD)
        user.refresh_from_db()
        assert user.password.startswith("pbkdf2_sha256$")  # the hash was upgraded and saved
    assert token_client(keys[0]).get(PROGRAMS).status_code == 200


# --- The token page: list, create (shown once), revoke -----------------------------------------------


def test_token_page_lists_only_the_users_own_tokens(personas):
    mine, _ = api_token_create(user=personas.sponsor_a_admin, name="ERP sync")
    theirs, _ = api_token_create(user=personas.sponsor_a_viewer, name="Viewer's script")
    response = browser(personas.sponsor_a_admin).get("/accounts/tokens/")
    assert response.status_code == 200
    assert list(response.context["tokens"]) == [mine]
    html = response.content.decode()
    assert "ERP sync" in html and f"{mine.prefix}…" in html
    assert "Viewer&#x27;s script" not in html and theirs.prefix not in html
    assert "no-store" in response["Cache-Control"]


def test_token_page_needs_sign_in(client):
    response = client.get("/accounts/tokens/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/accounts/tokens/"


def test_creating_a_token_in_the_browser_shows_the_key_once_and_it_works(personas):
    client = browser(personas.vendor_x_viewer)  # viewers read the API too
    response = client.post("/accounts/tokens/", {"name": "Dashboard", "days": "30"})
    assert response.status_code == 200
    key = response.context["new_key"]
    assert key and key in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    token = ApiToken.objects.get(user=personas.vendor_x_viewer)
    assert token.name == "Dashboard" and key.startswith(token.prefix)
    assert timedelta(days=29, hours=23) < token.expires_at - timezone.now() <= timedelta(days=30)
    assert token_client(key).get("/api/v1/vendors/").status_code == 200
    later = client.get("/accounts/tokens/")
    assert key not in later.content.decode()  # never shown again


@pytest.mark.parametrize(
    "data,field",
    [
        ({"name": "", "days": "30"}, "name"),
        ({"name": "x", "days": "12"}, "days"),
        ({"name": "   ", "days": "0"}, "name"),
    ],
)
def test_creating_a_token_with_bad_input_is_a_form_error(personas, data, field):
    response = browser(personas.sponsor_a_admin).post("/accounts/tokens/", data)
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert response.context["new_key"] is None
    assert not ApiToken.objects.exists()


def test_blank_token_name_is_refused_by_the_service(personas):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as caught:
        api_token_create(user=personas.sponsor_a_admin, name="  ")
    assert caught.value.message_dict == {"name": [TOKEN_NAME_REQUIRED]}


def test_revoking_a_token_in_the_browser_stops_it_at_once(personas):
    token, key = api_token_create(user=personas.sponsor_a_admin, name="ERP")
    client = browser(personas.sponsor_a_admin)
    response = client.post(f"/accounts/tokens/{token.pk}/revoke/", follow=True)
    assert response.status_code == 200
    assert "Token “ERP”" in response.content.decode() and "revoked" in response.content.decode()
    assert token_client(key).get(PROGRAMS).status_code == 401
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_nobody_revokes_someone_elses_token(personas):
    token, key = api_token_create(user=personas.sponsor_a_viewer, name="Viewer's QZT script")
    for user in (personas.sponsor_a_admin, personas.staff):  # not their colleague's admin, not platform staff
        response = browser(user).post(f"/accounts/tokens/{token.pk}/revoke/")
        assert response.status_code == 404
        assert "QZT" not in response.content.decode() and token.prefix not in response.content.decode()
    assert browser(personas.sponsor_a_admin).post("/accounts/tokens/999999999/revoke/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
    assert token_client(key).get(PROGRAMS).status_code == 200


def test_revoking_needs_post(personas):
    token, _ = api_token_create(user=personas.sponsor_a_admin)
    response = browser(personas.sponsor_a_admin).get(f"/accounts/tokens/{token.pk}/revoke/")
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    token.refresh_from_db()
    assert token.revoked_at is None


def test_user_menu_links_to_the_token_page(personas):
    assert 'href="/accounts/tokens/"' in browser(personas.sponsor_a_admin).get("/dashboard/").content.decode()


# --- Throttle and lock-out keyed on the real client --------------------------------------------------


@pytest.fixture
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


def throttle_key(ident):
    return ScopedRateThrottle.cache_format % {"scope": "auth", "ident": ident}


def post_token(client, headers=None, **data):
    return client.post("/api/v1/auth/token/", data, format="json", headers=headers or {})


def test_changing_x_forwarded_for_does_not_reset_the_throttle(personas, fresh_cache):
    """Attack: a fresh X-Forwarded-For on every request. Without a trusted proxy the header is ignored."""
    client = APIClient()
    for attempt in range(20):
        response = post_token(client, headers={"X-Forwarded-For": f"203.0.113.{attempt}"})
        assert response.status_code == 400, attempt
    response = post_token(client, headers={"X-Forwarded-For": "198.51.100.99"}, email="a-admin@a.test",
                          password=PASSWORD)  # fmt: skip
    assert response.status_code == 429
    assert not ApiToken.objects.exists()


def test_changing_x_forwarded_for_does_not_reset_the_lock_out(personas, fresh_cache):
    client = APIClient()
    for attempt in range(5):
        post_token(client, headers={"X-Forwarded-For": f"203.0.113.{attempt}"}, email="a-admin@a.test",
                   password=f"wrong-{attempt}")  # fmt: skip
    response = post_token(client, headers={"X-Forwarded-For": "198.51.100.7"}, email="a-admin@a.test",
                          password=PASSWORD)  # fmt: skip
    assert response.status_code == 429
    assert not ApiToken.objects.exists()


def test_behind_one_trusted_proxy_the_client_is_the_address_the_proxy_saw(personas, fresh_cache, settings):
    """With TRUSTED_PROXY_COUNT=1 the right-most entry (written by our proxy) is the client: a
    spoofed left part changes nothing, while two real clients behind the proxy count apart."""
    settings.TRUSTED_PROXY_COUNT = 1
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    client = APIClient(REMOTE_ADDR="10.0.0.1")  # the proxy
    for attempt in range(20):
        forwarded = f"203.0.113.{attempt}, 192.0.2.10"  # spoofed part, then what the proxy appended
        assert post_token(client, headers={"X-Forwarded-For": forwarded}).status_code == 400, attempt
    throttled = post_token(client, headers={"X-Forwarded-For": "1.2.3.4, 192.0.2.10"})
    assert throttled.status_code == 429
    assert "throttled" in throttled.json()["detail"]
    other = post_token(client, headers={"X-Forwarded-For": "192.0.2.11"})
    assert other.status_code == 400  # another client: its own count, so the missing fields are what it hears
    assert set(other.json()) == {"email", "password"}
    # The counts are kept per address the proxy saw; none under the spoofed parts or the proxy itself.
    assert len(cache.get(throttle_key("192.0.2.10"))) == 20
    assert len(cache.get(throttle_key("192.0.2.11"))) == 1
    assert all(cache.get(throttle_key(ip)) is None for ip in ("203.0.113.0", "1.2.3.4", "10.0.0.1"))


@pytest.mark.parametrize(
    "proxies,forwarded,expected",
    [
        (0, "203.0.113.5", "127.0.0.1"),
        (0, None, "127.0.0.1"),
        (1, "203.0.113.5, 192.0.2.10", "192.0.2.10"),
        (2, "203.0.113.5, 192.0.2.10", "203.0.113.5"),
        (3, "192.0.2.10", "192.0.2.10"),  # shorter header than proxies: its left-most entry
        (1, None, "127.0.0.1"),
        (1, " , ", "127.0.0.1"),
    ],
)
def test_client_ip_rule_is_shared_by_axes_and_drf(rf, settings, proxies, forwarded, expected):
    from axes.helpers import get_client_ip_address
    from rest_framework.request import Request
    from rest_framework.settings import api_settings

    settings.TRUSTED_PROXY_COUNT = proxies
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": proxies}
    api_settings.reload()
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    request = rf.get("/", REMOTE_ADDR="127.0.0.1", **headers)
    assert client_ip(request) == expected
    assert get_client_ip_address(request) == expected
    if forwarded is None or forwarded.strip(" ,"):
        assert ScopedRateThrottle().get_ident(Request(request)) == expected  # stock DRF throttles agree
