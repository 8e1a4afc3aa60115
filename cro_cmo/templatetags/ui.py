"""Small presentation helpers shared by every template."""

from django import forms, template
from django.template.loader import render_to_string

from cro_cmo.templatetags.display import display_stored, display_value

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


@register.filter
def field_anchor(bound_field):
    """The id a link to this field should jump to: its input, or the first input of a group of choices."""
    if bound_field.id_for_label:
        return bound_field.id_for_label
    if is_multi_choice(bound_field):
        first = next(iter(bound_field), None)
        return first.id_for_label if first is not None else ""
    return ""


@register.simple_tag
def field_label(obj_or_meta, name):
    meta = getattr(obj_or_meta, "_meta", obj_or_meta)
    try:
        return meta.get_field(name).verbose_name.capitalize()
    except Exception:
        return name.replace("_", " ").capitalize()


@register.simple_tag
def field_value(obj, name, links=True):
    """A field's display value (``cro_cmo.templatetags.display``): money with its currency, dates,
    choice labels, related objects as links (``links=False`` inside a cell that is a link)."""
    return display_value(obj, name, links=links)


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
    """A recorded value as people read it: choice labels ("CRO", "Germany") instead of stored codes,
    names instead of ids, dates and amounts formatted (``display_stored``)."""
    return None if value is None else display_stored(field, value)  # None: "no earlier value"
