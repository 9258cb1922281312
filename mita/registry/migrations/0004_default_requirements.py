from django.db import migrations

DEFAULT_REQUIREMENTS = [
    "Contract with the district signed",
    "Valid operating licence, or a grace period from the regulator",
    "Tariffs approved by the regulator",
    "Operations manager and technician named",
    "Water quality (or electrical safety) testing plan agreed",
    "Customer register and assets handed over",
]


def seed(apps, schema_editor):  # type: ignore[no-untyped-def]
    requirement_model = apps.get_model("registry", "Requirement")
    for order, title in enumerate(DEFAULT_REQUIREMENTS, start=1):
        requirement_model.objects.get_or_create(title=title, defaults={"order": order * 10})


class Migration(migrations.Migration):
    dependencies = [("registry", "0003_licences_clusters_contracts")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
