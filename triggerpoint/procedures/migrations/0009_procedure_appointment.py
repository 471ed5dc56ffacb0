"""The day's procedure appointment a note was written for (the worklist's row links to the note).

SQLite rebuilds the table to add a foreign key, which drops the signed-note immutability
triggers; they are dropped and created again around the change, as in 0006, 0007 and 0008.
"""

import importlib

import django.db.models.deletion
from django.db import migrations, models

_0006 = importlib.import_module("triggerpoint.procedures.migrations.0006_repeat_override_and_universal_protocol")


class Migration(migrations.Migration):

    dependencies = [
        ('procedures', '0008_procedure_prefilled_from'),
        ('scheduling', '0001_initial'),
    ]

    operations = [
        migrations.RunPython(_0006.drop_triggers, _0006.create_triggers),
        migrations.AddField(
            model_name='procedure',
            name='appointment',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='procedures', to='scheduling.appointment'),
        ),
        migrations.RunPython(_0006.create_triggers, _0006.drop_triggers),
    ]
