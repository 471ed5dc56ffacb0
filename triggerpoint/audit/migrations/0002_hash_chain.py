"""Hash-chain the audit trail (audit/chain.py) and link the events already stored.

Events written before this migration are linked here, per clinic, in the order
they were inserted (id order): the chain's genesis is the first event ever
stored, so an edit or deletion of an old event is detectable too. (It proves the
old events are unchanged *since this migration*, not before it.)
"""

from django.db import migrations, models

from triggerpoint.audit import chain

BATCH = 2000


def link_existing_events(apps, schema_editor):
    AuditEvent = apps.get_model("audit", "AuditEvent")
    AuditChainHead = apps.get_model("audit", "AuditChainHead")
    db = schema_editor.connection.alias
    events = AuditEvent.objects.using(db)
    clinic_ids = events.order_by().values_list("clinic_id", flat=True).distinct()
    for clinic_id in sorted(clinic_ids, key=lambda c: (c is not None, c or 0)):
        rows = events.filter(clinic_id=clinic_id) if clinic_id is not None else events.filter(clinic__isnull=True)
        last_seq, last_hash = 0, chain.GENESIS_HASH
        batch = []
        for event in rows.order_by("id").iterator(chunk_size=BATCH):
            last_seq, last_hash = chain.link([event], last_seq, last_hash)
            batch.append(event)
            if len(batch) >= BATCH:
                events.bulk_update(batch, ["chain_seq", "prev_hash", "hash"])
                batch = []
        if batch:
            events.bulk_update(batch, ["chain_seq", "prev_hash", "hash"])
        AuditChainHead.objects.using(db).create(key=chain.chain_key(clinic_id), last_seq=last_seq, last_hash=last_hash)


def unlink(apps, schema_editor):
    apps.get_model("audit", "AuditChainHead").objects.using(schema_editor.connection.alias).all().delete()


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0001_initial'),
    ]

    operations = [
        migrations.CreateModel(
            name='AuditChainHead',
            fields=[
                ('key', models.CharField(max_length=40, primary_key=True, serialize=False)),
                ('last_seq', models.BigIntegerField(default=0)),
                ('last_hash', models.CharField(default='0000000000000000000000000000000000000000000000000000000000000000', max_length=64)),
            ],
        ),
        migrations.AddField(
            model_name='auditevent',
            name='chain_seq',
            field=models.BigIntegerField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name='auditevent',
            name='hash',
            field=models.CharField(blank=True, editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name='auditevent',
            name='prev_hash',
            field=models.CharField(blank=True, editable=False, max_length=64),
        ),
        migrations.RunPython(link_existing_events, unlink),
    ]
