"""Platform staff in the Django admin keep the members page's rule: an organisation keeps one admin."""

import pytest
from django.test import Client

from accounts.models import Role, User
from accounts.services import LAST_ADMIN
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(personas):
    client = Client()
    client.force_login(personas.staff, backend="django.contrib.auth.backends.ModelBackend")
    return client


def change_form_data(user: User, **changes) -> dict:
    data = {
        "email": user.email, "full_name": user.full_name, "sponsor": user.sponsor_id or "",
        "vendor": user.vendor_id or "", "role": user.role, "is_active": "on" if user.is_active else "",
        "last_login_0": "", "last_login_1": "", "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00",
    }  # fmt: skip
    data.update(changes)
    return {key: value for key, value in data.items() if value != ""}


@pytest.mark.parametrize("change", [{"role": Role.VIEWER}, {"is_active": ""}])
def test_staff_cannot_demote_or_deactivate_the_last_admin(personas, staff_client, change):
    admin = personas.sponsor_b_admin  # sponsor B's only admin
    response = staff_client.post(f"/admin/accounts/user/{admin.pk}/change/", change_form_data(admin, **change))
    assert response.status_code == 200
    assert LAST_ADMIN in response.content.decode()
    admin.refresh_from_db()
    assert (admin.role, admin.is_active) == (Role.ADMIN, True)


def test_staff_may_demote_an_admin_when_another_remains(personas, staff_client):
    UserFactory(email="second-admin@b.test", sponsor=personas.sponsor_b, role=Role.ADMIN)
    admin = personas.sponsor_b_admin
    response = staff_client.post(f"/admin/accounts/user/{admin.pk}/change/", change_form_data(admin, role=Role.MEMBER))
    assert response.status_code == 302
    admin.refresh_from_db()
    assert admin.role == Role.MEMBER


def test_staff_cannot_delete_the_last_admin(personas, staff_client):
    admin = personas.sponsor_b_admin
    assert staff_client.get(f"/admin/accounts/user/{admin.pk}/delete/").status_code == 403
    response = staff_client.post(
        "/admin/accounts/user/", {"action": "delete_selected", "_selected_action": [admin.pk], "post": "yes"}
    )
    assert response.status_code == 403
    assert User.objects.filter(pk=admin.pk, is_active=True, role=Role.ADMIN).exists()
