def navigation(request):
    """Role-aware navigation: the unread count and what kind of organisation the user is in."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from notifications.models import Notification

    return {"unread_notifications": Notification.objects.for_user(user).unread().count()}
