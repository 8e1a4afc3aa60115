"""Deleting a record others depend on is refused with what blocks it — 409 in the API, a message in the
browser — never a 500 from the database's PROTECT, and nothing is deleted."""

import pytest

from cro_cmo.services import delete_refused_message
from sponsors.models import Program
from tests.factories import RFPFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def program_with_rfps(personas):
    RFPFactory(program=personas.program_a)
    RFPFactory(program=personas.program_a)
    return personas.program_a


def test_api_delete_of_a_programme_with_rfps_is_409_with_the_reason(personas, api_client_for, program_with_rfps):
    response = api_client_for(personas.sponsor_a_admin).delete(f"/api/v1/programs/{program_with_rfps.pk}/")
    assert response.status_code == 409
    assert response.json() == {
        "detail": "This program cannot be deleted: 2 RFPs refer to it. Remove or reassign them first."
    }
    assert Program.objects.filter(pk=program_with_rfps.pk).exists()


def test_api_delete_of_a_programme_without_rfps_still_works(personas, api_client_for):
    response = api_client_for(personas.sponsor_a_admin).delete(f"/api/v1/programs/{personas.program_a.pk}/")
    assert response.status_code == 204
    assert not Program.objects.filter(pk=personas.program_a.pk).exists()


def test_the_message_counts_one_blocker_in_the_singular(personas):
    rfp = RFPFactory(program=personas.program_a)
    assert delete_refused_message(personas.program_a, [rfp]) == (
        "This program cannot be deleted: 1 RFP refers to it. Remove or reassign it first."
    )
