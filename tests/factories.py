"""factory_boy factories for the domain; the personas in conftest.py are built from these."""

import factory
from factory.django import DjangoModelFactory

from accounts.models import Role, User
from sponsors.models import Program, Sponsor
from vendors.models import Vendor


class SponsorFactory(DjangoModelFactory):
    class Meta:
        model = Sponsor
        django_get_or_create = ["slug"]

    name = factory.Sequence(lambda n: f"Sponsor {n}")
    slug = factory.Sequence(lambda n: f"sponsor-{n}")
    type = "pharma"
    country = "US"
    default_currency = "USD"


class VendorFactory(DjangoModelFactory):
    class Meta:
        model = Vendor
        django_get_or_create = ["slug"]

    name = factory.Sequence(lambda n: f"Vendor {n}")
    slug = factory.Sequence(lambda n: f"vendor-{n}")
    kind = "cro"
    hq_country = "GB"
    description = "A contract research organisation."


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["email"]
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    full_name = factory.Sequence(lambda n: f"User {n}")
    role = Role.ADMIN
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class ProgramFactory(DjangoModelFactory):
    class Meta:
        model = Program

    sponsor = factory.SubFactory(SponsorFactory)
    code = factory.Sequence(lambda n: f"PRG-{n:03d}")
    name = factory.Sequence(lambda n: f"Programme {n}")
    phase = "phase-2"
