"""Fast column-wise inserts for registry-size data (the demo registry and the analytics rollups).

The ORM's ``bulk_create`` builds one Python object per row, which is the slow
part at a million rows. Here a table is written from columns (lists or numpy
arrays, or one constant for the whole column): PostgreSQL gets ``COPY FROM
STDIN`` (psycopg 3) and SQLite a prepared ``executemany``, both in batches and
inside the caller's transaction. Column names come from the model's fields, and
every concrete field the caller does not give is filled from the field's default
(or NULL when it has none and is nullable), so a field another module adds later
does not break the loader — a required field without a default raises.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.core.management.color import no_style
from django.db import DatabaseError, connection, models, transaction

BATCH_ROWS = 50_000
SQLITE_CACHE_KIB = 512 * 1024


class MissingColumn(Exception):
    pass


@dataclass(frozen=True)
class Constant:
    """One value for every row (needed when that value is itself a list, e.g. a JSON default)."""

    value: Any


def _is_constant(value: Any) -> bool:
    return isinstance(value, Constant) or not isinstance(value, list | tuple | np.ndarray)


def _one(value: Any, vendor: str) -> Any:
    """One Python value in the form the backend takes (COPY text on PostgreSQL)."""
    if isinstance(value, dt.datetime):
        value = value.astimezone(dt.UTC)
        value = value.isoformat() if vendor == "postgresql" else value.replace(tzinfo=None).isoformat(" ")
    elif isinstance(value, dt.date):
        value = value.isoformat()
    elif isinstance(value, uuid.UUID):
        value = value.hex
    elif isinstance(value, dict | list):
        value = json.dumps(value)
    if vendor != "postgresql":
        return value
    if value is None:
        return r"\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    return str(value)


_INTEGER_FIELDS = (models.IntegerField, models.AutoField, models.ForeignKey)


def _column(field: models.Field, value: Any, count: int, vendor: str) -> list:
    """A whole column converted at numpy speed (a registry column has millions of values)."""
    pg = vendor == "postgresql"
    if _is_constant(value):
        return [_one(value.value if isinstance(value, Constant) else value, vendor)] * count
    if isinstance(value, list | tuple):
        if not pg:
            return list(value)
        return [r"\N" if v is None else (v if isinstance(v, str) else _one(v, vendor)) for v in value]
    array = np.asarray(value)
    if array.dtype == bool:
        return np.where(array, "t", "f").tolist() if pg else array.astype(np.int8).tolist()
    if np.issubdtype(array.dtype, np.integer):
        return array.astype(str).tolist() if pg else array.tolist()
    if np.issubdtype(array.dtype, np.floating):
        missing = np.isnan(array)
        if isinstance(field, models.BooleanField):
            if pg:
                return np.where(missing, r"\N", np.where(array > 0, "t", "f")).tolist()
            return [None if m else int(v > 0) for v, m in zip(array.tolist(), missing.tolist(), strict=True)]
        if isinstance(field, _INTEGER_FIELDS):
            whole = np.nan_to_num(array).astype(np.int64)
            if pg:
                return np.where(missing, r"\N", whole.astype(str)).tolist()
            return [None if m else v for v, m in zip(whole.tolist(), missing.tolist(), strict=True)]
        if pg:
            return np.where(missing, r"\N", array.astype(str)).tolist()
        return [None if m else v for v, m in zip(array.tolist(), missing.tolist(), strict=True)]
    return _column(field, array.tolist(), count, vendor)


def _default_for(field: models.Field) -> Any:
    if field.has_default():
        value = field.get_default()
        if isinstance(value, uuid.UUID):
            raise MissingColumn(f"{field.model.__name__}.{field.name} needs one value per row (unique default)")
        return value
    if field.null:
        return None
    if isinstance(field, models.CharField | models.TextField) and field.blank:
        return ""
    raise MissingColumn(f"{field.model.__name__}.{field.name} has no default; give it a column")


def insert_columns(
    model: type[models.Model],
    columns: Mapping[str, Any],
    rows: int,
    progress: Callable[[int], None] | None = None,
    batch_rows: int = BATCH_ROWS,
) -> None:
    """Insert ``rows`` rows of ``model``; ``columns`` maps field names (``patient_id`` style for FKs) to values.

    Values are numpy arrays (floats with NaN for NULL in nullable integer and
    boolean columns), lists of ready strings (dates, datetimes from
    :func:`datetime_text`, JSON text, UUID hex) or one constant for every row.
    """
    if rows == 0:
        return
    vendor = connection.vendor
    if vendor == "sqlite":
        with connection.cursor() as cursor:
            # A large page cache keeps the random-UUID and foreign-key indexes in memory while loading.
            cursor.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
    fields: list[models.Field] = []
    values: list[Any] = []
    given = dict(columns)
    for field in model._meta.concrete_fields:
        key = field.attname
        if key in given:
            value = given.pop(key)
        elif field.name in given:
            value = given.pop(field.name)
        elif isinstance(field, models.AutoField):
            continue
        else:
            value = Constant(_default_for(field))
        if not _is_constant(value) and len(value) != rows:
            raise ValueError(f"{model.__name__}.{key}: {len(value)} values for {rows} rows")
        fields.append(field)
        values.append(value)
    if given:
        raise MissingColumn(f"{model.__name__} has no fields {sorted(given)}")
    table = connection.ops.quote_name(model._meta.db_table)
    quoted = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    for start in range(0, rows, batch_rows):
        stop = min(start + batch_rows, rows)
        batch = [
            _column(field, value if _is_constant(value) else value[start:stop], stop - start, vendor)
            for field, value in zip(fields, values, strict=True)
        ]
        if vendor == "postgresql":
            _copy(table, quoted, batch)
        else:
            _executemany(table, quoted, len(fields), batch)
        if progress is not None:
            progress(stop - start)


def _copy(table: str, quoted: str, batch: Sequence[Sequence[str]]) -> None:
    payload = "\n".join(map("\t".join, zip(*batch, strict=True))) + "\n"
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor under Django's wrapper
        with raw.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
            copy.write(payload)


def _executemany(table: str, quoted: str, width: int, batch: Sequence[Sequence[Any]]) -> None:
    placeholders = ", ".join(["%s"] * width)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} ({quoted}) VALUES ({placeholders})",  # noqa: S608 - names from model metadata
            list(zip(*batch, strict=True)),
        )


def datetime_text(moments: np.ndarray) -> list[str]:
    """UTC instants (numpy datetime64) as the text each backend stores for a DateTimeField."""
    text = np.datetime_as_string(moments.astype("datetime64[s]"), unit="s")
    if connection.vendor == "postgresql":
        return np.char.add(text, "+00:00").tolist()
    return np.char.replace(text, "T", " ").tolist()


def date_text(days: np.ndarray) -> list[str]:
    return np.datetime_as_string(days.astype("datetime64[D]"), unit="D").tolist()


def next_ids(model: type[models.Model], count: int) -> np.ndarray:
    """Primary keys for rows we are about to insert ourselves (after the current maximum)."""
    start = model._base_manager.aggregate(m=models.Max("pk"))["m"] or 0
    return np.arange(start + 1, start + 1 + count, dtype=np.int64)


def reset_sequences(models_: Iterable[type[models.Model]]) -> None:
    """After inserting explicit ids on PostgreSQL, move each id sequence past them."""
    if connection.vendor != "postgresql":
        return
    statements = connection.ops.sequence_reset_sql(no_style(), list(models_))
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def uuid_hex(rng: np.random.Generator, count: int) -> list[str]:
    """``count`` time-ordered (version 7 layout) UUIDs as 32-character hex, the form both backends accept.

    The leading 48 bits count up row by row, so a million new ids are appended
    to the unique index instead of landing on random pages; the remaining 74
    bits come from ``rng``, so the ids are as unguessable as version-4 ones.
    """
    raw = np.frombuffer(rng.bytes(16 * count), dtype=np.uint8).reshape(count, 16).copy()
    start = int(time.time() * 1000) + int(rng.integers(0, 1 << 20))
    stamps = np.arange(start, start + count, dtype=np.uint64)
    for byte in range(6):
        raw[:, byte] = ((stamps >> np.uint64(8 * (5 - byte))) & np.uint64(0xFF)).astype(np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x70
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    text = raw.tobytes().hex()
    return [text[i : i + 32] for i in range(0, 32 * count, 32)]


def _secondary_indexes(table: str) -> list[tuple[str, str]]:
    """(name, definition) of the table's indexes that back no constraint (those can be rebuilt at will)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                """SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
                   WHERE x.indrelid = %s::regclass
                   AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)""",
                [table],
            )
        else:
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s AND sql IS NOT NULL",
                [table],
            )
        return list(cursor.fetchall())


@contextmanager
def fast_load(tables: Iterable[type[models.Model]], rows_expected: int, threshold: int = 50_000):
    """Load big batches the way a restore does: secondary indexes rebuilt once at the end and, on
    PostgreSQL as a superuser, row triggers (foreign-key checks) off while loading, as
    ``pg_restore --disable-triggers`` does. Only for data built consistent by construction
    (the synthetic registry); must run inside a transaction, which also undoes it on failure.
    """
    if rows_expected < threshold or connection.vendor != "postgresql":
        # SQLite looks up child rows through the foreign-key indexes when a parent row arrives after
        # its children (as signed notes do here), so its indexes stay in place.
        yield
        return
    saved: list[tuple[str, str]] = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Index DDL refuses to run while deferred foreign-key checks are pending: run them now.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
            try:
                with transaction.atomic():
                    cursor.execute("SET LOCAL session_replication_role = replica")
            except DatabaseError:
                pass  # not a superuser: the checks simply run, slower
        for model in tables:
            for name, definition in _secondary_indexes(model._meta.db_table):
                saved.append((name, definition))
                cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
    yield  # an exception propagates and the caller's rollback restores the indexes
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        for _name, definition in saved:
            cursor.execute(definition)
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = origin")
