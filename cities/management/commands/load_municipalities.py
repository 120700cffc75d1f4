from pathlib import Path

from django.core.management.base import BaseCommand

from cities.models import Municipality
from cities.municipalities import TABLE, load_reference_table


class Command(BaseCommand):
    help = (
        "Load or refresh the reference table of Spanish municipalities "
        "(INE codes, population, IGN coordinates) from a CSV in the shipped format."
    )

    def add_arguments(self, parser):
        parser.add_argument("csv", nargs="?", type=Path, default=TABLE)

    def handle(self, *args, csv: Path, **options):
        count = load_reference_table(Municipality, csv)
        self.stdout.write(f"{count} municipalities loaded from {csv}")
