"""Container healthchecks for docker-compose.yml, run with the image's own Python.

``python scripts/healthcheck.py web``: GET /healthz as a client would, with a Host header taken from
ALLOWED_HOSTS (a bare ``127.0.0.1`` is refused with 400 DisallowedHost unless it is listed). The
settings exempt /healthz from the HTTPS redirect, so the probe speaks plain HTTP inside the container.

``python scripts/healthcheck.py beat [SCHEDULE_FILE]``: beat rewrites its schedule file every few
minutes while it runs (the deliver-outbox entry fires every minute and beat syncs at least every
3 minutes), so a file older than BEAT_STALE_SECONDS (default 600) means beat is stuck or gone.

HEALTHCHECK_TIMEOUT (seconds, default 10) bounds the web probe's wait for an answer.
Exit status 0 is healthy, 1 is not; the one line printed says why (``docker inspect`` shows it).
"""

import glob
import os
import sys
import time
import urllib.error
import urllib.request

DEFAULT_BEAT_SCHEDULE = "/app/var/beat-schedule"


def healthz_host(environ) -> str:
    """The first host the site answers to: a leading dot (subdomain wildcard) dropped, ``*`` skipped."""
    hosts = [host.strip() for host in environ.get("ALLOWED_HOSTS", "").split(",") if host.strip()]
    return next((host.lstrip(".") for host in hosts if host != "*"), "localhost")


def healthz_request(environ) -> urllib.request.Request:
    """The exact request the web healthcheck sends (tests replay it against the app)."""
    port = environ.get("PORT", "8000")
    return urllib.request.Request(f"http://127.0.0.1:{port}/healthz", headers={"Host": healthz_host(environ)})


def check_web(environ) -> tuple[bool, str]:
    request = healthz_request(environ)
    try:
        # No redirect following: a 301 to https would mean the exemption is gone, which is a failure.
        opener = urllib.request.build_opener(_NoRedirect)
        with opener.open(request, timeout=float(environ.get("HEALTHCHECK_TIMEOUT", "10"))) as response:
            return response.status == 200, f"{response.status} {response.read(200).decode(errors='replace')}"
    except urllib.error.HTTPError as exc:
        return False, f"{exc.code} {exc.read(200).decode(errors='replace')}"
    except OSError as exc:
        return False, f"no answer: {exc}"


def check_beat(schedule: str, environ) -> tuple[bool, str]:
    stale_after = int(environ.get("BEAT_STALE_SECONDS", "600"))
    # shelve may add a suffix (.db, or .dat/.dir/.bak with dbm.dumb): take the newest of them.
    files = glob.glob(glob.escape(schedule) + "*")
    if not files:
        return False, f"no schedule file at {schedule}"
    age = time.time() - max(os.path.getmtime(path) for path in files)
    return age <= stale_after, f"schedule written {age:.0f} s ago (stale after {stale_after} s)"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def main(argv) -> int:
    if len(argv) >= 2 and argv[1] == "web":
        healthy, detail = check_web(os.environ)
    elif len(argv) >= 2 and argv[1] == "beat":
        healthy, detail = check_beat(argv[2] if len(argv) > 2 else DEFAULT_BEAT_SCHEDULE, os.environ)
    else:
        print("usage: healthcheck.py web | beat [SCHEDULE_FILE]", file=sys.stderr)
        return 2
    print(("healthy: " if healthy else "unhealthy: ") + detail)
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
