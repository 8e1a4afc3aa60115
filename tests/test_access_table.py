"""Who sees what, written as data and checked on every route — independent of ``for_user``.

``SEES`` and ``CHANGES`` state the product's rule (spec §3) for the ``world`` fixture, by
persona and object name. They are not derived from ``for_user``: if a queryset's rule is wrong,
or a view forgets to apply it, the routes disagree with this table and the test names the route.

Checked on:
- every API list (exactly the expected rows: missing rows fail as well as extra rows) and every
  API detail route, with GET, PATCH, PUT, DELETE and each detail-level POST action;
- every browser list page (the objects' names appear exactly for those who see them) and every
  browser route that takes an object id or slug (detail, edit, delete, member actions, documents).
A URL pattern with an object parameter that this module cannot classify fails the walk, so a new
route is covered (or consciously excluded) the day it is added. The last tests plant routes that
skip ``for_user`` and prove the table catches them.
"""

import pytest
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from cro_cmo.api.urls import router
from tests.conftest import PERSONA_NAMES

pytestmark = pytest.mark.django_db

# --- The rule, as data ---------------------------------------------------------------------------

# Everyone signed in sees the directory: vendors, their sites, active offerings, certificates.
DIRECTORY = {"vendor_x", "vendor_y", "site_x", "site_y", "offering_x", "offering_y", "cert_x", "cert_y"}
# The fixed catalogue (every row, not only the named ones) is read by all, changed by none.
REFERENCE = {"category", "capability"}
SPONSOR_A_PEOPLE = {"sponsor_a_admin", "sponsor_a_viewer"}
VENDOR_X_PEOPLE = {"vendor_x_admin", "vendor_x_viewer"}
VENDOR_X_OWN = {"vendor_x", "site_x", "offering_x", "offering_x_inactive", "cert_x"}
# A sponsor's private records of vendors: its people read them, never the vendor they are about.
SPONSOR_A_RECORDS = {"qualification_a_x", "qualification_doc_a", "shortlist_a"}
# Sourcing: A's sealed published RFP (vendor X invited, X's proposal submitted) and A's draft. Vendor X reads
# the published RFP and its own invitation, never the draft. X's proposal is NOT in sponsor A's rows: the RFP
# is sealed and still published, so its proposals stay closed to the sponsor until it closes.
SPONSOR_A_SOURCING = {"rfp_a", "rfp_a_draft", "invitation_a_x"}
# Both sides change an invitation (the sponsor invited, the vendor declines or asks): which step each side
# may take is the services' rule, refused with a message — so sponsor A's admin changes it too.
VENDOR_X_SOURCING = {"rfp_a", "invitation_a_x", "proposal_a_x"}
# Contracts are both parties' (each side's steps are the services' rule): A–X's MSA, its work order and the
# work order's milestone, transferred activity, change order and invoice; A–Y's and B–Y's agreements.
A_X_CONTRACTS = {"msa_a_x", "work_order_a_x", "milestone_a_x", "activity_a_x", "change_order_a_x", "invoice_a_x"}
SPONSOR_A_CONTRACTS = A_X_CONTRACTS | {"contract_a_y"}
VENDOR_Y_CONTRACTS = {"contract_a_y", "contract_b_y"}
# Documents: whoever sees the record sees its files (immutable: nobody changes one, a new version is added) —
# the RFP's attachment both sides; the sealed, still open RFP's proposal file its vendor only; A–X's change
# order backup and invoice PDF both parties (their people of every role), never sponsor B or vendor Y.
A_X_CONTRACT_DOCUMENTS = {"document_change_order_a_x", "document_invoice_a_x"}
SPONSOR_A_DOCUMENTS = {"document_rfp_a"} | A_X_CONTRACT_DOCUMENTS
VENDOR_X_DOCUMENTS = {"document_rfp_a", "document_proposal_a_x"} | A_X_CONTRACT_DOCUMENTS
# Alerts go to one organisation each: A's copy of the overdue alert on A–X's milestone to sponsor A's people,
# X's copy to vendor X's, B's budget warning to sponsor B's; the people who can act acknowledge them (a change).

SEES = {
    "sponsor_a_admin": DIRECTORY | REFERENCE | SPONSOR_A_PEOPLE
    | {"sponsor_a", "program_a", "notification_sponsor_a_admin", "token_sponsor_a_admin", "invite_a"}
    | SPONSOR_A_RECORDS | SPONSOR_A_SOURCING | SPONSOR_A_CONTRACTS | SPONSOR_A_DOCUMENTS | {"alert_a"},
    "sponsor_a_viewer": DIRECTORY | REFERENCE | SPONSOR_A_PEOPLE | {"sponsor_a", "program_a"} | SPONSOR_A_RECORDS
    | SPONSOR_A_SOURCING | SPONSOR_A_CONTRACTS | SPONSOR_A_DOCUMENTS | {"alert_a"},
    "sponsor_b_admin": DIRECTORY | REFERENCE | {"sponsor_b", "program_b", "sponsor_b_admin", "qualification_b_x"}
    | {"rfp_b", "contract_b_y", "alert_b"},
    "vendor_x_admin": DIRECTORY | REFERENCE | VENDOR_X_OWN | VENDOR_X_PEOPLE | {"notification_vendor_x_admin"}
    | VENDOR_X_SOURCING | A_X_CONTRACTS | VENDOR_X_DOCUMENTS | {"alert_x"},
    "vendor_x_viewer": DIRECTORY | REFERENCE | VENDOR_X_OWN | VENDOR_X_PEOPLE | {"token_vendor_x_viewer"}
    | VENDOR_X_SOURCING | A_X_CONTRACTS | VENDOR_X_DOCUMENTS | {"alert_x"},
    "vendor_y_admin": DIRECTORY | REFERENCE | {"vendor_y_admin"} | VENDOR_Y_CONTRACTS,
    "anonymous": set(),
}  # fmt: skip
CHANGES = {
    # Admins manage their organisation (profile, colleagues, invitations); members act; viewers
    # change nothing but their own API tokens.
    "sponsor_a_admin": SPONSOR_A_PEOPLE | {"sponsor_a", "program_a", "token_sponsor_a_admin", "invite_a"}
    | SPONSOR_A_RECORDS | SPONSOR_A_SOURCING | SPONSOR_A_CONTRACTS | {"alert_a"},
    "sponsor_a_viewer": set(),
    "sponsor_b_admin": {"sponsor_b", "program_b", "sponsor_b_admin", "qualification_b_x", "rfp_b", "contract_b_y",
                        "alert_b"},
    # The invitation is the vendor's to act on (decline, ask, answer); the proposal is the vendor's own.
    "vendor_x_admin": VENDOR_X_OWN | VENDOR_X_PEOPLE | {"proposal_a_x", "invitation_a_x"} | A_X_CONTRACTS | {"alert_x"},
    "vendor_x_viewer": {"token_vendor_x_viewer"},
    "vendor_y_admin": {"vendor_y", "site_y", "offering_y", "cert_y", "vendor_y_admin"} | VENDOR_Y_CONTRACTS,
    "anonymous": set(),
}  # fmt: skip
# Who reads an object's history (who changed what, old values): the owning organisation's people,
# every role — not everyone who may see the object (a vendor's profile is public, its history is not).
HISTORY = {
    "sponsor_a_admin": {"sponsor_a", "program_a", "qualification_a_x"} | SPONSOR_A_SOURCING | SPONSOR_A_CONTRACTS,
    "sponsor_a_viewer": {"sponsor_a", "program_a", "qualification_a_x"} | SPONSOR_A_SOURCING | SPONSOR_A_CONTRACTS,
    "sponsor_b_admin": {"sponsor_b", "program_b", "qualification_b_x", "rfp_b", "contract_b_y"},
    # An invitation's trail is both sides'; the proposal's is the vendor's (the sealed sponsor's only after closing).
    # A contract's trail, and its parts', is both parties'.
    "vendor_x_admin": VENDOR_X_OWN | {"invitation_a_x", "proposal_a_x"} | A_X_CONTRACTS,
    "vendor_x_viewer": VENDOR_X_OWN | {"invitation_a_x", "proposal_a_x"} | A_X_CONTRACTS,
    "vendor_y_admin": {"vendor_y", "site_y", "offering_y", "cert_y"} | VENDOR_Y_CONTRACTS,
    "anonymous": set(),
}
ALL_PERSONAS = [*PERSONA_NAMES, "anonymous"]
VIEWERS = {"sponsor_a_viewer", "vendor_x_viewer"}
# Objects whose state refuses a write even to those who change them: 409 with the reason, not 204/200.
DELETE_REFUSED = {"program_a", "program_b"}  # they have RFPs (PROTECT): deleting one would orphan them
EDIT_REFUSED = {"rfp_a"}  # published: invitees answer what they were sent, so it is fixed
# API actions that belong to one side of a record both sides change or see: the other side's changer gets 403.
# ("contracts", "update") stands for PATCH and PUT: a contract's terms are the sponsor's to edit. The change order
# of the world was proposed by the vendor, so the sponsor decides it and the vendor withdraws it.
SIDE_ACTIONS = {("proposals", "shortlist"): "sponsor", ("proposals", "reject"): "sponsor",
                ("proposals", "submit"): "vendor", ("proposals", "withdraw"): "vendor",
                ("contracts", "update"): "sponsor", ("contracts", "send-for-signature"): "sponsor",
                ("contracts", "complete"): "sponsor", ("contracts", "terminate"): "sponsor",
                ("milestones", "start"): "vendor", ("milestones", "submit"): "vendor",
                ("milestones", "accept"): "sponsor", ("milestones", "reject"): "sponsor",
                ("change-orders", "approve"): "sponsor", ("change-orders", "reject"): "sponsor",
                ("change-orders", "withdraw"): "vendor", ("invoices", "approve"): "sponsor",
                ("invoices", "reject"): "sponsor", ("invoices", "mark-paid"): "sponsor"}  # fmt: skip
# The sponsor's alone although a vendor's people see the object: the invited vendor reads the RFP, never its
# comparison or scores — 404 for the vendor's people, as for anything out of reach (browser routes, API actions).
SPONSOR_SIDE_ROUTES = {"rfp-compare", "rfp-compare-export", "rfp-score"}
SPONSOR_SIDE_API_ACTIONS = {("rfps", "comparison"), ("rfps", "scores")}

# Browser pages that list objects: URL name → the names of the objects whose name they may show.
BROWSER_LISTS = {
    "program-list": {"program_a", "program_b"},
    "dashboard": {"program_a", "program_b", "alert_a", "alert_x", "alert_b"},
    "vendor-list": {"vendor_x", "vendor_y"},
    "notifications": {"notification_sponsor_a_admin", "notification_vendor_x_admin"},
    "members": {*PERSONA_NAMES, "invite_a"},
    "api-tokens": {"token_sponsor_a_admin", "token_vendor_x_viewer"},
    "qualification-list": {"qualification_a_x", "qualification_b_x"},
    "shortlist-list": {"shortlist_a"},
    "rfp-list": {"rfp_a", "rfp_a_draft", "rfp_b"},
    "contract-list": {"msa_a_x", "work_order_a_x", "contract_a_y", "contract_b_y"},
    "alert-list": {"alert_a", "alert_x", "alert_b"},
}
# Browser routes with an object parameter that are not object pages (public tokens from e-mails).
NOT_OBJECT_ROUTES = {"invite-accept", "password_reset_confirm", "signup-confirm"}
# Function views with an object parameter: URL name → (kwarg, action, HTTP method).
FUNCTION_OBJECT_ROUTES = {
    "certification-document": ("pk", "view", "get"),
    "member-role": ("pk", "change", "post"),
    "member-remove": ("pk", "change", "post"),
    "invite-revoke": ("pk", "change", "post"),
    "api-token-revoke": ("pk", "change", "post"),
    "qualification-document-add": ("pk", "change", "post"),
    "qualificationdocument-file": ("pk", "view", "get"),
    "shortlist-remove-vendor": ("pk", "change", "post"),
    # Sourcing actions (contracts/urls.py): every one posts and redirects back to the RFP page.
    "rfp-invite": ("pk", "change", "post"),
    "rfp-publish": ("pk", "change", "post"),
    "rfp-close": ("pk", "change", "post"),
    "rfp-cancel": ("pk", "change", "post"),
    "rfp-question-answer": ("pk", "change", "post"),
    "rfp-invitation-decline": ("pk", "change", "post"),
    "rfp-question-ask": ("pk", "change", "post"),
    "proposal-start": ("pk", "change", "post"),
    "proposal-submit": ("pk", "change", "post"),
    "proposal-withdraw": ("pk", "change", "post"),
    # The comparison (SPONSOR_SIDE_ROUTES): the page and its XLSX read the RFP (a sealed, open one shows only
    # when it opens); the score sheet posts to a proposal and comes back to the page.
    "rfp-compare": ("pk", "view", "get"),
    "rfp-compare-export": ("pk", "view", "get"),
    "rfp-score": ("pk", "change", "post"),
    # The sponsor's evaluation: a vendor posting on its own proposal is refused with a message (302). The
    # award's GET confirmation (403 to the vendor's people) is checked in tests/test_award.py.
    "proposal-shortlist": ("pk", "change", "post"),
    "proposal-reject": ("pk", "change", "post"),
    "proposal-award": ("pk", "change", "post"),
    # Documents: an upload posts to its record (back to the record's page with a message); the download reads.
    "document-upload-rfp": ("pk", "change", "post"),
    "document-upload-proposal": ("pk", "change", "post"),
    "document-upload-contract": ("pk", "change", "post"),
    "document-upload-milestone": ("pk", "change", "post"),
    "document-upload-change-order": ("pk", "change", "post"),
    "document-upload-invoice": ("pk", "change", "post"),
    "document-download": ("pk", "view", "get"),
    # Contract execution (contracts/urls_contracts.py): every step posts and comes back to the contract page with
    # a message — the other side's step too (the services refuse it: wrong side), so both parties' changers get 302.
    "contract-sign": ("pk", "change", "post"),
    "change-order-propose": ("pk", "change", "post"),
    "invoice-submit": ("pk", "change", "post"),
    "milestone-start": ("pk", "change", "post"),
    "milestone-submit": ("pk", "change", "post"),
    "milestone-accept": ("pk", "change", "post"),
    "milestone-reject": ("pk", "change", "post"),
    "change-order-approve": ("pk", "change", "post"),
    "change-order-reject": ("pk", "change", "post"),
    "change-order-withdraw": ("pk", "change", "post"),
    "invoice-approve": ("pk", "change", "post"),
    "invoice-reject": ("pk", "change", "post"),
    "invoice-mark-paid": ("pk", "change", "post"),
    # Acknowledging an alert posts a comment and comes back to the alert's page (a missing one as a message).
    "alert-acknowledge": ("pk", "change", "post"),
}


def marker(world, name) -> str:
    """The unique text by which a browser page shows object ``name``."""
    obj = world[name]
    if name in PERSONA_NAMES or name.startswith("invite_"):
        return obj.email
    if name.startswith("notification_"):
        return obj.event.title
    if name.startswith("qualification_") and hasattr(obj, "msa_reference"):
        return obj.msa_reference
    if name.startswith(("rfp_", "msa_", "work_order_", "contract_", "alert_")):
        return obj.title
    return obj.name


def client_for(world, persona, api_client_for, browser: bool = False):
    if persona == "anonymous":
        from django.test import Client

        return Client() if browser else APIClient()
    user = world[persona]
    if browser:
        from django.test import Client

        client = Client()
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        return client
    return api_client_for(user)


def expected_pks(world, persona, model, table) -> set:
    """Primary keys of ``model`` that ``table`` (SEES or CHANGES) grants ``persona``."""
    names = table[persona]
    if (
        table is SEES
        and persona != "anonymous"
        and any(name in REFERENCE and isinstance(world[name], model) for name in world)
    ):
        return set(model.objects.values_list("pk", flat=True))  # the whole catalogue
    return {world[name].pk for name in names if name in world and type(world[name]) is model}


def named_objects(world, model) -> dict:
    return {name: obj for name, obj in world.items() if type(obj) is model}


# --- API -----------------------------------------------------------------------------------------


def api_problems(world, persona, client, api_router) -> list[str]:
    """Every way the API routes of ``api_router`` disagree with the table for ``persona``."""
    problems = []
    for prefix, viewset, _ in api_router.registry:
        model = viewset.queryset.model
        objects = named_objects(world, model)
        if not objects:
            problems.append(f"{prefix}: no object of {model.__name__} in the world: add one and its table rows")
            continue
        problems += api_list_problems(world, persona, client, prefix, model)
        for name, obj in objects.items():
            problems += api_detail_problems(world, persona, client, prefix, viewset, name, obj)
    return problems


def api_list_problems(world, persona, client, prefix, model) -> list[str]:
    url, listed = f"/api/v1/{prefix}/?page_size=100", set()
    while url:
        response = client.get(url)
        if persona == "anonymous":
            return [] if response.status_code == 401 else [f"{prefix} list: anonymous got {response.status_code}"]
        if response.status_code != 200:
            return [f"{prefix} list: {response.status_code}"]
        listed |= {row["id"] for row in response.json()["results"]}
        url = response.json()["next"]
    expected = expected_pks(world, persona, model, SEES)
    problems = []
    if listed - expected:
        problems.append(f"{prefix} list shows {sorted(listed - expected)} it should not")
    if expected - listed:
        problems.append(f"{prefix} list misses {sorted(expected - listed)}")
    return problems


def _in_savepoint(call):
    """Run a write and undo it, so each check starts from the same world."""
    with transaction.atomic():
        response = call()
        transaction.set_rollback(True)
    return response


def api_detail_problems(world, persona, client, prefix, viewset, name, obj) -> list[str]:
    sees, changes = name in SEES[persona], name in CHANGES[persona]
    url, problems = f"/api/v1/{prefix}/{obj.pk}/", []
    denied = {401} if persona == "anonymous" else {404} if not sees else {403, 404}
    if persona in VIEWERS:
        denied = denied | {403}  # a viewer's every write is refused by role, before any lookup: nothing leaks

    def check(verb, status, allowed_ok):
        ok = allowed_ok if changes else denied
        if status not in ok:
            problems.append(f"{verb} {url}: {status}, expected one of {sorted(ok)} ({persona}, {name})")

    got = client.get(url)
    read_ok = {200} if sees else ({401} if persona == "anonymous" else {404})
    if got.status_code not in read_ok:
        problems.append(f"GET {url}: {got.status_code}, expected {sorted(read_ok)} ({persona}, {name})")
    elif sees and got.json().get("id") != obj.pk:
        problems.append(f"GET {url}: body is not object {obj.pk}")
    for extra in viewset.get_extra_actions():
        if extra.detail and "get" in extra.mapping:
            action_ok = read_ok
            if (prefix, extra.url_path) in SPONSOR_SIDE_API_ACTIONS and getattr(world.get(persona), "vendor_id", None):
                action_ok = {404}
            if extra.url_path == "history" and sees:
                action_ok = {200} if name in HISTORY[persona] else {403}
            status = client.get(f"{url}{extra.url_path}/").status_code
            if status not in action_ok:
                problems.append(f"GET {url}{extra.url_path}/: {status}, expected {sorted(action_ok)} ({persona})")
    persona_side = "sponsor" if getattr(world.get(persona), "sponsor_id", None) else "vendor"
    writable = "patch" in viewset.http_method_names and hasattr(viewset, "partial_update")
    if not writable:
        problems += read_only_write_problems(client, url)
    else:
        edit_ok = {409} if name in EDIT_REFUSED else {200}
        if SIDE_ACTIONS.get((prefix, "update"), persona_side) != persona_side:
            edit_ok = {403}  # the other side edits this record
        check("PATCH", _in_savepoint(lambda: client.patch(url, {}, format="json")).status_code, edit_ok)
        body = _representation(world, prefix, obj, viewset)
        check("PUT", _in_savepoint(lambda: client.put(url, body, format="json")).status_code, edit_ok)
        if "delete" in viewset.http_method_names and hasattr(viewset, "destroy"):
            delete_ok = {409} if name in DELETE_REFUSED else {204}
            check("DELETE", _in_savepoint(lambda: client.delete(url)).status_code, delete_ok)
    # Detail actions that write (a read-only route's too: acknowledging an alert, accepting a milestone).
    for extra in viewset.get_extra_actions():
        if extra.detail and "post" in extra.mapping:
            action_url = f"{url}{extra.url_path}/"
            status = _in_savepoint(lambda u=action_url: client.post(u, {}, format="json")).status_code
            side = SIDE_ACTIONS.get((prefix, extra.url_path))
            if side is not None and persona_side != side:
                check(f"POST {extra.url_path}", status, {403})  # not this side's action
            else:
                check(f"POST {extra.url_path}", status, {200, 201, 204, 400, 409})
    return problems


def read_only_write_problems(client, url) -> list[str]:
    """A read-only route refuses every write the same way for every object (nothing to leak)."""
    problems = []
    for verb in ("patch", "put", "delete"):
        status = getattr(client, verb)(url, {}, format="json").status_code
        if status not in (401, 403, 404, 405):
            problems.append(f"{verb.upper()} {url} on a read-only route: {status}")
    return problems


def _representation(world, prefix, obj, viewset) -> dict:
    """The object's own API representation, as the platform staff reads it: a valid PUT body.

    Files are left out: a JSON client cannot send one (uploads are multipart).
    """
    from rest_framework.fields import FileField

    staff = APIClient()
    staff.force_authenticate(world["staff"])
    body = staff.get(f"/api/v1/{prefix}/{obj.pk}/").json()
    files = {name for name, field in viewset.serializer_class().fields.items() if isinstance(field, FileField)}
    return {key: value for key, value in body.items() if key not in files}


@pytest.mark.parametrize("persona", ALL_PERSONAS)
def test_every_api_route_follows_the_access_table(world, api_client_for, persona):
    client = client_for(world, persona, api_client_for)
    assert api_problems(world, persona, client, router) == []


# --- Browser -------------------------------------------------------------------------------------


def browser_routes():
    """(full pattern, URL name, view class or None, parameter names) for every browser route."""

    def walk(patterns, prefix=""):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                if str(entry.pattern).startswith(("api/", "admin/")):
                    continue  # the API has its own walk; the admin is platform staff's
                yield from walk(entry.url_patterns, prefix + str(entry.pattern))
            elif isinstance(entry, URLPattern):
                yield (
                    prefix + str(entry.pattern),
                    entry.name,
                    getattr(entry.callback, "view_class", None),
                    list(entry.pattern.converters),
                )

    return list(walk(get_resolver().url_patterns))


def object_route_spec(name, view_class, params):
    """(model, lookup kwarg, action, method) for a browser route that acts on one object, or None."""
    from cro_cmo.generic_views import ObjectDeleteView, ObjectDetailView, ObjectEditView

    if name in FUNCTION_OBJECT_ROUTES:
        kwarg, action, method = FUNCTION_OBJECT_ROUTES[name]
        return None, kwarg, action, method
    for base, action, method in [(ObjectDetailView, "view", "get"), (ObjectEditView, "change", "get"),
                                 (ObjectDeleteView, "change", "post")]:  # fmt: skip
        if view_class and issubclass(view_class, base):
            return view_class.queryset.model, view_class.lookup_field, action, method
    return None


def test_every_browser_route_with_an_object_parameter_is_classified():
    """A new route that takes an object id must join the table (or be declared not an object page)."""
    unclassified = [
        pattern
        for pattern, name, view_class, params in browser_routes()
        if params and name not in NOT_OBJECT_ROUTES and object_route_spec(name, view_class, params) is None
    ]
    assert unclassified == []


def _model_of_function_route(name):
    from accounts.models import ApiToken, MemberInvite, User
    from contracts.models import RFP, Invitation, Proposal, Question
    from sponsors.models import QualificationDocument, Shortlist, VendorQualification
    from vendors.models import Certification

    sourcing = {"rfp-invite": RFP, "rfp-publish": RFP, "rfp-close": RFP, "rfp-cancel": RFP,
                "rfp-question-answer": Question, "rfp-invitation-decline": Invitation, "rfp-question-ask": Invitation,
                "proposal-start": Invitation, "proposal-submit": Proposal, "proposal-withdraw": Proposal,
                "rfp-compare": RFP, "rfp-compare-export": RFP, "rfp-score": Proposal,
                "proposal-shortlist": Proposal, "proposal-reject": Proposal, "proposal-award": Proposal}  # fmt: skip
    if name in sourcing:
        return sourcing[name]
    if name.startswith(("contract-", "milestone-", "change-order-", "invoice-")):
        from contracts.models import ChangeOrder, Contract, Invoice, Milestone

        on_contract = {"contract-sign", "change-order-propose", "invoice-submit"}
        prefixes = {"milestone-": Milestone, "change-order-": ChangeOrder, "invoice-": Invoice}
        return Contract if name in on_contract else next(m for p, m in prefixes.items() if name.startswith(p))
    if name == "alert-acknowledge":
        from alerts.models import Alert

        return Alert
    if name.startswith("document-"):
        from contracts.models import ChangeOrder, Contract, Document, Invoice, Milestone

        return {"document-upload-rfp": RFP, "document-upload-proposal": Proposal, "document-upload-contract": Contract,
                "document-upload-milestone": Milestone, "document-upload-change-order": ChangeOrder,
                "document-upload-invoice": Invoice, "document-download": Document}[name]  # fmt: skip
    return {"certification-document": Certification, "member-role": User, "member-remove": User,
            "invite-revoke": MemberInvite, "api-token-revoke": ApiToken,
            "qualification-document-add": VendorQualification, "qualificationdocument-file": QualificationDocument,
            "shortlist-remove-vendor": Shortlist}[name]  # fmt: skip


def browser_object_problems(world, persona, client) -> list[str]:
    problems = []
    for _, name, view_class, params in browser_routes():
        if not params or name in NOT_OBJECT_ROUTES:
            continue
        spec = object_route_spec(name, view_class, params)
        if spec is None:
            continue  # reported by test_every_browser_route_with_an_object_parameter_is_classified
        model, kwarg, action, method = spec
        model = model or _model_of_function_route(name)
        sponsor_side = name in SPONSOR_SIDE_ROUTES and getattr(world.get(persona), "vendor_id", None) is not None
        for obj_name, obj in named_objects(world, model).items():
            table = SEES if action == "view" else CHANGES
            allowed = obj_name in table[persona] and not sponsor_side
            url = reverse(name, kwargs={kwarg: getattr(obj, kwarg)})
            if method == "get":
                response = client.get(url)
                status = response.status_code
                if status == 200 and view_class is not None and action == "view" and hasattr(obj, "history_visible_to"):
                    shows_history = 'id="history"' in response.content.decode()
                    if shows_history != (obj_name in HISTORY[persona]):
                        problems.append(f"GET {url}: history panel shown={shows_history} to {persona}")
            else:
                status = _in_savepoint(lambda url=url: client.post(url, {"role": "member"})).status_code
            if persona == "anonymous":
                ok = {302}  # to the login page
            elif allowed:
                ok = {200} if method == "get" else {302}
            else:
                ok = {404} if obj_name not in SEES[persona] or sponsor_side else {403, 404}
                if persona in VIEWERS:
                    ok = ok | {403}  # refused by role before any lookup
            if status not in ok:
                problems.append(f"{method.upper()} {url}: {status}, expected {sorted(ok)} ({persona}, {obj_name})")
    return problems


def browser_list_problems(world, persona, client, lists=None) -> list[str]:
    problems = []
    for url_name, names in (lists or BROWSER_LISTS).items():
        response = client.get(reverse(url_name))
        if response.status_code >= 500:
            problems.append(f"{url_name}: {response.status_code}")
            continue
        html = response.content.decode()
        for obj_name in names:
            shown = marker(world, obj_name) in html
            if shown and obj_name not in SEES[persona]:
                problems.append(f"{url_name} shows {obj_name} to {persona}")
            if not shown and obj_name in SEES[persona]:
                problems.append(f"{url_name} misses {obj_name} for {persona} (status {response.status_code})")
    return problems


@pytest.mark.parametrize("persona", ALL_PERSONAS)
def test_every_browser_object_route_follows_the_access_table(world, api_client_for, persona):
    client = client_for(world, persona, api_client_for, browser=True)
    assert browser_object_problems(world, persona, client) == []


@pytest.mark.parametrize("persona", ALL_PERSONAS)
def test_every_browser_list_shows_exactly_what_the_table_allows(world, api_client_for, persona):
    client = client_for(world, persona, api_client_for, browser=True)
    assert browser_list_problems(world, persona, client) == []


@pytest.mark.parametrize("persona", ALL_PERSONAS)
def test_every_browser_page_without_parameters_answers_without_error(world, api_client_for, persona):
    """The walk over every list-like page: no server error, and a private page asks anonymous to sign in."""
    client = client_for(world, persona, api_client_for, browser=True)
    public = {"landing", "login", "logout", "signup", "signup-sent", "password_reset", "password_reset_done",
              "password_reset_complete", "healthz", "api-schema", "api-docs",
              "vendor-verified"}  # fmt: skip  # what the "Verified" badge means: nothing private on it
    problems = []
    for pattern, name, _, params in browser_routes():
        if params:
            continue
        response = client.get("/" + pattern)
        if response.status_code >= 500:
            problems.append(f"/{pattern}: {response.status_code}")
        elif persona == "anonymous" and name not in public and response.status_code not in (302, 405):
            problems.append(f"/{pattern} answered {response.status_code} to anonymous")
    assert problems == []


# --- The table catches what skips for_user -------------------------------------------------------


def _with_urls(settings, extra):
    from django.urls import clear_url_caches

    import cro_cmo.urls

    settings.ROOT_URLCONF = type("PlantedUrls", (), {"urlpatterns": [*extra, *cro_cmo.urls.urlpatterns],
                                                      "handler404": cro_cmo.urls.handler404})  # fmt: skip
    clear_url_caches()


def test_a_browser_list_view_that_skips_for_user_is_caught(world, api_client_for, settings):
    from django.urls import clear_url_caches, path

    from sponsors.views import ProgramListView

    class UnscopedProgramList(ProgramListView):
        def restricted_queryset(self, action="view"):
            return self.queryset  # the planted bug: every sponsor's programmes

    _with_urls(settings, [path("planted-programs/", UnscopedProgramList.as_view(), name="planted-programs")])
    try:
        client = client_for(world, "sponsor_b_admin", api_client_for, browser=True)
        problems = browser_list_problems(world, "sponsor_b_admin", client, {"planted-programs": {"program_a"}})
    finally:
        clear_url_caches()
    assert problems == ["planted-programs shows program_a to sponsor_b_admin"]


def test_a_browser_detail_view_that_skips_for_user_is_caught(world, api_client_for, settings):
    from django.urls import clear_url_caches, path

    from sponsors.views import ProgramDetailView

    class UnscopedProgramDetail(ProgramDetailView):
        def restricted_queryset(self, action="view"):
            return self.queryset

    _with_urls(settings, [path("planted-programs/<int:pk>/", UnscopedProgramDetail.as_view(), name="planted")])
    try:
        client = client_for(world, "sponsor_b_admin", api_client_for, browser=True)
        problems = browser_object_problems(world, "sponsor_b_admin", client)
    finally:
        clear_url_caches()
    assert (
        f"GET /planted-programs/{world['program_a'].pk}/: 200, expected [404] (sponsor_b_admin, program_a)" in problems
    )


def test_an_api_viewset_that_skips_for_user_is_caught(world, api_client_for, settings):
    from django.urls import clear_url_caches, include, path
    from rest_framework import viewsets
    from rest_framework.routers import DefaultRouter

    from sponsors.api import ProgramSerializer

    class UnscopedProgramViewSet(viewsets.ReadOnlyModelViewSet):
        queryset = world["program_a"].__class__.objects.all()
        serializer_class = ProgramSerializer

    planted = DefaultRouter()
    planted.register("planted-programs", UnscopedProgramViewSet, basename="planted")
    _with_urls(settings, [path("api/v1/", include(planted.urls))])
    try:
        problems = api_problems(world, "sponsor_b_admin", client_for(world, "sponsor_b_admin", api_client_for), planted)
    finally:
        clear_url_caches()
    assert f"planted-programs list shows [{world['program_a'].pk}] it should not" in problems
    assert any(p.startswith(f"GET /api/v1/planted-programs/{world['program_a'].pk}/: 200") for p in problems)


def test_a_wrong_for_user_rule_is_caught_even_when_every_view_applies_it(world, api_client_for, monkeypatch):
    """The table is not derived from for_user: a queryset rule that leaks fails it."""
    from sponsors.models import ProgramQuerySet

    monkeypatch.setattr(ProgramQuerySet, "visible_to", lambda self, user, action: self)
    client = client_for(world, "sponsor_b_admin", api_client_for)
    problems = api_problems(world, "sponsor_b_admin", client, router)
    assert f"programs list shows [{world['program_a'].pk}] it should not" in problems


# --- Per-user routes: no object id in the URL, each person reaches only their own row --------------

# Routes on the signed-in user's own record. There is no id to try, so the check is that each persona reads
# and changes exactly its own row (viewers too: a preference is the person's, not the organisation's data)
# and that anonymous is asked to sign in. URL name → "browser" or "api".
PER_USER_ROUTES = {"notification-preferences": "browser", "api:notification-preferences-me": "api"}
PER_USER_ZONES = ["Europe/Zurich", "America/New_York", "Asia/Tokyo", "Australia/Sydney", "Africa/Nairobi",
                  "America/Sao_Paulo", "Asia/Kolkata"]  # fmt: skip


def per_user_problems(world, persona, api_client_for) -> list[str]:
    from notifications.models import NotificationPreference

    zones = dict(zip(PERSONA_NAMES, PER_USER_ZONES, strict=False))
    for name, zone in zones.items():
        NotificationPreference.objects.update_or_create(user=world[name], defaults={"time_zone": zone})
    problems = []
    for url_name, kind in PER_USER_ROUTES.items():
        client = client_for(world, persona, api_client_for, browser=kind == "browser")
        url = reverse(url_name)
        response = client.get(url)
        if persona == "anonymous":
            if response.status_code != (302 if kind == "browser" else 401):
                problems.append(f"GET {url}: anonymous got {response.status_code}")
            continue
        text = response.content.decode()
        # The form's value or the JSON field, not the zone list the page offers as suggestions.
        shown = {name for name, zone in zones.items()
                 if f'name="time_zone" value="{zone}"' in text or f'"time_zone":"{zone}"' in text}  # fmt: skip
        if response.status_code != 200 or shown != {persona}:
            problems.append(f"GET {url}: {response.status_code}, shows the zones of {sorted(shown)} to {persona}")
        body = {"email_mode": "daily_digest", "digest_time": "09:30", "time_zone": "Pacific/Auckland"}
        if kind == "browser":
            status = client.post(url, body).status_code
        else:
            status = client.put(url, body, format="json").status_code
        moved = NotificationPreference.objects.filter(time_zone="Pacific/Auckland")
        changed = set(moved.values_list("user_id", flat=True))
        if status not in (200, 302) or changed != {world[persona].pk}:
            problems.append(f"write {url}: {status}, changed the preferences of users {sorted(changed)} ({persona})")
        NotificationPreference.objects.filter(user=world[persona]).update(time_zone=zones[persona])
    return problems


@pytest.mark.parametrize("persona", ALL_PERSONAS)
def test_per_user_routes_reach_only_the_callers_own_row(world, api_client_for, persona):
    assert per_user_problems(world, persona, api_client_for) == []


# --- The vendor comparison: the routes without an object id that still show private records -------------------

# The compare page and its exports take vendors by slug (?v=…) or from the session: every persona may open them
# (the directory is everyone's), and the "Our qualification" rows show exactly the qualifications SEES grants.
COMPARE_ROUTES = ("vendor-compare", "vendor-compare-xlsx", "vendor-compare-csv")


@pytest.mark.parametrize("persona", ALL_PERSONAS)
def test_the_vendor_comparison_shows_only_the_qualifications_the_table_allows(world, api_client_for, persona):
    import io

    from openpyxl import load_workbook

    client = client_for(world, persona, api_client_for, browser=True)
    problems = []
    for route in COMPARE_ROUTES:
        response = client.get(reverse(route), {"v": ["vendor-x", "vendor-y"]})
        if persona == "anonymous":
            if response.status_code != 302:
                problems.append(f"{route}: {response.status_code} to anonymous")
            continue
        if route.endswith("xlsx"):
            book = load_workbook(io.BytesIO(response.content))
            text = "\n".join(str(c.value) for sheet in book for row in sheet.iter_rows() for c in row if c.value)
        else:
            text = response.content.decode("utf-8-sig")
        for name in ("vendor_x", "vendor_y"):
            if world[name].name not in text:
                problems.append(f"{route} misses {name} for {persona}")
        for name in ("qualification_a_x", "qualification_b_x"):
            shown = marker(world, name) in text
            if shown != (name in SEES[persona]):
                problems.append(f"{route} shows {name}={shown} to {persona}")
    assert problems == []
