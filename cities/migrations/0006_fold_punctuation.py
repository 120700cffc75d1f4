"""Recompute the stored folded names now that fold() turns punctuation into spaces.

"Vitoria-Gasteiz" is stored as "vitoria gasteiz", so /cities/?q=vitoria gasteiz finds it as
the API's ?search= did. Cities, municipalities, working groups and technicians' search text.
"""

from django.db import migrations

from cities.text import fold


def refold(model, source: str, target: str) -> None:
    rows = list(model.objects.only("pk", source, target))
    for row in rows:
        setattr(row, target, fold(getattr(row, source)))
    model.objects.bulk_update(rows, [target], batch_size=1000)


def refold_technicians(Technician) -> None:
    technicians = list(Technician.objects.select_related("user", "city"))
    for technician in technicians:
        user = technician.user
        full_name = f"{user.first_name} {user.last_name}".strip()
        parts = [full_name, technician.position, technician.city.name, technician.bio]
        technician.search_text = fold(" ".join(p for p in parts if p))
    Technician.objects.bulk_update(technicians, ["search_text"], batch_size=500)


def forwards(apps, schema_editor):
    for name in ("Municipality", "City", "WorkingGroup"):
        refold(apps.get_model("cities", name), "name", "search_name")
    refold_technicians(apps.get_model("cities", "Technician"))


class Migration(migrations.Migration):
    dependencies = [("cities", "0005_search_text_without_email")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
