"""A filter's form field built once on the class (drf-spectacular's schema generation does it) must not
freeze per-request choices: the visible-choices restriction and the vendor's alert kinds apply anyway."""

import pytest
from django.test import RequestFactory
from django.urls import reverse

from alerts.filtersets import AlertFilterSet
from alerts.models import Alert

pytestmark = pytest.mark.django_db


@pytest.fixture
def fields_built_on_the_class():
    for filter_ in AlertFilterSet.base_filters.values():
        filter_.field  # noqa: B018 - builds and caches the form field on the class-level filter
    yield
    for filter_ in AlertFilterSet.base_filters.values():
        filter_.__dict__.pop("_field", None)


def test_a_vendor_still_gets_only_its_kinds(fields_built_on_the_class, personas, client):
    client.force_login(personas.vendor_x_admin)
    page = client.get(reverse("alert-list")).content.decode()
    assert "Milestone overdue" in page and "Requalification audit due" not in page


def test_another_organisations_contract_is_still_refused(fields_built_on_the_class, world):
    request = RequestFactory().get("/")
    request.user = world["vendor_y_admin"]
    contract = world["work_order_a_x"]
    filterset = AlertFilterSet(data={"contract": [contract.pk]}, request=request, queryset=Alert.objects.all())
    assert not filterset.is_valid() and "contract" in filterset.errors
