from django.utils.functional import SimpleLazyObject


def navigation(request):
    """Role-aware navigation: the unread count, the open alerts and what kind of organisation the user is in.

    The open alerts are counted only when a template shows them (the full pages' navigation), so an htmx
    partial or a page without the layout costs no query for it.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from alerts.models import Alert
    from notifications.models import Notification

    return {
        "unread_notifications": Notification.objects.for_user(user).unread().count(),
        "open_alerts": SimpleLazyObject(lambda: Alert.objects.for_user(user).open().count()),
    }
