"""The Celery application; its settings are the CELERY_* Django settings."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reci.settings.dev")

app = Celery("reci")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
