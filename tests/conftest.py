"""Shared fixtures: real stores (SQLite file, PostgreSQL when available), real encoders loaded
once, the bundled sample embedded once per run, headless Chromium, the X API emulator; and two
guards: nothing reaches the internet, nothing is written into the checkout.

The helpers behind them live in tests/harness/; no test module imports another.
"""

from __future__ import annotations

import os
import shutil
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.harness import ROOT
from tests.harness.checkout import stray_entries
from tests.harness.sample import (
    SampleStore,
    build_demo,
    build_marked,
    built_once,
    copy_store,
)

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
if os.environ.get("PYTEST_XDIST_WORKER"):
    # Parallel workers each get one core's worth of threads (numpy's BLAS, torch): N workers
    # with N threads each on N cores only fight over them.
    for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_name, "1")

PG_URL = os.environ.get("MONITOR_TEST_POSTGRES_URL")  # set by .ci/run: a server we may use


# -- guards ------------------------------------------------------------------------------------

@pytest.fixture(autouse=True)
def _no_internet(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any connection to a non-loopback address fails the test: nothing reaches the internet."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: object) -> object:
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and self.family in (socket.AF_INET, socket.AF_INET6) and not (
                host.startswith("127.") or host in ("::1", "localhost")):
            raise AssertionError(f"test tried to reach {host}: only loopback is allowed")
        return real_connect(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", guarded)


_BEFORE_RUN = pytest.StashKey[set[str]]()


def _is_controller(config: pytest.Config) -> bool:
    return not hasattr(config, "workerinput")  # an xdist worker has it


def pytest_sessionstart(session: pytest.Session) -> None:
    entries = stray_entries(ROOT) if _is_controller(session.config) else None
    if entries is not None:
        session.config.stash[_BEFORE_RUN] = entries


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run when the checkout gained untracked (or ignored) files during it: a test
    wrote where it must not (screenshots, reports, a database, the demo's folder...)."""
    before = session.config.stash.get(_BEFORE_RUN, None)
    after = stray_entries(ROOT) if before is not None else None
    if before is None or after is None or not (new := sorted(after - before)):
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    message = ("the test run wrote into the checkout (tests must write under tmp_path or "
               f"$MONITOR_TEST_ARTIFACTS): {', '.join(new)}")
    if reporter is not None:
        reporter.write_line(f"ERROR: {message}", red=True, bold=True)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


# Modules that share one worker under `make test` (pytest-xdist, --dist loadscope): what is
# costly to start then starts once per run, not once per worker. A module missing here still
# runs right, only paying the start on another worker too.
SHARED_WORKER = {
    "tests/test_report_browser.py": "chromium",  # one headless Chromium (session fixture)
    "tests/test_dashboard.py": "chromium",
    "tests/test_french_pages.py": "chromium",
    "tests/test_store_and_embed.py": "torch",  # the torch model (minilm: 6 s to load)
    "tests/test_x_collector.py": "torch",
}


# The longest units first (as measured), so the workers end together: the first builds the
# sample while the second starts on work that needs none of it.
LONGEST_FIRST = ("chromium", "torch", "tests/test_cli.py", "tests/test_import_boundary.py",
                 "tests/test_realistic_timeline.py", "tests/test_x_limits.py",
                 "tests/test_service.py", "tests/test_digest_email.py")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """--dist loadscope (whole modules, so module fixtures are built once), with the modules
    of SHARED_WORKER merged into one unit each, handed out LONGEST_FIRST. (xdist's loadgroup
    would group with marks, but its marks do not reach the scheduler under pytest 9.)"""
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class SharedWorkerScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return SHARED_WORKER.get(module, module)

        def _assign_work_unit(self, node: Any) -> None:
            for scope in LONGEST_FIRST:  # then the others, in collection order
                if scope in self.workqueue:
                    self.workqueue.move_to_end(scope, last=False)
                    break
            super()._assign_work_unit(node)

    return SharedWorkerScheduling(config, log)


# -- stores --------------------------------------------------------------------------------------

def _backends() -> list[str]:
    return ["sqlite", "postgresql"] if PG_URL else ["sqlite"]


@pytest.fixture(scope="session")
def _pg_admin() -> Iterator[Any]:
    """One administrative engine on the PostgreSQL server for the worker."""
    from sqlalchemy import create_engine

    assert PG_URL is not None
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    yield admin
    admin.dispose()


@pytest.fixture(scope="session")
def _templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Databases already brought to the current schema by `Store.open` (what the first open of
    an empty database does), copied for each test instead of migrated again: a SQLite file,
    and a PostgreSQL template database when there is a server."""
    from monitor.store import Store

    folder = tmp_path_factory.mktemp("db-templates")
    Store.open(f"sqlite:///{folder / 'migrated.db'}").close()
    made = {"sqlite": str(folder / "migrated.db")}
    admin = None
    if PG_URL:
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        name = f"monitor_template_{uuid.uuid4().hex[:12]}"
        admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        Store.open(make_url(PG_URL).set(database=name).render_as_string(
            hide_password=False)).close()
        made["postgresql"] = name
    yield made
    if admin is not None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{made["postgresql"]}" WITH (FORCE)'))
        admin.dispose()


def _database(request: pytest.FixtureRequest, tmp_path: Path,
              template: str | None) -> Iterator[str]:
    if request.param == "sqlite":
        if template is not None:
            shutil.copyfile(template, tmp_path / "monitor.db")
        yield f"sqlite:///{tmp_path / 'monitor.db'}"
        return
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    admin = request.getfixturevalue("_pg_admin")
    name = f"monitor_test_{uuid.uuid4().hex[:12]}"
    copy = f' TEMPLATE "{template}"' if template else ""
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"{copy}'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=_backends())
def db_url(request: pytest.FixtureRequest, tmp_path: Path,
           _templates: dict[str, str]) -> Iterator[str]:
    """A fresh database with the current schema and no data: a SQLite file, and a new
    PostgreSQL database in CI (its own name per test, so parallel workers never share one).
    Copied from a migrated template, as migrating each one again costs more than the test."""
    yield from _database(request, tmp_path, _templates[request.param])


@pytest.fixture(params=_backends())
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database (no schema yet): for the tests of the migrations themselves."""
    yield from _database(request, tmp_path, None)


@pytest.fixture
def store(db_url: str) -> Iterator[object]:
    from monitor.store import Store

    s = Store.open(db_url)
    yield s
    s.close()


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where tests leave screenshots and files for a human to look at: $MONITOR_TEST_ARTIFACTS
    when set (CI keeps it), else a folder under pytest's temporary directory (never the
    checkout)."""
    chosen = os.environ.get("MONITOR_TEST_ARTIFACTS")
    if chosen:
        path = Path(chosen)
        path.mkdir(parents=True, exist_ok=True)
        return path
    return tmp_path_factory.mktemp("artifacts")


# -- models --------------------------------------------------------------------------------------

_LOADED: dict[str, Any] = {}


@pytest.fixture(scope="session", autouse=True)
def _models_load_once() -> Iterator[None]:
    """The two bundled models are loaded once per worker, whoever asks: the fixtures below and
    every command run in process (`Encoders` makes its encoders with `make_encoder`). Loading is
    not what those tests check; the vectors are the same. Other names go to the real function
    (its checks, its errors)."""
    from monitor.embed import encoder as module

    real = module.make_encoder
    shared_ids = (module.DEFAULT_MODEL_ID, module.USE_MODEL_ID)

    def make_encoder(name: str = "default", *, batch_size: int = 64) -> Any:
        made = real(name, batch_size=batch_size)
        if made.model_id not in shared_ids:
            return made
        return _LOADED.setdefault(made.model_id, made)

    patch = pytest.MonkeyPatch()
    patch.setattr(module, "make_encoder", make_encoder)
    yield
    patch.undo()


@pytest.fixture(scope="session")
def minilm(_models_load_once: None) -> object:
    """The bundled default model (real weights, loaded once per session)."""
    from monitor.embed import encoder

    return encoder.make_encoder("default")


@pytest.fixture(scope="session")
def use_encoder(_models_load_once: None) -> object:
    """The multilingual numpy encoder (real weights, loaded once per session)."""
    from monitor.embed import encoder

    return encoder.make_encoder("use-multilingual")


# -- the bundled sample, embedded once per run ---------------------------------------------------

@pytest.fixture(scope="session")
def demo_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`monitor demo`'s folder (report.html, report.md, monitor.toml, monitor.db, and its
    terminal output in demo-output.txt), built once per run. Read it; never write into it:
    copy it (`demo_store`)."""
    return built_once(tmp_path_factory, "demo", build_demo)


@pytest.fixture(scope="session")
def marked_folder(tmp_path_factory: pytest.TempPathFactory, demo_folder: Path,
                  use_encoder: object) -> Path:
    """The demo's store plus the marked-up posts (tests/harness/sample.py), built once."""
    return built_once(tmp_path_factory, "marked",
                      lambda folder: build_marked(folder, demo_folder, use_encoder))


@pytest.fixture
def demo_store(tmp_path: Path, demo_folder: Path) -> SampleStore:
    """This test's copy of the demo's store and configuration (French, model "auto")."""
    return copy_store(demo_folder, tmp_path / "demo")


@pytest.fixture
def marked_store(tmp_path: Path, marked_folder: Path) -> SampleStore:
    """This test's copy of the marked sample store (English, the multilingual encoder)."""
    return copy_store(marked_folder, tmp_path / "sample")


# -- browsers and emulators ----------------------------------------------------------------------

@pytest.fixture(scope="session")
def chromium(tmp_path_factory: pytest.TempPathFactory, artifacts: Path) -> Iterator[Any]:
    """One headless Chromium for the run (per worker), driven over the DevTools protocol."""
    from tests.harness.chromium import CHROMIUM, HAVE_CHROMIUM, Chromium

    if not HAVE_CHROMIUM:
        pytest.skip(f"no Chromium at {CHROMIUM}")
    profile = tmp_path_factory.mktemp("chromium-profile")
    browser = Chromium(profile, artifacts)
    try:
        yield browser
    finally:
        browser.close()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def emu(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The X API v2 emulator on loopback, with the monitor's environment pointed at it."""
    from tests.harness.x import TOKEN
    from tests.x_emulator import XEmulator

    with XEmulator(token=TOKEN) as emulator:
        monkeypatch.setenv("X_BEARER_TOKEN", TOKEN)
        monkeypatch.setenv("MONITOR_X_API_BASE_URL", emulator.base_url)
        monkeypatch.delenv("MONITOR_DATABASE_URL", raising=False)
        yield emulator
