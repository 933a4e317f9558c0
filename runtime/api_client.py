"""The API client behind `journeys validate|publish|list|show` and the dev stack's example publishing."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Any

import httpx
import yaml

from engine.errors import JourneysError, Problem
from engine.journeys.bundled import example_journeys, example_templates
from engine.settings import Settings


class ApiError(JourneysError):
    pass


def _content_type(path: Path) -> str:
    return "application/json" if path.suffix.lower() == ".json" else "application/yaml"


class JourneysClient:
    def __init__(self, settings: Settings, timeout: float = 10) -> None:
        self._write_key = settings.write_keys[0] if settings.write_keys else ""
        self._http = httpx.Client(
            base_url=settings.api_base_url,
            headers={"Authorization": f"Bearer {settings.admin_token}"},
            timeout=timeout,
        )

    def __enter__(self) -> JourneysClient:
        return self

    def __exit__(self, *_: object) -> None:
        self._http.close()

    def _call(self, method: str, url: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, url, **kwargs)
        except httpx.HTTPError as error:
            raise ApiError(f"cannot reach the API at {self._http.base_url}: {error}") from error
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                raise ApiError(f"HTTP {response.status_code}: {response.text[:200]}") from None
            problems = [Problem(p["path"], p["message"]) for p in body.get("problems", [])]
            raise ApiError(body.get("message", response.reason_phrase), problems)
        return response.text if kwargs.get("params", {}).get("format") == "csv" else response.json()

    def validate(self, path: Path) -> Any:
        return self._call(
            "POST",
            "/api/journeys/validate",
            content=path.read_bytes(),
            headers={"Content-Type": _content_type(path)},
        )

    def publish(self, path: Path) -> Any:
        document = yaml.safe_load(path.read_text())
        key = document.get("key") if isinstance(document, dict) else None
        if not isinstance(key, str):
            raise ApiError(
                f"{path}: the definition has no `key`", [Problem("key", "required field is missing")]
            )
        headers = {"Content-Type": _content_type(path), "X-Author": getpass.getuser()}
        return self._call("POST", f"/api/journeys/{key}/publish", content=path.read_bytes(), headers=headers)

    def put_template(self, name: str, template: dict[str, str]) -> Any:
        return self._call("PUT", f"/api/templates/{name}", json=template)

    def track(self, message: dict[str, Any]) -> Any:
        return self._call(
            "POST", "/v1/track", json=message, headers={"Authorization": f"Bearer {self._write_key}"}
        )

    def import_history(self, messages: list[dict[str, Any]]) -> Any:
        return self._call(
            "POST",
            "/v1/import",
            json={"batch": messages},
            headers={"Authorization": f"Bearer {self._write_key}"},
        )

    def put_experience(self, path: Path) -> Any:
        document = yaml.safe_load(path.read_text())
        key = document.get("key") if isinstance(document, dict) else None
        if not isinstance(key, str):
            raise ApiError(
                f"{path}: the definition has no `key`", [Problem("key", "required field is missing")]
            )
        headers = {"Content-Type": _content_type(path)}
        return self._call("PUT", f"/api/experiences/{key}", content=path.read_bytes(), headers=headers)

    def experiences(self) -> Any:
        return self._call("GET", "/api/experiences")

    def train_models(self) -> Any:
        return self._call("POST", "/api/models/train")

    def models(self) -> Any:
        return self._call("GET", "/api/models")

    def report(self, key: str, params: dict[str, Any]) -> Any:
        return self._call("GET", f"/api/journeys/{key}/report", params=params)

    def list(self) -> Any:
        return self._call("GET", "/api/journeys")

    def show(self, key: str) -> Any:
        return self._call("GET", f"/api/journeys/{key}")


def publish_examples(settings: Settings) -> list[str]:
    """The reference journeys and their templates, published through the API like a marketer's."""
    with JourneysClient(settings) as client:
        for name, template in example_templates().items():
            client.put_template(name, template)
        return [f"{result['key']} v{result['version']}" for result in map(client.publish, example_journeys())]
