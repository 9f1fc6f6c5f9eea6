"""The layering rule: front doors call services, services call the rules, arrows point down only.

    samordna/ (CLI)   web/ (pages)   flows/ (Prefect)      front doors
                 \\        |         /
                       services/                            use cases
                           |
                        reports/                            what people read about the work
                           |
                        cycles/                             the rules of the recurring cycles
                           |
          importers/   notifications/   documents/          files in; the outbox; bytes out
                           |
                        models/                             tables and typed queries
                           |
                         core/                              settings, clock, Swedish text, templates

Checked on the source of every module (imports inside functions included), so a lazy import cannot
hide a wrong-way arrow; and by importing each package in a fresh interpreter, so nothing below the
front doors loads Prefect or click even indirectly.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = (
    "core",
    "models",
    "importers",
    "notifications",
    "documents",
    "cycles",
    "reports",
    "services",
    "flows",
    "samordna",
)
# What each package may import of the project (besides itself). Anything else of ours is a wrong way.
ALLOWED: dict[str, frozenset[str]] = {
    "core": frozenset(),
    # Charts, calendars and Word files turn plain values into bytes: they know no layer at all.
    "documents": frozenset(),
    "models": frozenset({"core"}),
    # Importers read files in, and write the sheets people fill in (through documents/).
    "importers": frozenset({"core", "models", "documents"}),
    "notifications": frozenset({"core", "models", "documents"}),
    "cycles": frozenset({"core", "models", "importers", "notifications", "documents"}),
    "reports": frozenset({"core", "models", "importers", "notifications", "documents", "cycles"}),
    "services": frozenset({"core", "models", "importers", "notifications", "documents", "cycles", "reports"}),
    "flows": frozenset(
        {"core", "models", "importers", "notifications", "documents", "cycles", "reports", "services"}
    ),
    "web": frozenset(
        {"core", "models", "importers", "notifications", "documents", "cycles", "reports", "services"}
    ),
    "samordna": frozenset(
        {
            "core",
            "models",
            "importers",
            "notifications",
            "documents",
            "cycles",
            "reports",
            "services",
            "flows",
        }
    ),
}
# Libraries that belong to one edge only.
EDGE_LIBRARIES = {
    "prefect": ("flows",),
    "click": ("samordna",),
    "fastapi": ("web",),
}


def _imports(source: str, filename: str = "<source>") -> set[str]:
    tree = ast.parse(source, filename=filename)
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def wrong_way(package: str, source: str) -> list[str]:
    """The project packages ``source`` (a module of ``package``) imports against the rule."""
    allowed = ALLOWED[package] | {package}
    ours = set(ALLOWED)
    return sorted(
        name for name in _imports(source) if name.split(".")[0] in ours and name.split(".")[0] not in allowed
    )


def _modules(package: str) -> list[Path]:
    return sorted((REPO / package).rglob("*.py"))


@pytest.mark.parametrize("package", [p for p in ALLOWED if (REPO / p).is_dir()])
def test_imports_point_down_only(package: str) -> None:
    """No module imports a package above its own layer (see the picture in this module's docstring)."""
    offenders = [
        f"{path.relative_to(REPO)} imports {name}"
        for path in _modules(package)
        for name in wrong_way(package, path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


@pytest.mark.parametrize(
    ("package", "source", "expected"),
    [
        ("models", "from services.status import record_status_report\n", ["services.status"]),
        ("importers", "def f():\n    from flows.deployments import est_flow\n", ["flows.deployments"]),
        ("cycles", "import reports.est_agenda\n", ["reports.est_agenda"]),
        ("core", "from models.plan import Measure\n", ["models.plan"]),
        ("services", "from cycles.est import run_est_cycle\nimport pendulum\n", []),
    ],
)
def test_the_check_catches_a_wrong_way_import(package: str, source: str, expected: list[str]) -> None:
    """The checker itself flags an upward import, also one hidden inside a function."""
    assert wrong_way(package, source) == expected


@pytest.mark.parametrize("library", sorted(EDGE_LIBRARIES))
def test_edge_libraries_stay_at_their_edge(library: str) -> None:
    """Prefect only in flows/, click only in the CLI, FastAPI only in web/."""
    users = sorted(
        str(path.relative_to(REPO))
        for package in ALLOWED
        if (REPO / package).is_dir() and package not in EDGE_LIBRARIES[library]
        for path in _modules(package)
        if any(
            name == library or name.startswith(library + ".") for name in _imports(path.read_text("utf-8"))
        )
    )
    assert users == []


def test_only_channels_import_apprise() -> None:
    """apprise is an adapter at the edge: notifications/channels.py is its only user."""
    users = [
        str(path.relative_to(REPO))
        for package in ALLOWED
        if (REPO / package).is_dir()
        for path in _modules(package)
        if any(name == "apprise" or name.startswith("apprise.") for name in _imports(path.read_text("utf-8")))
    ]
    assert users == ["notifications/channels.py"]


def _loaded_after_importing(modules: list[str]) -> set[str]:
    """The top-level packages a fresh interpreter has loaded after importing ``modules``."""
    code = (
        "import sys\n"
        + "".join(f"import {module}\n" for module in modules)
        + "print('\\n'.join(sorted({name.split('.')[0] for name in sys.modules})))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True, timeout=120
    )
    return set(done.stdout.split())


@pytest.mark.parametrize(
    "package", ["core", "models", "importers", "notifications", "cycles", "reports", "services"]
)
def test_nothing_below_the_front_doors_loads_prefect_or_click(package: str) -> None:
    """Importing every module of a layer below the front doors loads neither Prefect nor click."""
    modules = [
        ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
        for path in _modules(package)
        if "migrations" not in path.parts
    ]
    assert _loaded_after_importing(modules) & {"prefect", "click"} == set()


def test_a_status_report_needs_no_prefect_click_or_matplotlib() -> None:
    """`import services.status` (what the web app and the CLI call to record a report) stays light."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import services.status"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    loaded = {
        line.rsplit("|", 1)[-1].strip().split(".")[0] for line in done.stderr.splitlines() if "|" in line
    }
    assert "services" in loaded  # the importtime listing was read
    assert loaded & {"prefect", "click", "matplotlib"} == set()


def test_the_web_app_loads_neither_prefect_nor_click() -> None:
    """Importing every module of web/ (the FastAPI front door) loads neither Prefect nor click."""
    modules = [
        ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
        for path in _modules("web")
    ]
    assert modules
    assert _loaded_after_importing(modules) & {"prefect", "click"} == set()
