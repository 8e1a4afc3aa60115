"""The compare tray's data for the directory: the user's selection (vendors/compare.py) and its limit."""

from django import template

from vendors.compare import COMPARE_MAX, compare_selection_vendors

register = template.Library()


@register.simple_tag(takes_context=True)
def compare_selection(context) -> list:
    """The vendors the signed-in user picked to compare (one query; none when nothing is picked)."""
    request = context.get("request")
    if request is None or not request.user.is_authenticated:
        return []
    return compare_selection_vendors(request)


@register.simple_tag
def compare_limit() -> int:
    return COMPARE_MAX
