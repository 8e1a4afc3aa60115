"""The install and local set-up: Makefile without Python 3.12, the local .env, vendored Bootstrap.

The pip installs themselves (stock pip 23/24 from an empty cache) take minutes and need the
registry, so they are measured by hand and recorded in the commit history, not run here.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings

REPO = Path(__file__).resolve().parent.parent
VENDOR = REPO / "static" / "vendor" / "bootstrap"


def run(argv, tmp_path, cwd=REPO, **variables):
    environment = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", str(tmp_path))}
    environment.update(variables)
    return subprocess.run(argv, cwd=cwd, env=environment, capture_output=True, text=True, timeout=120, check=False)


# --- make without Python >= 3.12 -----------------------------------------------------------------


@pytest.fixture
def path_without_python312(tmp_path):
    """A PATH whose only python3 is too old: a stand-in that fails find-python's version test, as 3.11 does."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    old_python = bin_dir / "python3"
    old_python.write_text("#!/bin/sh\nexit 1\n")
    old_python.chmod(0o755)
    (bin_dir / "sh").symlink_to("/bin/sh")  # scripts/find-python starts through `env sh`
    return str(bin_dir), str(old_python)


def make_install(tmp_path, path, **variables):
    """`make install` in a copy of the Makefile and scripts, so nothing is created in the repository."""
    work = tmp_path / "checkout"
    (work / "scripts").mkdir(parents=True)
    for name in ("Makefile", "pyproject.toml", "scripts/find-python"):
        (work / name).write_bytes((REPO / name).read_bytes())
    (work / "scripts/find-python").chmod(0o755)
    make = shutil.which("make")
    assert make, "make is part of the README's set-up"
    return run([make, "--no-print-directory", "install"], tmp_path, cwd=work, PATH=path, **variables), work


def test_make_without_python_312_says_so_once(tmp_path, path_without_python312):
    path, _ = path_without_python312
    result, work = make_install(tmp_path, path)
    assert result.returncode != 0
    lines = (result.stdout + result.stderr).strip().splitlines()
    assert len(lines) == 1, lines
    assert "cro_cmo needs Python 3.12 or newer: none found on PATH" in lines[0]
    assert "command not found" not in lines[0]
    assert not (work / ".venv").exists()


def test_make_with_an_old_python_named_in_python_says_which(tmp_path, path_without_python312):
    path, old_python = path_without_python312
    result, _ = make_install(tmp_path, path, PYTHON=old_python)
    lines = (result.stdout + result.stderr).strip().splitlines()
    assert result.returncode != 0
    assert len(lines) == 1, lines
    assert lines[0].startswith("Makefile:"), lines
    assert lines[0].endswith(f"*** cro_cmo needs Python 3.12 or newer: PYTHON={old_python} is not one.  Stop.")


def test_find_python_prints_a_python_312_when_there_is_one(tmp_path):
    result = run(["scripts/find-python"], tmp_path, PYTHON=sys.executable)
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()) == Path(sys.executable)


# --- manage.py and the local .env ----------------------------------------------------------------

PRINT_DEBUG = ["shell", "-v", "0", "-c", "from django.conf import settings as s; print('DEBUG', s.DEBUG, s.TIME_ZONE)"]


def manage(tmp_path, *arguments, **variables):
    variables.setdefault("VAR_DIR", str(tmp_path / "var"))
    variables.setdefault("DJANGO_SETTINGS_MODULE", "cro_cmo.settings")
    return run([sys.executable, "manage.py", *arguments], tmp_path, **variables)


def test_manage_py_reads_the_env_file(tmp_path):
    """What `make run` writes: DEBUG on, so `manage.py seed_demo` works without a SECRET_KEY."""
    env_file = tmp_path / ".env"
    env_file.write_text("# written by make run\n\nDEBUG=true\nexport TIME_ZONE='Europe/Paris'\n")
    result = manage(tmp_path, *PRINT_DEBUG, ENV_FILE=str(env_file))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["DEBUG", "True", "Europe/Paris"]


def test_environment_wins_over_the_env_file(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("DEBUG=true\n")
    result = manage(tmp_path, *PRINT_DEBUG, ENV_FILE=str(env_file), DEBUG="false", SECRET_KEY="x" * 50)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["DEBUG", "False", "UTC"]


def test_without_env_file_debug_is_off_and_a_secret_key_is_required(tmp_path):
    result = manage(tmp_path, *PRINT_DEBUG, ENV_FILE=os.devnull)
    assert result.returncode != 0
    assert "SECRET_KEY is required when DEBUG is off." in result.stderr


def test_a_malformed_env_file_line_stops_with_file_and_line(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("DEBUG=true\nthis is not an assignment\n")
    result = manage(tmp_path, *PRINT_DEBUG, ENV_FILE=str(env_file))
    assert result.returncode == 1
    assert result.stderr.strip() == f"{env_file}:2: expected NAME=value, got 'this is not an assignment'"


def test_the_test_settings_never_read_an_env_file(tmp_path):
    """A developer's .env with DEBUG=true cannot change the test run (pytest uses tests.settings)."""
    (tmp_path / ".env").write_text("DEBUG=true\nSECRET_KEY=from-env-file\n")
    code = "import django; django.setup(); from django.conf import settings as s; print(s.DEBUG, s.SECRET_KEY)"
    result = run(
        [sys.executable, "-c", code],
        tmp_path,
        cwd=tmp_path,
        PYTHONPATH=str(REPO),
        DJANGO_SETTINGS_MODULE="tests.settings",
        ENV_FILE=str(tmp_path / ".env"),
        VAR_DIR=str(tmp_path / "var"),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "tests-only-secret-key-not-for-production"]


# --- Bootstrap committed under static/vendor/ ----------------------------------------------------


def test_vendored_bootstrap_has_its_version_licence_and_maps():
    assert (VENDOR / "VERSION").read_text().startswith("bootstrap 5.3.")
    assert "MIT License" in (VENDOR / "LICENSE").read_text()
    for built in ("css/bootstrap.min.css", "js/bootstrap.bundle.min.js"):
        source_map = f"{Path(built).name}.map"
        assert f"sourceMappingURL={source_map}" in (VENDOR / built).read_text()
        assert (VENDOR / built).with_name(source_map).is_file()


def test_collectstatic_with_manifest_storage_hashes_bootstrap_and_its_maps(tmp_path):
    """Production's storage (DEBUG off) fails collectstatic when a referenced .map is missing."""
    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    with override_settings(STATIC_ROOT=tmp_path, STORAGES=storages):
        call_command("collectstatic", "--noinput", verbosity=0)
    paths = json.loads((tmp_path / "staticfiles.json").read_text())["paths"]
    for name in (
        "vendor/bootstrap/css/bootstrap.min.css",
        "vendor/bootstrap/css/bootstrap.min.css.map",
        "vendor/bootstrap/js/bootstrap.bundle.min.js",
        "vendor/bootstrap/js/bootstrap.bundle.min.js.map",
    ):
        assert paths[name] != name
    css = (tmp_path / paths["vendor/bootstrap/css/bootstrap.min.css"]).read_text()
    assert f"sourceMappingURL={Path(paths['vendor/bootstrap/css/bootstrap.min.css.map']).name}" in css
