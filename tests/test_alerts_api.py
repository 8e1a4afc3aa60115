"""``/api/v1/alerts/``: the caller's alerts, the list's filters and order, the acknowledgement; and the
sponsor's check thresholds in ``/api/v1/sponsors/``."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from alerts.models import Alert
from sponsors.models import Sponsor
from tests.factories import ContractFactory, MilestoneFactory
from tests.test_alerts_pages import build_scene, make_alert

pytestmark = pytest.mark.django_db
URL = "/api/v1/alerts/"


@pytest.fixture
def scene(personas):
    return build_scene(personas)


def titles(response) -> list[str]:
    return [row["title"] for row in response.json()["results"]]


def test_the_list_is_the_callers_open_alerts_most_severe_first(api_client_for, scene):
    p = scene
    response = api_client_for(p.sponsor_a_viewer).get(URL)
    assert titles(response) == ["Critical QA1", "Vendor Y QA8", "Program QA7", "Warning QA2", "Info QA3"]
    first = response.json()["results"][0]
    assert {key: first[key] for key in ("kind", "severity", "audience", "is_open", "sponsor", "vendor", "contract",
                                        "milestone", "program", "certification", "qualification")} == {
        "kind": "milestone_overdue", "severity": "critical", "audience": "sponsor", "is_open": True,
        "sponsor": p.sponsor_a.pk, "vendor": p.vendor_x.pk, "contract": p.contract.pk, "milestone": p.milestone.pk,
        "program": p.program_a.pk, "certification": None, "qualification": None,
    }  # fmt: skip
    assert first["subject_url"] == reverse("milestone-detail", args=[p.milestone.pk])
    assert first["url"] == p.critical.get_absolute_url()
    assert titles(api_client_for(p.vendor_x_viewer).get(URL)) == ["Vendor copy QA6"]
    assert titles(api_client_for(p.sponsor_b_admin).get(URL)) == ["Other sponsor QA5"]
    assert titles(api_client_for(p.vendor_y_admin).get(URL)) == []


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": "resolved"}, ["Resolved QA4"]),
        ({"status": "all", "severity": "critical"}, ["Critical QA1", "Resolved QA4"]),
        ({"kind": ["budget_warning", "program_over_budget"]}, ["Program QA7", "Warning QA2"]),
        ({"vendor_name": "Y"}, ["Vendor Y QA8"]),
    ],
)
def test_the_list_filters(api_client_for, scene, query, expected):
    assert titles(api_client_for(scene.sponsor_a_admin).get(URL, query)) == expected


def test_the_list_filters_by_ids_within_reach(api_client_for, scene):
    p = scene
    client = api_client_for(p.sponsor_a_admin)
    assert titles(client.get(URL, {"contract": p.contract.pk})) == ["Critical QA1", "Warning QA2", "Info QA3"]
    assert titles(client.get(URL, {"program": p.program_a2.pk})) == ["Program QA7"]
    assert titles(client.get(URL, {"vendor": p.vendor_y.pk})) == ["Vendor Y QA8"]
    refused = client.get(URL, {"program": p.sponsor_b.programs.get().pk})
    assert refused.status_code == 400 and "program" in refused.json()
    refused = client.get(URL, {"status": "closed"})
    assert refused.status_code == 400 and "status" in refused.json()


def test_a_resolved_alert_is_read_by_its_id(api_client_for, scene):
    body = api_client_for(scene.sponsor_a_admin).get(f"{URL}{scene.resolved.pk}/").json()
    assert (body["id"], body["is_open"]) == (scene.resolved.pk, False)


def test_acknowledging(api_client_for, scene):
    p = scene
    client = api_client_for(p.sponsor_a_admin)
    url = f"{URL}{p.critical.pk}/acknowledge/"
    missing = client.post(url, {}, format="json")
    assert missing.status_code == 400 and "comment" in missing.json()
    blank = client.post(url, {"comment": "  "}, format="json")
    assert blank.status_code == 400 and "comment" in blank.json()
    too_long = client.post(url, {"comment": "x" * 2001}, format="json")
    assert too_long.status_code == 400 and "comment" in too_long.json()
    assert Alert.objects.get(pk=p.critical.pk).acknowledged_at is None
    done = client.post(url, {"comment": "Escalated to the CRO's PM QK3"}, format="json")
    assert done.status_code == 200
    assert (done.json()["acknowledged_by"], done.json()["acknowledge_comment"]) == (
        p.sponsor_a_admin.pk, "Escalated to the CRO's PM QK3",
    )  # fmt: skip
    assert done.json()["is_open"] is True
    again = api_client_for(p.sponsor_a_admin).post(url, {"comment": "Again"}, format="json")
    assert again.status_code == 409 and "already acknowledged" in again.json()["detail"]
    assert Alert.objects.get(pk=p.critical.pk).acknowledge_comment == "Escalated to the CRO's PM QK3"
    resolved = client.post(f"{URL}{p.resolved.pk}/acknowledge/", {"comment": "Seen"}, format="json")
    assert resolved.status_code == 200 and resolved.json()["acknowledge_comment"] == "Seen"


def test_viewers_get_403_and_other_organisations_404(api_client_for, scene):
    p = scene
    url = f"{URL}{p.critical.pk}/acknowledge/"
    viewer = api_client_for(p.sponsor_a_viewer).post(url, {"comment": "x"}, format="json")
    assert viewer.status_code == 403 and "viewer" in viewer.json()["detail"]
    for persona in (p.vendor_y_admin, p.sponsor_b_admin, p.vendor_x_admin):
        response = api_client_for(persona).post(url, {"comment": "x"}, format="json")
        assert response.status_code == 404 and "Critical QA1" not in response.content.decode()
    assert api_client_for(p.vendor_y_admin).get(f"{URL}{p.critical.pk}/").status_code == 404
    assert Alert.objects.get(pk=p.critical.pk).acknowledged_at is None


def test_the_list_costs_the_same_queries_for_2_or_20_alerts(api_client_for, personas):
    p = personas
    client = api_client_for(p.sponsor_a_admin)
    contract = ContractFactory(sponsor=p.sponsor_a, vendor=p.vendor_x, state="active")

    def make(n, start):
        for i in range(start, start + n):
            alert = make_alert(p, title=f"Bulk QB{i}", kind="certificate_expiring", vendor=p.vendor_y)
            if i % 2:
                Alert.objects.filter(pk=alert.pk).update(acknowledged_by=p.sponsor_a_admin)
            make_alert(p, title=f"On milestone QM{i}", contract=contract, milestone=MilestoneFactory(contract=contract))

    def count():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(URL, {"status": "all"})
        return len(queries), len(response.json()["results"])

    make(1, 0)
    client.get(URL)  # warm caches
    small, listed = count()
    assert listed == 2
    make(9, 1)
    large, listed = count()
    assert listed == 20
    assert large == small


# --- The sponsor's check thresholds through the API ------------------------------------------------------------


def test_sponsor_admins_change_the_thresholds_through_the_api(api_client_for, personas):
    p = personas
    url = f"/api/v1/sponsors/{p.sponsor_a.pk}/"
    body = api_client_for(p.sponsor_a_viewer).get(url).json()
    assert (body["budget_warning_percent"], body["overdue_escalation_days"], body["requalification_days"]) == (
        80,
        14,
        30,
    )
    admin = api_client_for(p.sponsor_a_admin)
    changed = admin.patch(url, {"budget_warning_percent": 70, "contract_ending_days": 90}, format="json")
    assert (changed.json()["budget_warning_percent"], changed.json()["contract_ending_days"]) == (70, 90)
    out_of_range = admin.patch(url, {"burn_ahead_points": 0}, format="json")
    assert out_of_range.status_code == 400 and "burn_ahead_points" in out_of_range.json()
    viewer = api_client_for(p.sponsor_a_viewer).patch(url, {"budget_warning_percent": 50}, format="json")
    assert viewer.status_code == 403
    assert Sponsor.objects.get(pk=p.sponsor_a.pk).budget_warning_percent == 70
