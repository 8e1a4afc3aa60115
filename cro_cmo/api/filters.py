import django_filters


class BaseFilterSet(django_filters.FilterSet):
    """Every list filters by ``updated_after`` (incremental sync for integrations)."""

    updated_after = django_filters.IsoDateTimeFilter(
        field_name="updated", lookup_expr="gte", label="Changed at or after (ISO 8601 date-time)"
    )
