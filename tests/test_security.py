"""Deployment checks, Content Security Policy, self-hosted assets, error pages.

``check --deploy`` runs in a subprocess with a production-like environment; everything else
goes through the test client and parses the HTML it gets back.
"""

import os
import re
import secrets
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.test import Client

from tests.conftest import PASSWORD
from tests.factories import SponsorFactory, UserFactory

pytestmark = pytest.mark.django_db

REPO = Path(__file__).resolve().parent.parent
CHECK_DEPLOY = [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"]
SMTP = "django.core.mail.backends.smtp.EmailBackend"


# --- check --deploy ------------------------------------------------------------------------------


def production_env(tmp_path, **overrides):
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "DJANGO_SETTINGS_MODULE": "cro_cmo.settings",
        "ENV_FILE": os.devnull,  # a developer's local .env must not change what is checked
        "VAR_DIR": str(tmp_path / "var"),
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(45)[:60],  # 60 random characters
        "HTTPS": "true",
        "ALLOWED_HOSTS": "cro.example.com",
        "EMAIL_BACKEND": SMTP,
        "EMAIL_HOST": "smtp.example.com",
    }
    environment.update(overrides)
    return {name: value for name, value in environment.items() if value is not None}


def check_deploy(tmp_path, **overrides):
    result = subprocess.run(
        CHECK_DEPLOY,
        cwd=REPO,
        env=production_env(tmp_path, **overrides),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return result, result.stdout + result.stderr


def issue_ids(output):
    return set(re.findall(r"\(([a-z_]+\.[EW]\d{3})\)", output))


def test_check_deploy_reports_no_issues_at_warning_level(tmp_path):
    """Production shape: DEBUG off, a 60-character random key, HTTPS, one host, SMTP e-mail."""
    result, output = check_deploy(tmp_path)
    assert result.returncode == 0, output
    assert "System check identified no issues" in output
    assert issue_ids(output) == set()


def test_check_deploy_flags_console_email_in_production(tmp_path):
    """With no EMAIL_BACKEND the default is the console: production would silently lose every e-mail."""
    result, output = check_deploy(tmp_path, EMAIL_BACKEND=None, EMAIL_HOST=None)
    assert result.returncode != 0
    assert "mail.E001" in issue_ids(output)


def test_check_deploy_without_https_flags_the_https_settings(tmp_path):
    """The single HTTPS switch is what turns on HSTS, the redirect and secure cookies."""
    result, output = check_deploy(tmp_path, HTTPS=None)
    assert result.returncode != 0
    assert {"security.W004", "security.W008", "security.W012", "security.W016"} <= issue_ids(output)


def test_check_deploy_rejects_a_weak_secret_key(tmp_path):
    result, output = check_deploy(tmp_path, SECRET_KEY="short-and-predictable")
    assert result.returncode != 0
    assert "security.W009" in issue_ids(output)


# --- HTML inspection -----------------------------------------------------------------------------


class AssetParser(HTMLParser):
    """Collects scripts, stylesheets/icons, inline styles and inline event handlers of a page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.scripts = []  # attrs of every <script>
        self.script_bodies = []
        self.links = []  # href of every <link rel=stylesheet|icon|preload|modulepreload>
        self.style_blocks = 0
        self.inline_handlers = []  # (tag, attribute) of on*="..." attributes
        self.style_attributes = []
        self.javascript_urls = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.inline_handlers.append((tag, name))
            if name == "style":
                self.style_attributes.append(tag)
            if name in ("href", "src", "action", "formaction") and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.javascript_urls.append((tag, value))
        if tag == "script":
            self.scripts.append(attributes)
            self._in_script = True
            self.script_bodies.append("")
        elif tag == "link":
            rels = set((attributes.get("rel") or "").lower().split())
            if rels & {"stylesheet", "icon", "preload", "modulepreload", "manifest"}:
                self.links.append(attributes.get("href") or "")
        elif tag == "style":
            self.style_blocks += 1

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.script_bodies[-1] += data


def parse(response):
    parser = AssetParser()
    parser.feed(response.content.decode())
    return parser


def csp_directives(response):
    header = response.get("Content-Security-Policy")
    assert header, "no Content-Security-Policy header"
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = words[1:]
    return directives


def is_local_static(url):
    parts = urlsplit(url)
    return not parts.scheme and not parts.netloc and parts.path.startswith("/static/")


@pytest.fixture
def signed_in(db):
    """A second browser, signed in as a sponsor admin (the ``client`` fixture stays anonymous)."""
    sponsor = SponsorFactory(name="CSP Pharma", slug="csp-pharma")
    user = UserFactory(email="csp@example.test", sponsor=sponsor)
    browser = Client()
    browser.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return browser


PUBLIC_PAGES = ["/", "/accounts/login/", "/accounts/signup/", "/accounts/password_reset/", "/this-does-not-exist/"]
SIGNED_IN_PAGES = ["/dashboard/", "/accounts/members/", "/notifications/", "/vendors/"]


def get_page(client, signed_in, path):
    browser = signed_in if path in SIGNED_IN_PAGES else client
    response = browser.get(path)
    assert response.status_code in (200, 404), (path, response.status_code)
    return browser, response


@pytest.mark.parametrize("path", PUBLIC_PAGES + SIGNED_IN_PAGES)
def test_csp_header_forbids_inline_script(client, signed_in, path):
    _, response = get_page(client, signed_in, path)
    directives = csp_directives(response)
    script_src = directives.get("script-src", directives.get("default-src"))
    assert script_src is not None
    assert "'unsafe-inline'" not in script_src
    assert "'unsafe-eval'" not in script_src
    assert "'unsafe-inline'" not in directives.get("style-src", [])
    assert not any(source.startswith(("http:", "https:", "*")) or source == "*" for source in script_src)
    assert directives["default-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["base-uri"] == ["'self'"]


@pytest.mark.parametrize("path", PUBLIC_PAGES + SIGNED_IN_PAGES)
def test_page_has_no_inline_script_style_or_handler(client, signed_in, path):
    _, response = get_page(client, signed_in, path)
    page = parse(response)
    assert page.scripts, "every page loads its scripts from files"
    assert [s for s in page.scripts if not s.get("src")] == []
    assert [body for body in page.script_bodies if body.strip()] == []
    assert page.style_blocks == 0
    assert page.inline_handlers == []
    assert page.style_attributes == []
    assert page.javascript_urls == []


@pytest.mark.parametrize("path", PUBLIC_PAGES + SIGNED_IN_PAGES)
def test_every_script_and_stylesheet_is_local_static_and_served(client, signed_in, path):
    browser, response = get_page(client, signed_in, path)
    page = parse(response)
    assets = [s["src"] for s in page.scripts] + page.links
    assert any(url.endswith(".css") for url in assets)
    assert [url for url in assets if not is_local_static(url)] == []
    for url in assets:
        served = browser.get(url)
        assert served.status_code == 200, url
        body = b"".join(served.streaming_content) if served.streaming else served.content
        assert body, url


def test_base_assets_are_bootstrap_and_htmx(client):
    page = parse(client.get("/"))
    scripts = [s["src"] for s in page.scripts]
    assert any("htmx" in src for src in scripts)
    assert any("bootstrap" in src and src.endswith(".js") for src in scripts)
    assert any("bootstrap" in href and href.endswith(".css") for href in page.links)
    for src in scripts:
        assert client.get(src)["Content-Type"].split(";")[0] in ("text/javascript", "application/javascript")
    for href in page.links:
        if href.endswith(".css"):
            assert client.get(href)["Content-Type"].startswith("text/css")


def test_security_headers(client):
    response = client.get("/accounts/login/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_session_cookie_from_a_real_login_is_http_only(client):
    UserFactory(email="cookie@example.test")
    response = client.post("/accounts/login/", {"username": "cookie@example.test", "password": PASSWORD})
    assert response.status_code == 302
    cookie = response.cookies["sessionid"]
    assert cookie["httponly"]
    assert cookie["samesite"].lower() in ("lax", "strict")


# --- API docs: interactive, but with no internet access --------------------------------------------


def test_api_docs_load_with_no_external_host(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "cdn" not in html.lower()
    page = parse(response)
    assert page.scripts
    urls = [s.get("src", "") for s in page.scripts] + page.links
    for url in urls:
        assert url, "inline script on the docs page"
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc, url
        assert parts.path.startswith("/")
    for tag in re.findall(r"<(?:script|link)\b[^>]*>", html):
        assert "https://" not in tag and "http://" not in tag, tag
    for url in urls:
        served = client.get(url)
        assert served.status_code == 200, url
        body = b"".join(served.streaming_content) if served.streaming else served.content
        assert b"cdn.jsdelivr" not in body and b"unpkg.com" not in body, url


def test_api_docs_script_points_at_the_local_schema(client):
    page = parse(client.get("/api/docs/"))
    own = [s["src"] for s in page.scripts if s["src"].startswith("/api/docs/")]
    assert own, "the Swagger UI initialiser is served as a file, not inline"
    script = client.get(own[0])
    assert script.status_code == 200
    body = script.content.decode()
    assert "/api/schema/" in body
    assert "https://" not in body and "http://" not in body
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/auth/token/" in schema.content


def test_api_docs_csp_forbids_inline_script(client):
    directives = csp_directives(client.get("/api/docs/"))
    assert "'unsafe-inline'" not in directives["script-src"]


def test_api_docs_have_no_inline_style(client):
    assert parse(client.get("/api/docs/")).style_blocks == 0


# --- Error pages ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/this-does-not-exist/", "/accounts/nope", "/static/no-such-file.js"])
def test_unknown_browser_url_is_our_404_page(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "404.html" in [t.name for t in response.templates]
    html = response.content.decode()
    assert "Page not found" in html
    assert "<title>Not found" in html
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("path", ["/no/such/page/", "/vendors/no-such-vendor-slug/", "/programs/999999999/"])
def test_unknown_browser_url_is_our_404_page_when_signed_in(signed_in, path):
    response = signed_in.get(path)
    assert response.status_code == 404
    assert "404.html" in [t.name for t in response.templates]
    assert "Page not found" in response.content.decode()


@pytest.mark.parametrize("path", ["/api/v1/nope/", "/api/v1/nope", "/api/nope/", "/api/v1/programs/1/nope/"])
def test_unknown_api_url_is_404_json(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"detail": "Not found."}


@pytest.mark.parametrize("path", ["/api/v1/programs/999999999/", "/api/v1/programs/not-a-number/", "/api/v1/nope/"])
def test_unknown_api_object_is_404_json_for_a_signed_in_client(signed_in, path):
    response = signed_in.get(path)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert "detail" in response.json()


# --- API responses are never stored by caches ---------------------------------------------------


@pytest.mark.parametrize(
    "method,path,data,expected_status",
    [
        ("post", "/api/v1/auth/token/", {"email": "csp@example.test", "password": PASSWORD}, 200),  # holds a token
        ("post", "/api/v1/auth/token/", {"email": "csp@example.test", "password": "wrong"}, 400),
        ("post", "/api/v1/auth/token/", {}, 400),
        ("get", "/api/v1/programs/", None, 401),
        ("get", "/api/v1/nope/", None, 404),
        ("delete", "/api/v1/auth/token/", None, 405),
        ("get", "/api/schema/", None, 200),
    ],
)
def test_api_responses_carry_cache_control_no_store_anonymous(signed_in, method, path, data, expected_status):
    from rest_framework.test import APIClient

    response = (
        getattr(APIClient(), method)(path, data, format="json")
        if data is not None
        else getattr(APIClient(), method)(path)
    )
    assert response.status_code == expected_status
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", ["/api/v1/programs/", "/api/v1/vendors/", "/api/v1/programs/999999/"])
def test_api_responses_carry_cache_control_no_store_signed_in(signed_in, path):
    response = signed_in.get(path)
    assert response.status_code in (200, 404)
    assert response["Cache-Control"] == "no-store"


def test_throttled_api_response_carries_cache_control_no_store(db):
    from django.core.cache import cache
    from rest_framework.test import APIClient

    cache.clear()
    client = APIClient()
    responses = [client.post("/api/v1/auth/token/", {}, format="json") for _ in range(21)]
    assert responses[-1].status_code == 429
    assert {r["Cache-Control"] for r in responses} == {"no-store"}
    cache.clear()


def test_browser_pages_keep_their_own_caching(client):
    assert "no-store" not in client.get("/").get("Cache-Control", "")


# --- Offerings: cross-relation rules on partial updates; inactive offerings, one visibility rule -----


@pytest.fixture
def offering_x(personas):
    from vendors.models import Capability, ServiceCategory, ServiceOffering

    offering = ServiceOffering.objects.create(
        vendor=personas.vendor_x, category=ServiceCategory.objects.get(code="clinical-trials")
    )
    offering.capabilities.set([Capability.objects.get(slug="phase-iii")])
    return offering


def test_patching_only_the_category_cannot_keep_the_old_categorys_capabilities(personas, offering_x, api_client_for):
    client = api_client_for(personas.vendor_x_admin)
    response = client.patch(f"/api/v1/offerings/{offering_x.pk}/", {"category": "data-management"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"capabilities": ["Not capabilities of Data Management: Phase III."]}
    offering_x.refresh_from_db()
    assert offering_x.category.code == "clinical-trials"
    # Sending the new category's capabilities with it is the way to move the offering.
    response = client.patch(
        f"/api/v1/offerings/{offering_x.pk}/",
        {"category": "data-management", "capabilities": ["biostatistics"]},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["capabilities"] == ["biostatistics"]


def test_patching_other_fields_keeps_valid_relations(personas, offering_x, api_client_for):
    response = api_client_for(personas.vendor_x_admin).patch(
        f"/api/v1/offerings/{offering_x.pk}/", {"lead_time_weeks": 6}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["capabilities"] == ["phase-iii"]


def test_put_without_relations_checks_the_current_ones(personas, offering_x, api_client_for):
    response = api_client_for(personas.vendor_x_admin).put(
        f"/api/v1/offerings/{offering_x.pk}/", {"category": "data-management", "is_active": True}, format="json"
    )
    assert response.status_code == 400
    assert "capabilities" in response.json()


@pytest.fixture
def inactive_offering(offering_x):
    offering_x.is_active = False
    offering_x.save()
    return offering_x


OFFERING_SEES_INACTIVE = {"vendor_x_admin": True, "vendor_x_viewer": True, "staff": True, "vendor_y_admin": False,
                          "sponsor_a_admin": False, "sponsor_a_viewer": False, "sponsor_b_admin": False}  # fmt: skip


@pytest.mark.parametrize("persona", sorted(OFFERING_SEES_INACTIVE))
def test_inactive_offering_is_hidden_from_the_api_as_on_the_profile(
    personas, inactive_offering, api_client_for, browser_client_for, persona
):
    """Was: hidden on the profile, listed by /api/v1/offerings/ to everyone."""
    user = getattr(personas, persona)
    sees = OFFERING_SEES_INACTIVE[persona]
    api = api_client_for(user)
    listed = [row["id"] for row in api.get("/api/v1/offerings/").json()["results"]]
    assert (inactive_offering.pk in listed) == sees
    assert api.get(f"/api/v1/offerings/{inactive_offering.pk}/").status_code == (200 if sees else 404)
    browser = browser_client_for(user)
    assert browser.get(f"/vendors/offerings/{inactive_offering.pk}/").status_code == (200 if sees else 404)
    profile = browser.get("/vendors/vendor-x/")
    assert (inactive_offering in profile.context["offerings"]) == sees
    assert inactive_offering not in [o for _, items in profile.context["offering_groups"] for o in items]


def test_active_offering_is_listed_for_everyone(personas, offering_x, api_client_for):
    for persona in OFFERING_SEES_INACTIVE:
        listed = [
            r["id"] for r in api_client_for(getattr(personas, persona)).get("/api/v1/offerings/").json()["results"]
        ]
        assert offering_x.pk in listed, persona


# --- Certificates: no active content; documents only through the access-checked download --------


PLAIN_PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def _pdf_with(body: bytes) -> bytes:
    return b"%PDF-1.7\n" + body + b"\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def _flate_object_stream(dictionary: bytes) -> bytes:
    import zlib

    data = zlib.compress(b"5 0 " + dictionary)
    return b"3 0 obj<</Type/ObjStm/N 1/First 4/Filter/FlateDecode/Length %d>>stream\n%s\nendstream endobj" % (
        len(data),
        data,
    )


ACTIVE_PDFS = {
    "javascript": (_pdf_with(b"1 0 obj<</Type/Catalog/Names<</JavaScript 4 0 R>>>>endobj"), "JavaScript"),
    "js action": (_pdf_with(b"4 0 obj<</S/JavaScript/JS(app.alert(1))>>endobj"), "JavaScript"),
    "open action": (_pdf_with(b"1 0 obj<</Type/Catalog/OpenAction 4 0 R>>endobj"), "an action run on opening"),
    "additional actions": (_pdf_with(b"6 0 obj<</Type/Page/AA<</O 4 0 R>>>>endobj"), "automatic actions"),
    "launch": (_pdf_with(b"4 0 obj<</S/Launch/F(cmd.exe)>>endobj"), "a command that launches programs"),
    "embedded file": (
        _pdf_with(b"7 0 obj<</Type/EmbeddedFile/Length 3>>stream\nabc\nendstream endobj"),
        "embedded files",
    ),
    "embedded files tree": (_pdf_with(b"1 0 obj<</Names<</EmbeddedFiles 8 0 R>>>>endobj"), "embedded files"),
    "rich media": (_pdf_with(b"9 0 obj<</Subtype/RichMedia>>endobj"), "rich media (Flash or video)"),
    "hex-escaped name": (_pdf_with(b"4 0 obj<</S/J#61vaScript/J#53 (x)>>endobj"), "JavaScript"),
    "hex-escaped open action": (_pdf_with(b"1 0 obj<</#4FpenAction 4 0 R>>endobj"), "an action run on opening"),
    "inside a compressed object stream": (
        _pdf_with(_flate_object_stream(b"<</OpenAction<</S/Launch>>>>")),
        "an action run on opening",
    ),
}


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def certificate_form(**overrides):
    data = {"type": "gmp", "authority": "mhra", "number": "UK-GMP-1", "issued_on": "2025-01-01",
            "expires_on": "2028-01-01"}  # fmt: skip
    data.update(overrides)
    return data


@pytest.mark.parametrize("case", sorted(ACTIVE_PDFS))
def test_browser_upload_of_a_pdf_with_active_content_is_refused(personas, browser_client_for, media, case):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from vendors.documents import PDF_ACTIVE_CONTENT
    from vendors.models import Certification

    content, feature = ACTIVE_PDFS[case]
    response = browser_client_for(personas.vendor_x_admin).post(
        "/vendors/certificates/new/", {**certificate_form(), "document": SimpleUploadedFile("gmp.pdf", content)}
    )
    assert response.status_code == 200
    errors = response.context["form"].errors["document"]
    assert len(errors) == 1 and feature in errors[0]
    assert errors[0].startswith(PDF_ACTIVE_CONTENT.split("{found}")[0])
    assert not Certification.objects.exists()
    assert not any(media.rglob("*.pdf"))


@pytest.mark.parametrize("case", sorted(ACTIVE_PDFS))
def test_api_upload_of_a_pdf_with_active_content_is_400(personas, api_client_for, media, case):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from vendors.models import Certification

    content, feature = ACTIVE_PDFS[case]
    response = api_client_for(personas.vendor_x_admin).post(
        "/api/v1/certifications/",
        {**certificate_form(), "document": SimpleUploadedFile("gmp.pdf", content)},
        format="multipart",
    )
    assert response.status_code == 400
    [message] = response.json()["document"]
    assert message.startswith("This PDF contains active content (") and feature in message
    assert not Certification.objects.exists()


def test_every_active_feature_is_named_in_one_message(personas):
    from vendors.documents import active_content

    combined = _pdf_with(b"1 0 obj<</OpenAction<</S/JavaScript/JS(x)>>/AA<<>>>>endobj")
    assert active_content(combined) == ["JavaScript", "an action run on opening", "automatic actions"]


@pytest.mark.parametrize(
    "content",
    [
        PLAIN_PDF,
        _pdf_with(_flate_object_stream(b"<</Type/Page/Contents 6 0 R>>")),
        _pdf_with(b"4 0 obj<</JSONData 1/AAX 2/Javascript 3>>endobj"),  # look-alike names are not active
    ],
)
def test_plain_pdfs_are_accepted_and_served_as_a_download(personas, api_client_for, browser_client_for, media,
                                                         content):  # fmt: skip
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = api_client_for(personas.vendor_x_admin).post(
        "/api/v1/certifications/",
        {**certificate_form(), "document": SimpleUploadedFile("gmp.pdf", content)},
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    pk = response.json()["id"]
    # The API names the access-checked download, not a path under /media/.
    assert response.json()["document"] == f"http://testserver/vendors/certificates/{pk}/document/"
    download = browser_client_for(personas.sponsor_a_admin).get(f"/vendors/certificates/{pk}/document/")
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"] == 'attachment; filename="vendor-x-gmp.pdf"'
    assert download["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in download["Content-Security-Policy"]
    assert b"".join(download.streaming_content) == content


def test_a_compressed_bomb_is_scanned_within_bounds(personas):
    """A 10 MB-capped upload whose stream inflates to gigabytes: decompression stops at the budget."""
    import time
    import zlib

    from vendors.documents import MAX_INFLATED_BYTES, active_content

    bomb = zlib.compress(b"\0" * (256 * 1024 * 1024), 9)
    content = _pdf_with(b"3 0 obj<</Filter/FlateDecode>>stream\n" + bomb + b"\nendstream endobj")
    assert len(content) < 10 * 1024 * 1024
    started = time.monotonic()
    assert active_content(content) == []
    assert time.monotonic() - started < 10
    assert MAX_INFLATED_BYTES < 256 * 1024 * 1024


def test_document_download_needs_sign_in_and_a_document(personas, browser_client_for, client, media):
    from vendors.models import Certification

    cert = Certification.objects.create(vendor=personas.vendor_x, type="gmp", authority="mhra",
                                        issued_on="2025-01-01")  # fmt: skip
    url = f"/vendors/certificates/{cert.pk}/document/"
    anonymous = client.get(url)
    assert anonymous.status_code == 302
    assert anonymous["Location"] == f"/accounts/login/?next={url}"
    signed_in = browser_client_for(personas.sponsor_a_admin)
    refusals = [signed_in.get(url)]  # no document
    refusals.append(signed_in.get("/vendors/certificates/999999/document/"))
    Certification.objects.filter(pk=cert.pk).update(document="certificates/gone.pdf")
    refusals.append(signed_in.get(url))  # missing in storage
    for response in refusals:
        assert response.status_code == 404
        # The site's "Page not found", not a half-sent download.
        assert response["Content-Type"].startswith("text/html")
        assert "Content-Disposition" not in response
        assert "Page not found" in response.content.decode()


@pytest.mark.parametrize("debug", [False, True])
def test_media_files_are_never_served_by_url(personas, browser_client_for, media, settings, debug):
    """Even with DEBUG, /media/ has no route: the stored path of a document gives nothing."""
    import importlib

    from django.urls import Resolver404, clear_url_caches, resolve

    import cro_cmo.urls

    (media / "certificates").mkdir()
    (media / "certificates" / "x.pdf").write_bytes(PLAIN_PDF)
    settings.DEBUG = debug
    clear_url_caches()
    importlib.reload(cro_cmo.urls)
    try:
        with pytest.raises(Resolver404):
            resolve("/media/certificates/x.pdf")
        response = browser_client_for(personas.vendor_x_admin).get("/media/certificates/x.pdf")
        assert response.status_code == 404
        assert b"%PDF" not in response.content and response["Content-Type"].startswith("text/html")
    finally:
        settings.DEBUG = False
        importlib.reload(cro_cmo.urls)
        clear_url_caches()
