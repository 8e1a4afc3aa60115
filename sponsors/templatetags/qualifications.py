"""The sponsor's qualification badge (directory cards, profiles, compare, shortlists)."""

from django import template
from django.utils.html import format_html

from sponsors.choices import QualificationStatus

register = template.Library()

# Bootstrap colours with text that passes contrast on them (axe).
BADGE_CLASSES = {
    QualificationStatus.NOT_QUALIFIED: "text-bg-light border",
    QualificationStatus.IN_QUALIFICATION: "text-bg-info",
    QualificationStatus.APPROVED: "text-bg-success",
    QualificationStatus.CONDITIONALLY_APPROVED: "text-bg-warning",
    QualificationStatus.DISQUALIFIED: "text-bg-danger",
}


@register.simple_tag
def qualification_badge(status: str | None):
    """A badge "Us: Approved"; nothing when the sponsor has no record of the vendor."""
    if not status:
        return ""
    label = QualificationStatus(status).label
    return format_html(
        '<span class="badge {} qualification-badge" data-testid="qualification-badge" '
        'title="Your company\'s qualification of this vendor (private to you)">Qualification: {}</span>',
        BADGE_CLASSES.get(status, "text-bg-secondary"),
        label,
    )
