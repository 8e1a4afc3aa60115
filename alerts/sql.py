"""Small portable SQL expressions the checks need (PostgreSQL, the database of record, and SQLite)."""

from django.db.models import CharField, Func, IntegerField, Value
from django.db.models.functions import Cast, Concat


class DaysBetween(Func):
    """Whole days from ``start`` to ``end`` (``end - start``): negative when ``end`` is earlier.

    PostgreSQL subtracts dates to an integer; SQLite stores ISO text and needs ``julianday``.
    """

    output_field = IntegerField()
    arity = 2

    def __init__(self, end, start, **extra):
        super().__init__(end, start, **extra)

    def as_sql(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, template="(%(expressions)s)", arg_joiner=" - ", **extra)

    def as_sqlite(self, compiler, connection, **extra):
        return super().as_sql(
            compiler, connection, template="CAST(julianday(%(expressions)s) AS INTEGER)",
            arg_joiner=") - julianday(", **extra,
        )  # fmt: skip


def text(expression) -> Cast:
    """A column or expression as text, for building keys and titles."""
    return Cast(expression, output_field=CharField())


def join_text(*parts) -> Concat:
    """Concatenate literal strings and expressions (strings become values)."""
    return Concat(*(Value(p) if isinstance(p, str) else p for p in parts), output_field=CharField())
