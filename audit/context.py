"""Who is acting, and why, for the history entries written while a block runs.

Services wrap their writes in ``audit_context(actor=..., reason=...)``; the middleware does the
same for every browser request so that admin edits are attributed too.
"""

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class AuditContext:
    actor: object = None
    reason: str = ""


_current: ContextVar[AuditContext] = ContextVar("audit_context", default=AuditContext())  # noqa: B039 - frozen


def current_audit_context() -> AuditContext:
    return _current.get()


@contextmanager
def audit_context(*, actor=None, reason: str = ""):
    outer = _current.get()
    token = _current.set(AuditContext(actor=actor or outer.actor, reason=reason or outer.reason))
    try:
        yield
    finally:
        _current.reset(token)
