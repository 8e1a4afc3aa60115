"""The audit trail: what is recorded, by whom, where it is shown, and that it cannot be rewritten."""

import re
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, models, transaction
from django.test.utils import isolate_apps

from audit.context import audit_context
from audit.models import Action, AppendOnlyError, HistoryEntry
from audit.tracking import HistoryMixin
from cro_cmo.services import object_save
from sponsors.models import Program
from tests.factories import ProgramFactory

pytestmark = pytest.mark.django_db


def history_of(obj):
    return list(HistoryEntry.objects.for_object(obj))


def create_via_api(client, **body):
    data = {"code": "HX-1", "name": "Helios", "phase": "phase-1", "therapeutic_area": "oncology"}
    data.update(body)
    response = client.post("/api/v1/programs/", data, format="json")
    assert response.status_code == 201, response.json()
    return Program.objects.get(pk=response.json()["id"])


# --- What is recorded through the API ------------------------------------------------------------


def test_api_create_records_created_with_the_actor(personas, api_client_for):
    user = personas.sponsor_a_admin
    program = create_via_api(api_client_for(user), budget_cap="1000.00", budget_currency="EUR")

    [entry] = history_of(program)
    assert entry.action == Action.CREATED
    assert entry.actor == user
    assert entry.actor_name == user.full_name
    assert entry.object_id == str(program.pk)
    assert entry.changes["code"] == [None, "HX-1"]
    assert entry.changes["name"] == [None, "Helios"]
    assert entry.changes["budget_cap"] == [None, "1000.00"]
    assert entry.changes["sponsor"] == [None, personas.sponsor_a.pk]
    assert "created" not in entry.changes and "updated" not in entry.changes


def test_actor_name_falls_back_to_email_when_the_user_has_no_name(personas, api_client_for):
    user = personas.sponsor_a_admin
    user.full_name = ""
    user.save()
    program = create_via_api(api_client_for(user))
    assert history_of(program)[0].actor_name == user.email


def test_api_patch_records_exactly_the_changed_fields(personas, api_client_for):
    client = api_client_for(personas.sponsor_a_admin)
    program = create_via_api(client, budget_cap="1000.00", budget_currency="EUR")

    response = client.patch(
        f"/api/v1/programs/{program.pk}/",
        {"name": "Helios II", "budget_cap": "250000.50", "phase": "phase-1"},  # phase unchanged
        format="json",
    )
    assert response.status_code == 200, response.json()

    latest = history_of(program)[0]
    assert latest.action == Action.CHANGED
    assert latest.actor == personas.sponsor_a_admin
    assert latest.changes == {"name": ["Helios", "Helios II"], "budget_cap": ["1000.00", "250000.50"]}


def test_api_noop_patch_records_nothing(personas, api_client_for):
    client = api_client_for(personas.sponsor_a_admin)
    program = create_via_api(client, budget_cap="1000.00", budget_currency="EUR")

    response = client.patch(
        f"/api/v1/programs/{program.pk}/", {"name": "Helios", "budget_cap": "1000.00"}, format="json"
    )
    assert response.status_code == 200
    assert [e.action for e in history_of(program)] == [Action.CREATED]


def test_rejected_patch_records_nothing(personas, api_client_for):
    client = api_client_for(personas.sponsor_a_admin)
    program = create_via_api(client)
    # A budget cap without a currency fails the model's clean(): 400 and no history.
    response = client.patch(f"/api/v1/programs/{program.pk}/", {"budget_cap": "10.00"}, format="json")
    assert response.status_code == 400
    assert "budget_currency" in response.json()
    assert [e.action for e in history_of(program)] == [Action.CREATED]


def test_direct_noop_save_records_nothing(personas):
    program = Program.objects.get(pk=personas.program_a.pk)
    before = len(history_of(program))
    program.save()
    program.name = program.name  # same value
    program.save()
    assert len(history_of(program)) == before


def test_direct_save_without_a_context_is_attributed_to_system(personas):
    program = Program.objects.get(pk=personas.program_a.pk)
    program.name = "Renamed by a script"
    program.save()
    entry = history_of(program)[0]
    assert entry.actor is None
    assert entry.actor_name == "system"


def test_delete_is_recorded_and_survives_the_object(personas):
    program = ProgramFactory(sponsor=personas.sponsor_a, code="DEL-1")
    pk = program.pk
    with audit_context(actor=personas.sponsor_a_admin):
        program.delete()
    entry = HistoryEntry.objects.filter(object_id=str(pk), action=Action.DELETED).get()
    assert entry.actor == personas.sponsor_a_admin
    assert entry.object_repr.startswith("DEL-1")


# --- Transitions: a change of a ``state`` field ---------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_change_of_state_is_recorded_as_a_transition(personas):
    with isolate_apps("audit"):

        class Gadget(HistoryMixin, models.Model):
            name = models.CharField(max_length=50)
            state = models.CharField(max_length=20, default="draft")

            class Meta:
                app_label = "audit"
                db_table = "test_history_gadget"

            def __str__(self):
                return self.name

        with connection.schema_editor() as editor:
            editor.create_model(Gadget)
        try:
            with audit_context(actor=personas.sponsor_a_admin, reason="go live"):
                gadget = Gadget.objects.create(name="g")
                gadget = Gadget.objects.get(pk=gadget.pk)
                gadget.state = "published"
                gadget.name = "g2"
                gadget.save()
                gadget.name = "g3"  # a plain edit afterwards is a change again
                gadget.save()
            entries = history_of(gadget)
        finally:
            with connection.schema_editor() as editor:
                editor.delete_model(Gadget)

    assert [e.action for e in entries] == [Action.CHANGED, Action.TRANSITION, Action.CREATED]
    changed, transition, _ = entries
    assert transition.changes == {"state": ["draft", "published"], "name": ["g", "g2"]}
    assert transition.actor == personas.sponsor_a_admin
    assert transition.reason == "go live"
    assert changed.changes == {"name": ["g2", "g3"]}


# --- The history endpoint -------------------------------------------------------------------------


def test_history_endpoint_lists_newest_first_and_paginates(personas, api_client_for):
    client = api_client_for(personas.sponsor_a_admin)
    program = create_via_api(client)
    for name in ("Two", "Three"):
        assert client.patch(f"/api/v1/programs/{program.pk}/", {"name": name}, format="json").status_code == 200

    response = client.get(f"/api/v1/programs/{program.pk}/history/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert [row["action"] for row in body["results"]] == ["changed", "changed", "created"]
    assert body["results"][0]["changes"] == {"name": ["Two", "Three"]}
    assert body["results"][0]["actor"] == personas.sponsor_a_admin.pk
    assert body["results"][0]["actor_name"] == personas.sponsor_a_admin.full_name
    assert set(body["results"][0]) >= {"id", "timestamp", "action", "actor", "actor_name", "changes", "reason"}

    first = client.get(f"/api/v1/programs/{program.pk}/history/?page_size=2").json()
    assert len(first["results"]) == 2 and first["next"]
    second = client.get(first["next"]).json()
    assert [row["action"] for row in second["results"]] == ["created"]
    assert second["next"] is None


def test_history_endpoint_shows_only_that_objects_entries(personas, api_client_for):
    client = api_client_for(personas.sponsor_a_admin)
    mine = create_via_api(client, code="M-1")
    create_via_api(client, code="M-2")
    body = client.get(f"/api/v1/programs/{mine.pk}/history/").json()
    assert body["count"] == 1


def test_viewer_reads_history(personas, api_client_for):
    response = api_client_for(personas.sponsor_a_viewer).get(f"/api/v1/programs/{personas.program_a.pk}/history/")
    assert response.status_code == 200
    [entry] = response.json()["results"]
    assert entry["action"] == "created"
    assert entry["changes"]["code"] == [None, "A-1"]


@pytest.mark.parametrize("persona", ["sponsor_b_admin", "vendor_x_admin"])
def test_history_of_another_sponsors_programme_is_404(personas, api_client_for, persona):
    client = api_client_for(getattr(personas, persona))
    response = client.get(f"/api/v1/programs/{personas.program_a.pk}/history/")
    assert response.status_code == 404
    body = response.content.decode()
    assert set(response.json()) == {"detail"}
    assert personas.program_a.code not in body and personas.program_a.name not in body  # reveals nothing of it
    assert "created" not in body  # no history entry leaks through the error


# --- The browser -----------------------------------------------------------------------------------


def test_browser_edit_records_history_and_detail_page_shows_it(personas, browser_client_for):
    program = ProgramFactory(
        sponsor=personas.sponsor_a, code="BR-1", name="Old name", budget_cap=Decimal("1000.00"), budget_currency="EUR"
    )
    client = browser_client_for(personas.sponsor_a_admin)
    response = client.post(
        f"/programs/{program.pk}/edit/",
        {
            "code": "BR-1",
            "name": "New name",
            "phase": "phase-2",
            "therapeutic_area": "",
            "budget_cap": "2000.00",
            "budget_currency": "EUR",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]

    entry = history_of(program)[0]
    assert entry.action == Action.CHANGED
    assert entry.actor == personas.sponsor_a_admin
    assert entry.changes == {"name": ["Old name", "New name"], "budget_cap": ["1000.00", "2000.00"]}

    page = client.get(f"/programs/{program.pk}/").content.decode()
    assert 'id="history"' in page
    assert re.search(r'class="history-old">Old name</span>\s*→\s*<span class="history-new">New name<', page)
    assert 'class="history-old">1,000.00<' in page and 'class="history-new">2,000.00<' in page  # grouped
    assert personas.sponsor_a_admin.full_name in page


def test_browser_edit_redirects_to_the_programme_page(personas, browser_client_for):
    program = ProgramFactory(sponsor=personas.sponsor_a, code="BR-3", name="Old")
    client = browser_client_for(personas.sponsor_a_admin)
    response = client.post(f"/programs/{program.pk}/edit/", {"code": "BR-3", "name": "New", "phase": "phase-2"})
    assert response.status_code == 302
    assert response["Location"] == f"/programs/{program.pk}/"


def test_browser_invalid_edit_records_nothing(personas, browser_client_for):
    program = ProgramFactory(sponsor=personas.sponsor_a, code="BR-2", name="Stays")
    client = browser_client_for(personas.sponsor_a_admin)
    before = len(history_of(program))
    response = client.post(
        f"/programs/{program.pk}/edit/",
        {"code": "BR-2", "name": "Changed", "phase": "phase-2", "budget_cap": "5.00", "budget_currency": ""},
    )
    assert response.status_code == 200  # form redisplayed with the error
    assert len(history_of(program)) == before
    assert Program.objects.get(pk=program.pk).name == "Stays"


def test_admin_edit_is_attributed_to_the_staff_user(personas, client):
    program = personas.program_a
    client.force_login(personas.staff, backend="django.contrib.auth.backends.ModelBackend")
    response = client.post(
        f"/admin/sponsors/program/{program.pk}/change/",
        {
            "sponsor": program.sponsor_id,
            "code": program.code,
            "name": "Renamed in admin",
            "phase": program.phase,
            "therapeutic_area": "",
            "budget_cap": "",
            "budget_currency": "",
            "_save": "Save",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = history_of(program)[0]
    assert entry.action == Action.CHANGED
    assert entry.actor == personas.staff
    assert entry.actor_name == personas.staff.full_name
    assert entry.changes == {"name": [program.name, "Renamed in admin"]}


def test_admin_cannot_edit_or_delete_history(personas, client):
    entry = history_of(personas.program_a)[0]
    client.force_login(personas.staff, backend="django.contrib.auth.backends.ModelBackend")
    change = client.post(f"/admin/audit/historyentry/{entry.pk}/change/", {"reason": "tampered"})
    delete = client.post(f"/admin/audit/historyentry/{entry.pk}/delete/", {"post": "yes"})
    assert change.status_code == 403
    assert delete.status_code == 403
    assert HistoryEntry.objects.get(pk=entry.pk).reason == ""


# --- Reason ----------------------------------------------------------------------------------------


def test_audit_context_reason_is_recorded(personas):
    program = Program.objects.get(pk=personas.program_a.pk)
    with audit_context(actor=personas.sponsor_a_admin, reason="Budget review Q3"):
        program.name = "With a reason"
        program.save()
    entry = history_of(program)[0]
    assert entry.reason == "Budget review Q3"
    assert entry.actor == personas.sponsor_a_admin

    # The context ends with the block: later writes carry no reason.
    program.name = "Without a reason"
    program.save()
    assert history_of(program)[0].reason == ""


def test_inner_context_inherits_the_outer_reason_and_object_save_passes_its_own(personas):
    program = Program.objects.get(pk=personas.program_a.pk)
    with audit_context(reason="Outer reason"):
        object_save(actor=personas.sponsor_a_admin, instance=program)  # no change, nothing recorded
        program.name = "Inner"
        object_save(actor=personas.sponsor_a_admin, instance=program)
    assert history_of(program)[0].reason == "Outer reason"
    assert history_of(program)[0].actor == personas.sponsor_a_admin

    program.name = "Explicit"
    object_save(actor=personas.sponsor_a_admin, instance=program, reason="Explicit reason")
    assert history_of(program)[0].reason == "Explicit reason"


# --- Append-only ------------------------------------------------------------------------------------


@pytest.fixture
def entry(personas):
    return history_of(personas.program_a)[0]


def test_saving_an_existing_entry_is_refused(entry):
    entry.reason = "tampered"
    with pytest.raises(AppendOnlyError):
        entry.save()
    assert HistoryEntry.objects.get(pk=entry.pk).reason == ""


def test_deleting_an_entry_is_refused(entry):
    with pytest.raises(AppendOnlyError):
        entry.delete()
    assert HistoryEntry.objects.filter(pk=entry.pk).exists()


def test_queryset_update_and_delete_are_refused(entry):
    with pytest.raises(AppendOnlyError):
        HistoryEntry.objects.filter(pk=entry.pk).update(reason="tampered")
    with pytest.raises(AppendOnlyError):
        HistoryEntry.objects.update(reason="tampered")
    with pytest.raises(AppendOnlyError):
        HistoryEntry.objects.filter(pk=entry.pk).delete()
    with pytest.raises(AppendOnlyError):
        HistoryEntry.objects.all().delete()
    entry.reason = "tampered"
    with pytest.raises(AppendOnlyError), transaction.atomic():
        HistoryEntry.objects.bulk_update([entry], ["reason"])
    assert HistoryEntry.objects.get(pk=entry.pk).reason == ""


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_historyentry SET reason = 'tampered' WHERE id = %s",
        "DELETE FROM audit_historyentry WHERE id = %s",
    ],
)
@pytest.mark.postgres_only
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the append-only trigger exists only on PostgreSQL")
def test_database_refuses_raw_update_and_delete(entry, sql):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [entry.pk])
    assert HistoryEntry.objects.get(pk=entry.pk).reason == ""


# --- Who reads an object's history: one rule for the API and the browser ---------------------------


@pytest.fixture
def vendor_records(personas):
    """Vendor X's profile, a site, an offering and a certificate, each edited once by X's admin."""
    from datetime import date

    from vendors.models import Certification, ServiceCategory, ServiceOffering, Site

    actor = personas.vendor_x_admin
    vendor = personas.vendor_x
    with audit_context(actor=actor):
        vendor.description = "Secret old description"
        vendor.save()
        vendor.description = "Public description"
        vendor.save()
        site = Site.objects.create(vendor=vendor, name="Leeds lab", city="Leeds", country="GB")
        offering = ServiceOffering.objects.create(
            vendor=vendor, category=ServiceCategory.objects.get(code="clinical-trials"), price_min=Decimal("1000"),
            price_max=Decimal("5000"), currency="EUR",
        )  # fmt: skip
        offering.price_min = Decimal("900")
        offering.save()
        cert = Certification.objects.create(vendor=vendor, type="gcp", authority="mhra", issued_on=date(2024, 1, 1))
    return {
        "vendors": vendor, "sites": site, "offerings": offering, "certifications": cert,
    }  # fmt: skip


HISTORY_READERS = {"vendor_x_admin", "vendor_x_viewer", "staff"}
HISTORY_OUTSIDERS = {"sponsor_a_admin", "sponsor_a_viewer", "sponsor_b_admin", "vendor_y_admin"}


@pytest.mark.parametrize("resource", ["vendors", "sites", "offerings", "certifications"])
@pytest.mark.parametrize("persona", sorted(HISTORY_READERS | HISTORY_OUTSIDERS))
def test_history_endpoint_is_for_the_owning_vendor_and_platform_staff(
    personas, vendor_records, api_client_for, resource, persona
):
    """Was: any signed-in user read another organisation's staff names and old values here."""
    from cro_cmo.api.viewsets import HISTORY_NOT_YOURS

    obj = vendor_records[resource]
    client = api_client_for(getattr(personas, persona))
    assert client.get(f"/api/v1/{resource}/{obj.pk}/").status_code == 200  # the record itself is public
    response = client.get(f"/api/v1/{resource}/{obj.pk}/history/")
    body = response.json()
    if persona in HISTORY_READERS:
        assert response.status_code == 200
        assert body["count"] >= 1
        assert personas.vendor_x_admin.full_name in {row["actor_name"] for row in body["results"]}
    else:
        assert response.status_code == 403
        assert body == {"detail": HISTORY_NOT_YOURS}
        assert personas.vendor_x_admin.full_name not in response.content.decode()


@pytest.mark.parametrize("persona", sorted(HISTORY_READERS | HISTORY_OUTSIDERS))
@pytest.mark.parametrize("resource", ["vendors", "sites", "offerings", "certifications"])
def test_browser_history_panel_follows_the_same_rule(personas, vendor_records, browser_client_for, persona, resource):
    obj = vendor_records[resource]
    path = obj.get_absolute_url()
    page = browser_client_for(getattr(personas, persona)).get(path)
    assert page.status_code == 200, path
    html = page.content.decode()
    shown = 'id="history"' in html
    assert shown == (persona in HISTORY_READERS), (persona, path)
    assert (personas.vendor_x_admin.full_name in html) == shown
    if resource == "vendors":
        assert ("Secret old description" in html) == shown


def test_history_rule_reads_owners_from_the_model(personas, vendor_records):
    """Sponsor records belong to their sponsor; vendor records to their vendor; staff read all."""
    program = ProgramFactory(sponsor=personas.sponsor_a, code="OWN-1")
    assert program.history_owners() == {"sponsor": {personas.sponsor_a.pk}}
    assert personas.sponsor_a.history_owners() == {"sponsor": {personas.sponsor_a.pk}}
    assert vendor_records["certifications"].history_owners() == {"vendor": {personas.vendor_x.pk}}
    assert program.history_visible_to(personas.sponsor_a_viewer)
    assert not program.history_visible_to(personas.sponsor_b_admin)
    assert not program.history_visible_to(personas.vendor_x_admin)
    assert program.history_visible_to(personas.staff)
    from django.contrib.auth.models import AnonymousUser

    assert not program.history_visible_to(AnonymousUser())
    assert not program.history_visible_to(None)
