from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from cities.demo import (
    COORDINATOR_EMAIL,
    DEMO_PASSWORD,
    EMAIL_DOMAIN,
    SEED,
    MunicipalityTableEmpty,
    seed_network,
)


class Command(BaseCommand):
    help = (
        "Fill the database with a demo network: member cities from the INE table, invented "
        "technicians, working groups and meetings. Deterministic and safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=SEED, help=f"random seed (default {SEED})")
        parser.add_argument(
            "--force",
            action="store_true",
            help="seed even with DEBUG off (the demo accounts share a published password)",
        )

    def handle(self, *args, seed: int, force: bool, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "DEBUG is off: this looks like a real deployment, and every demo account "
                "shares a published password. Use --force to seed anyway."
            )
        try:
            counts = seed_network(seed)
        except MunicipalityTableEmpty as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            "demo network ready: {cities} member cities, {technicians} technicians, "
            "{groups} working groups, {meetings} meetings".format(**counts)
        )
        self.stdout.write(
            f"sign in as {COORDINATOR_EMAIL} (coordinator) or any *@{EMAIL_DOMAIN} "
            f"technician, password {DEMO_PASSWORD}"
        )
