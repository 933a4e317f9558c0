"""The reference journeys (abandoned cart, onboarding, churn rescue) and the templates they use, shipped
with the package: `journeys dev` publishes them on its first start, and the tests run them."""

from __future__ import annotations

from pathlib import Path

import yaml

EXAMPLES = Path(__file__).parent / "examples"


def example_templates() -> dict[str, dict[str, str]]:
    templates: dict[str, dict[str, str]] = yaml.safe_load((EXAMPLES / "templates.yaml").read_text())
    return templates


def example_journeys() -> list[Path]:
    return sorted(path for path in EXAMPLES.glob("*.yaml") if path.name != "templates.yaml")
