"""Turning a request body (JSON or YAML) into a document, with errors that say where."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import yaml

from engine.errors import BadRequest, Problem, UnsupportedMediaType

JSON_TYPES = ("application/json",)
YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml", "text/plain")


class _NoAliasLoader(yaml.SafeLoader):
    """Aliases let 1 KB of YAML expand to gigabytes ("billion laughs"); journeys never need them."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.MarkedYAMLError(None, None, "aliases (*name) are not allowed", event.start_mark)
        return super().compose_node(parent, index)


def parse_document(body: bytes, content_type: str | None) -> Any:
    media = (content_type or "").split(";")[0].strip().lower()
    if not body.strip():
        raise BadRequest("the request body is empty: send a journey definition as JSON or YAML")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BadRequest(f"the body is not UTF-8 (byte {error.start})") from error
    if media in JSON_TYPES:
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            problem = Problem("(body)", f"line {error.lineno} column {error.colno}: {error.msg}")
            raise BadRequest(f"invalid JSON: {problem.message}", [problem]) from error
    if media and media not in YAML_TYPES:
        raise UnsupportedMediaType(
            f"unsupported content type {media!r}: use application/json or application/yaml"
        )
    try:
        return yaml.load(text, Loader=_NoAliasLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1} column {mark.column + 1}: " if mark is not None else ""
        problem = Problem("(body)", f"{where}{getattr(error, 'problem', None) or error}")
        raise BadRequest(f"invalid YAML: {problem.message}", [problem]) from error


def canonical_json(document: Any) -> str:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def checksum(document: Any) -> str:
    return hashlib.sha256(canonical_json(document).encode()).hexdigest()
