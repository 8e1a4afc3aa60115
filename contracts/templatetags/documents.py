"""``{% documents_panel record %}``: a record's attached documents (versions, hash, download) and, for
those who may add one, the upload form. One panel for RFPs, proposals, contracts and milestones."""

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def documents_panel(context, record):
    # Filled in by the documents work: until then the panel renders nothing.
    return ""
