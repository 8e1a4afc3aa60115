from rest_framework import serializers

from audit.models import HistoryEntry


class HistoryEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = HistoryEntry
        fields = ["id", "timestamp", "action", "actor", "actor_name", "changes", "reason"]
        read_only_fields = fields
