"""Demo users: the five of the spec, plus colleagues with other roles. Password: demo-password."""

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


def seed(sponsors: dict, vendors: dict) -> list[User]:
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
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
        users.append(user)
    return users
