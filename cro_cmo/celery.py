"""The Celery app. Settings come from Django settings (``CELERY_*``); the beat schedule lives there too."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cro_cmo.settings")

app = Celery("cro_cmo")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
