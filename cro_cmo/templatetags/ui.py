"""Small presentation helpers shared by every template."""

from django import forms, template
from django.db import models
from django.template.loader import render_to_string

register = template.Library()

CONTROL_CLASSES = {
    forms.CheckboxInput: "form-check-input",
    forms.RadioSelect: "form-check-input",
    forms.CheckboxSelectMultiple: "form-check-input",
    forms.Select: "form-select",
    forms.SelectMultiple: "form-select",
}


@register.filter
def bootstrap(bound_field):
    """Render a bound field's widget with Bootstrap's classes (and ``is-invalid`` on error)."""
    widget = bound_field.field.widget
    css = next((c for cls, c in CONTROL_CLASSES.items() if isinstance(widget, cls)), "form-control")
    if bound_field.errors:
        css += " is-invalid"
    return bound_field.as_widget(attrs={"class": css})


@register.filter
def is_checkbox(bound_field):
    return isinstance(bound_field.field.widget, forms.CheckboxInput)


@register.filter
def is_multi_choice(bound_field):
    return isinstance(bound_field.field.widget, forms.RadioSelect | forms.CheckboxSelectMultiple)


@register.simple_tag
def field_label(obj_or_meta, name):
    meta = getattr(obj_or_meta, "_meta", obj_or_meta)
    try:
        return meta.get_field(name).verbose_name.capitalize()
    except Exception:
        return name.replace("_", " ").capitalize()


@register.simple_tag
def field_value(obj, name):
    """A field's display value: choice labels, money without trailing noise, blanks as an em dash."""
    try:
        field = obj._meta.get_field(name)
    except Exception:
        value = getattr(obj, name, None)
    else:
        if getattr(field, "choices", None) and not isinstance(field, models.ForeignKey):
            value = getattr(obj, f"get_{name}_display")()
        else:
            value = getattr(obj, name)
    if value in (None, ""):
        return "—"
    return value


@register.simple_tag(takes_context=True)
def history_panel(context, obj, limit=50):
    """The object's audit trail, for those ``obj.history_visible_to(user)`` admits (the API's rule too)."""
    request = context.get("request")
    if not hasattr(obj, "history_visible_to") or not obj.history_visible_to(getattr(request, "user", None)):
        return ""
    entries = list(obj.history_entries()[:limit])
    meta = obj._meta
    rows = []
    for entry in entries:
        changes = []
        for name, (old, new) in entry.changes.items():
            if name == "id":
                continue
            try:
                field = meta.get_field(name)
            except Exception:  # a field since removed: show the raw name and values
                changes.append((name, old, new))
                continue
            changes.append((field.verbose_name.capitalize(), _display(field, old), _display(field, new)))
        rows.append((entry, changes))
    return render_to_string("includes/history_panel.html", {"rows": rows}, request=request)


def _display(field, value):
    """A recorded value as people read it: choice labels ("CRO", "Germany") instead of stored codes."""
    choices = dict(field.flatchoices) if getattr(field, "flatchoices", None) else {}
    if choices and not isinstance(value, list):
        return choices.get(value, value)
    return value
