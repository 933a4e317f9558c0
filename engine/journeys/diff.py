from __future__ import annotations

import difflib
from typing import Any

import yaml

from engine.journeys.schemas import Change


def changes(before: Any, after: Any, path: str = "") -> list[Change]:
    """Leaf-level differences between two definitions, with JSON paths."""
    if isinstance(before, dict) and isinstance(after, dict):
        out: list[Change] = []
        for key in sorted(before.keys() | after.keys()):
            sub = f"{path}.{key}" if path else str(key)
            if key not in before:
                out.append(Change(path=sub, after=after[key]))
            elif key not in after:
                out.append(Change(path=sub, before=before[key]))
            else:
                out += changes(before[key], after[key], sub)
        return out
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return [
            c
            for i, (b, a) in enumerate(zip(before, after, strict=True))
            for c in changes(b, a, f"{path}[{i}]")
        ]
    return [] if before == after else [Change(path=path or "(document)", before=before, after=after)]


def unified(before: Any, after: Any, from_label: str, to_label: str) -> str:
    return "".join(difflib.unified_diff(_lines(before), _lines(after), from_label, to_label))


def _lines(document: Any) -> list[str]:
    return yaml.safe_dump(document, sort_keys=True, allow_unicode=True).splitlines(keepends=True)
