from django.core.management.base import BaseCommand, CommandError

from cro_cmo.checks import registered_checks, run_all_checks


class Command(BaseCommand):
    help = "Run every background check now and print what each raised, escalated and resolved."

    def add_arguments(self, parser):
        parser.add_argument("names", nargs="*", help="Only these checks (default: all).")

    def handle(self, *args, names, **options):
        checks = registered_checks()
        unknown = sorted(set(names) - set(checks))
        if unknown:
            raise CommandError(f"Unknown check(s): {', '.join(unknown)}. Known: {', '.join(checks)}.")
        outcomes = run_all_checks(names or None)
        for outcome in outcomes:
            if outcome.error:
                self.stderr.write(f"{outcome.name}: FAILED — {outcome.error}")
                continue
            counts = outcome.counts
            self.stdout.write(
                f"{outcome.name}: raised {counts['raised']}, escalated {counts['escalated']}, "
                f"resolved {counts['resolved']}"
            )
            for sign, titles in (("+", outcome.raised), ("!", outcome.escalated), ("-", outcome.resolved)):
                for title in titles:
                    self.stdout.write(f"  {sign} {title}")
        failed = [o.name for o in outcomes if o.error]
        if failed:
            raise CommandError(f"{len(failed)} check(s) failed: {', '.join(failed)} (the others ran).")
