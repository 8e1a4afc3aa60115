"""Demo users: the five of the spec, colleagues with other roles, and the bid desks. Password: demo-password.

Every demo user is made here (idempotent: keyed by e-mail). A *bid desk* (``bids@<vendor slug>.test``) is a
member of a vendor that the demo stories need to act for (bid, answer) but that none of the named demo users
belongs to; ``seed`` makes one for each vendor slug it is given.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from django.contrib.auth.hashers import make_password

from accounts.models import Role, User

DEMO_PASSWORD = "demo-password"

# (email, full name, organisation slug, "sponsor"/"vendor", role)
DEMO_USERS = [
    ("alice@acme.test", "Alice Archer", "acme-pharma", "sponsor", Role.ADMIN),
    ("bob@borealis.test", "Bob Berg", "borealis-bio", "sponsor", Role.ADMIN),
    ("carol@northwind.test", "Carol Chen", "northwind-clinical", "vendor", Role.ADMIN),
    ("dave@helix.test", "Dave Decker", "helix-manufacturing", "vendor", Role.ADMIN),
    ("erin@orbital.test", "Erin O'Brien", "orbital-cdmo", "vendor", Role.ADMIN),
    ("frank@acme.test", "Frank Foster", "acme-pharma", "sponsor", Role.MEMBER),
    ("vera@acme.test", "Vera Vance", "acme-pharma", "sponsor", Role.VIEWER),
    ("nick@northwind.test", "Nick Nolan", "northwind-clinical", "vendor", Role.VIEWER),
]


def bid_desk_email(vendor_slug: str) -> str:
    return f"bids@{vendor_slug}.test"


@functools.cache
def _demo_password_hash() -> str:
    # Hashed once per process: a strong hash costs most of a second, and every demo user shares the password.
    return make_password(DEMO_PASSWORD)


def seed(sponsors: dict, vendors: dict, *, bid_desks: Iterable[str] = ()) -> list[User]:
    """Create or refresh the demo users (password reset to the demo password), then a bid desk — a member
    named "<vendor> bid desk" — for each vendor slug in ``bid_desks`` that has none yet."""
    users = []
    for email, name, org_slug, kind, role in DEMO_USERS:
        org = (
            {"sponsor": sponsors[org_slug], "vendor": None}
            if kind == "sponsor"
            else {"vendor": vendors[org_slug], "sponsor": None}
        )
        user, _ = User.objects.update_or_create(
            email=email, defaults={"full_name": name, "role": role, "is_active": True, **org}
        )
        if not user.check_password(DEMO_PASSWORD):
            user.password = _demo_password_hash()
            user.save(update_fields=["password"])
        users.append(user)
    for slug in dict.fromkeys(bid_desks):
        vendor = vendors[slug]
        user, _ = User.objects.get_or_create(
            email=bid_desk_email(slug),
            defaults={
                "full_name": f"{vendor.name} bid desk",
                "vendor": vendor,
                "role": Role.MEMBER,
                "password": _demo_password_hash(),
            },
        )
        users.append(user)
    return users
