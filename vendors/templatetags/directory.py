from django import template

from vendors.choices import CertificateStatus

register = template.Library()

STATUS_CLASSES = {
    CertificateStatus.VALID: "text-bg-success",
    CertificateStatus.EXPIRING: "text-bg-warning",
    CertificateStatus.EXPIRED: "text-bg-danger",
}


@register.inclusion_tag("vendors/_certificate_badge.html")
def certificate_badge(certification, today=None, status_only=False):
    """A coloured badge: green valid, amber expiring within 90 days, red expired."""
    status = certification.status_on(today) if today else certification.status
    return {"certification": certification, "status": status, "css": STATUS_CLASSES[status], "status_only": status_only}


@register.simple_tag(takes_context=True)
def facet_toggle_url(context, key, value):
    """The directory URL with ``key=value`` toggled (added if absent, removed if present); page reset."""
    query = context["request"].GET.copy()
    values = query.getlist(key)
    if value in values:
        values.remove(value)
    else:
        values.append(value)
    query.setlist(key, values)
    query.pop("page", None)
    return "?" + query.urlencode()
