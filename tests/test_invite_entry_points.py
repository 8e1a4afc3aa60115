"""Inviting vendors from where a sponsor finds them: the directory's ticked vendors, a shortlist, the compare
page and a profile all lead to the picker with those vendors preselected; the picker previews each one's
warnings (the sponsor's qualification, expired certificates) in a constant number of queries, and the
warnings come back after inviting — as messages on the page, as ``warnings`` in the API."""

import html
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Role
from contracts import services
from sponsors.models import Shortlist, ShortlistEntry, VendorQualification
from tests.factories import RFPFactory, UserFactory, VendorFactory
from vendors.models import Certification

pytestmark = pytest.mark.django_db

NOTE = "Critical finding on aseptic process simulation."


def login(client, user):
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def scene(personas):
    """Sponsor A's draft RFP; vendor X approved, vendor Y disqualified (short note) with an expired GMP
    certificate, vendor W in qualification, vendor V with no record; a member and a shortlist of A."""
    p = personas
    p.vendor_w = VendorFactory(name="Vendor W", slug="vendor-w")
    p.vendor_v = VendorFactory(name="Vendor V", slug="vendor-v")
    p.sponsor_a_member = UserFactory(email="a-member@a.test", sponsor=p.sponsor_a, role=Role.MEMBER)
    VendorQualification.objects.create(sponsor=p.sponsor_a, vendor=p.vendor_x, status="approved")
    VendorQualification.objects.create(sponsor=p.sponsor_a, vendor=p.vendor_y, status="disqualified", notes=NOTE)
    VendorQualification.objects.create(sponsor=p.sponsor_a, vendor=p.vendor_w, status="in_qualification")
    # Sponsor B approves Y: another sponsor's record never counts for A.
    VendorQualification.objects.create(sponsor=p.sponsor_b, vendor=p.vendor_y, status="approved")
    Certification.objects.create(
        vendor=p.vendor_y, type="gmp", authority="ema", issued_on=date(2019, 1, 1), expires_on=date(2021, 6, 30)
    )
    p.shortlist = Shortlist.objects.create(sponsor=p.sponsor_a, name="Fill-finish QZSL")
    for vendor in (p.vendor_x, p.vendor_y):
        ShortlistEntry.objects.create(shortlist=p.shortlist, vendor=vendor)
    p.rfp = RFPFactory(program=p.program_a, title="Draft QZINV")
    return p


EXPECTED = {
    "Vendor V": ["Vendor V: not qualified by your company (no qualification record)."],
    "Vendor W": ["Vendor W: still in qualification with your company."],
    "Vendor X": [],
    "Vendor Y": [
        f"Vendor Y: disqualified by your company. Note: {NOTE}",
        "Vendor Y: its GMP certificate expired on 2021-06-30.",
    ],
}


def test_invite_warnings_name_each_qualification_problem(scene):
    p = scene
    _, warnings = services.rfp_invite(
        actor=p.sponsor_a_member, rfp=p.rfp, vendors=[p.vendor_y, p.vendor_x, p.vendor_w, p.vendor_v]
    )
    assert warnings == [w for name in sorted(EXPECTED) for w in EXPECTED[name]]


def test_a_long_note_is_left_on_the_record(scene):
    p = scene
    VendorQualification.objects.filter(sponsor=p.sponsor_a, vendor=p.vendor_w).update(notes="Long. " * 60)
    _, warnings = services.rfp_invite(actor=p.sponsor_a_admin, rfp=p.rfp, vendors=[p.vendor_w])
    assert warnings == ["Vendor W: still in qualification with your company."]


def test_the_picker_preselects_and_previews_the_warnings(client, scene):
    p = scene
    login(client, p.sponsor_a_member)
    url = reverse("rfp-invite-picker") + "?v=vendor-y&v=vendor-x&vendor=vendor-v&v=no-such-vendor"
    page = text(client.get(url))
    for slug_pk in (p.vendor_x.pk, p.vendor_y.pk, p.vendor_v.pk):
        assert f'value="{slug_pk}" selected' in page
    assert f'value="{p.vendor_w.pk}" selected' not in page
    assert "Before you invite" in page
    assert "Qualification: Disqualified" in page and "Qualification: Approved" in page and "Not qualified by us" in page
    for name in ("Vendor V", "Vendor X", "Vendor Y"):
        for warning in EXPECTED[name]:
            assert warning in page
    assert "No warnings." in page  # vendor X
    assert "Draft QZINV" in page


def test_the_picker_preselects_the_rfp_and_keeps_the_preview_on_a_refusal(client, scene):
    p = scene
    login(client, p.sponsor_a_admin)
    page = text(client.get(reverse("rfp-invite-picker") + f"?v=vendor-y&rfp={p.rfp.pk}"))
    assert f'<option value="{p.rfp.pk}" selected>' in page
    refused = text(client.post(reverse("rfp-invite-picker"), {"vendors": [p.vendor_y.pk]}))  # no RFP chosen
    assert "This field is required." in refused and EXPECTED["Vendor Y"][0] in refused
    assert not p.rfp.invitations.exists()


def test_the_preview_costs_the_same_queries_for_one_vendor_or_four(client, scene):
    p = scene
    login(client, p.sponsor_a_admin)
    client.get(reverse("rfp-invite-picker"))  # warm up (session, content types)

    def count(query):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(reverse("rfp-invite-picker") + query)
        assert "Before you invite" in response.content.decode()
        return len(captured.captured_queries)

    assert count("?v=vendor-x") == count("?v=vendor-x&v=vendor-y&v=vendor-w&v=vendor-v")


def test_inviting_from_the_picker_shows_the_warnings_on_the_rfp_page(client, scene):
    p = scene
    login(client, p.sponsor_a_member)
    response = client.post(
        reverse("rfp-invite-picker"), {"rfp": p.rfp.pk, "vendors": [p.vendor_x.pk, p.vendor_y.pk]}, follow=True
    )
    page = text(response)
    assert response.redirect_chain[-1][0] == p.rfp.get_absolute_url()
    assert "2 vendors invited." in page
    for warning in EXPECTED["Vendor Y"]:
        assert warning in page
    assert sorted(p.rfp.invitations.values_list("vendor__name", flat=True)) == ["Vendor X", "Vendor Y"]


def test_the_api_invite_returns_the_qualification_warnings(scene, api_client_for):
    p = scene
    response = api_client_for(p.sponsor_a_member).post(
        f"/api/v1/rfps/{p.rfp.pk}/invite/", {"vendors": [p.vendor_v.pk, p.vendor_w.pk, p.vendor_y.pk]}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["warnings"] == [*EXPECTED["Vendor V"], *EXPECTED["Vendor W"], *EXPECTED["Vendor Y"]]


# --- Entry points -------------------------------------------------------------------------------------------


def test_the_directory_offers_invite_to_rfp_to_sponsor_members_only(client, scene):
    p = scene
    page = text(login(client, p.sponsor_a_member).get(reverse("vendor-list")))
    # The compare tray's button saves the ticks (checkboxes of #compare-form) and opens the picker with them.
    assert 'name="go" value="invite"' in page and ">Invite to RFP</button>" in page
    assert 'name="v" value="vendor-x"' in page and 'form="compare-form"' in page
    picked = login(client, p.sponsor_a_member).post(
        reverse("vendor-compare-selection"),
        {"shown": ["vendor-x", "vendor-w"], "v": ["vendor-x", "vendor-w"], "go": "invite"},
    )
    assert picked.url == "/rfps/invite/?v=vendor-x&v=vendor-w"
    for user in (p.sponsor_a_viewer, p.vendor_x_admin):
        page = text(login(client, user).get(reverse("vendor-list")))
        assert "Invite to RFP" not in page and "/rfps/invite/" not in page
    # What the button sends (the ticked checkboxes as ?v=…) is what the picker preselects.
    page = text(login(client, p.sponsor_a_member).get(reverse("rfp-invite-picker") + "?v=vendor-x&v=vendor-w"))
    assert f'value="{p.vendor_x.pk}" selected' in page and f'value="{p.vendor_w.pk}" selected' in page


def test_a_shortlist_invites_all_its_vendors(client, scene):
    p = scene
    page = text(login(client, p.sponsor_a_member).get(p.shortlist.get_absolute_url()))
    assert 'href="/rfps/invite/?v=vendor-x&v=vendor-y"' in page
    page = text(login(client, p.sponsor_a_viewer).get(p.shortlist.get_absolute_url()))
    assert "Fill-finish QZSL" in page and "Invite to RFP" not in page
    picker = text(login(client, p.sponsor_a_member).get("/rfps/invite/?v=vendor-x&v=vendor-y"))
    assert f'value="{p.vendor_x.pk}" selected' in picker and f'value="{p.vendor_y.pk}" selected' in picker


def test_the_compare_page_invites_the_vendors_compared(client, scene):
    p = scene
    url = reverse("vendor-compare") + "?v=vendor-y&v=vendor-w"
    page = text(login(client, p.sponsor_a_member).get(url))
    assert 'href="/rfps/invite/?v=vendor-y&v=vendor-w"' in page
    for user in (p.sponsor_a_viewer, p.vendor_x_admin):
        page = text(login(client, user).get(url))
        assert "Vendor W" in page and "Invite to RFP" not in page


def test_the_picker_is_for_the_sponsors_members_and_admins(client, scene):
    p = scene
    viewer = login(client, p.sponsor_a_viewer).get(reverse("rfp-invite-picker") + "?v=vendor-y")
    assert viewer.status_code == 403 and NOTE not in viewer.content.decode()
    vendor = login(client, p.vendor_y_admin).get(reverse("rfp-invite-picker") + "?v=vendor-y")
    assert vendor.status_code == 403 and NOTE not in vendor.content.decode()
    # Sponsor B sees its own record of Y (approved) and none of A's.
    RFPFactory(program=p.program_b, title="Bravo draft QZB")
    page = text(login(client, p.sponsor_b_admin).get(reverse("rfp-invite-picker") + "?v=vendor-y"))
    assert "Qualification: Approved" in page and "Bravo draft QZB" in page
    assert NOTE not in page and "Draft QZINV" not in page and "disqualified" not in page
