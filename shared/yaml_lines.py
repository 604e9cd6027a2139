"""Where each key of a YAML document is, so a file's problems name their line (the policy and
commission plan loaders). Only ``yaml``: cheap to import."""

from __future__ import annotations

import yaml

Loc = tuple[str | int, ...]


def line_map(
    node: yaml.Node, path: Loc = (), lines: dict[Loc, int] | None = None
) -> dict[Loc, int]:
    """The line of every key and item under ``node``, by its path of keys and indices."""
    lines = {} if lines is None else lines
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = (*path, key.value)
            lines[child] = key.start_mark.line + 1
            line_map(value, child, lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            line_map(item, (*path, index), lines)
    return lines


def line_at(lines: dict[Loc, int], path: Loc) -> int | None:
    """The line of ``path``, else of its nearest ancestor in the file."""
    for end in range(len(path), -1, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return None
