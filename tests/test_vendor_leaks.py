"""Nothing a vendor can reach carries a sponsor's secrets or another vendor's bid.

A whole sourcing story runs through the services — three vendors invited, questions, proposals, files,
scores, closing, award — and then vendor X's people (admin and viewer) crawl everything they can reach:
every page and every link, form target and htmx URL on it; every API list and every object in it, with
their history; every export and download; every notification and e-mail sent to them. Each response
is searched for the secrets:

- the RFP's budget ceiling, in every way it could be written;
- vendor Y's and vendor Z's prices and proposal text, and the scores;
- the other invitees' names — except on the public vendor directory (SPEC §3: everyone signed in sees
  every vendor), which the crawl reaches too but where a name is no secret.

The crawl follows links rather than a list of routes, so a page added later is searched the day it is
linked from anywhere a vendor can go.
"""

import io
import json
import re
import zipfile
from collections import deque
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urljoin, urlsplit

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from contracts import services
from contracts.models import RFP, Proposal
from notifications.models import Notification
from notifications.services import outbox_deliver_pending
from sponsors.models import VendorQualification
from tests.factories import RFPFactory, UserFactory, VendorFactory

pytestmark = pytest.mark.django_db(transaction=False)

CEILING = Decimal("737373.00")
# Every spelling of the ceiling a page, an export or a message could use.
CEILING_SPELLINGS = ["737373", "737,373", "737 373", "737.373", "737\u202f373", "737\xa0373"]
Y_PRICE, Z_PRICE = Decimal("515151.00"), Decimal("626262.00")
Y_SECRETS = ["515151", "515,151", "Y timeline secret QZLY", "Y assumption secret QZLY", "Y line secret QZLY"]
Z_SECRETS = ["626262", "626,262", "Z timeline secret QZLZ", "Z assumption secret QZLZ"]
SCORE_COMMENT = "Scorer comment secret QZLS"
Y_QUESTION = "Question asked by Y QZLQ"  # the text is shared with every invitee; who asked is not
Y_ATTACHMENT = b"%PDF-1.4\n% Y attachment secret QZLF\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"

# Directory pages and resources: public to every signed-in user, so vendor names appear there by design.
DIRECTORY_PATHS = re.compile(
    r"^/vendors/|^/api/v1/(vendors|sites|offerings|certifications|capabilities|service-categories)/"
)
NEVER_FOLLOW = re.compile(r"^/(static|media|admin)/|/logout/|^/accounts/(logout|password)|^/api/(schema|docs)/")
MAX_FETCHES = 1500
# Directory facets multiply URLs without reaching anything new: a few variants of each path are enough.
MAX_QUERY_VARIANTS = 3


def _line(description: str, price: Decimal) -> dict:
    return {"description": description, "quantity": 1, "unit": "lot", "unit_price": price, "pass_through": False}


def _milestones(total: Decimal):
    return [
        {"name": "Start-up", "due_offset_days": 0, "amount": total / 2},
        {"name": "Close-out", "due_offset_days": 120, "amount": total / 2},
    ]


@pytest.fixture
def story(personas):
    """Sponsor A's RFP with a ceiling, vendors X, Y and Z invited; all three bid, Y asks, A answers and
    attaches a file; it closes, A scores and awards Y; X and Z are rejected. A second, sealed RFP is still
    open with Y's bid in it. Then every event is delivered (notifications and e-mails)."""
    p = personas
    vendor_z = VendorFactory(name="Zeta Labs QZLZ", slug="zeta-labs")
    z_admin = UserFactory(email="z-admin@z.test", vendor=vendor_z, role="admin")
    y_name_marker = p.vendor_y.name
    for vendor in [p.vendor_x, p.vendor_y, vendor_z]:
        VendorQualification.objects.create(sponsor=p.sponsor_a, vendor=vendor, status="approved")

    rfp = RFPFactory(program=p.program_a, title="Leak RFP QZL", budget_ceiling=CEILING, budget_currency="EUR")
    services.rfp_invite(actor=p.sponsor_a_admin, rfp=rfp, vendors=[p.vendor_x, p.vendor_y, vendor_z])
    services.rfp_publish(actor=p.sponsor_a_admin, rfp=rfp)
    services.question_ask(actor=p.vendor_y_admin, rfp=rfp, text=Y_QUESTION)
    question = rfp.questions.get()
    services.question_answer(actor=p.sponsor_a_admin, question=question, answer="The answer for everyone QZLA")

    bids = {}
    for actor, price, text in [
        (p.vendor_x_admin, Decimal("400000.00"), "X timeline QZLX"),
        (p.vendor_y_admin, Y_PRICE, "Y timeline secret QZLY"),
        (z_admin, Z_PRICE, "Z timeline secret QZLZ"),
    ]:
        letter = text[0]
        proposal = services.proposal_save_draft(
            actor=actor,
            rfp=rfp,
            data={
                "total_price": price,
                "currency": "EUR",
                "timeline": text,
                "assumptions": f"{letter} assumption secret QZL{letter}",
            },
            line_items=[_line(f"{letter} line secret QZL{letter}", price)],
            milestones=_milestones(price),
        )
        services.proposal_submit(actor=actor, proposal=proposal)
        bids[letter] = proposal
    _attach(p.vendor_y_admin, bids["Y"])

    sealed = RFPFactory(
        program=p.program_a, title="Sealed leak RFP QZLS", sealed=True, budget_ceiling=CEILING, budget_currency="EUR"
    )
    services.rfp_invite(actor=p.sponsor_a_admin, rfp=sealed, vendors=[p.vendor_x, p.vendor_y])
    services.rfp_publish(actor=p.sponsor_a_admin, rfp=sealed)
    sealed_bid = services.proposal_save_draft(
        actor=p.vendor_y_admin,
        rfp=sealed,
        data={"total_price": Y_PRICE, "currency": "EUR", "timeline": "Y timeline secret QZLY"},
        milestones=_milestones(Y_PRICE),
    )
    services.proposal_submit(actor=p.vendor_y_admin, proposal=sealed_bid)
    # X's own draft in the sealed RFP (its edit page is crawled), the sponsor's attachment to it (a download
    # X may make) and a contract between A and X (its pages too).
    services.proposal_save_draft(
        actor=p.vendor_x_admin, rfp=sealed, data={"total_price": Decimal("1000.00"), "currency": "EUR"}
    )
    from contracts.services.documents import document_upload
    from tests.factories import ContractFactory, MilestoneFactory

    document_upload(
        actor=p.sponsor_a_admin, target=sealed, title="Specification", file=SimpleUploadedFile("spec.txt", b"Spec")
    )
    MilestoneFactory(contract=ContractFactory(sponsor=p.sponsor_a, vendor=p.vendor_x, title="X contract QZLC"))

    RFP.objects.filter(pk=rfp.pk).update(response_deadline=timezone.now() - timedelta(minutes=1))
    services.rfp_close_due()
    _score(p.sponsor_a_admin, bids)
    services.proposal_reject(actor=p.sponsor_a_admin, proposal=bids["Z"], reason="Too expensive")
    services.rfp_award(actor=p.sponsor_a_admin, proposal=Proposal.objects.get(pk=bids["Y"].pk))
    while outbox_deliver_pending():
        pass
    return {"rfp": rfp, "sealed": sealed, "names": [y_name_marker, vendor_z.name], "bids": bids}


def _attach(actor, proposal):
    """Vendor Y's proposal file, when documents exist (the documents service)."""
    from contracts.services.documents import document_upload

    document_upload(
        actor=actor, target=proposal, title="Y technical annex", file=SimpleUploadedFile("annex.pdf", Y_ATTACHMENT)
    )


def _score(actor, bids):
    from contracts.services.scoring import score_save

    rfp = bids["X"].rfp
    for criterion in rfp.criteria.all():
        for proposal in bids.values():
            score_save(actor=actor, proposal=proposal, criterion=criterion, score=Decimal("7.5"), comment=SCORE_COMMENT)


def _text(response) -> str:
    """What a response says, whatever its format: HTML/JSON/text as is, XLSX/DOCX unzipped, PDFs raw."""
    content = b"".join(response.streaming_content) if response.streaming else response.content
    if content[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return "\n".join(archive.read(name).decode("utf-8", "replace") for name in archive.namelist())
    return content.decode("utf-8", "replace")


def _api_links(url: str, text: str) -> list[str]:
    """From an API list: each row's detail and history (rows carry ids); from any JSON: its API URLs."""
    found = re.findall(r'"(?:https?://testserver)?(/api/v1/[^"?]*(?:\?[^"]*)?)"', text)
    path = urlsplit(url).path
    if path.count("/") == 4:  # /api/v1/<prefix>/ — a list
        try:
            rows = json.loads(text).get("results", [])
        except (ValueError, AttributeError):
            rows = []
        for row in rows:
            if isinstance(row, dict) and "id" in row:
                found += [f"{path}{row['id']}/", f"{path}{row['id']}/history/"]
    return found


def _links(url: str, text: str, content_type: str) -> list[str]:
    if "json" in content_type:
        found = _api_links(url, text)
    else:
        found = re.findall(r'(?:href|action|hx-get|data-url|src)="([^"#]+)', text)
    links = []
    for link in found:
        absolute = urljoin(url, link.replace("&amp;", "&"))
        parts = urlsplit(absolute)
        if parts.netloc not in ("", "testserver") or NEVER_FOLLOW.search(parts.path):
            continue
        links.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return links


def crawl(client: Client, starts: list[str], api_headers: dict | None = None):
    """Breadth-first GET of everything reachable from ``starts``; yields (url, text) of each 200."""
    seen: set[str] = set()
    variants: dict[str, int] = {}
    queue = deque(starts)
    fetched = 0
    while queue:
        url = queue.popleft()
        path = url.split("?")[0]
        if url in seen or ("?" in url and variants.get(path, 0) >= MAX_QUERY_VARIANTS):
            continue
        seen.add(url)
        if "?" in url:
            variants[path] = variants.get(path, 0) + 1
        fetched += 1
        assert fetched <= MAX_FETCHES, "the crawl does not end: a link generator?"
        response = client.get(url, **(api_headers or {}))
        if response.status_code in (301, 302):
            queue.append(response["Location"])
            continue
        if response.status_code != 200:
            continue
        text = _text(response)
        yield url, text
        queue.extend(_links(url, text, response.get("Content-Type", "")))


def _assert_clean(where: str, text: str, names: list[str], *, names_allowed: bool = False):
    secrets = CEILING_SPELLINGS + Y_SECRETS + Z_SECRETS + [SCORE_COMMENT, "QZLF"]
    if not names_allowed:
        secrets = secrets + names
    found = [secret for secret in secrets if secret in text]
    assert not found, f"{where} shows {found}"


@pytest.mark.parametrize("persona", ["vendor_x_admin", "vendor_x_viewer"])
def test_nothing_a_vendor_reaches_shows_the_ceiling_or_another_vendors_bid(personas, story, persona, api_client_for):
    user = getattr(personas, persona)
    rfp, sealed = story["rfp"], story["sealed"]
    browser = Client()
    browser.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    starts = ["/dashboard/", "/rfps/", "/notifications/", rfp.get_absolute_url(), sealed.get_absolute_url()]
    pages = dict(crawl(browser, starts))
    # The crawl really went where the secrets would be: the RFP pages, the vendor's own proposal, the directory.
    assert {rfp.get_absolute_url(), sealed.get_absolute_url(), "/rfps/", "/vendors/"} <= set(pages)
    assert any("/contracts/" in url and url[-2].isdigit() for url in pages), "no contract page was reached"
    if persona == "vendor_x_admin":  # the viewer reads its proposal on the RFP page; it has no edit page
        assert any("/proposals/" in url for url in pages), "the proposal's page was not reached"
    assert any("/documents/" in url for url in pages), "the RFP's attachment was not downloaded"
    assert any("QZLA" in text for text in pages.values()), "the answered question was not reached"
    for url, text in pages.items():
        _assert_clean(url, text, story["names"], names_allowed=bool(DIRECTORY_PATHS.search(url)))

    api = api_client_for(user)
    token = api._credentials["HTTP_AUTHORIZATION"]
    roots = json.loads(Client().get("/api/v1/", HTTP_AUTHORIZATION=token).content)
    starts = [f"{urlsplit(url).path}?page_size=500" for url in roots.values()]
    responses = dict(crawl(Client(), starts, {"HTTP_AUTHORIZATION": token}))
    assert f"/api/v1/rfps/{rfp.pk}/" in responses and f"/api/v1/proposals/{story['bids']['X'].pk}/" in responses
    for url, text in responses.items():
        _assert_clean(url, text, story["names"], names_allowed=bool(DIRECTORY_PATHS.search(url)))


def test_no_notification_or_email_to_a_vendor_carries_the_secrets(personas, story):
    vendor_people = {personas.vendor_x_admin.email, personas.vendor_x_viewer.email}
    notes = Notification.objects.filter(user__vendor=personas.vendor_x).select_related("event")
    texts = [f"{n.event.title}\n{n.event.body}\n{n.event.url}\n{json.dumps(n.event.payload)}" for n in notes]
    mails = [f"{m.subject}\n{m.body}" for m in mail.outbox if set(m.to) & vendor_people]
    # X heard of the invitation, the answer and its rejection: the search covers real messages.
    assert len(texts) >= 3 and len(mails) >= 3
    assert any("QZLA" in text for text in texts)
    for text in texts + mails:
        _assert_clean("a message to vendor X", text, story["names"])
    # Y's asking is nobody else's business: the question reached X without Y's name (checked above),
    # and Z, which lost, was told without the winner's name or price.
    z_mails = [f"{m.subject}\n{m.body}" for m in mail.outbox if m.to == ["z-admin@z.test"]]
    assert z_mails
    for text in z_mails:
        assert personas.vendor_y.name not in text and "515151" not in text and "515,151" not in text


def test_the_crawl_catches_a_ceiling_shown_to_a_vendor(personas, story, monkeypatch):
    """A planted leak: every rendering asks ``hidden_fields_for``; if it hid nothing, the crawl must say so."""
    monkeypatch.setattr(RFP, "hidden_fields_for", lambda self, user: frozenset())
    browser = Client()
    browser.force_login(personas.vendor_x_admin, backend="django.contrib.auth.backends.ModelBackend")
    pages = dict(crawl(browser, [story["rfp"].get_absolute_url()]))
    leaks = [url for url, text in pages.items() if any(s in text for s in CEILING_SPELLINGS)]
    assert story["rfp"].get_absolute_url() in leaks
