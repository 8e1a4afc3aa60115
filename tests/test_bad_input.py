"""No 500 on any input: each bad input the security review found, sent as it came, answered clearly.

The API answers 400 with a field error (``{"name": ["message"]}``) or a plain 404; the browser shows a
form error, or ignores the filter and says so. Run on PostgreSQL too: it rejects NUL bytes in text,
out-of-range time-zone offsets and over-long tsvectors where SQLite says nothing.
"""

import json

import pytest
from django.test import Client

from cro_cmo.api.pagination import PAGE_SIZE_MESSAGE
from cro_cmo.middleware_input import BAD_CHARACTER_MESSAGE, NUMBER_TOO_LARGE_MESSAGE
from notifications.models import Notification, OutboxEvent
from sponsors.models import Program
from vendors.models import ServiceCategory, ServiceOffering, Site, Vendor

pytestmark = pytest.mark.django_db

NUL = "\x00"
SURROGATE = "\ud800"
OUT_OF_RANGE_OFFSET = "2025-01-01T00:00:00+16:00"
API_LISTS = ["/api/v1/sites/", "/api/v1/offerings/", "/api/v1/certifications/", "/api/v1/vendors/",
             "/api/v1/programs/", "/api/v1/sponsors/"]  # fmt: skip


@pytest.fixture
def offering(personas):
    category = ServiceCategory.objects.get(code="clinical-trials")
    return ServiceOffering.objects.create(vendor=personas.vendor_x, category=category, description="Phase I–III")


# --- updated_after with an offset no time zone has -----------------------------------------------------


@pytest.mark.parametrize("url", API_LISTS)
def test_api_updated_after_with_an_impossible_offset_is_a_400_on_that_field(personas, api_client_for, url):
    user = personas.sponsor_a_admin if "program" in url or "sponsor" in url else personas.vendor_x_admin
    response = api_client_for(user).get(url, {"updated_after": OUT_OF_RANGE_OFFSET})
    assert response.status_code == 400
    assert response.json() == {"updated_after": ["Enter a valid date/time."]}


@pytest.mark.parametrize(
    "value", ["2025-01-01T00:00:00+14:00", "2025-01-01T00:00:00-12:00", "2025-01-01T00:00:00Z", "2025-01-01"]
)
def test_api_updated_after_keeps_real_offsets(personas, api_client_for, value):
    response = api_client_for(personas.sponsor_a_admin).get("/api/v1/programs/", {"updated_after": value})
    assert response.status_code == 200
    assert [row["code"] for row in response.json()["results"]] == ["A-1"]


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_api_updated_after_at_the_edge_of_the_calendar_is_a_400(personas, api_client_for, value):
    response = api_client_for(personas.sponsor_a_admin).get("/api/v1/programs/", {"updated_after": value})
    assert response.status_code == 400
    assert "updated_after" in response.json()


def test_browser_list_shows_the_bad_updated_after_as_a_filter_error(personas, browser_client_for):
    client = browser_client_for(personas.sponsor_a_admin)
    response = client.get("/programs/", {"updated_after": OUT_OF_RANGE_OFFSET})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Enter a valid date/time." in page
    assert "A-1" not in page  # an invalid filter lists nothing rather than everything


def test_directory_shows_the_bad_updated_after_as_a_filter_error(personas, browser_client_for):
    client = browser_client_for(personas.sponsor_a_admin)
    response = client.get("/vendors/", {"updated_after": OUT_OF_RANGE_OFFSET})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Enter a valid date/time." in page
    assert 'href="/vendors/vendor-x/"' not in page


# --- NUL bytes and lone surrogates ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "param"),
    [
        ("/api/v1/offerings/", "category"),
        ("/api/v1/offerings/", "capability"),
        ("/api/v1/offerings/", "vendor_slug"),
        ("/api/v1/sites/", "vendor"),
        ("/api/v1/vendors/", "q"),
        ("/api/v1/vendors/", "kind"),
        ("/api/v1/vendors/", "ordering"),
        ("/api/v1/capabilities/", "category"),
        ("/api/v1/service-categories/", "code"),
    ],
)
def test_api_nul_in_a_query_parameter_is_a_400_on_that_parameter(personas, api_client_for, url, param):
    response = api_client_for(personas.vendor_x_admin).get(url, {param: f"a{NUL}b"})
    assert response.status_code == 400
    assert response.json() == {param: [BAD_CHARACTER_MESSAGE]}


def test_api_nul_in_a_query_parameter_name_is_a_400(personas, api_client_for):
    response = api_client_for(personas.vendor_x_admin).get(f"/api/v1/vendors/?k{NUL}ind=cro")
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": [BAD_CHARACTER_MESSAGE]}


@pytest.mark.parametrize(
    ("url_name", "body", "field"),
    [
        ("vendor", {"kind": SURROGATE}, "kind"),
        ("vendor", {"hq_country": SURROGATE}, "hq_country"),
        ("vendor", {"description": f"ok {NUL} not ok"}, "description"),
        ("vendor", {"name": SURROGATE + "x"}, "name"),
        ("offering", {"category": NUL}, "category"),
        ("offering", {"capabilities": [f"phase-1{NUL}"]}, "capabilities"),
        ("offering", {"description": {"nested": [SURROGATE]}}, "description"),
    ],
)
def test_api_nul_or_lone_surrogate_in_a_json_body_is_a_400_on_that_field(
    personas, api_client_for, offering, url_name, body, field
):
    url = f"/api/v1/vendors/{personas.vendor_x.pk}/" if url_name == "vendor" else f"/api/v1/offerings/{offering.pk}/"
    # json.dumps escapes both as \u0000 / \ud800, exactly as an integrator's JSON library would send them.
    response = api_client_for(personas.vendor_x_admin).patch(url, json.dumps(body), content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {field: [BAD_CHARACTER_MESSAGE]}
    personas.vendor_x.refresh_from_db()
    assert personas.vendor_x.kind == "cro"


def test_api_lone_surrogate_in_a_json_list_body_is_a_400(personas, api_client_for):
    response = api_client_for(personas.vendor_x_admin).post(
        "/api/v1/sites/", json.dumps([SURROGATE]), content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": [BAD_CHARACTER_MESSAGE]}


def test_api_json_nested_thousands_deep_is_a_400(personas, api_client_for):
    response = api_client_for(personas.vendor_x_admin).post(
        "/api/v1/sites/", "[" * 100_000 + "]" * 100_000, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["The JSON is nested too deeply."]}


def test_api_escaped_backslash_before_u0000_is_fine(personas, api_client_for):
    """Only the characters count, not text that looks like an escape: ``\\\\u0000`` is a backslash and 'u0000'."""
    response = api_client_for(personas.vendor_x_admin).patch(
        f"/api/v1/vendors/{personas.vendor_x.pk}/", '{"description": "C:\\\\u0000"}', content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json()["description"] == "C:\\u0000"


def test_compare_with_a_nul_byte_ignores_it_and_says_so(personas, browser_client_for):
    client = browser_client_for(personas.sponsor_a_admin)
    response = client.get("/vendors/compare/?v=vendor-x&v=vendor-y&v=%00", follow=True)
    assert response.redirect_chain == [("/vendors/compare/?v=vendor-x&v=vendor-y", 302)]
    assert response.status_code == 200
    page = response.content.decode()
    assert "Vendor X" in page and "Vendor Y" in page
    assert "Ignored “v” in the address" in page


def test_browser_list_filter_with_a_nul_byte_is_ignored_with_a_message(personas, browser_client_for):
    client = browser_client_for(personas.sponsor_a_admin)
    response = client.get("/programs/?q=%00&phase=phase-2", follow=True)
    assert response.redirect_chain == [("/programs/?phase=phase-2", 302)]
    page = response.content.decode()
    assert "A-1" in page
    assert "Ignored “q” in the address" in page


@pytest.mark.parametrize("query", ["category=%00", "country=%00", "kind=%00", "capability=a%00b", "q=%00"])
def test_directory_filter_with_a_nul_byte_is_ignored(personas, browser_client_for, query):
    response = browser_client_for(personas.sponsor_a_admin).get(f"/vendors/?{query}", follow=True)
    assert response.redirect_chain == [("/vendors/", 302)]
    assert response.status_code == 200
    assert "Vendor X" in response.content.decode()


def test_browser_form_with_a_nul_byte_is_a_form_error(personas, browser_client_for):
    client = browser_client_for(personas.vendor_x_admin)
    site = Site.objects.create(vendor=personas.vendor_x, name="Plant", city="Basel", country="CH")
    response = client.post(
        f"/vendors/sites/{site.pk}/edit/", {"name": f"Pl{NUL}ant", "city": "Basel", "country": "CH", "activities": ""}
    )
    assert response.status_code == 200
    assert "Null characters are not allowed." in response.content.decode()
    site.refresh_from_db()
    assert site.name == "Plant"


# --- numbers that are not numbers ----------------------------------------------------------------------


@pytest.mark.parametrize("page_size", ["²", "٣", "9" * 5000, "-1", "0"])
def test_directory_page_size_that_is_not_a_plain_number_falls_back_to_the_default(
    personas, browser_client_for, page_size
):
    response = browser_client_for(personas.sponsor_a_admin).get("/vendors/", {"page_size": page_size})
    assert response.status_code == 200
    assert "Vendor X" in response.content.decode()


@pytest.mark.parametrize("value", ["²", "٣", "-1", "0", "abc", "1.5"])
def test_api_page_size_that_is_not_a_whole_number_is_a_400_on_that_parameter(personas, api_client_for, value):
    response = api_client_for(personas.sponsor_a_admin).get("/api/v1/programs/", {"page_size": value})
    assert response.status_code == 400
    assert response.json() == {"page_size": [PAGE_SIZE_MESSAGE.format(maximum=500)]}


@pytest.mark.parametrize(("value", "rows"), [("9" * 5000, 1), ("0001", 1), ("600", 1)])
def test_api_page_size_above_the_maximum_is_capped(personas, api_client_for, value, rows):
    response = api_client_for(personas.sponsor_a_admin).get("/api/v1/programs/", {"page_size": value})
    assert response.status_code == 200
    assert len(response.json()["results"]) == rows


@pytest.mark.parametrize("value", ["²", "9" * 5000, "abc", "0", "2"])
def test_api_page_that_is_not_a_page_is_the_declared_404(personas, api_client_for, value):
    response = api_client_for(personas.sponsor_a_admin).get("/api/v1/programs/", {"page": value})
    assert response.status_code == 404
    assert response.json() == {"detail": "Invalid page."}


def test_api_boolean_filter_refuses_words_it_does_not_know(personas, api_client_for):
    client = api_client_for(personas.sponsor_a_admin)
    for url, name in [("/api/v1/certifications/", "valid"), ("/api/v1/users/", "is_active"),
                      ("/api/v1/notifications/", "unread"), ("/api/v1/vendors/", "verified")]:  # fmt: skip
        response = client.get(url, {name: "null"})
        assert response.status_code == 400, url
        assert response.json() == {name: ["Enter true or false."]}
    active = client.get("/api/v1/users/", {"is_active": "FALSE"})
    assert active.status_code == 200
    assert active.json()["count"] == 0
    assert client.get("/api/v1/users/", {"is_active": "1"}).json()["count"] == 2


@pytest.mark.parametrize("bad_id", ["9" * 4400, "²", "-1", "1.5", "0x10"])
def test_mark_read_ignores_ids_that_are_not_ids(personas, browser_client_for, bad_id):
    user = personas.sponsor_a_admin
    client = browser_client_for(user)
    event = OutboxEvent.objects.create(event_type="test", title="Hello")
    note = Notification.objects.create(user=user, event=event)
    response = client.post("/notifications/mark-read/", {"id": bad_id})
    assert response.status_code == 302
    note.refresh_from_db()
    assert note.read_at is None  # garbage ids mark nothing (and never "all")


# --- text that is too long -----------------------------------------------------------------------------


def test_api_vendor_description_over_the_cap_is_a_400(personas, api_client_for):
    huge = "word " * 240_000  # 1.2 MB: PostgreSQL's tsvector refused it with a 500
    response = api_client_for(personas.vendor_x_admin).patch(
        f"/api/v1/vendors/{personas.vendor_x.pk}/", {"description": huge}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"description": ["Ensure this field has no more than 10000 characters."]}


def test_vendor_description_at_the_cap_is_saved_and_searchable(personas, api_client_for):
    text = ("lyophilisation " + "x" * 9984)[:10_000]
    response = api_client_for(personas.vendor_x_admin).patch(
        f"/api/v1/vendors/{personas.vendor_x.pk}/", {"description": text}, format="json"
    )
    assert response.status_code == 200
    found = api_client_for(personas.sponsor_a_admin).get("/api/v1/vendors/", {"q": "lyophilisation"}).json()
    assert [row["slug"] for row in found["results"]] == ["vendor-x"]


def test_browser_profile_description_over_the_cap_is_a_form_error(personas, browser_client_for):
    client = browser_client_for(personas.vendor_x_admin)
    vendor = personas.vendor_x
    data = {"name": vendor.name, "kind": vendor.kind, "hq_country": "GB", "description": "x" * 10_001}
    response = client.post(f"/vendors/{vendor.slug}/edit/", data)
    assert response.status_code == 200
    assert "Ensure this value has at most 10000 characters (it has 10001)." in response.content.decode()


@pytest.mark.parametrize(
    ("model", "field", "cap"),
    [(Vendor, "description", 10_000), (Site, "activities", 5_000), (ServiceOffering, "description", 5_000),
     (ServiceCategory, "description", 2_000)],
)  # fmt: skip
def test_every_free_text_field_has_a_cap_that_full_clean_enforces(model, field, cap):
    """The catalogue import validates with full_clean(), so the cap must be a model validator, not only a form limit."""
    model_field = model._meta.get_field(field)
    assert model_field.max_length == cap
    with pytest.raises(Exception) as error:
        model_field.clean("x" * (cap + 1), None)
    assert f"at most {cap} characters" in str(error.value)


# --- the browsable API was a 500 for personas who cannot create -------------------------------------


@pytest.mark.parametrize(
    "url", ["/api/v1/sites/", "/api/v1/offerings/", "/api/v1/certifications/", "/api/v1/programs/"]
)
@pytest.mark.parametrize("persona", ["sponsor_a_admin", "vendor_x_admin", "vendor_x_viewer"])
def test_asking_the_api_for_html_never_500s(personas, url, persona):
    client = Client()
    client.force_login(getattr(personas, persona), backend="django.contrib.auth.backends.ModelBackend")
    response = client.get(url, HTTP_ACCEPT="text/html")
    assert response.status_code == 406
    assert response["Content-Type"] == "application/json"
    assert "detail" in response.json()
    browser_like = client.get(url, HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8")
    assert browser_like.status_code == 200
    assert browser_like["Content-Type"] == "application/json"


# --- found by the fuzz (tests/test_api_fuzz.py) ------------------------------------------------------


@pytest.mark.parametrize("body", ["1", "[]", "true", '{"ids": null}', '{"ids": [true]}', '{"ids": "1"}'])
def test_mark_read_api_refuses_what_is_not_a_list_of_ids_and_marks_nothing(personas, api_client_for, body):
    event = OutboxEvent.objects.create(event_type="test", title="Hello")
    note = Notification.objects.create(user=personas.sponsor_a_admin, event=event)
    response = api_client_for(personas.sponsor_a_admin).post(
        "/api/v1/notifications/mark-read/", body, content_type="application/json"
    )
    assert response.status_code == 400  # these once meant "mark all read"
    note.refresh_from_db()
    assert note.read_at is None


def test_api_takes_json_not_forms(personas, api_client_for):
    response = api_client_for(personas.sponsor_a_admin).post(
        "/api/v1/programs/", "code=X-1&name=X&phase=", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415  # a form's empty `phase=` used to create a pre-clinical programme
    assert "application/x-www-form-urlencoded" in response.json()["detail"]  # says which type it refused
    assert not Program.objects.filter(code="X-1").exists()


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"name": 0.6}, "name", "Must be a string."),
        ({"founded_year": "1990"}, "founded_year", "Must be a whole number."),
        ({"founded_year": True}, "founded_year", "Must be a whole number."),
        ({"description": ["a"]}, "description", "Must be a string."),
    ],
)
def test_api_json_values_of_the_wrong_type_are_field_errors(personas, api_client_for, body, field, message):
    response = api_client_for(personas.vendor_x_admin).patch(
        f"/api/v1/vendors/{personas.vendor_x.pk}/", body, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {field: [message]}


def test_api_empty_multipart_body_is_a_400(personas, api_client_for):
    site = Site.objects.create(vendor=personas.vendor_x, name="Plant", city="Basel", country="CH")
    response = api_client_for(personas.vendor_x_admin).post(
        "/api/v1/certifications/",
        b"--b\r\nFalse--b--\r\n",
        content_type="multipart/form-data; boundary=b",
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "The multipart body has no fields."}
    assert not site.certifications.exists()


@pytest.mark.parametrize("value", [str(2**63), "165117537534208311296", "-" + "9" * 30])
def test_api_id_filter_beyond_64_bits_is_a_400(personas, api_client_for, value):
    response = api_client_for(personas.vendor_x_admin).get("/api/v1/sites/", {"vendor": value})
    assert response.status_code == 400
    assert list(response.json()) == ["vendor"]


def test_api_json_integer_beyond_64_bits_is_a_400(personas, api_client_for):
    response = api_client_for(personas.sponsor_a_admin).post(
        "/api/v1/notifications/mark-read/", {"ids": [1, -(2**70)]}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"ids": [NUMBER_TOO_LARGE_MESSAGE]}


@pytest.mark.parametrize(
    "path", [f"/api/v1/sites/{2**64}/", f"/api/v1/vendors/{10**30}/history/", "/api/v1/users/1e5/"]
)
def test_api_detail_id_beyond_64_bits_is_a_404(personas, api_client_for, path):
    response = api_client_for(personas.vendor_x_admin).get(path)
    assert response.status_code == 404
    assert set(response.json()) == {"detail"}


def test_a_vendor_with_hundreds_of_long_site_texts_still_saves_and_searches(personas, api_client_for):
    """Each text is capped, their sum is not: the search text is cut below PostgreSQL's 1 MB tsvector."""
    import random

    from vendors.services import SEARCH_TEXT_MAX, vendor_search_refresh

    words = random.Random(7)
    for n in range(300):  # 300 × 5 000 distinct-ish characters ≈ 1.5 MB of text
        activities = " ".join(f"w{words.randrange(10**9)}" for _ in range(450))[:5000]
        Site.objects.create(
            vendor=personas.vendor_x, name=f"Site {n}", city="Basel", country="CH", activities=activities
        )
    Site.objects.filter(vendor=personas.vendor_x, name="Site 0").update(activities="aseptic fill-finish")
    assert vendor_search_refresh([personas.vendor_x.pk]) == 1
    assert len(Vendor.objects.get(pk=personas.vendor_x.pk).search_text) <= SEARCH_TEXT_MAX
    response = api_client_for(personas.vendor_x_admin).patch(
        f"/api/v1/vendors/{personas.vendor_x.pk}/", {"description": "Still editable"}, format="json"
    )
    assert response.status_code == 200
    found = api_client_for(personas.sponsor_a_admin).get("/api/v1/vendors/", {"q": "aseptic"}).json()
    assert [row["slug"] for row in found["results"]] == ["vendor-x"]
