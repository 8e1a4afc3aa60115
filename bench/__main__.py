"""``python -m bench [directory|contracts]``: the benchmarks, each on its own database, never the development one.

Without an argument both run, one after the other, each in its own process (Django is set up once per
process, for one database).

``directory``:
1. Pick the bench database: with ``DATABASE_URL`` (PostgreSQL) the database ``<that db>_bench`` on the
   same server, created through the ``postgres`` maintenance database when missing; otherwise SQLite
   at ``$VAR_DIR/bench.sqlite3`` (``var/bench.sqlite3`` by default).
2. Point the environment at it (and a throw-away secret, DEBUG off) before ``django.setup()``.
3. Migrate; generate ``BENCH_VENDORS`` vendors once (a database of another size is recreated).
4. Run ``bench.directory``.

``contracts`` (PostgreSQL only: the data is generated with ``generate_series``): the database
``<that db>_bench_contracts``; ``BENCH_CONTRACTS`` / ``BENCH_MILESTONES`` / ``BENCH_INVOICES`` generated once
(another size recreates it); then ``bench.contracts``.
"""

import os
import subprocess
import sys
import time
import warnings
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_VENDORS = 10_000
DEFAULT_REQUESTS = 200
DEFAULT_CONTRACT_REQUESTS = 100
DEFAULT_CONTRACTS, DEFAULT_MILESTONES, DEFAULT_INVOICES = 100_000, 1_000_000, 300_000  # the sizes
BENCHES = ("directory", "contracts", "checks")


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        sys.exit(f"{name}={raw!r} is not a whole number.")
    if value < 1:
        sys.exit(f"{name} must be at least 1.")
    return value


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def postgres_bench_url(source_url: str, suffix: str = "_bench") -> tuple[str, str, str]:
    """(bench URL, bench database name, maintenance URL) for a PostgreSQL ``DATABASE_URL``."""
    source = urlsplit(source_url).path.lstrip("/")
    if not source:
        sys.exit(f"DATABASE_URL names no database; cannot derive <db>{suffix} from it.")
    name = f"{source}{suffix}"
    return _with_database(source_url, name), name, _with_database(source_url, "postgres")


def postgres_create(maintenance_url: str, name: str, *, drop_first: bool = False) -> bool:
    """Create database ``name`` unless it exists (after dropping it when asked); True if created."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(maintenance_url, autocommit=True) as conn:
        if drop_first:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            return False
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return True


def is_postgres(url: str) -> bool:
    return bool(url) and urlsplit(url).scheme in ("postgres", "postgresql")


def configure(suffix: str = "_bench") -> dict:
    """Choose the bench database and set the environment Django reads; returns how to recreate it."""
    var_dir = Path(os.environ.setdefault("VAR_DIR", str(BASE_DIR / "var")))
    source_url = os.environ.get("DATABASE_URL", "").strip()
    if is_postgres(source_url):
        url, name, maintenance = postgres_bench_url(source_url, suffix)
        if postgres_create(maintenance, name):
            print(f"created database {name}")
        target = {"engine": "postgresql", "url": url, "name": name, "maintenance": maintenance}
    else:
        if source_url:
            print(f"DATABASE_URL is not PostgreSQL ({urlsplit(source_url).scheme}:); using SQLite for the bench.")
        path = var_dir / "bench.sqlite3"
        path.parent.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{path}"
        target = {"engine": "sqlite", "url": url, "name": str(path), "path": path}
    os.environ.update(
        DATABASE_URL=url,
        SECRET_KEY="bench-only",
        DEBUG="false",
        DJANGO_SETTINGS_MODULE="cro_cmo.settings",
        # DEBUG off selects the manifest storage, which needs collectstatic; the bench renders {% static %} only.
        STATICFILES_STORAGE="django.contrib.staticfiles.storage.StaticFilesStorage",
        LOG_LEVEL=os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
    )
    os.environ.pop("REDIS_URL", None)  # the bench needs no broker and must not touch a shared cache
    return target


def recreate(target: dict) -> None:
    """Drop and recreate the bench database (its data is of another size), then migrate again."""
    from django.core.management import call_command
    from django.db import connections

    connections.close_all()
    if target["engine"] == "postgresql":
        postgres_create(target["maintenance"], target["name"], drop_first=True)
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{target['path']}{suffix}").unlink(missing_ok=True)
    call_command("migrate", verbosity=0, interactive=False)


def setup(target: dict) -> None:
    """``django.setup()`` on the bench database, and stop unless settings really chose it."""
    sys.path.insert(0, str(BASE_DIR))

    import django

    django.setup()
    # WhiteNoise warns once that STATIC_ROOT is missing (no collectstatic): irrelevant to the measurements.
    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)

    from django.conf import settings

    configured = str(settings.DATABASES["default"]["NAME"])
    if configured != target["name"]:  # never run against anything but the bench database
        sys.exit(f"settings chose database {configured!r}, not the bench database {target['name']!r}: stopping.")


def main_contracts() -> None:
    """The contracts list benchmark (PostgreSQL)."""
    if not is_postgres(os.environ.get("DATABASE_URL", "").strip()):
        print("contracts benchmark: needs PostgreSQL (set DATABASE_URL=postgres://…); skipped.")
        return
    wanted = (
        _env_int("BENCH_CONTRACTS", DEFAULT_CONTRACTS),
        _env_int("BENCH_MILESTONES", DEFAULT_MILESTONES),
        _env_int("BENCH_INVOICES", DEFAULT_INVOICES),
    )
    requests = _env_int("BENCH_REQUESTS", DEFAULT_CONTRACT_REQUESTS)
    target = configure("_bench_contracts")
    setup(target)

    from django.core.management import call_command

    from bench import contracts, data

    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    print(f"database: {target['engine']} {target['name']} (migrated in {time.perf_counter() - started:.1f} s)")
    counts = data.contract_counts()
    if counts != wanted:
        if any(counts):
            print(f"bench database holds {counts}, {wanted} wanted: recreating it")
            recreate(target)
        started = time.perf_counter()
        data.generate_contracts(*wanted)
        counts = data.contract_counts()
        print(f"generated data in {time.perf_counter() - started:.1f} s")
    else:
        print("reusing the generated data")
    print(f"contracts: {counts[0]}, milestones: {counts[1]}, invoices: {counts[2]}")
    for line in data.contract_size_note(*counts):
        print(f"  note: {line}")
    print()
    contracts.run(requests=requests, counts=counts)


def main_checks() -> None:
    """The alert checks benchmark (PostgreSQL): ``bench.checks`` on ``<that db>_bench_checks``."""
    source_url = os.environ.get("DATABASE_URL", "").strip()
    if not is_postgres(source_url):
        print("checks benchmark: needs PostgreSQL (set DATABASE_URL=postgres://…); skipped.")
        return
    target = configure(os.environ.get("BENCH_CHECKS_SUFFIX", "_bench_checks"))
    setup(target)

    from bench import checks

    checks.main(target, source_url)


def main() -> None:
    which = sys.argv[1] if len(sys.argv) > 1 else ""
    if which not in ("", *BENCHES):
        sys.exit(f"usage: python -m bench [{'|'.join(BENCHES)}]")
    if not which:
        failed = [name for name in BENCHES if subprocess.run([sys.executable, "-m", "bench", name]).returncode]
        if failed:
            sys.exit(f"failed: {', '.join(failed)}")
        return
    if which == "contracts":
        main_contracts()
    elif which == "checks":
        main_checks()
    else:
        main_directory()


def main_directory() -> None:
    vendors_wanted = _env_int("BENCH_VENDORS", DEFAULT_VENDORS)
    requests = _env_int("BENCH_REQUESTS", DEFAULT_REQUESTS)
    target = configure()
    setup(target)

    from django.core.management import call_command

    from bench import data, directory

    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    print(f"database: {target['engine']} {target['name']} (migrated in {time.perf_counter() - started:.1f} s)")

    vendors, offerings = data.counts()
    if vendors != vendors_wanted or offerings == 0:
        if vendors:
            print(f"bench database holds {vendors} vendors, {vendors_wanted} wanted: recreating it")
            recreate(target)
        started = time.perf_counter()
        vendors, offerings = data.generate(vendors_wanted)
        print(f"generated data in {time.perf_counter() - started:.1f} s")
    else:
        print("reusing the generated data")
    print(f"vendors: {vendors}, offerings: {offerings}")
    for line in data.size_note(vendors, offerings):
        print(f"  note: {line}")
    print()
    directory.run(requests=requests, vendors=vendors, offerings=offerings)


if __name__ == "__main__":
    main()
