from django.apps import AppConfig


class ReciConfig(AppConfig):
    name = "reci"
    verbose_name = "RECI"
