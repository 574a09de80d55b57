"""The golden example of each event (libs/shared/tests/golden), for the tests of every consumer.

The examples are the contract: libs/shared's tests prove the models read and write them exactly,
and each consumer's tests handle them, so a change that breaks a consumer fails in both places.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypeVar

from shared.events import Event

GOLDEN = Path(__file__).resolve().parents[3] / "libs" / "shared" / "tests" / "golden"
E = TypeVar("E", bound=Event)


def raw(kind: type[Event]) -> dict[str, dict[str, Any]]:
    """Each example of `kind`'s topic as JSON, by name (the file name after the topic)."""
    paths = sorted(GOLDEN.glob(f"{kind.topic}.*.json"))
    return {
        path.name.removeprefix(f"{kind.topic}.").removesuffix(".json"): json.loads(path.read_text())
        for path in paths
    }


def examples(kind: type[E]) -> dict[str, E]:
    """Each example of `kind`'s topic, read as a consumer reads it, by name."""
    return {name: kind.model_validate(value) for name, value in raw(kind).items()}
