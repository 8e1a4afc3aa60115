"""The alerts pages: the list and its filters, an alert's page and its acknowledgement, the dashboard's open
alerts, the navigation's count, and the sponsor's check settings."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from alerts.models import Alert
from sponsors.models import Sponsor
from tests.factories import ContractFactory, MilestoneFactory, ProgramFactory

pytestmark = pytest.mark.django_db


def make_alert(p, *, title, audience="sponsor", kind="milestone_overdue", severity="warning", resolved=False,
               raised_days_ago=0, contract=None, milestone=None, program=None, sponsor=None, vendor=None):  # fmt: skip
    sponsor = sponsor or p.sponsor_a
    vendor = vendor or (contract.vendor if contract else p.vendor_x)
    now = timezone.now()
    return Alert.objects.create(
        kind=kind, severity=severity, audience=audience, key=f"test:{title}", title=title, sponsor=sponsor,
        vendor=vendor, contract=contract, milestone=milestone, program=program,
        raised_at=now - timedelta(days=raised_days_ago), resolved_at=now if resolved else None,
    )  # fmt: skip


def login(client, user):
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def rows(response) -> list[str]:
    """The titles of the listed alerts, in page order."""
    html = response.content.decode()
    titles = [title for title in TITLES if title in html]
    return sorted(titles, key=html.index)


TITLES = ["Critical QA1", "Warning QA2", "Info QA3", "Resolved QA4", "Other sponsor QA5", "Vendor copy QA6",
          "Program QA7", "Vendor Y QA8"]  # fmt: skip


@pytest.fixture
def scene(personas):
    return build_scene(personas)


def build_scene(p):
    """Sponsor A's alerts of every severity and status on its contracts with X and Y and its programmes;
    B's alert and vendor X's own copy, which A's people never see."""
    p.contract = ContractFactory(sponsor=p.sponsor_a, vendor=p.vendor_x, program=p.program_a, state="active")
    p.milestone = MilestoneFactory(contract=p.contract)
    p.contract_y = ContractFactory(sponsor=p.sponsor_a, vendor=p.vendor_y, state="active")
    p.program_a2 = ProgramFactory(sponsor=p.sponsor_a, code="A-2")
    p.critical = make_alert(p, title="Critical QA1", severity="critical", raised_days_ago=3, contract=p.contract,
                            milestone=p.milestone, program=p.program_a)  # fmt: skip
    p.warning = make_alert(p, title="Warning QA2", kind="budget_warning", contract=p.contract, program=p.program_a)
    p.info = make_alert(p, title="Info QA3", kind="milestone_due_soon", severity="info", contract=p.contract)
    p.resolved = make_alert(p, title="Resolved QA4", severity="critical", resolved=True, contract=p.contract)
    p.other = make_alert(p, title="Other sponsor QA5", sponsor=p.sponsor_b, severity="critical")
    p.vendor_copy = make_alert(p, title="Vendor copy QA6", audience="vendor", severity="critical",
                               contract=p.contract, milestone=p.milestone)  # fmt: skip
    p.program_alert = make_alert(p, title="Program QA7", kind="program_over_budget", program=p.program_a2)
    p.vendor_y_alert = make_alert(p, title="Vendor Y QA8", kind="contract_ending", contract=p.contract_y)
    return p


def test_the_list_shows_the_organisations_open_alerts_most_severe_first(client, scene):
    p = scene
    response = login(client, p.sponsor_a_admin).get(reverse("alert-list"))
    # Open only by default; critical, then warnings (newest first), then info; never B's or the vendor's copy.
    assert rows(response) == ["Critical QA1", "Vendor Y QA8", "Program QA7", "Warning QA2", "Info QA3"]
    html = response.content.decode()
    assert f'href="{p.critical.get_absolute_url()}"' in html
    assert f'href="{reverse("milestone-detail", args=[p.milestone.pk])}"' in html  # the subject's page
    assert f'href="{reverse("program-detail", args=[p.program_a2.pk])}"' in html
    # The vendor's people see their copy only.
    assert rows(login(client, p.vendor_x_admin).get(reverse("alert-list"))) == ["Vendor copy QA6"]
    assert rows(login(client, p.vendor_y_admin).get(reverse("alert-list"))) == []


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": "resolved"}, ["Resolved QA4"]),
        ({"status": "all"}, ["Critical QA1", "Vendor Y QA8", "Program QA7", "Warning QA2", "Info QA3", "Resolved QA4"]),
        ({"kind": ["budget_warning", "milestone_due_soon"]}, ["Warning QA2", "Info QA3"]),
        ({"severity": "critical"}, ["Critical QA1"]),
        ({"severity": "critical", "status": "all"}, ["Critical QA1", "Resolved QA4"]),
        ({"q": "QA7"}, ["Program QA7"]),
        ({"vendor_name": "vendor y"}, ["Vendor Y QA8"]),
    ],
)
def test_the_list_filters(client, scene, query, expected):
    assert rows(login(client, scene.sponsor_a_admin).get(reverse("alert-list"), query)) == expected


def test_the_list_filters_by_ids_from_a_link_and_refuses_anothers(client, scene):
    p = scene
    login(client, p.sponsor_a_admin)
    assert rows(client.get(reverse("alert-list"), {"contract": p.contract.pk})) == [
        "Critical QA1", "Warning QA2", "Info QA3",
    ]  # fmt: skip
    assert rows(client.get(reverse("alert-list"), {"program": p.program_a2.pk})) == ["Program QA7"]
    assert rows(client.get(reverse("alert-list"), {"vendor": p.vendor_y.pk})) == ["Vendor Y QA8"]
    # The link's contract shows in the sidebar (so it can be unticked); not every contract does.
    html = client.get(reverse("alert-list"), {"contract": p.contract.pk}).content.decode()
    assert p.contract.number in html and p.contract_y.number not in html
    # Another sponsor's programme is not a choice: a filter error and no rows, not B's alerts.
    response = client.get(reverse("alert-list"), {"program": p.sponsor_b.programs.get().pk})
    assert 'data-testid="filter-errors"' in response.content.decode() and rows(response) == []
    response = client.get(reverse("alert-list"), {"status": "closed"})
    assert 'data-testid="filter-errors"' in response.content.decode() and rows(response) == []


def test_htmx_gets_the_results_only(client, scene):
    response = login(client, scene.sponsor_a_admin).get(
        reverse("alert-list"), {"severity": "info"}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert "<html" not in html and rows(response) == ["Info QA3"]


def test_the_list_costs_the_same_queries_for_2_or_20_alerts(client, personas):
    p = personas
    login(client, p.sponsor_a_admin)
    contract = ContractFactory(sponsor=p.sponsor_a, vendor=p.vendor_x, program=p.program_a, state="active")

    def make(n, start):
        for i in range(start, start + n):
            milestone = MilestoneFactory(contract=contract)
            make_alert(p, title=f"Bulk QB{i}", severity=("critical", "warning", "info")[i % 3], contract=contract,
                       milestone=milestone, program=p.program_a, vendor=p.vendor_y if i % 2 else None)  # fmt: skip
            make_alert(p, title=f"Sponsor copy QC{i}", kind="certificate_expiring", vendor=p.vendor_y)

    def count():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("alert-list"), {"status": "all"})
        return len(queries), response.content.decode().count('data-testid="alert-row"')

    client.get(reverse("alert-list"))  # warm caches (session, content types)
    make(1, 0)
    small, listed = count()
    assert listed == 2
    make(9, 1)
    large, listed = count()
    assert listed == 20
    assert large == small


# --- One alert: its page and the acknowledgement ---------------------------------------------------------


def test_the_alert_page_shows_what_when_and_the_subject(client, scene):
    p = scene
    Alert.objects.filter(pk=p.critical.pk).update(escalated_at=timezone.now())
    html = login(client, p.sponsor_a_viewer).get(p.critical.get_absolute_url()).content.decode()
    assert "Critical QA1" in html and "Critical" in html and "Escalated" in html
    assert f'href="{reverse("milestone-detail", args=[p.milestone.pk])}"' in html
    # A viewer reads; no form (members and admins acknowledge).
    assert 'data-testid="acknowledge-form"' not in html and "Your role is viewer" in html
    html = login(client, p.sponsor_a_admin).get(p.resolved.get_absolute_url()).content.decode()
    assert "Resolved: the condition cleared" in html and 'data-testid="acknowledge-form"' in html


def messages_of(response) -> list[str]:
    """The messages shown on the page a step came back to (followed, so each step's own)."""
    return [str(m) for m in response.context["messages"]]


def test_acknowledging_needs_a_comment_and_happens_once(client, scene):
    p = scene
    url = reverse("alert-acknowledge", args=[p.critical.pk])
    login(client, p.sponsor_a_admin)
    refused = client.post(url, {"comment": "   "}, follow=True)
    assert refused.redirect_chain == [(p.critical.get_absolute_url(), 302)]
    assert messages_of(refused) == ["The alert was not acknowledged. Comment: This field is required."]
    assert Alert.objects.get(pk=p.critical.pk).acknowledged_at is None
    done = client.post(url, {"comment": "Chased the CRO; new date agreed QK1"}, follow=True)
    assert messages_of(done) == ["Alert acknowledged: your colleagues see your comment with it."]
    alert = Alert.objects.get(pk=p.critical.pk)
    assert (alert.acknowledged_by, alert.acknowledge_comment) == (
        p.sponsor_a_admin,
        "Chased the CRO; new date agreed QK1",
    )
    assert alert.resolved_at is None  # acknowledging does not resolve: the condition does
    again = client.post(url, {"comment": "Me too"}, follow=True)
    assert [m.split(" on ")[0] for m in messages_of(again)] == [
        f"This alert was already acknowledged by {p.sponsor_a_admin.get_full_name() or p.sponsor_a_admin.email}"
    ]
    assert Alert.objects.get(pk=p.critical.pk).acknowledge_comment == "Chased the CRO; new date agreed QK1"
    # Everyone of the sponsor reads who acknowledged it and what they said; the form is gone.
    html = login(client, p.sponsor_a_viewer).get(p.critical.get_absolute_url()).content.decode()
    assert "Chased the CRO; new date agreed QK1" in html and 'data-testid="acknowledge-form"' not in html
    listed = client.get(reverse("alert-list")).content.decode()
    assert 'data-testid="acknowledged"' in listed


def test_a_resolved_alert_may_still_be_acknowledged(client, scene):
    p = scene
    login(client, p.sponsor_a_admin).post(reverse("alert-acknowledge", args=[p.resolved.pk]), {"comment": "Seen QK2"})
    alert = Alert.objects.get(pk=p.resolved.pk)
    assert alert.acknowledge_comment == "Seen QK2" and alert.resolved_at is not None


def test_viewers_and_other_organisations_cannot_acknowledge(client, scene):
    p = scene
    url = reverse("alert-acknowledge", args=[p.critical.pk])
    assert login(client, p.sponsor_a_viewer).post(url, {"comment": "x"}).status_code == 403
    assert login(client, p.vendor_y_admin).post(url, {"comment": "x"}).status_code == 404
    assert login(client, p.sponsor_b_admin).post(url, {"comment": "x"}).status_code == 404
    # The vendor's people reach their own copy, never the sponsor's.
    assert login(client, p.vendor_x_admin).post(url, {"comment": "x"}).status_code == 404
    assert login(client, p.vendor_x_admin).get(p.critical.get_absolute_url()).status_code == 404
    assert Alert.objects.get(pk=p.critical.pk).acknowledged_at is None


# --- Dashboard and navigation --------------------------------------------------------------------------------


def test_the_dashboard_opens_with_the_open_alerts_critical_first(client, scene):
    p = scene
    html = login(client, p.sponsor_a_admin).get(reverse("dashboard")).content.decode()
    start = html.index('aria-labelledby="open-alerts-heading"')
    section = html[start : html.index("</section>", start)]
    shown = sorted([t for t in TITLES if t in section], key=section.index)
    assert shown == ["Critical QA1", "Vendor Y QA8", "Program QA7", "Warning QA2", "Info QA3"]
    assert start < html.index(">Programmes</h2>")  # first on the page
    assert 'data-testid="open-alerts-count">5<' in html  # the navigation's badge


def test_the_dashboard_shows_eight_and_links_to_all(client, personas):
    p = personas
    for i in range(10):
        make_alert(p, title=f"Many QM{i:02d}", severity="critical" if i == 9 else "warning", raised_days_ago=10 - i)
    html = login(client, p.sponsor_a_admin).get(reverse("dashboard")).content.decode()
    assert html.count('data-testid="dashboard-alert"') == 8
    assert html.index("Many QM09") < html.index("Many QM08")  # critical first, then the newest
    assert "See all 10 open alerts" in html


def test_the_dashboard_says_so_when_nothing_is_open(client, personas):
    make_alert(personas, title="Resolved QZ", resolved=True)
    html = login(client, personas.sponsor_a_admin).get(reverse("dashboard")).content.decode()
    assert "No open alerts" in html and "Resolved QZ" not in html and 'data-testid="open-alerts-count"' not in html


# --- The sponsor's check settings ----------------------------------------------------------------------------

CHECK_SETTINGS = {
    "due_soon_days": "10", "overdue_escalation_days": "21", "budget_warning_percent": "75", "burn_ahead_points": "20",
    "contract_ending_days": "45", "certificate_expiring_days": "120", "requalification_days": "0",
    "rfp_reminder_days": "5",
}  # fmt: skip


def test_sponsor_admins_edit_the_check_thresholds(client, personas):
    p = personas
    url = reverse("sponsor-edit", args=[p.sponsor_a.pk])
    html = login(client, p.sponsor_a_admin).get(url).content.decode()
    assert 'data-testid="check-settings"' in html and "Budget warning at" in html
    profile = {"name": "Sponsor A", "type": "pharma", "country": "GB", "default_currency": "EUR"}
    refused = client.post(url, {**profile, **CHECK_SETTINGS, "budget_warning_percent": "150"})
    assert "Ensure this value is less than or equal to 99." in refused.content.decode()
    assert Sponsor.objects.get(pk=p.sponsor_a.pk).budget_warning_percent == 80
    assert client.post(url, {**profile, **CHECK_SETTINGS})["Location"] == p.sponsor_a.get_absolute_url()
    saved = Sponsor.objects.get(pk=p.sponsor_a.pk)
    assert {name: str(getattr(saved, name)) for name in CHECK_SETTINGS} == CHECK_SETTINGS
    assert (
        login(client, p.sponsor_a_viewer).post(url, {**profile, **CHECK_SETTINGS, "due_soon_days": "3"}).status_code
        == 403
    )
    assert login(client, p.sponsor_b_admin).get(url).status_code == 404
    assert Sponsor.objects.get(pk=p.sponsor_a.pk).due_soon_days == 10


def test_the_admin_shows_alerts_read_only(client, scene):
    p = scene
    login(client, p.staff)
    listing = client.get(reverse("admin:alerts_alert_changelist"), {"severity__exact": "critical"}).content.decode()
    assert "Critical QA1" in listing and "Other sponsor QA5" in listing and "Warning QA2" not in listing
    url = reverse("admin:alerts_alert_change", args=[p.critical.pk])
    page = client.get(url).content.decode()
    assert "Critical QA1" in page and 'name="_save"' not in page
    client.post(url, {"title": "Changed in the admin", "severity": "info"})
    assert Alert.objects.get(pk=p.critical.pk).title == "Critical QA1"
    assert client.get(reverse("admin:alerts_alert_add")).status_code == 403


def test_a_vendor_is_offered_only_the_kinds_it_can_receive(client, personas):
    """Budgets, caps and audits are the sponsor's own business: their names are not even offered to a vendor."""
    vendor_page = login(client, personas.vendor_x_admin).get(reverse("alert-list")).content.decode()
    assert "Milestone overdue" in vendor_page and "Certificate expiring" in vendor_page
    for sponsor_only in ("Requalification audit due", "Budget warning", "Programme over its budget cap"):
        assert sponsor_only not in vendor_page
    sponsor_page = login(client, personas.sponsor_a_admin).get(reverse("alert-list")).content.decode()
    assert "Requalification audit due" in sponsor_page and "Budget warning" in sponsor_page
