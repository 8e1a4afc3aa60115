"""Trust signals in templates: the vendor dashboard's "what is missing" card reads its data here."""

from django import template

from vendors.completeness import vendor_completeness

register = template.Library()


@register.simple_tag
def completeness_of(vendor):
    """``{% completeness_of user.vendor as completeness %}``: vendors.completeness (three queries)."""
    return vendor_completeness(vendor=vendor)
