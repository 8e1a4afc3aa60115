"""docker-compose.yml and the Dockerfile, proven without a Docker daemon (there is none here).

The file is parsed and its start-up order, healthchecks and volumes are checked as data; then the
healthchecks themselves are run against the real processes: gunicorn with the settings compose
gives web (DEBUG off, ALLOWED_HOSTS, HTTPS and the proxy header at their defaults) answers the web
probe with 200, and a real Celery worker answers the worker probe's ``inspect ping``.
"""

import importlib.util
import os
import re
import secrets
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP_SERVICES = ("migrate", "web", "worker", "beat")
LONG_RUNNING = ("web", "worker", "beat")
DOCKERFILE = (REPO / "Dockerfile").read_text()


def load_healthcheck_module():
    spec = importlib.util.spec_from_file_location("healthcheck", REPO / "scripts" / "healthcheck.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def compose_interpolate(value: str, variables: dict[str, str]) -> str:
    """Compose's ``${NAME}``, ``${NAME:-default}``, ``${NAME:?error}`` and ``$$`` for the cases used here."""

    def replace(match):
        name, op, arg = match["name"], match["op"], match["arg"]
        if variables.get(name):
            return variables[name]
        if op == ":-":
            return arg
        raise AssertionError(f"compose would stop: {name} is unset ({arg})")

    value = re.sub(r"\$\{(?P<name>\w+)(?:(?P<op>:-|:\?)(?P<arg>[^}]*))?\}", replace, value)
    return value.replace("$$", "$")


def app_environment(service: str, **variables) -> dict[str, str]:
    """The environment compose gives ``service``, with the file's defaults for everything not passed."""
    return {
        name: compose_interpolate(str(value), variables) for name, value in SERVICES[service]["environment"].items()
    }


def healthcheck_argv(service: str) -> list[str]:
    test = SERVICES[service]["healthcheck"]["test"]
    assert test[0] in ("CMD", "CMD-SHELL"), test
    return test[1:] if test[0] == "CMD" else ["sh", "-c", *test[1:]]


# --- The compose file as data --------------------------------------------------------------------


@pytest.mark.parametrize("service", LONG_RUNNING)
def test_long_running_services_wait_for_migrations_and_healthy_db_and_redis(service):
    assert SERVICES[service]["depends_on"] == {
        "db": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
        "migrate": {"condition": "service_completed_successfully"},
    }


def test_migrate_is_a_one_shot_after_healthy_db_and_redis():
    migrate = SERVICES["migrate"]
    assert migrate["command"] == ["python", "manage.py", "migrate", "--noinput"]
    # Restarting a finished one-shot would restart it for ever; "no" lets it complete.
    assert migrate["restart"] == "no"
    assert migrate["depends_on"] == {"db": {"condition": "service_healthy"}, "redis": {"condition": "service_healthy"}}


@pytest.mark.parametrize("service", ["db", "redis", "web", "worker", "beat"])
def test_every_long_running_service_has_a_healthcheck(service):
    healthcheck = SERVICES[service]["healthcheck"]
    assert healthcheck["test"][0] in ("CMD", "CMD-SHELL")
    assert healthcheck.get("interval")


def test_db_and_redis_healthchecks_ask_the_server():
    assert "pg_isready" in " ".join(SERVICES["db"]["healthcheck"]["test"])
    assert SERVICES["redis"]["healthcheck"]["test"][1:] == ["redis-cli", "ping"]


def test_worker_healthcheck_pings_its_own_node_through_the_broker():
    assert SERVICES["worker"]["healthcheck"]["test"][0] == "CMD-SHELL"
    # $$ is compose's escape: the container's shell sees $HOSTNAME, the worker's default node name.
    assert "celery -A cro_cmo inspect ping -d celery@$$HOSTNAME" in SERVICES["worker"]["healthcheck"]["test"][1]


def test_beat_healthcheck_watches_the_schedule_file_beat_writes():
    command = SERVICES["beat"]["command"]
    schedule = next(arg.split("=", 1)[1] for arg in command if arg.startswith("--schedule="))
    assert SERVICES["beat"]["healthcheck"]["test"] == ["CMD", "python", "scripts/healthcheck.py", "beat", schedule]


def test_app_services_share_the_image_env_and_media_volume():
    for service in APP_SERVICES:
        assert SERVICES[service]["build"] == "."
        assert SERVICES[service]["volumes"] == ["media:/app/var/media"]
        assert SERVICES[service]["environment"]["DEBUG"] == "false"
    assert "media" in COMPOSE["volumes"]


# --- The Dockerfile ------------------------------------------------------------------------------


def dockerfile_instructions():
    """(instruction, argument) pairs, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE)
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    return [tuple(line.split(None, 1)) for line in lines]


def test_image_runs_as_a_non_root_user_created_in_it():
    instructions = dockerfile_instructions()
    users = [argument for instruction, argument in instructions if instruction == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert any(
        instruction == "RUN" and "useradd" in argument and users[-1] in argument.split()
        for instruction, argument in instructions
    )


def test_media_mount_point_exists_owned_by_the_app_user_before_user_switch():
    """A new named volume takes the ownership of the image's directory: it must be the app user's."""
    mount_point = SERVICES["web"]["volumes"][0].split(":", 1)[1]
    instructions = dockerfile_instructions()
    user_index = max(i for i, (instruction, _) in enumerate(instructions) if instruction == "USER")
    user = instructions[user_index][1]
    before = " && ".join(argument for instruction, argument in instructions[:user_index] if instruction == "RUN")
    assert f"mkdir -p {mount_point}" in before
    chowns = re.findall(r"chown -R (\S+) (\S+)", before)
    assert any(owner.split(":")[0] == user and mount_point.startswith(path.rstrip("/")) for owner, path in chowns), (
        chowns
    )


def test_image_installs_with_stock_pip_and_no_build_constraint():
    assert "constraint" not in DOCKERFILE.lower()
    assert "pip>=25" not in DOCKERFILE
    assert not (REPO / "constraints").exists()


def test_healthcheck_script_is_in_the_build_context():
    ignored = (REPO / ".dockerignore").read_text().split()
    assert "COPY . ." in DOCKERFILE
    assert not any(pattern in ("scripts", "scripts/", "scripts/healthcheck.py", "*.py") for pattern in ignored)


# --- The probes against real processes ----------------------------------------------------------


@pytest.fixture
def gunicorn_as_compose_runs_it(tmp_path):
    """The web service's command and environment, on a local socket and the embedded default.

    Only the database and broker differ from compose (SQLite and the filesystem broker under
    tmp_path instead of the db and redis containers): the host, HTTPS and proxy settings are the
    compose file's defaults. The socket is bound here and handed over, so the probe's connection
    waits in the backlog until gunicorn accepts it: no polling for start-up.
    """
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    port = listener.getsockname()[1]
    environment = app_environment("web", SECRET_KEY=secrets.token_urlsafe(50), POSTGRES_PASSWORD="unused")
    del environment["DATABASE_URL"], environment["REDIS_URL"]
    environment.update(
        PATH=os.environ["PATH"],
        HOME=os.environ.get("HOME", str(tmp_path)),
        DJANGO_SETTINGS_MODULE="cro_cmo.settings",
        VAR_DIR=str(tmp_path / "var"),
    )
    command = list(SERVICES["web"]["command"])
    assert command[:2] == ["gunicorn", "cro_cmo.wsgi:application"]
    command[command.index("--bind") + 1] = f"fd://{listener.fileno()}"
    command[command.index("--workers") + 1] = "1"
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), *command[1:]],
        cwd=REPO,
        env=environment,
        pass_fds=[listener.fileno()],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield port, environment
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
        listener.close()
        print(output[-3000:])  # shown by pytest when a test fails


def test_web_healthcheck_passes_with_the_compose_defaults(gunicorn_as_compose_runs_it):
    port, environment = gunicorn_as_compose_runs_it
    assert environment["DEBUG"] == "false" and environment["HTTPS"] == "true"
    argv = healthcheck_argv("web")
    assert argv[0] == "python"
    result = subprocess.run(
        [sys.executable, *argv[1:]],
        cwd=REPO,
        # A longer wait than compose's 10 s: here the probe also covers gunicorn's start on a busy CI machine.
        env={**environment, "PORT": str(port), "HEALTHCHECK_TIMEOUT": "90"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("healthy: 200 "), result.stdout
    assert '"database": "ok"' in result.stdout and '"broker": "ok"' in result.stdout


def test_bare_probe_of_127_0_0_1_is_refused_so_the_host_header_matters(gunicorn_as_compose_runs_it):
    """The old healthcheck (urlopen of http://127.0.0.1:8000/healthz) got 400 DisallowedHost."""
    import urllib.error
    import urllib.request

    port, _ = gunicorn_as_compose_runs_it
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=90)
    assert error.value.code == 400


def test_healthz_host_comes_from_allowed_hosts():
    healthcheck = load_healthcheck_module()
    assert healthcheck.healthz_host({"ALLOWED_HOSTS": "cro.example.com,www.example.com"}) == "cro.example.com"
    assert healthcheck.healthz_host({"ALLOWED_HOSTS": ".example.com"}) == "example.com"
    assert healthcheck.healthz_host({"ALLOWED_HOSTS": "*"}) == "localhost"
    assert healthcheck.healthz_host({}) == "localhost"


def test_beat_probe_fails_on_a_missing_or_stale_schedule(tmp_path):
    healthcheck = load_healthcheck_module()
    schedule = tmp_path / "beat-schedule"
    healthy, detail = healthcheck.check_beat(str(schedule), {})
    assert not healthy and "no schedule file" in detail
    (tmp_path / "beat-schedule.dat").write_bytes(b"")  # dbm.dumb's name for the same shelve
    assert healthcheck.check_beat(str(schedule), {})[0]
    eleven_minutes_ago = time.time() - 660
    os.utime(tmp_path / "beat-schedule.dat", (eleven_minutes_ago, eleven_minutes_ago))
    healthy, detail = healthcheck.check_beat(str(schedule), {})
    assert not healthy and "stale after 600 s" in detail
    assert healthcheck.check_beat(str(schedule), {"BEAT_STALE_SECONDS": "900"})[0]


@pytest.mark.worker
def test_worker_healthcheck_gets_a_pong_from_a_real_worker(tmp_path):
    """The compose probe's exact shell command, against a worker named as compose names it."""
    hostname = socket.gethostname()
    environment = {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "DJANGO_SETTINGS_MODULE": "cro_cmo.settings",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "VAR_DIR": str(tmp_path / "var"),
        "HOSTNAME": hostname,
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "cro_cmo", "worker", "--pool=solo", "--without-gossip",
         "--without-mingle", "--loglevel=INFO", f"--hostname=celery@{hostname}"],
        cwd=REPO, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        seen = []
        for line in worker.stdout:  # blocks until the worker says it is ready (or exits)
            seen.append(line)
            if " ready." in line:
                break
        assert any(" ready." in line for line in seen), "".join(seen)
        argv = healthcheck_argv("worker")
        command = compose_interpolate(argv[-1], {})
        assert "$HOSTNAME" in command
        result = subprocess.run(
            [*argv[:-1], command], cwd=REPO, env=environment, capture_output=True, text=True, timeout=90, check=False
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert f"celery@{hostname}: OK" in result.stdout and "pong" in result.stdout
    finally:
        worker.terminate()
        worker.communicate(timeout=30)


def test_worker_healthcheck_fails_when_no_worker_answers(tmp_path):
    environment = {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "DJANGO_SETTINGS_MODULE": "cro_cmo.settings",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "VAR_DIR": str(tmp_path / "var"),
        "HOSTNAME": "nobody-here",
    }
    argv = healthcheck_argv("worker")
    command = compose_interpolate(argv[-1], {}).replace("--timeout 10", "--timeout 1")
    result = subprocess.run(
        [*argv[:-1], command], cwd=REPO, env=environment, capture_output=True, text=True, timeout=90, check=False
    )
    assert result.returncode != 0, shlex.join(argv) + result.stdout
