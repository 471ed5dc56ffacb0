"""The folded search key on each patient, and on PostgreSQL a trigram index that serves "contains".

Filled for existing patients from their names (the same `fold` the model's save uses). PostgreSQL's
pg_trgm extension lets `search_name LIKE '%garcia%'` use an index instead of reading every patient
(issue 17: a clinic with 200,000 patients). Creating the extension needs the CREATE privilege on
the database; where the role lacks it the index is skipped with a message and search still works,
only slower (docs: README, "Deploying at scale").
"""

from django.db import migrations, models, transaction

from triggerpoint.patients.folding import fold

TRIGRAM_INDEX = "patients_search_name_trgm"


def fill_search_names(apps, schema_editor):
    Patient = apps.get_model("patients", "Patient")
    batch = []
    for patient in Patient.objects.only("pk", "given_name", "family_name").iterator(chunk_size=2000):
        patient.search_name = fold(f"{patient.family_name} {patient.given_name}")
        batch.append(patient)
        if len(batch) == 2000:
            Patient.objects.bulk_update(batch, ["search_name"])
            batch = []
    Patient.objects.bulk_update(batch, ["search_name"])


def add_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except Exception as exc:  # noqa: BLE001 - a managed database may refuse extensions; search still works
        print(f"\n  pg_trgm not available ({exc}); patient search runs without its trigram index.")
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {TRIGRAM_INDEX} ON patients_patient USING gin (search_name gin_trgm_ops)"
    )


def drop_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {TRIGRAM_INDEX}")


class Migration(migrations.Migration):

    dependencies = [
        ("patients", "0004_patient_payer"),
    ]

    operations = [
        migrations.AddField(
            model_name="patient",
            name="search_name",
            field=models.CharField(blank=True, editable=False, max_length=210),
        ),
        migrations.RunPython(fill_search_names, migrations.RunPython.noop),
        migrations.RunPython(add_trigram_index, drop_trigram_index),
    ]
