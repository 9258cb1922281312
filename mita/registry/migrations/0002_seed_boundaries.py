from django.db import migrations


def seed(apps, schema_editor):  # type: ignore[no-untyped-def]
    from mita.registry.services import boundaries_seed

    boundaries_seed(boundary_type_model=apps.get_model("registry", "BoundaryType"),
                    boundary_model=apps.get_model("registry", "Boundary"))


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
