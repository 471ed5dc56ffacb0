"""The `triggerpoint` console script: friendly names for the Django management commands.

    triggerpoint serve [ADDR:PORT]        development server (default 127.0.0.1:8000)
    triggerpoint serve --production       gunicorn, 2 workers (see --help)
    triggerpoint migrate                  apply database migrations
    triggerpoint demo [--patients N] [--seed S]
    triggerpoint worker                   run background tasks (reminders, paging)
    triggerpoint token create USERNAME [--expires-days N] | list | revoke PREFIX
    triggerpoint <any manage.py command>
"""

from __future__ import annotations

import os
import sys

ALIASES: dict[str, str] = {}


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "triggerpoint.settings")
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help", "help"}:
        print(__doc__)
        return
    command, rest = args[0], args[1:]
    if command == "serve":
        _serve(rest)
        return
    from django.core.management import execute_from_command_line

    execute_from_command_line(["triggerpoint", ALIASES.get(command, command), *rest])


def _serve(rest: list[str]) -> None:
    if "--production" in rest:
        rest = [a for a in rest if a != "--production"]
        bind = rest[0] if rest else "127.0.0.1:8000"
        workers = os.environ.get("WEB_CONCURRENCY", "2")
        os.execvp(  # noqa: S606 - replaces this process with gunicorn on purpose
            sys.executable,
            [sys.executable, "-m", "gunicorn", "triggerpoint.wsgi:application", "--bind", bind, "--workers", workers,
             "--access-logfile", "-"],
        )
    from django.core.management import execute_from_command_line

    addr = rest[0] if rest and not rest[0].startswith("-") else "127.0.0.1:8000"
    extra = [a for a in rest if a != addr]
    execute_from_command_line(["triggerpoint", "runserver", addr, *extra])


if __name__ == "__main__":
    main()
