"""Electronic signatures (21 CFR Part 11 §11.50, §11.200): what is signed, the password re-check that
counts toward the account lock-out, signing a contract, and whether a signature still matches.

A signature re-asks the signer's password through ``django.contrib.auth.authenticate`` — the same path
as the login form — so django-axes counts a wrong one toward the same lock-out (per account and client
address, ``AXES_FAILURE_LIMIT`` failures): after that both signing and signing in are refused until the
cool-off ends. The signature stores the printed name, the moment, the meaning and a SHA-256 of the
signed content; it is never changed afterwards. A later change of the content (only possible by change
order) makes ``signature_matches`` false for it, which the contract page shows next to the change
order's own signature.
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Any

from django.contrib.auth import authenticate
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.lockout import LOCKED_OUT
from audit.context import audit_context
from audit.models import Action, history_record
from contracts.choices import ContractState, MilestoneState, Side, SignatureMeaning
from contracts.models import ChangeOrder, Contract, Signature
from contracts.services.contracts import (
    _validate_parties,
    both_sides_notice,
    contract_alerts_recheck,
    contract_side,
    lock_contract,
)
from cro_cmo.services import TransitionError
from cro_cmo.transitions import transition_apply
from notifications.services import event_emit

# --- Messages (tests assert these texts) -----------------------------------------------------------------

PASSWORD_REQUIRED = "Enter your password to sign."
WRONG_PASSWORD = "That is not your password: nothing was signed."
SIGN_NOT_SENT = "The sponsor has not sent this contract for signature yet."
SIGN_NOT_PENDING = "This contract is {state}: only a contract pending signature can be signed."
SIGN_TWICE = "Your organisation has already signed this contract."
SIGNED_EVENT = "contract_signed"

CONTRACT_MEANING = {
    Side.SPONSOR: SignatureMeaning.APPROVED_AS_SPONSOR,
    Side.VENDOR: SignatureMeaning.ACCEPTED_AS_VENDOR,
}
CHANGE_ORDER_MEANING = {
    Side.SPONSOR: SignatureMeaning.CHANGE_APPROVED_AS_SPONSOR,
    Side.VENDOR: SignatureMeaning.CHANGE_ACCEPTED_AS_VENDOR,
}


class SigningLockedOut(PermissionDenied):
    """Too many wrong passwords for this account: signing (like signing in) is refused for the cool-off.

    The request passed to the check is flagged by django-axes, so its middleware answers with the
    lock-out response (429) as it does for the login form."""


# --- What is signed ----------------------------------------------------------------------------------------


def _money(amount) -> str | None:
    return None if amount is None else f"{Decimal(amount).quantize(Decimal('0.01'))}"


def _date(value) -> str | None:
    return None if value is None else value.isoformat()


def canonical_json(content: dict) -> str:
    """The one serialisation that is hashed: sorted keys, no spaces, UTF-8 text, amounts as strings."""
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256_of(content: dict) -> str:
    return hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest()


def signed_content(contract: Contract) -> dict[str, Any]:
    """The terms a contract signature covers, as plain JSON values (amounts as ``"1234.50"``, dates ISO).

    Number, title, kind, the parties (by id, so renaming an organisation voids nothing), the parent
    MSA's number, the value, the budget (value + approved change-order deltas), currency, start, end, the
    milestones still owed (name, due date, amount; removed ones are out) and the transferred activities.
    """
    milestones = contract.milestones.exclude(state=MilestoneState.REMOVED).order_by("position", "id")
    return {
        "number": contract.number,
        "title": contract.title,
        "kind": contract.kind,
        "parties": {"sponsor": contract.sponsor_id, "vendor": contract.vendor_id},
        "parent": contract.parent.number if contract.parent_id else None,
        "value": _money(contract.value),
        "budget": _money(contract.budget),
        "currency": contract.currency,
        "start": _date(contract.start),
        "end": _date(contract.end),
        "milestones": [
            {"name": m.name, "due_date": _date(m.due_date), "amount": _money(m.amount)}
            for m in milestones.only("name", "due_date", "amount")
        ],
        "activities": [
            {"activity": a.activity, "detail": a.detail} for a in contract.activities.order_by("activity", "id")
        ],
    }


def content_sha256(contract: Contract) -> str:
    """SHA-256 (hex) of ``signed_content(contract)`` in canonical JSON."""
    return sha256_of(signed_content(contract))


def change_order_content(change_order: ChangeOrder) -> dict[str, Any]:
    """What an approval signature of a change order covers: the contract, the change order's number, who
    proposed it, the reason, the value delta, the new end and each milestone item."""
    return {
        "contract": change_order.contract.number,
        "change_order": change_order.sequence,
        "proposed_by": change_order.proposed_by_side,
        "reason": change_order.reason,
        "value_delta": _money(change_order.value_delta),
        "new_end": _date(change_order.new_end),
        "items": [
            {
                "action": item.action,
                "milestone": item.milestone_id,
                "name": item.name,
                "due_date": _date(item.due_date),
                "amount": _money(item.amount),
            }
            # Sorted here rather than by order_by(), so a prefetch of the items is used (the contract page).
            for item in sorted(change_order.items.all(), key=lambda item: item.pk)
        ],
    }


def change_order_sha256(change_order: ChangeOrder) -> str:
    return sha256_of(change_order_content(change_order))


def signature_matches(signature: Signature) -> bool:
    """Whether the signed content is still what the signature hashed: for a contract signature the
    contract's current terms; for a change-order approval the change order (which never changes)."""
    if signature.change_order_id:
        return signature.content_sha256 == change_order_sha256(signature.change_order)
    return signature.content_sha256 == content_sha256(signature.contract)


def signatures_with_match(contract: Contract) -> list[Signature]:
    """The contract's signatures, oldest first, each with ``matches`` set (the contract's hash computed
    once; for the contract page)."""
    current = content_sha256(contract)
    signatures = list(
        contract.signatures.select_related("change_order", "signer").prefetch_related("change_order__items")
    )
    for signature in signatures:
        if signature.change_order_id:
            signature.change_order.contract = contract  # the hash names the contract: no query per signature
            signature.matches = signature.content_sha256 == change_order_sha256(signature.change_order)
        else:
            signature.matches = signature.content_sha256 == current
    return signatures


# --- The password re-check ---------------------------------------------------------------------------------


def signing_password_check(*, actor, password: str, request) -> None:
    """Re-ask ``actor``'s password for a signature; a wrong one counts toward the account lock-out.

    1. An empty password is refused as missing input (not counted, as the login form does).
    2. ``authenticate(request, username=<actor's e-mail>, password=…)``: django-axes refuses a locked-out
       account there and, on failure, records the attempt per account and client address — the same count
       as the login form's (call this outside any transaction that may roll back, or the attempt is lost).
    3. Wrong: ValidationError on ``password``; when this failure reaches the limit, or the account was
       already locked, ``SigningLockedOut`` (the request is flagged, the middleware answers 429).

    ``request`` is the request the password came with (a DRF request is unwrapped). ``None`` is only for
    code with no client at all (demo data): the password is checked but no attempt can be counted.
    """
    if not password:
        raise ValidationError({"password": PASSWORD_REQUIRED})
    http_request = getattr(request, "_request", request)
    if http_request is None:
        if actor.check_password(password):
            return
        raise ValidationError({"password": WRONG_PASSWORD})
    user = authenticate(http_request, username=actor.email, password=password)
    if user is not None and user.pk == actor.pk:
        return
    if getattr(http_request, "axes_locked_out", False):
        raise SigningLockedOut(LOCKED_OUT)
    raise ValidationError({"password": WRONG_PASSWORD})


def signature_create(
    *, actor, contract: Contract, side: str, content_hash: str, change_order: ChangeOrder | None = None
) -> Signature:
    """Store one signature (call under the contract's lock, after the password check) and record it in the
    contract's history. A second signature of the same side is refused (the database constraint backs it)."""
    meanings = CHANGE_ORDER_MEANING if change_order is not None else CONTRACT_MEANING
    signature = Signature(
        contract=contract,
        change_order=change_order,
        side=side,
        signer=actor,
        printed_name=actor.get_full_name() or actor.email,
        meaning=meanings[side],
        signed_at=timezone.now(),
        content_sha256=content_hash,
    )
    try:
        with transaction.atomic():
            signature.save()
    except IntegrityError:
        raise TransitionError(SIGN_TWICE) from None
    what = f"{signature.get_meaning_display()} by {signature.printed_name}"
    if change_order is not None:
        what = f"{what} (CO-{change_order.sequence})"
    with audit_context(actor=actor):
        history_record(
            contract,
            Action.CHANGED,
            {"signature": [None, what]},
            reason=f"Electronic signature, SHA-256 {content_hash}",
        )
    return signature


# --- Signing a contract ------------------------------------------------------------------------------------


def _sign_refusal(contract: Contract, side: str) -> str | None:
    if contract.state == ContractState.DRAFT and side == Side.VENDOR:
        return SIGN_NOT_SENT
    if contract.state not in (ContractState.DRAFT, ContractState.PENDING_SIGNATURE):
        return SIGN_NOT_PENDING.format(state=contract.get_state_display().lower())
    if contract.signatures.filter(change_order__isnull=True, side=side).exists():
        return SIGN_TWICE
    return None


def contract_sign(*, actor, contract: Contract, password: str, request) -> Signature:
    """Sign a contract for the actor's side; the second party's signature makes it active.

    1. The actor is a member or admin of one of the parties (a viewer cannot sign: PermissionDenied); the
       side and so the meaning ("approved as sponsor" / "accepted as vendor") follow from the actor's
       organisation.
    2. The contract is pending signature — or a draft signed by the sponsor, which sends it for
       signature in the same step (a vendor cannot sign a draft: TransitionError). Each side signs once.
    3. The password is re-asked (``signing_password_check``): wrong → ValidationError and one more failure
       toward the lock-out (recorded even though nothing else is written).
    4. In one transaction, under the contract's row lock (so both parties signing at once serialise):
       check 2 again, send a draft for signature, store the signature with the printed name (full name, or
       e-mail), the time, the meaning and the SHA-256 of ``signed_content``; record it in the history.
    5. When both sides have signed: transition → active, ``activated_at`` = now, both parties told;
       otherwise the other party is told its signature is awaited.
    Returns the signature (``signature.contract`` is the refreshed contract).
    """
    side = contract_side(actor, contract)
    refusal = _sign_refusal(Contract.objects.get(pk=contract.pk), side)
    if refusal:
        raise TransitionError(refusal)
    signing_password_check(actor=actor, password=password, request=request)
    with transaction.atomic():
        current = lock_contract(contract)
        refusal = _sign_refusal(current, side)
        if refusal:
            raise TransitionError(refusal)
        if current.state == ContractState.DRAFT:
            errors: dict[str, Any] = {}
            _validate_parties(errors, current)
            if errors:
                raise ValidationError(errors)
            current = transition_apply(current, "send_for_signature", actor=actor, reason="Signed by the sponsor.")
            contract_alerts_recheck(current)  # its budget now counts toward the programme's cap
        signature = signature_create(actor=actor, contract=current, side=side, content_hash=content_sha256(current))
        signed_sides = set(current.signatures.filter(change_order__isnull=True).values_list("side", flat=True))
        if signed_sides == {Side.SPONSOR, Side.VENDOR}:
            # Active: its milestones' dates and its budget now run, and its sponsor hears of the vendor's certificates.
            contract_alerts_recheck(current, vendor=True)
            current = transition_apply(
                current,
                "activate",
                actor=actor,
                values={"activated_at": timezone.now()},
                notices=[
                    both_sides_notice(
                        current,
                        title=f"Contract active: {current.number} {current.title}",
                        body="Both parties have signed.",
                    )
                ],
            )
        else:
            organisation = current.sponsor if side == Side.SPONSOR else current.vendor
            other = {"vendor": current.vendor} if side == Side.SPONSOR else {"sponsor": current.sponsor}
            event_emit(
                SIGNED_EVENT,
                title=f"Contract signed by {organisation.name}: {current.number} {current.title}",
                body="Your signature is awaited.",
                url=current.get_absolute_url() or "",
                payload={"object": "contracts.contract", "id": current.pk, "side": side},
                **other,
            )
        signature.contract = current
    return signature
