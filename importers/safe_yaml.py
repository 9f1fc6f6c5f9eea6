"""YAML from people's files, read with hard limits: no anchors or aliases, bounded depth and size.

PyYAML's safe loader expands aliases: 433 bytes of nested aliases grew a process to 5.6 GB, and a
directory of 378 bytes stored 72 MB for one person. Plans and directories never need anchors, so this
loader refuses them (``&namn`` and ``*namn`` and the ``<<`` merge built on them) with the line they are
on, from a first pass over the document's events (libyaml's, fast) before anything is built. That pass
also refuses nesting deeper than ``yaml_depth``, more than ``yaml_nodes`` values and a value longer than
``cell_chars``; the build refuses an impossible date such as 2025-02-30 and an integer too long to read.
Each is a Swedish message naming the file and the line: never a traceback.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import yaml

from core.text import swedish_number
from importers.limits import ImportLimits, check_file, decode_text, limit_problem
from importers.problems import ImportFailedError, Location, Problem

__all__ = ["load_yaml"]


# libyaml when PyYAML was built with it (the events of a 1 MB file in a third of a second), else Python.
_BASE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _RefusedError(yaml.YAMLError):
    """A value the loader will not build; ``message`` is Swedish, ``line`` 1-based (or None)."""

    def __init__(self, message: str, mark: Any, setting: tuple[int, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = mark.line + 1 if mark is not None else None
        self.setting = setting


def _scan(text: str, limits: ImportLimits) -> None:
    """Walk the document's events (nothing is built yet) and refuse anchors, aliases, too deep nesting,
    too many values and too long values, at the line where they are."""
    depth = nodes = 0
    for event in yaml.parse(text, Loader=_BASE_LOADER):
        if isinstance(event, yaml.AliasEvent):
            raise _RefusedError(
                f"alias (*{event.anchor}) är inte tillåtna; skriv ut värdet i stället.", event.start_mark
            )
        if isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
            continue
        if not isinstance(event, yaml.NodeEvent):
            continue
        if event.anchor is not None:
            raise _RefusedError(
                f"ankare (&{event.anchor}) är inte tillåtna; skriv ut värdena där de används.",
                event.start_mark,
            )
        nodes += 1
        if nodes > limits.yaml_nodes:
            raise _RefusedError(
                "filen har för många värden", event.start_mark, (limits.yaml_nodes, "IMPORT_MAX_YAML_NODES")
            )
        if isinstance(event, yaml.ScalarEvent) and len(event.value) > limits.cell_chars:
            raise _RefusedError(
                f"ett värde är {swedish_number(len(event.value))} tecken långt",
                event.start_mark,
                (limits.cell_chars, "IMPORT_MAX_CELL_CHARS"),
            )
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > limits.yaml_depth:
                raise _RefusedError(
                    "värdena är nästlade för djupt",
                    event.start_mark,
                    (limits.yaml_depth, "IMPORT_MAX_YAML_DEPTH"),
                )


class _Loader(_BASE_LOADER):  # type: ignore[valid-type, misc]  # a base chosen at import time
    """The safe loader whose impossible dates and unreadable integers are refused in Swedish."""

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> date:
        try:
            return super().construct_yaml_timestamp(node)  # type: ignore[no-any-return]
        except (ValueError, OverflowError):
            raise _RefusedError(f'"{node.value}" är inget giltigt datum.', node.start_mark) from None

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        try:
            return super().construct_yaml_int(node)  # type: ignore[no-any-return]
        except ValueError:
            raise _RefusedError("ett heltal är för långt för att läsas.", node.start_mark) from None


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)
_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_yaml_int)


def load_yaml(path: Path, limits: ImportLimits) -> Any:
    """The YAML document in ``path``, within ``limits``; ImportFailedError in Swedish otherwise."""
    check_file(path, limits)
    text = decode_text(path, path.read_bytes())
    loader = None
    try:
        _scan(text, limits)
        loader = _Loader(text)
        return loader.get_single_data()
    except _RefusedError as refused:
        where = Location(path, row=refused.line)
        if refused.setting is not None:
            raise limit_problem(where, refused.message, *refused.setting) from None
        raise ImportFailedError([Problem(where, refused.message)]) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        raise ImportFailedError(
            [Problem(Location(path, row=mark.line + 1 if mark else None), "filen är inte giltig YAML.")]
        ) from None
    except yaml.YAMLError:
        raise ImportFailedError([Problem(Location(path), "filen är inte giltig YAML.")]) from None
    finally:
        if loader is not None:
            loader.dispose()
