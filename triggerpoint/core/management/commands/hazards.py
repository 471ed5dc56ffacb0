"""``triggerpoint hazards``: validate the hazard log and write docs/HAZARDS.md from docs/hazards/*.yaml."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from triggerpoint.core import hazards as log


class Command(BaseCommand):
    help = "Validate docs/hazards/HAZ-*.yaml (rule ids and tests must exist) and write docs/HAZARDS.md."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="only report whether docs/HAZARDS.md is up to date")

    def handle(self, *args, check: bool = False, **options):
        try:
            hazards = log.load_hazards()
        except log.HazardLogError as error:
            raise CommandError(f"The hazard log is invalid:\n{error}") from error
        rules = log.known_rules()
        problems = log.check_references(hazards, rules)
        if problems:
            raise CommandError("The hazard log names what does not exist:\n" + "\n".join(problems))
        text = log.render_markdown(hazards, rules)
        current = log.RENDERED.read_text("utf-8") if log.RENDERED.exists() else ""
        if check:
            if current != text:
                raise CommandError(f"{log.RENDERED} is out of date; run `triggerpoint hazards`.")
            self.stdout.write(f"{log.RENDERED} is up to date ({len(hazards)} hazards).")
            return
        log.RENDERED.write_text(text, "utf-8")
        self.stdout.write(f"Wrote {log.RENDERED} ({len(hazards)} hazards, {len(rules)} rules known).")
