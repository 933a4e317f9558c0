import json
import logging

import pytest

from engine.logs import JsonFormatter, configure_logging


def test_json_lines_when_not_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", "auto", "test")  # pytest's captured stderr is not a terminal
    logging.getLogger("journeys.test").info("enrolled %s", "ann", extra={"journey": "abandoned-cart"})
    line = capsys.readouterr().err.strip().splitlines()[-1]
    entry = json.loads(line)
    assert entry["msg"] == "enrolled ann"
    assert entry["level"] == "info"
    assert entry["logger"] == "journeys.test"
    assert entry["journey"] == "abandoned-cart"


def test_exceptions_are_kept_in_one_json_line() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord(
            "x", logging.ERROR, __file__, 1, "failed", None, exc_info=__import__("sys").exc_info()
        )
    entry = json.loads(JsonFormatter().format(record))
    assert "ValueError: boom" in entry["exc"]
