"""The scales a comparison can be on (engine.stats.experiments); apart, so the CLI names them without
loading SciPy."""

from __future__ import annotations

from typing import Literal

Scale = Literal["relative", "absolute"]
SCALES: tuple[Scale, ...] = ("relative", "absolute")
