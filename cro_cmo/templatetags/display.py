"""Values as people read them, not as they are stored.

One place decides how a model field is shown on detail pages, list columns and in the history
panel: money with its currency and thousands separators, dates as dates, date-times in the local
time zone without microseconds, choices by label, yes/no for booleans, related objects by name as
links to their pages, and an em dash for nothing.
"""

import datetime
import os
from decimal import Decimal, InvalidOperation

from django import template
from django.db import models
from django.template.defaultfilters import linebreaksbr
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

register = template.Library()

EMPTY = "—"
DATE_FORMAT = "j M Y"  # 1 Mar 2027
DATETIME_FORMAT = "j M Y, H:i"  # 1 Mar 2027, 14:05 (local time)
# Timestamps every model has; shown last, after the fields people edit.
TIMESTAMPS = ("created", "updated")


@register.filter
def money(amount, currency=""):
    """``45000000`` with ``"USD"`` → ``USD 45,000,000.00``; blank → an em dash.

    Amounts are Decimals with two places (``cro_cmo.money``); they are never rounded through a float.
    """
    if amount in (None, ""):
        return EMPTY
    try:
        amount = Decimal(amount)
    except (InvalidOperation, TypeError, ValueError):
        return str(amount)
    number = f"{amount:,.2f}"
    return f"{currency}\u00a0{number}" if currency else number


def currency_field_for(field: models.Field) -> models.Field | None:
    """The currency of an amount field: ``<first word>_currency`` (``budget_cap`` → ``budget_currency``),
    else the model's ``currency``. None when the decimal is not money (no such field)."""
    if not isinstance(field, models.DecimalField):
        return None
    meta = field.model._meta
    for name in (f"{field.name.split('_')[0]}_currency", "currency"):
        try:
            return meta.get_field(name)
        except Exception:
            continue
    return None


def _date(value: datetime.date) -> SafeString:
    return format_html('<time datetime="{}">{}</time>', value.isoformat(), date_format(value, DATE_FORMAT))


def _datetime(value: datetime.datetime) -> SafeString:
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    value = value.replace(microsecond=0)
    return format_html('<time datetime="{}">{}</time>', value.isoformat(), date_format(value, DATETIME_FORMAT))


def _link(obj, links=True) -> str:
    url = obj.get_absolute_url() if links and hasattr(obj, "get_absolute_url") else None
    return format_html('<a href="{}">{}</a>', url, obj) if url else str(obj)


def _file_url(obj, field: models.FileField) -> str | None:
    """A stored file is served by the view named ``<model>-<field>`` (e.g. ``certification-document``),
    which checks who may read it; never by its storage path."""
    try:
        return reverse(f"{obj._meta.model_name}-{field.name}", kwargs={"pk": obj.pk})
    except NoReverseMatch:
        return None


def display_value(obj, name: str, links: bool = True):
    """The value of ``obj.<name>`` as shown on a page (escaped text or safe HTML).

    ``links=False`` names related objects without linking them (for a cell that is itself a link).
    """
    try:
        field = obj._meta.get_field(name)
    except Exception:
        value = getattr(obj, name, None)
        return EMPTY if value in (None, "") else value
    if field.many_to_many:
        items = list(getattr(obj, name).all())
        return format_html_join(", ", "{}", ((_link(item, links),) for item in items)) if items else EMPTY
    if field.is_relation:
        related = getattr(obj, name)
        return _link(related, links) if related is not None else EMPTY
    value = getattr(obj, field.attname)
    if value in (None, ""):
        return EMPTY
    if isinstance(field, models.BooleanField):
        return "Yes" if value else "No"
    if getattr(field, "choices", None):
        return getattr(obj, f"get_{name}_display")()
    if isinstance(field, models.DateTimeField):
        return _datetime(value)
    if isinstance(field, models.DateField):
        return _date(value)
    if isinstance(field, models.DecimalField):
        currency = currency_field_for(field)
        return money(value, getattr(obj, currency.attname) if currency else "")
    if isinstance(field, models.URLField):
        return format_html('<a href="{}" rel="noopener nofollow">{}</a>', value, value) if links else value
    if isinstance(field, models.FileField):
        # Stored names carry an upload prefix (a timestamp): say what it is, not what it is called on disk.
        extension = os.path.splitext(value.name)[1].lstrip(".").upper()
        label = f"Download {extension}".strip() if extension else "Download"
        url = _file_url(obj, field)
        return format_html('<a href="{}">{}</a>', url, label) if url and links else f"{extension or 'File'} on file"
    if isinstance(field, models.TextField):
        return linebreaksbr(value, autoescape=True)
    return value


@register.simple_tag
def detail_rows(obj) -> list[tuple[str, object]]:
    """(label, value) for every field a person entered, then the timestamps.

    Left out: the id, fields nobody edits (search columns), and a currency shown with its amount.
    """
    meta = obj._meta
    shown_with_amount = {c.name for f in meta.concrete_fields if (c := currency_field_for(f)) is not None}
    fields = [
        f
        for f in [*meta.concrete_fields, *meta.many_to_many]
        if f.editable and not f.primary_key and f.name not in shown_with_amount and f.name not in TIMESTAMPS
    ]
    fields += [f for f in meta.concrete_fields if f.name in TIMESTAMPS]
    return [(str(f.verbose_name)[:1].upper() + str(f.verbose_name)[1:], display_value(obj, f.name)) for f in fields]


def display_stored(field: models.Field, value, cache: dict | None = None):
    """A value as the history recorded it (JSON: ids, ISO strings, decimal strings), shown like a live one."""
    if value is None or value == "":
        return EMPTY
    if isinstance(value, list):
        return ", ".join(str(display_stored(field, item, cache)) for item in value)
    if field.is_relation:
        cache = {} if cache is None else cache
        key = (field.related_model, value)
        if key not in cache:
            # The object may have gone since (a deleted site): then its recorded id is all there is.
            cache[key] = field.related_model._base_manager.filter(pk=value).first()
        related = cache[key]
        return str(related) if related is not None else f"#{value} (deleted)"
    choices = dict(field.flatchoices) if getattr(field, "flatchoices", None) else {}
    if choices:
        return choices.get(value, value)
    if isinstance(field, models.BooleanField):
        return "Yes" if value else "No"
    if isinstance(field, models.DateTimeField) and isinstance(value, str) and (parsed := parse_datetime(value)):
        return _datetime(parsed)
    if isinstance(field, models.DateField) and isinstance(value, str) and (parsed := parse_date(value)):
        return _date(parsed)
    if isinstance(field, models.DecimalField):
        return money(value)
    if isinstance(field, models.FileField):
        return os.path.basename(str(value))
    return value


@register.simple_tag
def action_url(obj, action: str) -> str:
    """The URL of ``obj``'s page for ``action`` ("edit", "delete"), named like its detail page
    (``site-detail`` → ``site-edit``); empty when there is none."""
    detail = getattr(obj, "detail_url_name", None)
    if not detail or not detail.endswith("-detail"):
        return ""
    try:
        return reverse(f"{detail.removesuffix('-detail')}-{action}", kwargs={"pk": obj.pk})
    except NoReverseMatch:
        return ""
