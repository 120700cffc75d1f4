from urllib.parse import urlsplit

from django.apps import AppConfig, apps
from django.conf import settings
from django.db.models.signals import post_migrate


def name_the_site(using="default", **kwargs):
    """The sites framework's row, which allauth's e-mails quote, says RECI at the portal's host.

    Left alone it says example.com ("Hello from example.com!" in the sign-up mail).
    """
    from django.contrib.sites.models import Site

    Site.objects.using(using).update_or_create(
        pk=settings.SITE_ID,
        defaults={
            "domain": urlsplit(settings.WAGTAILADMIN_BASE_URL).netloc or "localhost",
            "name": settings.WAGTAIL_SITE_NAME,
        },
    )


class ReciConfig(AppConfig):
    name = "reci"
    verbose_name = "RECI"

    def ready(self):
        # After the sites app's own migrations (this app has no models, so no signal of its own).
        post_migrate.connect(name_the_site, sender=apps.get_app_config("sites"))
