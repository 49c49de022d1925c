"""Turning pydantic's validation errors into messages a user can act on: the dotted key with
the pair's name (`pairs[0] (maison-lumiere).executive`), "did you mean" for a misspelt key, and
"write 0.30" for a share written as a percentage."""

from __future__ import annotations

import difflib
from typing import Any

from pydantic import BaseModel


def did_you_mean(root: Any, loc: tuple[int | str, ...]) -> str:
    """`; did you mean `threshold`?` for a misspelt key, from the keys valid where it is in the
    pydantic model `root`."""
    model: Any = root
    for item in loc[:-1]:
        if isinstance(item, int):
            continue
        field = getattr(model, "model_fields", {}).get(item)
        if field is None:
            return ""
        model = _model_of(field.annotation)
        if model is None:
            return ""
    known = [k for k in getattr(model, "model_fields", {}) if k != "source"]
    close = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
    return f"; did you mean `{close[0]}`?" if close else ""


def _model_of(annotation: Any) -> Any:
    """The pydantic model inside an annotation such as `PairConfig`, `list[PairConfig]`."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def share_hint(err: Any) -> str:
    """`threshold = 30` means 30 %: say to write 0.30."""
    value = err.get("input")
    ctx = err.get("ctx") or {}
    if err["type"] in ("less_than_equal", "less_than") and ctx.get(
            "le", ctx.get("lt")) == 1 and isinstance(value, int | float) and 1 < value <= 100:
        return f" (a share, not a percentage: write {value / 100:.2f} for {value:g} %)"
    return ""


def dotted(loc: tuple[int | str, ...], raw: dict[str, Any]) -> str:
    parts: list[str] = []
    node: Any = raw
    for item in loc:
        if isinstance(item, int):
            label = f"[{item}]"
            if isinstance(node, list) and item < len(node) and isinstance(node[item], dict):
                name = node[item].get("name")
                if name:
                    label = f"[{item}] ({name})"
            parts.append(label)
            node = node[item] if isinstance(node, list) and item < len(node) else None
        else:
            parts.append(("." if parts else "") + str(item))
            node = node.get(item) if isinstance(node, dict) else None
    return "".join(parts)
