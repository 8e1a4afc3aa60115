#!/usr/bin/env python
"""Django's command line, plus the local ``.env`` of a checkout.

``make run`` writes ``.env`` (``DEBUG=true``) when it is absent, so that every ``manage.py``
command in the README works as typed on a developer's machine. Only this entry point and
``scripts/run-embedded`` read it: the settings module never does, so the test suite (pytest with
``tests.settings``) and production (variables from the process manager) cannot pick it up.
Variables already in the environment win over the file. ``ENV_FILE`` names another file
(``ENV_FILE=/dev/null`` reads none).
"""

import os
import re
import sys
from pathlib import Path

DEFAULT_ENV_FILE = Path(__file__).resolve().parent / ".env"
_LINE = re.compile(r"^(?:export\s+)?(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*=\s*(?P<value>.*)$")


def env_file_values(path: Path) -> dict[str, str]:
    """Read ``NAME=value`` lines (``#`` comments, blank lines, optional quotes; no expansion).

    A line that is none of these stops with its file and line number rather than being skipped,
    in the spirit of ``cro_cmo.env``: a typo must not silently change the settings.
    """
    values = {}
    if not path.is_file():
        return values
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _LINE.match(line)
        if not match:
            sys.exit(f"{path}:{number}: expected NAME=value, got {raw!r}")
        value = match["value"].strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[match["name"]] = value
    return values


def load_env_file() -> dict[str, str]:
    """Put the file's values into ``os.environ`` where not already set; return those that were set."""
    path = Path(os.environ.get("ENV_FILE") or DEFAULT_ENV_FILE)
    applied = {name: value for name, value in env_file_values(path).items() if name not in os.environ}
    os.environ.update(applied)
    return applied


if __name__ == "__main__":
    load_env_file()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cro_cmo.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
