from django.core.management.base import BaseCommand

from cro_cmo.checks import registered_checks


class Command(BaseCommand):
    help = "Run every background check now and print what each raised and resolved."

    def handle(self, *args, **options):
        checks = registered_checks()
        if not checks:
            self.stdout.write("No checks are registered yet.")
            return
        for name, check in checks.items():
            outcome = check()
            self.stdout.write(f"{name}: raised {len(outcome.raised)}, resolved {len(outcome.resolved)}")
            for line in outcome.raised:
                self.stdout.write(f"  + {line}")
            for line in outcome.resolved:
                self.stdout.write(f"  - {line}")
