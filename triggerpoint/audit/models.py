"""Append-only, hash-chained audit trail of every read and change of patient data.

Three layers keep it append-only:

* the model and its queryset refuse update and delete;
* database triggers (migration 0002) refuse UPDATE and DELETE of a row, whatever
  the path (raw SQL, ``QuerySet._raw_delete``, ``QuerySet.update`` on a plain
  queryset, a script);
* every insert is chained (``audit/chain.py``): a change made around the
  triggers is found by ``triggerpoint audit verify``.

On PostgreSQL the application should also connect as a role that holds only
INSERT and SELECT on ``audit_auditevent`` (README, "Audit trail").
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from typing import Any

from django.conf import settings
from django.db import connections, models, router, transaction
from django.utils import timezone

from triggerpoint.audit import chain
from triggerpoint.audit.actions import check_action
from triggerpoint.core.errors import ImmutableRecord


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ImmutableRecord("Audit events are append-only.")

    def delete(self):
        raise ImmutableRecord("Audit events are append-only.")

    def bulk_update(self, objs, fields, batch_size=None):
        raise ImmutableRecord("Audit events are append-only.")

    def bulk_create(self, objs, *args, **kwargs):
        """Insert events in one statement per batch, each linked into its clinic's chain."""
        objs = list(objs)
        if not objs:
            return objs
        for obj in objs:
            check_action(obj.action)
        with transaction.atomic(using=self.db, savepoint=False):
            _link_into_chains(objs, using=self.db)
            return super().bulk_create(objs, *args, **kwargs)

    def append_views(self, views: list[PatientView]) -> list[PatientView]:
        """Insert many events that differ only by patient (a list shown), chained, one INSERT per batch.

        What `bulk_create` does for a page of 400 patients costs ~25 ms of CPU in Django's per-field
        preparation of model instances; these rows share every column but the patient, so the shared
        values are prepared for the database once and the rows go in as multi-row INSERTs (batched as
        `bulk_create` batches them). Same chain, same columns, same registry check as `bulk_create`.
        """
        if not views:
            return views
        for action in {view.action for view in views}:
            check_action(action)
        self._for_write = True
        using = self.db
        connection = connections[using]
        fields = [AuditEvent._meta.get_field(name) for name in PatientView.__slots__]
        columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
        # Names from the model, values as parameters.
        insert = f"INSERT INTO {connection.ops.quote_name(AuditEvent._meta.db_table)} ({columns}) VALUES "  # noqa: S608
        row_marks = f"({', '.join(['%s'] * len(fields))})"
        batch = _rows_per_insert(connection, len(fields))
        varying = {"object_id", "patient", "clinic", "chain_seq", "prev_hash", "hash"}
        prepared: dict[tuple[str, int], Any] = {}  # (field, id of the shared value) -> the database's spelling

        def value(view: PatientView, field) -> Any:
            raw = getattr(view, field.attname)
            if field.name in varying:
                return raw
            key = (field.name, id(raw))
            if key not in prepared:
                prepared[key] = field.get_db_prep_save(raw, connection)
            return prepared[key]

        with transaction.atomic(using=using, savepoint=False):
            _link_into_chains(views, using=using)
            with connection.cursor() as cursor:
                for start in range(0, len(views), batch):
                    rows = views[start:start + batch]
                    cursor.execute(insert + ", ".join([row_marks] * len(rows)),
                                   [value(view, field) for view in rows for field in fields])
        return views


def _rows_per_insert(connection, columns: int) -> int:
    """How many rows one INSERT may carry: the database's limit on parameters per statement.

    Django assumes SQLite's old compile-time default (999); the library in use says its own limit
    (250000 for Debian's SQLite 3.40), so a page of 400 patients is one statement, not six.
    PostgreSQL's wire protocol counts parameters in 16 bits.
    """
    limit = 65535
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        limit = connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    return max(1, limit // columns)


class PatientView:
    """One "this patient was shown" event before it is stored: the columns `append_views` writes, no model.

    Attribute names are the model's (`actor_id`, `patient_id`, ...) so the chain hashes it like an
    `AuditEvent`; the slots are the model's field names, in the column order of the INSERT.
    """

    __slots__ = ("at", "actor", "actor_label", "action", "object_type", "object_id", "patient", "clinic", "ip",
                 "request_id", "details", "chain_seq", "prev_hash", "hash")

    def __init__(self, **values: Any) -> None:
        self.chain_seq, self.prev_hash, self.hash = None, "", ""
        for name, value in values.items():
            setattr(self, name.removesuffix("_id") if name in ("actor_id", "patient_id", "clinic_id") else name, value)

    # The model's attribute names for the foreign keys (what the chain and the callers read).
    actor_id = property(lambda self: self.actor)
    patient_id = property(lambda self: self.patient)
    clinic_id = property(lambda self: self.clinic)

    def __repr__(self) -> str:
        return f"PatientView({self.action}, patient {self.patient}, seq {self.chain_seq})"


class AuditEvent(models.Model):
    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=100, db_index=True)  # a registered AuditAction code (audit/actions.py), e.g. patients.patient.viewed
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    patient = models.ForeignKey(
        "patients.Patient", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    clinic = models.ForeignKey("clinics.Clinic", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    ip = models.GenericIPAddressField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    details = models.JSONField(default=dict, blank=True)
    # Hash chain (audit/chain.py): position in the clinic's chain, previous event's hash, own hash.
    chain_seq = models.BigIntegerField(null=True, editable=False)
    prev_hash = models.CharField(max_length=64, blank=True, editable=False)
    hash = models.CharField(max_length=64, blank=True, editable=False)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["patient", "at"]),
            models.Index(fields=["clinic", "at"]),
            # The audit log's user and action-family filters (shell/audit_log_filters.py), newest first.
            models.Index(fields=["clinic", "actor_label", "at"], name="audit_clinic_actor_at"),
            models.Index(fields=["clinic", "action", "at"], name="audit_clinic_action_at"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.action}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ImmutableRecord("Audit events are append-only.")
        check_action(self.action)
        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        with transaction.atomic(using=using, savepoint=False):
            _link_into_chains([self], using=using)
            super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableRecord("Audit events are append-only.")


class AuditChainHead(models.Model):
    """The newest link of one chain (one clinic, or `system`): appends lock and advance it."""

    key = models.CharField(max_length=40, primary_key=True)  # chain.chain_key(clinic_id)
    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default=chain.GENESIS_HASH)

    def __str__(self) -> str:
        return f"{self.key} #{self.last_seq} {self.last_hash[:12]}"


def _link_into_chains(events: list[AuditEvent], *, using: str) -> None:
    """Lock each chain's head (sorted, so two batches never deadlock), link the events, advance the heads.

    Must run inside the transaction that inserts the events, so the head and the
    rows commit or roll back together.
    """
    by_chain: dict[str, list[AuditEvent]] = defaultdict(list)
    for event in events:
        by_chain[chain.chain_key(event.clinic_id)].append(event)
    heads = AuditChainHead.objects.using(using)
    for key in sorted(by_chain):
        head = heads.select_for_update().filter(key=key).first()
        if head is None:
            # First event of a new chain: create the head; a concurrent creator makes this fail and retry the read.
            head, _ = heads.select_for_update().get_or_create(key=key)
        head.last_seq, head.last_hash = chain.link(by_chain[key], head.last_seq, head.last_hash)
        heads.filter(key=key).update(last_seq=head.last_seq, last_hash=head.last_hash)
