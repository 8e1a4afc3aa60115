"""The API shell every resource shares: schema and docs, health, pagination, ordering, incremental sync,
validation errors (400, never 500), owners set by the server, roles, and tenant isolation (404)."""

import json
from datetime import UTC, datetime, timedelta

import pytest
import yaml
from rest_framework.exceptions import NotAuthenticated
from rest_framework.test import APIClient

from accounts.authentication import TOKEN_INVALID
from accounts.models import Role
from cro_cmo.api.pagination import PageNumberPagination
from cro_cmo.api.permissions import VIEWER_READ_ONLY
from cro_cmo.celery import app as celery_app
from sponsors.models import Program
from tests.factories import ProgramFactory, SponsorFactory, UserFactory
from vendors.models import Vendor

pytestmark = pytest.mark.django_db

PROGRAMS = "/api/v1/programs/"


# --- Schema, docs, health ----------------------------------------------------------------------------


def test_openapi_schema_yaml():
    response = APIClient().get("/api/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    assert {"/api/v1/programs/", "/api/v1/programs/{id}/", "/api/v1/programs/{id}/history/"} <= set(schema["paths"])
    assert "post" in schema["paths"]["/api/v1/auth/token/"]
    assert "/api/v1/notifications/mark-read/" in schema["paths"]


def test_openapi_schema_json():
    response = APIClient().get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = json.loads(response.content)
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/programs/" in schema["paths"]
    assert "/api/v1/auth/token/" in schema["paths"]


def test_api_docs_load_without_the_internet():
    response = APIClient().get("/api/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "swagger" in page.lower()
    # The Swagger UI comes from the sidecar (served locally), not a CDN.
    assert "cdn.jsdelivr" not in page and "unpkg.com" not in page


def test_healthz_reports_database_and_broker():
    response = APIClient().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_healthz_is_503_and_says_why_when_the_broker_is_down(monkeypatch):
    monkeypatch.setattr(celery_app.conf, "broker_url", "redis://127.0.0.1:1/0")  # nothing listens on port 1
    response = APIClient().get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["database"] == "ok"
    assert body["broker"].startswith("error")


# --- Pagination, ordering, incremental sync -------------------------------------------------------


@pytest.fixture
def busy_sponsor():
    sponsor = SponsorFactory(name="Busy Pharma", slug="busy-pharma")
    user = UserFactory(email="admin@busy.test", sponsor=sponsor, role=Role.ADMIN)
    programs = ProgramFactory.create_batch(60, sponsor=sponsor)
    return user, programs


def test_pagination_walks_three_pages_by_next_links(busy_sponsor, api_client_for):
    user, programs = busy_sponsor
    client = api_client_for(user)
    first = client.get(PROGRAMS, {"page_size": 25}).json()
    assert first["count"] == 60
    assert first["previous"] is None

    seen, pages, url = [], 0, PROGRAMS + "?page_size=25"
    while url:
        response = client.get(url)
        assert response.status_code == 200
        body = response.json()
        assert body["count"] == 60
        seen += [row["id"] for row in body["results"]]
        pages += 1
        url = body["next"]
    assert pages == 3
    assert len(seen) == len(set(seen)) == 60
    assert set(seen) == {p.pk for p in programs}


def test_a_page_past_the_end_is_404(busy_sponsor, api_client_for):
    user, _ = busy_sponsor
    client = api_client_for(user)
    assert client.get(PROGRAMS, {"page_size": 25, "page": 3}).status_code == 200  # the last page exists
    response = client.get(PROGRAMS, {"page_size": 25, "page": 4})
    assert response.status_code == 404
    assert response.json() == {"detail": PageNumberPagination.invalid_page_message}


def test_ordering(busy_sponsor, api_client_for):
    user, programs = busy_sponsor
    client = api_client_for(user)
    descending = client.get(PROGRAMS, {"ordering": "-code", "page_size": 500}).json()["results"]
    codes = [row["code"] for row in descending]
    assert codes == sorted((p.code for p in programs), reverse=True)
    ascending = client.get(PROGRAMS, {"ordering": "code", "page_size": 500}).json()["results"]
    assert [row["code"] for row in ascending] == codes[::-1]


def test_updated_after_returns_rows_changed_at_or_after_it(busy_sponsor, api_client_for):
    user, programs = busy_sponsor
    cutoff = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
    old, at, new = programs[0], programs[1], programs[2]
    Program.objects.filter(sponsor=old.sponsor).update(updated=cutoff - timedelta(days=1))
    Program.objects.filter(pk=at.pk).update(updated=cutoff)
    Program.objects.filter(pk=new.pk).update(updated=cutoff + timedelta(seconds=1))

    client = api_client_for(user)
    for value in (cutoff.isoformat(), "2030-01-01T12:00:00Z"):
        body = client.get(PROGRAMS, {"updated_after": value}).json()
        assert {row["id"] for row in body["results"]} == {at.pk, new.pk}, value
    later = client.get(PROGRAMS, {"updated_after": "2030-01-01T12:00:00.500000+00:00"}).json()
    assert [row["id"] for row in later["results"]] == [new.pk]


@pytest.mark.parametrize("value", ["yesterday", "2030-13-45T00:00:00Z", "2030-01-01T25:00"])
def test_malformed_updated_after_is_a_400_on_that_field(personas, api_client_for, value):
    response = api_client_for(personas.sponsor_a_admin).get(PROGRAMS, {"updated_after": value})
    assert response.status_code == 400
    assert list(response.json()) == ["updated_after"]


@pytest.mark.parametrize("resource", ["programs", "sponsors", "vendors", "notifications"])
def test_every_list_accepts_updated_after(personas, api_client_for, resource):
    client = api_client_for(personas.sponsor_a_admin)
    assert client.get(f"/api/v1/{resource}/").status_code == 200
    future = client.get(f"/api/v1/{resource}/", {"updated_after": "2999-01-01T00:00:00Z"})
    assert future.status_code == 200
    assert future.json()["count"] == 0
    past = client.get(f"/api/v1/{resource}/", {"updated_after": "2000-01-01T00:00:00Z"})
    assert past.json()["count"] == client.get(f"/api/v1/{resource}/").json()["count"]
    assert client.get(f"/api/v1/{resource}/", {"updated_after": "garbage"}).status_code == 400


def test_unknown_choice_in_a_filter_is_a_400_on_that_field(personas, api_client_for):
    response = api_client_for(personas.sponsor_a_admin).get(PROGRAMS, {"phase": "phase-9"})
    assert response.status_code == 400
    assert list(response.json()) == ["phase"]


def test_known_choice_filter_filters(personas, api_client_for):
    ProgramFactory(sponsor=personas.sponsor_a, code="P3", phase="phase-3")
    body = api_client_for(personas.sponsor_a_admin).get(PROGRAMS, {"phase": "phase-3"}).json()
    assert [row["code"] for row in body["results"]] == ["P3"]


# --- Writing: validation ---------------------------------------------------------------------------


def program_body(**overrides):
    body = {"code": "NEW-1", "name": "New programme", "phase": "phase-1", "therapeutic_area": "oncology"}
    body.update(overrides)
    return body


def test_create_returns_201_with_money_as_a_decimal_string(personas, api_client_for):
    response = api_client_for(personas.sponsor_a_admin).post(
        PROGRAMS, program_body(budget_cap="1234567.5", budget_currency="USD"), format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["budget_cap"] == "1234567.50"
    assert response.json()["budget_currency"] == "USD"


def test_duplicate_code_for_the_same_sponsor_is_a_400_not_a_500(personas, api_client_for):
    client = api_client_for(personas.sponsor_a_admin)
    response = client.post(PROGRAMS, program_body(code=personas.program_a.code), format="json")
    assert response.status_code == 400
    message = json.dumps(response.json()).lower()
    assert "code" in message and "already" in message
    assert Program.objects.filter(sponsor=personas.sponsor_a, code=personas.program_a.code).count() == 1


def test_patching_to_a_duplicate_code_is_a_400(personas, api_client_for):
    other = ProgramFactory(sponsor=personas.sponsor_a, code="A-2")
    response = api_client_for(personas.sponsor_a_admin).patch(
        f"{PROGRAMS}{other.pk}/", {"code": personas.program_a.code}, format="json"
    )
    assert response.status_code == 400
    other.refresh_from_db()
    assert other.code == "A-2"


def test_the_same_code_is_fine_for_another_sponsor(personas, api_client_for):
    response = api_client_for(personas.sponsor_b_admin).post(
        PROGRAMS, program_body(code=personas.program_a.code), format="json"
    )
    assert response.status_code == 201
    assert response.json()["sponsor"] == personas.sponsor_b.pk
    assert set(Program.objects.filter(code=personas.program_a.code).values_list("sponsor", flat=True)) == {
        personas.sponsor_a.pk,
        personas.sponsor_b.pk,
    }


def test_missing_name_is_a_field_error(personas, api_client_for):
    body = program_body()
    del body["name"]
    response = api_client_for(personas.sponsor_a_admin).post(PROGRAMS, body, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["name"]
    assert isinstance(response.json()["name"], list)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"phase": "phase-9"}, "phase"),
        ({"budget_cap": "-1.00", "budget_currency": "EUR"}, "budget_cap"),
        ({"budget_cap": "12.345", "budget_currency": "EUR"}, "budget_cap"),
        ({"budget_cap": "lots", "budget_currency": "EUR"}, "budget_cap"),
        ({"budget_cap": "10.00", "budget_currency": "XXX"}, "budget_currency"),
        ({"budget_cap": "10.00"}, "budget_currency"),  # the model's clean(): a cap needs a currency
        ({"code": "x" * 33}, "code"),
    ],
)
def test_invalid_values_are_field_errors(personas, api_client_for, overrides, field):
    response = api_client_for(personas.sponsor_a_admin).post(PROGRAMS, program_body(**overrides), format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_the_server_sets_the_sponsor_whatever_the_body_says(personas, api_client_for):
    response = api_client_for(personas.sponsor_a_admin).post(
        PROGRAMS, program_body(sponsor=personas.sponsor_b.pk), format="json"
    )
    assert response.status_code == 201
    assert response.json()["sponsor"] == personas.sponsor_a.pk
    assert Program.objects.get(pk=response.json()["id"]).sponsor == personas.sponsor_a


def test_patch_cannot_move_a_programme_to_another_sponsor(personas, api_client_for):
    program = personas.program_a
    response = api_client_for(personas.sponsor_a_admin).patch(
        f"{PROGRAMS}{program.pk}/", {"sponsor": personas.sponsor_b.pk, "name": "Still ours"}, format="json"
    )
    assert response.status_code == 200
    program.refresh_from_db()
    assert program.sponsor == personas.sponsor_a and program.name == "Still ours"


def test_malformed_json_is_a_400(personas, api_client_for):
    response = api_client_for(personas.sponsor_a_admin).post(
        PROGRAMS, data='{"code": "X", "name": ', content_type="application/json"
    )
    assert response.status_code == 400
    assert "detail" in response.json()


def test_json_that_is_not_an_object_is_a_400(personas, api_client_for):
    before = Program.objects.count()
    response = api_client_for(personas.sponsor_a_admin).post(PROGRAMS, data="[1, 2]", content_type="application/json")
    assert response.status_code == 400
    assert list(response.json()) == ["non_field_errors"]
    assert "dictionary" in response.json()["non_field_errors"][0]
    assert Program.objects.count() == before


# --- Writing: roles and reach ----------------------------------------------------------------------


def test_a_vendor_cannot_create_a_programme(personas, api_client_for):
    response = api_client_for(personas.vendor_x_admin).post(PROGRAMS, program_body(), format="json")
    assert response.status_code == 403
    assert "sponsor" in response.json()["detail"]
    assert not Program.objects.filter(code="NEW-1").exists()


def test_a_viewer_cannot_write(personas, api_client_for):
    client = api_client_for(personas.sponsor_a_viewer)
    created = client.post(PROGRAMS, program_body(), format="json")
    assert created.status_code == 403
    assert created.json() == {"detail": VIEWER_READ_ONLY}
    patched = client.patch(f"{PROGRAMS}{personas.program_a.pk}/", {"name": "Viewer was here"}, format="json")
    assert patched.status_code == 403
    assert patched.json() == {"detail": VIEWER_READ_ONLY}
    deleted = client.delete(f"{PROGRAMS}{personas.program_a.pk}/")
    assert deleted.status_code == 403
    personas.program_a.refresh_from_db()
    assert personas.program_a.name != "Viewer was here"
    assert not Program.objects.filter(code="NEW-1").exists()


def test_a_viewer_still_reads(personas, api_client_for):
    response = api_client_for(personas.sponsor_a_viewer).get(f"{PROGRAMS}{personas.program_a.pk}/")
    assert response.status_code == 200
    assert response.json()["id"] == personas.program_a.pk
    assert response.json()["code"] == "A-1"


@pytest.mark.parametrize("method", ["patch", "put", "delete"])
def test_another_sponsors_programme_is_404_for_writes(personas, api_client_for, method):
    client = api_client_for(personas.sponsor_b_admin)
    response = getattr(client, method)(f"{PROGRAMS}{personas.program_a.pk}/", program_body(), format="json")
    assert response.status_code == 404
    assert Program.objects.filter(pk=personas.program_a.pk, code="A-1").exists()


def test_a_vendor_edits_only_its_own_profile(personas, api_client_for):
    url = f"/api/v1/vendors/{personas.vendor_x.pk}/"
    intruder = api_client_for(personas.vendor_y_admin).patch(url, {"description": "Hijacked"}, format="json")
    assert intruder.status_code == 404
    sponsor = api_client_for(personas.sponsor_a_admin).patch(url, {"description": "Hijacked"}, format="json")
    assert sponsor.status_code == 404
    assert Vendor.objects.get(pk=personas.vendor_x.pk).description != "Hijacked"

    owner = api_client_for(personas.vendor_x_admin).patch(
        url, {"description": "Phase I–III, 12 countries."}, format="json"
    )
    assert owner.status_code == 200, owner.json()
    assert owner.json()["description"] == "Phase I–III, 12 countries."
    assert Vendor.objects.get(pk=personas.vendor_x.pk).description == "Phase I–III, 12 countries."


def test_a_vendor_viewer_cannot_edit_its_own_profile(personas, api_client_for):
    url = f"/api/v1/vendors/{personas.vendor_x.pk}/"
    response = api_client_for(personas.vendor_x_viewer).patch(url, {"description": "Viewer"}, format="json")
    assert response.status_code == 403
    assert response.json() == {"detail": VIEWER_READ_ONLY}
    assert Vendor.objects.get(pk=personas.vendor_x.pk).description != "Viewer"


def test_vendor_server_managed_fields_are_read_only(personas, api_client_for):
    url = f"/api/v1/vendors/{personas.vendor_x.pk}/"
    response = api_client_for(personas.vendor_x_admin).patch(
        url, {"verified_at": "2030-01-01T00:00:00Z", "slug": "renamed"}, format="json"
    )
    assert response.status_code == 200
    vendor = Vendor.objects.get(pk=personas.vendor_x.pk)
    assert vendor.verified_at is None and vendor.slug == "vendor-x"


# --- Authentication --------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [PROGRAMS, "/api/v1/vendors/", "/api/v1/notifications/"])
def test_unauthenticated_is_401(personas, url):
    response = APIClient().get(url)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Token")


def test_unauthenticated_write_is_401(personas):
    response = APIClient().post(PROGRAMS, program_body(), format="json")
    assert response.status_code == 401
    assert response.json() == {"detail": NotAuthenticated.default_detail}
    assert not Program.objects.filter(code="NEW-1").exists()


def test_a_bad_token_is_401(personas):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = client.get(PROGRAMS)
    assert response.status_code == 401
    assert response.json() == {"detail": TOKEN_INVALID}


def test_a_deactivated_users_token_stops_working(personas, api_client_for):
    client = api_client_for(personas.sponsor_a_admin)
    assert client.get(PROGRAMS).status_code == 200
    personas.sponsor_a_admin.is_active = False
    personas.sponsor_a_admin.save()
    response = client.get(PROGRAMS)
    assert response.status_code == 401
    assert response.json() == {"detail": TOKEN_INVALID}
    assert "A-1" not in response.content.decode()


def test_token_endpoint_issues_a_working_token(personas):
    from tests.conftest import PASSWORD

    response = APIClient().post("/api/v1/auth/token/", {"email": "A-Admin@a.test", "password": PASSWORD}, format="json")
    assert response.status_code == 200
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    assert [row["code"] for row in client.get(PROGRAMS).json()["results"]] == ["A-1"]


def test_token_endpoint_rejects_a_wrong_password_with_400(personas):
    response = APIClient().post("/api/v1/auth/token/", {"email": "a-admin@a.test", "password": "nope"}, format="json")
    assert response.status_code == 400
    assert "token" not in response.json()
