"""Accounts: sign-up, login and lock-out, API tokens, invitations, roles, removal, password reset.

Everything goes through the real browser and API paths (no ``client.login()``: django-axes
wants a request), and every "nothing happened" claim is a row count taken before and after.
"""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from django.core import mail
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.utils import timezone
from rest_framework.exceptions import NotAuthenticated
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from accounts.api import BAD_CREDENTIALS, LOCKED_OUT
from accounts.authentication import TOKEN_INVALID
from accounts.models import ApiToken, MemberInvite, Role, User, hash_secret
from accounts.services import ALREADY_MEMBER, INVITE_INVALID, LAST_ADMIN, SIGNUP_LINK_INVALID, api_token_create
from sponsors.models import Sponsor
from tests.conftest import PASSWORD
from tests.factories import UserFactory
from vendors.models import Vendor

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "plum-tractor-lantern-42"
LOCKED_OUT_PAGE = "Too many failed sign-in attempts"
INVITE_LINK = re.compile(r"https?://[^/\s]+(/accounts/invite/[^/\s]+/)")
RESET_LINK = re.compile(r"https?://[^/\s]+(/accounts/reset/[^/\s]+/[^/\s]+/)")
CONFIRM_LINK = re.compile(r"https?://[^/\s]+(/accounts/signup/confirm/[^/\s]+/)")


THROTTLE_KEY = ScopedRateThrottle.cache_format % {"scope": "auth", "ident": "127.0.0.1"}


@pytest.fixture(autouse=True)
def _fresh_throttle():
    """The API throttle counts in the cache, which outlives a test's database transaction."""
    cache.delete(THROTTLE_KEY)
    yield
    cache.delete(THROTTLE_KEY)


def signup_data(**overrides):
    data = {
        "organisation_kind": "sponsor",
        "organisation_name": "Nimbus Therapeutics",
        "sponsor_type": "biotech",
        "vendor_kind": "",
        "country": "DE",
        "full_name": "Nina Nimbus",
        "email": "nina@nimbus.test",
        "password": NEW_PASSWORD,
    }
    data.update(overrides)
    return data


def counts():
    return Sponsor.objects.count(), Vendor.objects.count(), User.objects.count()


def logged_in_user_id(client):
    return client.session.get("_auth_user_id")


def login_as(client, user):
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def main_text(response) -> str:
    """The page's <main> (what the person reads), without per-response tokens."""
    html = response.content.decode()
    main = html[html.index("<main") : html.index("</main>")]
    return re.sub(r'(csrfmiddlewaretoken" value=|nonce=)"[^"]*"', "", main)


def token_client(key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


# --- Sign-up -------------------------------------------------------------------------------------


def test_signup_form_renders(client):
    response = client.get("/accounts/signup/")
    assert response.status_code == 200
    assert set(response.context["form"].fields) >= {
        "organisation_kind",
        "organisation_name",
        "email",
        "password",
    }


def post_signup(client, on_commit, data):
    with on_commit(execute=True):
        return client.post("/accounts/signup/", data)


def confirm_from_mail(client, message):
    """Follow the e-mailed link: GET shows a button (creates nothing), POST creates and signs in."""
    match = CONFIRM_LINK.search(message.body)
    assert match, message.body
    before = counts()
    page = client.get(match.group(1))
    assert page.status_code == 200
    assert counts() == before  # a mail scanner following the link creates nothing
    return client.post(match.group(1))


def test_signup_sponsor_creates_organisation_and_admin_once_the_address_is_confirmed(client, on_commit):
    before = counts()
    response = post_signup(client, on_commit, signup_data(email="Nina@Nimbus.TEST"))
    assert response.status_code == 302
    assert response["Location"] == "/accounts/signup/sent/"
    assert counts() == before  # nothing exists until the address is confirmed
    assert logged_in_user_id(client) is None
    assert [m.to for m in mail.outbox] == [["nina@nimbus.test"]]

    response = confirm_from_mail(client, mail.outbox[0])
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"
    sponsor = Sponsor.objects.get(name="Nimbus Therapeutics")
    assert sponsor.slug == "nimbus-therapeutics"
    assert sponsor.type == "biotech"
    assert sponsor.country.code == "DE"
    user = User.objects.get(email="nina@nimbus.test")  # stored lower-case
    assert user.sponsor == sponsor and user.vendor is None
    assert user.role == Role.ADMIN
    assert user.full_name == "Nina Nimbus"
    assert user.check_password(NEW_PASSWORD)
    assert counts() == (before[0] + 1, before[1], before[2] + 1)
    assert logged_in_user_id(client) == str(user.pk)
    assert client.get("/dashboard/").status_code == 200
    # The link works once.
    again = Client().post(CONFIRM_LINK.search(mail.outbox[0].body).group(1))
    assert again.status_code == 404
    assert SIGNUP_LINK_INVALID in again.content.decode()
    assert counts() == (before[0] + 1, before[1], before[2] + 1)


@pytest.mark.parametrize("kind", ["cro", "cmo", "cdmo"])
def test_signup_vendor_creates_vendor_of_that_kind_and_its_admin(client, on_commit, kind):
    before = counts()
    data = signup_data(organisation_kind="vendor", organisation_name="Quartz Labs", vendor_kind=kind,
                       email="q@quartz.test")  # fmt: skip
    assert post_signup(client, on_commit, data).status_code == 302
    response = confirm_from_mail(client, mail.outbox[0])
    assert response.status_code == 302
    vendor = Vendor.objects.get(name="Quartz Labs")
    assert vendor.kind == kind
    assert vendor.hq_country.code == "DE"
    user = User.objects.get(email="q@quartz.test")
    assert user.vendor == vendor and user.sponsor is None and user.role == Role.ADMIN
    assert counts() == (before[0], before[1] + 1, before[2] + 1)
    assert logged_in_user_id(client) == str(user.pk)


def test_signup_same_organisation_name_gets_a_unique_slug(client, on_commit):
    for email in ("one@nimbus.test", "two@nimbus.test"):
        browser = Client()
        post_signup(browser, on_commit, signup_data(email=email))
        assert confirm_from_mail(browser, mail.outbox[-1]).status_code == 302
    assert sorted(Sponsor.objects.filter(name="Nimbus Therapeutics").values_list("slug", flat=True)) == [
        "nimbus-therapeutics",
        "nimbus-therapeutics-2",
    ]


def test_signup_confirm_link_made_up_or_expired_is_404(client, on_commit):
    from accounts.models import SignupRequest

    assert client.get("/accounts/signup/confirm/made-up/").status_code == 404
    post_signup(client, on_commit, signup_data())
    SignupRequest.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    path = CONFIRM_LINK.search(mail.outbox[0].body).group(1)
    response = client.post(path)
    assert response.status_code == 404
    assert SIGNUP_LINK_INVALID in response.content.decode()
    assert not User.objects.filter(email="nina@nimbus.test").exists()


def test_signup_confirmed_after_the_address_got_an_account_creates_nothing(client, on_commit):
    post_signup(client, on_commit, signup_data())
    UserFactory(email="nina@nimbus.test")  # e.g. invited and accepted meanwhile
    before = counts()
    response = client.post(CONFIRM_LINK.search(mail.outbox[0].body).group(1))
    assert response.status_code == 404
    assert SIGNUP_LINK_INVALID in response.content.decode()
    assert counts() == before


@pytest.mark.parametrize("email", ["a-admin@a.test", "A-Admin@A.TEST", "  a-admin@a.test  "])
def test_signup_with_taken_email_answers_like_a_new_one_and_emails_the_owner(client, personas, on_commit, email):
    """No probing: the same redirect as a free address; the account's owner is told, nothing is created."""
    before = counts()
    fresh = post_signup(Client(), on_commit, signup_data(email="fresh@nimbus.test"))
    taken = post_signup(client, on_commit, signup_data(email=email))
    assert taken.status_code == fresh.status_code == 302
    assert taken["Location"] == fresh["Location"] == "/accounts/signup/sent/"
    assert counts() == before
    assert logged_in_user_id(client) is None
    assert [m.to for m in mail.outbox] == [["fresh@nimbus.test"], ["a-admin@a.test"]]
    owner_mail = mail.outbox[1]
    assert "already has an account" in owner_mail.body
    assert "/accounts/password_reset/" in owner_mail.body
    assert not CONFIRM_LINK.search(owner_mail.body)


@pytest.mark.parametrize("password", ["password", "12345678", "1234567890", "nina@nimbus.test", "short"])
def test_signup_with_weak_password_is_a_form_error_and_creates_nothing(client, password):
    before = counts()
    response = client.post("/accounts/signup/", signup_data(password=password))
    assert response.status_code == 200
    assert response.context["form"].errors["password"]
    assert counts() == before
    assert logged_in_user_id(client) is None


def test_signup_vendor_without_kind_is_a_form_error(client):
    before = counts()
    response = client.post(
        "/accounts/signup/", signup_data(organisation_kind="vendor", vendor_kind="", email="q@quartz.test")
    )
    assert response.status_code == 200
    assert "vendor_kind" in response.context["form"].errors
    assert counts() == before


@pytest.mark.parametrize(
    "overrides",
    [
        {"organisation_kind": "government"},
        {"organisation_name": ""},
        {"email": "not-an-email"},
        {"country": "XX"},
        {"organisation_kind": "vendor", "vendor_kind": "pharmacy"},
    ],
)
def test_signup_with_bad_input_is_a_form_error_never_a_500(client, overrides):
    before = counts()
    response = client.post("/accounts/signup/", signup_data(**overrides))
    assert response.status_code == 200
    assert response.context["form"].errors
    assert counts() == before


def test_signup_when_signed_in_redirects_to_dashboard(client, personas):
    login_as(client, personas.sponsor_a_admin)
    before = counts()
    response = client.post("/accounts/signup/", signup_data())
    assert response.status_code == 302 and response["Location"] == "/dashboard/"
    assert counts() == before


# --- Browser login and lock-out ------------------------------------------------------------------


def post_login(client, email, password):
    return client.post("/accounts/login/", {"username": email, "password": password})


def test_login_page_renders(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert 'name="username"' in response.content.decode()


@pytest.mark.parametrize("email", ["a-admin@a.test", "A-ADMIN@a.test"])
def test_login_with_real_credentials_signs_in(client, personas, email):
    response = post_login(client, email, PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"
    assert logged_in_user_id(client) == str(personas.sponsor_a_admin.pk)


def test_login_with_wrong_password_shows_the_form_with_an_error(client, personas):
    response = post_login(client, "a-admin@a.test", "not-the-password")
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert logged_in_user_id(client) is None


def test_login_of_a_deactivated_user_is_refused(client, personas):
    User.objects.filter(pk=personas.sponsor_a_viewer.pk).update(is_active=False)
    response = post_login(client, "a-viewer@a.test", PASSWORD)
    assert response.status_code == 200
    assert logged_in_user_id(client) is None


def test_repeated_wrong_passwords_lock_the_login_form(client, personas):
    """AXES_FAILURE_LIMIT=5: failures 1-4 show the form; the 5th locks; nothing ever 500s."""
    for attempt in range(1, 5):
        response = post_login(client, "a-admin@a.test", f"wrong-{attempt}")
        assert response.status_code == 200, attempt
        assert response.context["form"].non_field_errors(), attempt
        assert LOCKED_OUT_PAGE not in response.content.decode()
    response = post_login(client, "a-admin@a.test", "wrong-5")
    assert response.status_code == 429
    assert LOCKED_OUT_PAGE in response.content.decode()
    assert "registration/locked_out.html" in [t.name for t in response.templates]
    response = post_login(client, "a-admin@a.test", "wrong-6")
    assert response.status_code == 429
    assert LOCKED_OUT_PAGE in response.content.decode()
    assert logged_in_user_id(client) is None


def test_locked_out_account_cannot_sign_in_even_with_the_correct_password(client, personas):
    for attempt in range(6):
        post_login(client, "a-admin@a.test", f"wrong-{attempt}")
    response = post_login(client, "a-admin@a.test", PASSWORD)
    assert response.status_code == 429
    assert LOCKED_OUT_PAGE in response.content.decode()
    assert logged_in_user_id(client) is None


def test_lock_out_counts_failures_whatever_the_case_of_the_email(client, personas):
    for email in ["a-admin@a.test", "A-admin@a.test", "a-ADMIN@a.test", "A-ADMIN@A.TEST", "a-admin@A.test"]:
        post_login(client, email, "wrong")
    response = post_login(client, "a-admin@a.test", PASSWORD)
    assert response.status_code == 429
    assert logged_in_user_id(client) is None


def test_lock_out_is_per_account_not_per_address(client, personas):
    for attempt in range(6):
        post_login(client, "a-admin@a.test", f"wrong-{attempt}")
    response = post_login(client, "b-admin@b.test", "wrong-for-b")
    assert response.status_code == 200  # b's first failure: the form, not the lock-out page
    assert LOCKED_OUT_PAGE not in response.content.decode()


def test_successful_login_before_the_limit_resets_the_failure_count(client, personas):
    for attempt in range(4):
        post_login(client, "a-admin@a.test", f"wrong-{attempt}")
    assert post_login(client, "a-admin@a.test", PASSWORD).status_code == 302
    client.post("/accounts/logout/")
    for attempt in range(4):
        response = post_login(client, "a-admin@a.test", f"again-{attempt}")
        assert response.status_code == 200, attempt
        assert LOCKED_OUT_PAGE not in response.content.decode()


# --- API tokens ----------------------------------------------------------------------------------


def post_token(client, **data):
    return client.post("/api/v1/auth/token/", data, format="json")


def test_token_for_good_credentials_authenticates_the_api(personas):
    response = post_token(APIClient(), email="a-admin@a.test", password=PASSWORD)
    assert response.status_code == 200
    key = response.json()["token"]
    assert isinstance(key, str) and len(key) >= 32
    token = ApiToken.objects.get(user=personas.sponsor_a_admin)
    assert token.key_hash != key and key not in token.key_hash  # only the hash is stored
    programs = token_client(key).get("/api/v1/programs/")
    assert programs.status_code == 200
    assert [row["code"] for row in programs.json()["results"]] == ["A-1"]


def test_token_email_is_case_insensitive(personas):
    response = post_token(APIClient(), email="A-Admin@A.test", password=PASSWORD)
    assert response.status_code == 200
    key = response.json()["token"]
    assert ApiToken.objects.get(key_hash=hash_secret(key)).user == personas.sponsor_a_admin
    programs = token_client(key).get("/api/v1/programs/")
    assert programs.status_code == 200
    assert [row["code"] for row in programs.json()["results"]] == ["A-1"]  # acts as sponsor A's admin


@pytest.mark.parametrize(
    "email,password",
    [
        ("a-admin@a.test", "wrong-password"),
        ("nobody@nowhere.test", PASSWORD),
        ("a-admin@a.test", PASSWORD.upper()),
    ],
)
def test_token_with_bad_credentials_is_400_with_a_message(personas, email, password):
    response = post_token(APIClient(), email=email, password=password)
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": [BAD_CREDENTIALS]}
    assert not ApiToken.objects.exists()


def test_token_for_deactivated_user_is_refused(personas):
    User.objects.filter(pk=personas.sponsor_a_admin.pk).update(is_active=False)
    response = post_token(APIClient(), email="a-admin@a.test", password=PASSWORD)
    assert response.status_code == 400
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize(
    "data,fields",
    [
        ({}, {"email", "password"}),
        ({"email": "a-admin@a.test"}, {"password"}),
        ({"password": PASSWORD}, {"email"}),
        ({"email": "not-an-email", "password": PASSWORD}, {"email"}),
    ],
)
def test_token_with_missing_or_malformed_fields_is_400_field_errors(personas, data, fields):
    response = post_token(APIClient(), **data)
    assert response.status_code == 400
    body = response.json()
    assert set(body) == fields
    assert all(isinstance(body[f], list) and body[f] for f in fields)


def test_token_with_non_json_body_is_400_not_500(personas):
    response = APIClient().post("/api/v1/auth/token/", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error")
    assert not ApiToken.objects.exists()


def test_token_lock_out_after_repeated_failures_even_for_the_correct_password(personas):
    client = APIClient()
    for attempt in range(4):
        response = post_token(client, email="a-admin@a.test", password=f"wrong-{attempt}")
        assert response.status_code == 400, attempt
    post_token(client, email="a-admin@a.test", password="wrong-5")  # the failure that locks
    response = post_token(client, email="a-admin@a.test", password=PASSWORD)
    assert response.status_code == 429
    assert response.json() == {"detail": LOCKED_OUT}
    assert not ApiToken.objects.exists()


def test_token_failure_that_reaches_the_limit_answers_json(personas):
    client = APIClient()
    for attempt in range(4):
        post_token(client, email="a-admin@a.test", password=f"wrong-{attempt}")
    response = post_token(client, email="a-admin@a.test", password="wrong-5")
    assert response.status_code == 429
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"detail": LOCKED_OUT}


def test_token_lock_out_is_per_account(personas):
    client = APIClient()
    for attempt in range(6):
        post_token(client, email="a-admin@a.test", password=f"wrong-{attempt}")
    response = post_token(client, email="b-admin@b.test", password=PASSWORD)
    assert response.status_code == 200
    token = ApiToken.objects.get(key_hash=hash_secret(response.json()["token"]))
    assert token.user == personas.sponsor_b_admin
    assert not ApiToken.objects.filter(user=personas.sponsor_a_admin).exists()


def test_token_endpoint_is_throttled_at_20_per_minute(personas):
    client = APIClient()
    for attempt in range(20):
        response = post_token(client)  # missing fields: 400, and never touches the lock-out counter
        assert response.status_code == 400, attempt
    response = post_token(client, email="a-admin@a.test", password=PASSWORD)
    assert response.status_code == 429
    assert "throttled" in response.json()["detail"]
    assert not ApiToken.objects.exists()


def test_revoked_token_is_401(personas):
    token, key = api_token_create(user=personas.sponsor_a_admin)
    client = token_client(key)
    assert client.get("/api/v1/programs/").status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    response = client.get("/api/v1/programs/")
    assert response.status_code == 401
    assert response.json() == {"detail": TOKEN_INVALID}
    assert "A-1" not in response.content.decode()


def test_token_of_deactivated_user_is_401(personas):
    _, key = api_token_create(user=personas.sponsor_a_admin)
    User.objects.filter(pk=personas.sponsor_a_admin.pk).update(is_active=False)
    response = token_client(key).get("/api/v1/programs/")
    assert response.status_code == 401
    assert response.json() == {"detail": TOKEN_INVALID}


def test_unknown_token_is_401_and_no_token_is_refused(personas):
    made_up = token_client("made-up-key").get("/api/v1/programs/")
    assert made_up.status_code == 401
    assert made_up.json() == {"detail": TOKEN_INVALID}
    anonymous = APIClient().get("/api/v1/programs/")
    assert anonymous.status_code == 401
    assert anonymous.json() == {"detail": NotAuthenticated.default_detail}
    assert anonymous["WWW-Authenticate"] == "Token"  # says how to authenticate, as 401 must


# --- Invitations ---------------------------------------------------------------------------------


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """Run on-commit callbacks (the invitation e-mail is sent after commit)."""
    return django_capture_on_commit_callbacks


def invite(client, on_commit, email="newbie@a.test", role=Role.MEMBER):
    with on_commit(execute=True):
        response = client.post("/accounts/members/", {"email": email, "role": role})
    return response


def invite_path_from_mail(message):
    match = INVITE_LINK.search(message.body)
    assert match, message.body
    return match.group(1)


@pytest.mark.parametrize(
    "persona,role",
    [("sponsor_a_admin", Role.MEMBER), ("sponsor_a_admin", Role.VIEWER), ("vendor_x_admin", Role.ADMIN)],
)
def test_invitation_round_trip(client, personas, on_commit, persona, role):
    inviter = getattr(personas, persona)
    login_as(client, inviter)
    assert client.get("/accounts/members/").status_code == 200
    response = invite(client, on_commit, email="Newbie@Example.TEST", role=role)
    assert response.status_code == 302

    invitation = MemberInvite.objects.get()
    assert invitation.email == "newbie@example.test"
    assert invitation.role == role
    assert invitation.organisation == inviter.organisation
    assert invitation.invited_by == inviter
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["newbie@example.test"]
    path = invite_path_from_mail(message)
    token = path.rstrip("/").rsplit("/", 1)[1]
    assert token not in invitation.token_hash  # the secret is in the e-mail, only its hash is stored

    newcomer = Client()  # a different browser: the invitee's
    page = newcomer.get(path)
    assert page.status_code == 200
    assert "form" in page.context
    users_before = User.objects.count()
    response = newcomer.post(path, {"full_name": "Nova Newbie", "password": NEW_PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/dashboard/"
    user = User.objects.get(email="newbie@example.test")
    assert User.objects.count() == users_before + 1
    assert user.full_name == "Nova Newbie"
    assert user.role == role
    assert user.sponsor_id == inviter.sponsor_id and user.vendor_id == inviter.vendor_id
    assert user.check_password(NEW_PASSWORD)
    assert newcomer.session.get("_auth_user_id") == str(user.pk)
    invitation.refresh_from_db()
    assert invitation.accepted_at is not None

    # The link works once.
    for method in (newcomer.get, Client().get):
        again = method(path)
        assert again.status_code == 404
        assert INVITE_INVALID in again.content.decode()
    response = Client().post(path, {"full_name": "Mallory", "password": NEW_PASSWORD})
    assert response.status_code == 404
    assert User.objects.count() == users_before + 1


def test_invite_accept_with_weak_password_keeps_the_invitation(client, personas, on_commit):
    login_as(client, personas.sponsor_a_admin)
    invite(client, on_commit)
    path = invite_path_from_mail(mail.outbox[0])
    newcomer = Client()
    response = newcomer.post(path, {"full_name": "Nova", "password": "12345678"})
    assert response.status_code == 200
    assert response.context["form"].errors["password"]
    assert not User.objects.filter(email="newbie@a.test").exists()
    assert MemberInvite.objects.get().accepted_at is None
    response = newcomer.post(path, {"full_name": "Nova", "password": NEW_PASSWORD})
    assert response.status_code == 302
    assert User.objects.get(email="newbie@a.test").sponsor == personas.sponsor_a


def test_expired_invitation_is_invalid(client, personas, on_commit):
    login_as(client, personas.sponsor_a_admin)
    invite(client, on_commit)
    path = invite_path_from_mail(mail.outbox[0])
    MemberInvite.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    newcomer = Client()
    response = newcomer.get(path)
    assert response.status_code == 404
    assert INVITE_INVALID in response.content.decode()
    response = newcomer.post(path, {"full_name": "Late", "password": NEW_PASSWORD})
    assert response.status_code == 404
    assert not User.objects.filter(email="newbie@a.test").exists()


def test_withdrawn_invitation_is_invalid(client, personas, on_commit):
    login_as(client, personas.sponsor_a_admin)
    invite(client, on_commit)
    path = invite_path_from_mail(mail.outbox[0])
    invitation = MemberInvite.objects.get()
    assert client.post(f"/accounts/invites/{invitation.pk}/revoke/").status_code == 302
    response = Client().get(path)
    assert response.status_code == 404
    assert INVITE_INVALID in response.content.decode()


def test_made_up_invitation_link_is_404(client):
    response = client.get("/accounts/invite/not-a-real-token/")
    assert response.status_code == 404
    assert INVITE_INVALID in response.content.decode()


def test_admin_of_another_sponsor_cannot_withdraw_an_invitation(client, personas, on_commit):
    login_as(client, personas.sponsor_a_admin)
    invite(client, on_commit)
    invitation = MemberInvite.objects.get()
    login_as(client, personas.sponsor_b_admin)
    assert client.post(f"/accounts/invites/{invitation.pk}/revoke/").status_code == 404
    invitation.refresh_from_db()
    assert invitation.revoked_at is None


@pytest.mark.parametrize("persona", ["viewer", "member"])
def test_viewer_or_member_cannot_invite(client, personas, on_commit, persona):
    if persona == "viewer":
        user = personas.sponsor_a_viewer
    else:
        user = UserFactory(email="a-member@a.test", sponsor=personas.sponsor_a, role=Role.MEMBER)
    login_as(client, user)
    assert client.get("/accounts/members/").status_code == 200  # they may see their colleagues
    response = invite(client, on_commit)
    assert response.status_code == 403
    assert not MemberInvite.objects.exists()
    assert mail.outbox == []


def test_inviting_a_colleague_who_is_already_a_member_is_a_form_error(client, personas, on_commit):
    """The admin sees their colleagues on the members page anyway: saying so plainly leaks nothing."""
    login_as(client, personas.sponsor_a_admin)
    response = invite(client, on_commit, email="A-Viewer@a.test")
    assert response.status_code == 200
    assert ALREADY_MEMBER in response.context["invite_form"].errors["email"]
    assert not MemberInvite.objects.exists()
    assert mail.outbox == []


@pytest.mark.parametrize("email", ["b-admin@b.test", "X-ADMIN@x.test"])
def test_inviting_an_address_with_an_account_elsewhere_answers_like_a_new_address(client, personas, on_commit, email):
    """No probing of other organisations' addresses: same answer, same pending row; the owner is told."""
    login_as(client, personas.sponsor_a_admin)
    fresh = invite(client, on_commit, email="nobody-yet@example.test")
    taken = invite(client, on_commit, email=email)
    assert taken.status_code == fresh.status_code == 302
    assert taken["Location"] == fresh["Location"]
    shown = [str(m) for m in client.get("/accounts/members/").context["messages"]]
    assert shown == ["Invitation sent to nobody-yet@example.test.", f"Invitation sent to {email.lower()}."]
    pending = client.get("/accounts/members/").context["invites"]
    assert sorted(i.email for i in pending) == sorted(["nobody-yet@example.test", email.lower()])
    assert [m.to for m in mail.outbox] == [["nobody-yet@example.test"], [email.lower()]]
    assert "already has a cro_cmo account" in mail.outbox[1].body
    assert not INVITE_LINK.search(mail.outbox[1].body)  # nothing to accept with this address
    owner = User.objects.get(email=email.lower())
    assert owner.organisation != personas.sponsor_a  # their account is untouched


def test_invite_with_unknown_role_is_a_form_error(client, personas, on_commit):
    login_as(client, personas.sponsor_a_admin)
    response = invite(client, on_commit, role="owner")
    assert response.status_code == 200
    assert "role" in response.context["invite_form"].errors
    assert not MemberInvite.objects.exists()


def test_members_page_needs_login(client):
    response = client.get("/accounts/members/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


# --- Roles and removal ---------------------------------------------------------------------------


def test_admin_changes_a_colleagues_role(client, personas):
    login_as(client, personas.sponsor_a_admin)
    response = client.post(f"/accounts/members/{personas.sponsor_a_viewer.pk}/role/", {"role": Role.MEMBER})
    assert response.status_code == 302
    personas.sponsor_a_viewer.refresh_from_db()
    assert personas.sponsor_a_viewer.role == Role.MEMBER


def test_admin_can_step_down_when_another_admin_remains(client, personas):
    second = UserFactory(email="a-admin2@a.test", sponsor=personas.sponsor_a, role=Role.ADMIN)
    login_as(client, personas.sponsor_a_admin)
    client.post(f"/accounts/members/{personas.sponsor_a_admin.pk}/role/", {"role": Role.VIEWER})
    personas.sponsor_a_admin.refresh_from_db()
    second.refresh_from_db()
    assert personas.sponsor_a_admin.role == Role.VIEWER
    assert second.role == Role.ADMIN


def test_last_admin_cannot_demote_themselves(client, personas):
    login_as(client, personas.sponsor_a_admin)
    response = client.post(f"/accounts/members/{personas.sponsor_a_admin.pk}/role/", {"role": Role.VIEWER}, follow=True)
    assert response.status_code == 200
    assert LAST_ADMIN in [str(m) for m in response.context["messages"]]
    personas.sponsor_a_admin.refresh_from_db()
    assert personas.sponsor_a_admin.role == Role.ADMIN


def test_deactivated_admin_does_not_count_as_the_remaining_admin(client, personas):
    UserFactory(email="gone@a.test", sponsor=personas.sponsor_a, role=Role.ADMIN, is_active=False)
    login_as(client, personas.sponsor_a_admin)
    client.post(f"/accounts/members/{personas.sponsor_a_admin.pk}/role/", {"role": Role.MEMBER})
    personas.sponsor_a_admin.refresh_from_db()
    assert personas.sponsor_a_admin.role == Role.ADMIN


def test_last_admin_cannot_remove_themselves(client, personas):
    login_as(client, personas.sponsor_a_admin)
    response = client.post(f"/accounts/members/{personas.sponsor_a_admin.pk}/remove/", follow=True)
    assert response.status_code == 200
    assert LAST_ADMIN in [str(m) for m in response.context["messages"]]
    personas.sponsor_a_admin.refresh_from_db()
    assert personas.sponsor_a_admin.is_active


def test_admin_of_sponsor_b_cannot_touch_a_member_of_sponsor_a(client, personas):
    login_as(client, personas.sponsor_b_admin)
    viewer = personas.sponsor_a_viewer
    assert client.post(f"/accounts/members/{viewer.pk}/role/", {"role": Role.ADMIN}).status_code == 404
    assert client.post(f"/accounts/members/{viewer.pk}/remove/").status_code == 404
    viewer.refresh_from_db()
    assert viewer.role == Role.VIEWER and viewer.is_active


def test_vendor_admin_cannot_touch_a_sponsor_member(client, personas):
    login_as(client, personas.vendor_x_admin)
    assert client.post(f"/accounts/members/{personas.sponsor_a_viewer.pk}/remove/").status_code == 404
    personas.sponsor_a_viewer.refresh_from_db()
    assert personas.sponsor_a_viewer.is_active


@pytest.mark.parametrize("path", ["role", "remove"])
def test_viewer_cannot_change_roles_or_remove(client, personas, path):
    login_as(client, personas.vendor_x_viewer)
    response = client.post(f"/accounts/members/{personas.vendor_x_admin.pk}/{path}/", {"role": Role.VIEWER})
    assert response.status_code == 403
    personas.vendor_x_admin.refresh_from_db()
    assert personas.vendor_x_admin.role == Role.ADMIN and personas.vendor_x_admin.is_active


def test_role_change_with_unknown_role_changes_nothing(client, personas):
    login_as(client, personas.sponsor_a_admin)
    response = client.post(f"/accounts/members/{personas.sponsor_a_viewer.pk}/role/", {"role": "owner"})
    assert response.status_code == 302
    personas.sponsor_a_viewer.refresh_from_db()
    assert personas.sponsor_a_viewer.role == Role.VIEWER


def test_role_change_and_removal_need_post(client, personas):
    login_as(client, personas.sponsor_a_admin)
    viewer = personas.sponsor_a_viewer
    for path in ["role", "remove"]:
        response = client.get(f"/accounts/members/{viewer.pk}/{path}/", {"role": Role.ADMIN})
        assert response.status_code == 405, path
        assert response["Allow"] == "POST", path
    viewer.refresh_from_db()
    assert viewer.role == Role.VIEWER and viewer.is_active


def test_removed_member_is_deactivated_and_loses_api_and_browser_access(client, personas):
    viewer = personas.sponsor_a_viewer
    _, key = api_token_create(user=viewer)
    api = token_client(key)
    assert api.get("/api/v1/programs/").status_code == 200
    viewer_browser = login_as(Client(), viewer)
    assert viewer_browser.get("/dashboard/").status_code == 200

    login_as(client, personas.sponsor_a_admin)
    response = client.post(f"/accounts/members/{viewer.pk}/remove/")
    assert response.status_code == 302
    viewer.refresh_from_db()
    assert viewer.is_active is False
    assert User.objects.filter(pk=viewer.pk).exists()  # deactivated, never deleted
    assert not viewer.api_tokens.filter(revoked_at__isnull=True).exists()
    assert api.get("/api/v1/programs/").status_code == 401
    assert post_token(APIClient(), email="a-viewer@a.test", password=PASSWORD).status_code == 400
    assert viewer_browser.get("/dashboard/").status_code == 302  # session no longer authenticates
    members_page = client.get("/accounts/members/")
    assert viewer not in list(members_page.context["members"])


def test_removed_admin_leaves_the_other_admin_in_charge(client, personas):
    second = UserFactory(email="a-admin2@a.test", sponsor=personas.sponsor_a, role=Role.ADMIN)
    login_as(client, personas.sponsor_a_admin)
    client.post(f"/accounts/members/{second.pk}/remove/")
    second.refresh_from_db()
    assert second.is_active is False
    # now the remaining admin is the last one
    client.post(f"/accounts/members/{personas.sponsor_a_admin.pk}/remove/")
    personas.sponsor_a_admin.refresh_from_db()
    assert personas.sponsor_a_admin.is_active


# --- Password reset ------------------------------------------------------------------------------


def test_password_reset_round_trip(client, personas):
    response = client.post("/accounts/password_reset/", {"email": "A-Admin@a.test"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["a-admin@a.test"]
    match = RESET_LINK.search(message.body)
    assert match, message.body
    reset = Client()
    page = reset.get(match.group(1), follow=True)
    assert page.status_code == 200
    assert page.context["validlink"] is True
    set_password_path = page.redirect_chain[-1][0]
    response = reset.post(set_password_path, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    personas.sponsor_a_admin.refresh_from_db()
    assert personas.sponsor_a_admin.check_password(NEW_PASSWORD)
    assert post_login(Client(), "a-admin@a.test", NEW_PASSWORD).status_code == 302
    assert post_login(Client(), "a-admin@a.test", PASSWORD).status_code == 200
    # The link works once.
    assert Client().get(match.group(1), follow=True).context["validlink"] is False


def test_password_reset_rejects_a_weak_new_password(client, personas):
    client.post("/accounts/password_reset/", {"email": "a-admin@a.test"})
    path = RESET_LINK.search(mail.outbox[0].body).group(1)
    page = client.get(path, follow=True)
    response = client.post(page.redirect_chain[-1][0], {"new_password1": "12345678", "new_password2": "12345678"})
    assert response.status_code == 200
    assert response.context["form"].errors
    personas.sponsor_a_admin.refresh_from_db()
    assert personas.sponsor_a_admin.check_password(PASSWORD)


def test_password_reset_answers_alike_for_known_unknown_and_inactive_addresses(client, personas):
    """Same redirect, same page; each address gets one e-mail (only its owner reads which kind)."""
    User.objects.filter(pk=personas.sponsor_a_viewer.pk).update(is_active=False)
    answers = {
        email: client.post("/accounts/password_reset/", {"email": email}, follow=True)
        for email in ("a-admin@a.test", "nobody@nowhere.test", "a-viewer@a.test")
    }
    assert {r.redirect_chain[-1] for r in answers.values()} == {("/accounts/password_reset/done/", 302)}
    pages = {main_text(r) for r in answers.values()}
    assert len(pages) == 1 and "Check your e-mail" in pages.pop()
    assert [m.to for m in mail.outbox] == [["a-admin@a.test"], ["nobody@nowhere.test"], ["a-viewer@a.test"]]
    assert RESET_LINK.search(mail.outbox[0].body)
    for message in mail.outbox[1:]:
        assert not RESET_LINK.search(message.body)
        assert "no active account uses this address" in message.body


# --- The last-admin rule holds under concurrent changes ---------------------------------------------


def _concurrently(calls):
    """Run each call in its own thread and database connection, released together by a barrier."""
    import threading

    from django.core.exceptions import ValidationError
    from django.db import connection

    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=30)
            call()
            outcomes[index] = "ok"
        except ValidationError as exc:
            outcomes[index] = " ".join(exc.messages)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


@pytest.mark.postgres_only
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks under real concurrency need PostgreSQL")
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
@pytest.mark.parametrize(
    "first,second",
    [("demote", "demote"), ("remove", "remove"), ("demote", "remove")],
)
def test_two_admins_changing_each_other_at_once_leave_exactly_one_admin(first, second, attempt):
    """Was: both demotions committed (2 of 2 tries) and the organisation had no admin."""
    from accounts import services
    from tests.factories import SponsorFactory

    sponsor = SponsorFactory(name="Race Pharma", slug="race-pharma")
    ann = UserFactory(email="ann@race.test", sponsor=sponsor, role=Role.ADMIN)
    bob = UserFactory(email="bob@race.test", sponsor=sponsor, role=Role.ADMIN)

    def act(kind, actor, member):
        if kind == "demote":
            return lambda: services.member_change_role(actor=actor, member=member, role=Role.MEMBER)
        return lambda: services.member_remove(actor=actor, member=member)

    outcomes = _concurrently([act(first, ann, bob), act(second, bob, ann)])
    assert sorted(o == "ok" for o in outcomes) == [False, True], outcomes
    refused = next(o for o in outcomes if o != "ok")
    assert refused in (services.NO_LONGER_ADMIN, LAST_ADMIN)
    admins = User.objects.filter(sponsor=sponsor, role=Role.ADMIN, is_active=True)
    assert admins.count() == 1


@pytest.mark.postgres_only
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks under real concurrency need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_admins_demoting_a_third_and_each_other_keep_an_admin():
    """Three admins, three concurrent demotions in a ring: at least one admin remains."""
    from accounts import services
    from tests.factories import SponsorFactory

    sponsor = SponsorFactory(name="Ring Pharma", slug="ring-pharma")
    people = [UserFactory(email=f"{n}@ring.test", sponsor=sponsor, role=Role.ADMIN) for n in ("a", "b", "c")]
    calls = [
        (lambda actor=actor, member=member: services.member_change_role(actor=actor, member=member, role=Role.VIEWER))
        for actor, member in zip(people, people[1:] + people[:1], strict=True)
    ]
    outcomes = _concurrently(calls)
    assert outcomes.count("ok") in (1, 2), outcomes
    assert User.objects.filter(sponsor=sponsor, role=Role.ADMIN, is_active=True).count() >= 1


# --- Timing: the taken-address path does the same slow work as the free one ------------------------


class CountingMD5PasswordHasher(MD5PasswordHasher):
    """MD5 hashing (fast in tests) that counts how often a password is hashed."""

    algorithm = "counting_md5"
    calls = 0

    def encode(self, password, salt):
        type(self).calls += 1
        return super().encode(password, salt)


@pytest.mark.parametrize("email", ["nina@nimbus.test", "a-admin@a.test"])
def test_signup_hashes_the_password_once_whether_or_not_the_address_is_taken(client, personas, on_commit, email,
                                                                            settings):  # fmt: skip
    """Hashing is the slow step (PBKDF2, ~0.3 s): a path without it would answer measurably faster."""
    settings.PASSWORD_HASHERS = ["tests.test_accounts.CountingMD5PasswordHasher"]
    CountingMD5PasswordHasher.calls = 0
    response = post_signup(client, on_commit, signup_data(email=email))
    assert response.status_code == 302
    assert CountingMD5PasswordHasher.calls == 1
    assert len(mail.outbox) == 1  # and both send exactly one e-mail
