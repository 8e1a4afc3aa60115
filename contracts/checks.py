"""Sourcing's background checks (spec §4), found by ``cro_cmo.checks.registered_checks``.

The background-checks issue schedules them (and adds per-sponsor lead times); here they only register,
so that ``manage.py run_checks`` and the beat task already run them.
"""

from cro_cmo.checks import CheckOutcome, register_check


@register_check("rfp_deadline_approaching")
def rfp_deadline_approaching() -> CheckOutcome:
    """Invitees that have not answered an RFP closing within 3 days are reminded, once each."""
    from contracts.services.reminders import rfp_reminders_send

    events = rfp_reminders_send()
    return CheckOutcome(
        name="rfp_deadline_approaching",
        raised=[f"{event.title} (vendor {event.vendor_id})" for event in events],
    )


@register_check("rfp_deadline_passed")
def rfp_deadline_passed() -> CheckOutcome:
    """Published RFPs past their response deadline close; the sponsor is told."""
    from contracts.services.rfps import rfp_close_due

    closed = rfp_close_due()
    return CheckOutcome(name="rfp_deadline_passed", raised=["RFP closed at its response deadline"] * closed)
