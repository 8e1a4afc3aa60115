"""The alert checks register with ``cro_cmo.checks`` here, so ``run_checks`` and beat run them all."""

from alerts.definitions import ALERT_CHECKS
from alerts.engine import AlertCheck, outcome_of, run_check
from cro_cmo.checks import CheckOutcome, register_check


def _registered(check: AlertCheck):
    def run() -> CheckOutcome:
        return outcome_of(check, run_check(check))

    run.__doc__ = check.candidates.__doc__
    return run


for _check in ALERT_CHECKS:
    register_check(_check.name)(_registered(_check))
