"""`flush`, with the database's row triggers lifted while the tables are emptied.

Signed procedure notes (and other append-only rows) are protected by triggers
that refuse DELETE. Emptying the whole database is the one sanctioned exception
— transactional tests flush after every test — but SQLite implements flush as
``DELETE FROM <table>``, which fires those triggers. This command saves every
trigger's definition, drops them, flushes, and recreates them, all in one
transaction, so a failure leaves the triggers in place. PostgreSQL flushes with
TRUNCATE, which does not fire row triggers, so nothing is lifted there.
"""

from __future__ import annotations

from django.core.management.commands.flush import Command as DjangoFlush
from django.db import connections, transaction


class Command(DjangoFlush):
    help = DjangoFlush.help + " Row triggers (signed-note immutability) are lifted for the flush only."

    def handle(self, **options):
        connection = connections[options["database"]]
        if connection.vendor != "sqlite":
            return super().handle(**options)
        with transaction.atomic(using=connection.alias):
            with connection.cursor() as cursor:
                cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND sql IS NOT NULL")
                triggers = cursor.fetchall()
                for name, _sql in triggers:
                    cursor.execute(f'DROP TRIGGER IF EXISTS "{name}"')
            try:
                return super().handle(**options)
            finally:
                with connection.cursor() as cursor:
                    for _name, sql in triggers:
                        cursor.execute(sql)
