"""The `triggerpoint` console script: friendly names for the Django management commands.

    triggerpoint serve [ADDR:PORT]        development server (default 127.0.0.1:8000)
    triggerpoint serve --production       gunicorn, 2 workers; refuses to start without production settings
    triggerpoint audit verify             check the audit trail's hash chains (non-zero exit if broken)
    triggerpoint migrate                  apply database migrations
    triggerpoint demo [--patients N] [--seed S]
    triggerpoint worker                   run background tasks (reminders, paging)
    triggerpoint token create USERNAME [--expires-days N] | list | revoke PREFIX
    triggerpoint <any manage.py command>
"""

from __future__ import annotations

import os
import sys

from django.conf import settings
from django.core.management import execute_from_command_line

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
    execute_from_command_line(["triggerpoint", ALIASES.get(command, command), *rest])


def production_problems() -> list[str]:
    """Why these settings are not production settings (empty when they are)."""
    problems = []
    if not getattr(settings, "PRODUCTION", False):
        problems.append(f"TRIGGERPOINT_ENV is {settings.TRIGGERPOINT_ENV!r}; set TRIGGERPOINT_ENV=production")
    if settings.DEBUG:
        problems.append("DEBUG is on; unset DEBUG (production turns it off)")
    if settings.SECRET_KEY.startswith("dev-only-insecure-key-"):
        problems.append("SECRET_KEY is the development key; set SECRET_KEY to a long random value")
    return problems


def _serve(rest: list[str]) -> None:
    if "--production" in rest:
        problems = production_problems()
        if problems:
            print(
                "Refusing to start: `triggerpoint serve --production` needs production settings.\n"
                + "".join(f"  - {problem}\n" for problem in problems)
                + "See README, 'Running in production'. For development use `triggerpoint serve`.",
                file=sys.stderr,
            )
            raise SystemExit(2)
        rest = [a for a in rest if a != "--production"]
        bind = rest[0] if rest else "127.0.0.1:8000"
        workers = os.environ.get("WEB_CONCURRENCY", "2")
        os.execvp(  # noqa: S606 - replaces this process with gunicorn on purpose
            sys.executable,
            [sys.executable, "-m", "gunicorn", "triggerpoint.wsgi:application", "--bind", bind, "--workers", workers,
             "--access-logfile", "-"],
        )
    addr = rest[0] if rest and not rest[0].startswith("-") else "127.0.0.1:8000"
    extra = [a for a in rest if a != addr]
    execute_from_command_line(["triggerpoint", "runserver", addr, *extra])


if __name__ == "__main__":
    main()
