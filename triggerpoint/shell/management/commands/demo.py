from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from triggerpoint.shell import demo_clinic as demo


class Command(BaseCommand):
    help = "Build the deterministic synthetic demo clinic (never touches a database with real data)."

    def add_arguments(self, parser):
        parser.add_argument("--patients", type=int, default=40)
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--procedures", type=int, default=0,
                            help="also generate a registry-size synthetic outcomes dataset (outcomes module)")
        parser.add_argument("--logins", action="store_true", help="only print the demo logins")

    def handle(self, *args, patients, seed, procedures, logins, **opts):
        if patients < 1 or patients > 100000:
            raise CommandError("--patients must be between 1 and 100000")
        if not logins:
            try:
                demo.refuse_if_real_data()
            except demo.DemoRefused as exc:
                raise CommandError(str(exc)) from exc
            if demo.demo_present():
                self.stdout.write("Demo clinic already present; leaving it as it is.")
            else:
                ctx = demo.build_demo(patients=patients, seed=seed, procedures=procedures)
                self.stdout.write(self.style.SUCCESS(
                    f"Built demo clinics {', '.join(c.name for c in ctx.clinics)} with {len(ctx.patients)} patients."
                ))
                for note in ctx.notes:
                    self.stdout.write(f"  {note}")
        self.stdout.write("")
        for line in demo.login_lines(seed):
            self.stdout.write(line)
