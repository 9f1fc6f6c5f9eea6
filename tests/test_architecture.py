"""The layering rule: imports run one way, CLI → flows → notifications → models."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# What each layer must never import: the layers above it.
FORBIDDEN = {
    "models": ("flows", "notifications", "importers", "samordna.cli"),
    "notifications": ("flows", "importers", "samordna.cli"),
    "flows": ("samordna.cli",),
    # Charts, calendars and Word files turn plain values into bytes: they know no layer at all.
    "documents": ("flows", "notifications", "importers", "models", "samordna"),
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_imports_run_one_way(layer: str) -> None:
    """No module of a lower layer imports a higher one (CLI → flows → notifications → models)."""
    offenders = [
        f"{path.relative_to(REPO)} imports {name}"
        for path in sorted((REPO / layer).rglob("*.py"))
        for name in sorted(_imports(path))
        if any(name == banned or name.startswith(banned + ".") for banned in FORBIDDEN[layer])
    ]
    assert offenders == []


def test_only_channels_import_apprise() -> None:
    """apprise is an adapter at the edge: notifications/channels.py is its only user."""
    users = [
        str(path.relative_to(REPO))
        for layer in ("models", "flows", "notifications", "importers", "samordna", "documents")
        for path in sorted((REPO / layer).rglob("*.py"))
        if any(name == "apprise" or name.startswith("apprise.") for name in _imports(path))
    ]
    assert users == ["notifications/channels.py"]
