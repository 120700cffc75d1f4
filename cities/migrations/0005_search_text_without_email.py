"""Recompute the technicians' search text without their e-mail addresses.

Technician.refresh_search_text no longer folds the address in: a search for part of an
address found the technician, although neither the API nor the directory shows it.
"""

from django.db import migrations

from cities.text import fold


def forwards(apps, schema_editor):
    Technician = apps.get_model("cities", "Technician")
    technicians = list(Technician.objects.select_related("user", "city"))
    for technician in technicians:
        user = technician.user
        full_name = f"{user.first_name} {user.last_name}".strip()
        parts = [full_name, technician.position, technician.city.name, technician.bio]
        technician.search_text = fold(" ".join(p for p in parts if p))
    Technician.objects.bulk_update(technicians, ["search_text"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [("cities", "0004_alphabetical_order")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
