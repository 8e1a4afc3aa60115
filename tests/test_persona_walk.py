"""Walk every registered API route and every browser detail route with every persona.

For each route the rule is the one ``for_user`` defines: a persona gets exactly the rows of
``Model.objects.for_user(persona)`` in the list, 200 on their detail pages, 404 on every other
row's detail page. A route added tomorrow is walked the day it is registered. The last test
plants a deliberately unscoped viewset and proves the walk catches it.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework import serializers, viewsets
from rest_framework.routers import DefaultRouter
from rest_framework.test import APIClient

from cro_cmo.api.urls import router
from cro_cmo.generic_views import ObjectDetailView
from tests.conftest import PERSONA_NAMES

pytestmark = pytest.mark.django_db


def leaks_in_api(api_router, client, user) -> list[str]:
    """Every way the routes of ``api_router`` disagree with ``for_user`` for ``user``."""
    problems = []
    for prefix, viewset, _basename in api_router.registry:
        model = viewset.queryset.model
        allowed = set(model.objects.for_user(user).values_list("pk", flat=True))
        listed, url = set(), f"/api/v1/{prefix}/?page_size=500"
        while url:
            response = client.get(url)
            assert response.status_code == 200, f"{prefix} list answered {response.status_code}"
            listed |= {row["id"] for row in response.json()["results"]}
            url = response.json()["next"]
        if listed - allowed:
            problems.append(f"{prefix}: list shows {sorted(listed - allowed)} beyond for_user")
        for pk in model.objects.values_list("pk", flat=True):
            status = client.get(f"/api/v1/{prefix}/{pk}/").status_code
            expected = 200 if pk in allowed else 404
            if status != expected:
                problems.append(f"{prefix}/{pk}: {status}, expected {expected}")
    return problems


def browser_detail_routes():
    """(pattern string, view class, kwarg name) for every URL served by an ObjectDetailView."""

    def walk(patterns, prefix=""):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                yield from walk(entry.url_patterns, prefix + str(entry.pattern))
            elif isinstance(entry, URLPattern):
                view_class = getattr(entry.callback, "view_class", None)
                if view_class and issubclass(view_class, ObjectDetailView):
                    yield prefix + str(entry.pattern), view_class, entry.name

    return list(walk(get_resolver().url_patterns))


@pytest.mark.parametrize("persona", PERSONA_NAMES)
def test_every_api_route_answers_exactly_what_for_user_allows(personas, api_client_for, persona):
    user = getattr(personas, persona)
    assert leaks_in_api(router, api_client_for(user), user) == []


@pytest.mark.parametrize("persona", PERSONA_NAMES)
def test_every_browser_detail_route_answers_exactly_what_for_user_allows(personas, browser_client_for, persona):
    from django.urls import reverse

    user = getattr(personas, persona)
    client = browser_client_for(user)
    routes = browser_detail_routes()
    assert routes, "no detail routes found: the walk would prove nothing"
    for _, view_class, name in routes:
        model = view_class.queryset.model
        allowed = set(view_class.queryset.for_user(user).values_list("pk", flat=True))
        for obj in model.objects.all():
            url = reverse(name, kwargs={view_class.lookup_field: getattr(obj, view_class.lookup_field)})
            expected = 200 if obj.pk in allowed else 404
            assert client.get(url).status_code == expected, f"{persona} {url}"


def test_sponsor_data_stays_private(personas, api_client_for):
    """The rule itself, not only its consistency: B never sees A's programme, vendors see none."""
    url = f"/api/v1/programs/{personas.program_a.pk}/"
    for outsider in (personas.sponsor_b_admin, personas.vendor_x_admin):
        response = api_client_for(outsider).get(url)
        assert response.status_code == 404
        assert "A-1" not in response.content.decode()
    own = api_client_for(personas.sponsor_a_viewer).get(url)
    assert own.status_code == 200
    assert own.json()["code"] == "A-1"


def test_anonymous_gets_nothing(personas):
    client = APIClient()
    for prefix, _, _ in router.registry:
        response = client.get(f"/api/v1/{prefix}/")
        assert response.status_code == 401
        assert "results" not in response.json()
        assert "credentials" in response.json()["detail"].lower()


def test_walk_catches_a_deliberately_unscoped_viewset(personas, api_client_for, settings):
    """A viewset that forgets ``for_user`` (plain ModelViewSet over all rows) is reported."""
    from sponsors.models import Program

    class LeakySerializer(serializers.ModelSerializer):
        class Meta:
            model = Program
            fields = ["id", "code"]

    class LeakyProgramViewSet(viewsets.ReadOnlyModelViewSet):
        queryset = Program.objects.all()
        serializer_class = LeakySerializer

    leaky_router = DefaultRouter()
    leaky_router.register("leaky-programs", LeakyProgramViewSet, basename="leaky")

    from django.urls import clear_url_caches, include, path

    import cro_cmo.urls

    settings.ROOT_URLCONF = type(
        "LeakyUrls", (), {"urlpatterns": [path("api/v1/", include(leaky_router.urls)), *cro_cmo.urls.urlpatterns]}
    )
    clear_url_caches()
    try:
        user = personas.sponsor_b_admin
        problems = leaks_in_api(leaky_router, api_client_for(user), user)
    finally:
        clear_url_caches()
    assert any("leaky-programs: list shows" in p for p in problems)
    assert any(f"leaky-programs/{personas.program_a.pk}: 200, expected 404" in p for p in problems)
