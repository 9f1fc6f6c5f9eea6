"""YAML from people's files, read with hard limits: no anchors or aliases, bounded depth and size.

PyYAML's safe loader expands aliases: 433 bytes of nested aliases grew a process to 5.6 GB, and a
directory of 378 bytes stored 72 MB for one person. Plans and directories never need anchors, so this
loader refuses them (``&namn`` and ``*namn`` and the ``<<`` merge built on them) with the line they are
on. It also refuses nesting deeper than ``yaml_depth``, more than ``yaml_nodes`` values, one value longer
than ``cell_chars``, an impossible date such as 2025-02-30 and an integer too long to read, each as a
Swedish message naming the file and the line: never a traceback.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import Node

from importers.limits import ImportLimits, check_file, decode_text, limit_problem
from importers.problems import ImportFailedError, Location, Problem

__all__ = ["load_yaml"]


class _RefusedError(yaml.YAMLError):
    """A value the loader will not build; ``message`` is Swedish, ``line`` 1-based (or None)."""

    def __init__(self, message: str, mark: Any, setting: tuple[int, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = mark.line + 1 if mark is not None else None
        self.setting = setting


class _LimitedLoader(yaml.SafeLoader):
    """The safe loader without anchors or aliases, counting values and depth as it composes."""

    def __init__(self, stream: str, limits: ImportLimits) -> None:
        super().__init__(stream)
        self.limits = limits
        self.depth = 0
        self.nodes = 0

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]  # PyYAML's stubs leave it unannotated
        if isinstance(event, yaml.AliasEvent):
            raise _RefusedError(
                f"alias (*{event.anchor}) är inte tillåtna; skriv ut värdet i stället.", event.start_mark
            )
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            raise _RefusedError(
                f"ankare (&{anchor}) är inte tillåtna; skriv ut värdena där de används.", event.start_mark
            )
        self.nodes += 1
        if self.nodes > self.limits.yaml_nodes:
            raise _RefusedError(
                "filen har för många värden",
                event.start_mark,
                (self.limits.yaml_nodes, "IMPORT_MAX_YAML_NODES"),
            )
        if isinstance(event, yaml.ScalarEvent) and len(event.value) > self.limits.cell_chars:
            raise _RefusedError(
                f"ett värde är {len(event.value)} tecken långt",
                event.start_mark,
                (self.limits.cell_chars, "IMPORT_MAX_CELL_CHARS"),
            )
        self.depth += 1
        try:
            if self.depth > self.limits.yaml_depth:
                raise _RefusedError(
                    "värdena är nästlade för djupt",
                    event.start_mark,
                    (self.limits.yaml_depth, "IMPORT_MAX_YAML_DEPTH"),
                )
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> date:
        try:
            return super().construct_yaml_timestamp(node)
        except (ValueError, OverflowError):
            raise _RefusedError(f'"{node.value}" är inget giltigt datum.', node.start_mark) from None

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        try:
            return super().construct_yaml_int(node)
        except ValueError:
            raise _RefusedError("ett heltal är för långt för att läsas.", node.start_mark) from None


_LimitedLoader.add_constructor("tag:yaml.org,2002:timestamp", _LimitedLoader.construct_yaml_timestamp)
_LimitedLoader.add_constructor("tag:yaml.org,2002:int", _LimitedLoader.construct_yaml_int)


def load_yaml(path: Path, limits: ImportLimits) -> Any:
    """The YAML document in ``path``, within ``limits``; ImportFailedError in Swedish otherwise."""
    check_file(path, limits)
    text = decode_text(path, path.read_bytes())
    loader = _LimitedLoader(text, limits)
    try:
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
        loader.dispose()
