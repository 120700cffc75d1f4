"""Load the INE/IGN municipality table and link the existing member cities to it."""

from django.db import migrations

from cities.municipalities import load_reference_table
from cities.text import fold


def forwards(apps, schema_editor):
    Municipality = apps.get_model("cities", "Municipality")
    City = apps.get_model("cities", "City")
    load_reference_table(Municipality)
    bands = ((20_000, "town"), (50_000, "small"), (100_000, "medium"), (500_000, "large"))
    for city in City.objects.all():
        place = Municipality.objects.filter(ine_code=city.ine_code).first() if city.ine_code else None
        if place is not None:
            city.municipality = place
            city.latitude, city.longitude = place.latitude, place.longitude
        city.search_name = fold(city.name)
        if city.population is not None:
            city.size_band = next(
                (band for limit, band in bands if city.population < limit), "metropolis"
            )
        city.save()


class Migration(migrations.Migration):
    dependencies = [("cities", "0002_network")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
