"""Conditions are data, not code: `{all: [...]}`, `{any: [...]}`, `{not: ...}` and leaves
`{field|signal, op, value}`. Evaluation lives beside the model so validator and runtime agree."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

from engine.durations import parse_duration

Op = Literal[
    "eq",
    "ne",
    "gt",
    "gte",
    "lt",
    "lte",
    "in",
    "not_in",
    "contains",
    "exists",
    "not_exists",
    "within",
    "older_than",
]
UNARY_OPS = {"exists", "not_exists"}
LIST_OPS = {"in", "not_in"}
TIME_OPS = {"within", "older_than"}
ROOTS = ("profile.traits.", "profile.signals.", "profile.segments.", "event.", "entry.")


class Leaf(BaseModel):
    model_config = ConfigDict(extra="forbid")

    field: str | None = Field(
        default=None, description="profile.traits.*, profile.signals.*, profile.segments.*, event.*, entry.*"
    )
    signal: str | None = Field(default=None, description="shorthand for field: profile.signals.<name>")
    segment: str | None = Field(
        default=None, description="`{segment: vip}`: the person is in segment vip (no op or value)"
    )
    op: Op = "eq"
    value: Any = None

    @model_validator(mode="after")
    def _check(self) -> Leaf:
        if self.segment is not None:  # normalized, it reads {segment, op: eq, value: true}
            if (
                self.field is not None
                or self.signal is not None
                or self.op != "eq"
                or self.value not in (None, True)
            ):
                raise ValueError("`segment` stands alone: no `field`, `signal`, `op` or `value`")
            self.value = True
            return self
        if (self.field is None) == (self.signal is None):
            raise ValueError("give exactly one of `field`, `signal` or `segment`")
        if "op" not in self.model_fields_set:
            raise ValueError("`op` is required")
        if self.field is not None and not self.field.startswith(ROOTS):
            raise ValueError(f"field {self.field!r} must start with one of {', '.join(ROOTS)}")
        if self.op in UNARY_OPS and self.value is not None:
            raise ValueError(f"`{self.op}` takes no value")
        if self.op not in UNARY_OPS and self.value is None:
            raise ValueError(f"`{self.op}` needs a value")
        if self.op in LIST_OPS and not isinstance(self.value, list):
            raise ValueError(f"`{self.op}` needs a list value")
        if self.op in TIME_OPS:
            parse_duration(self.value)
        return self

    @property
    def path(self) -> str:
        if self.segment is not None:
            return f"profile.segments.{self.segment}"
        return self.field if self.field is not None else f"profile.signals.{self.signal}"


class All(BaseModel):
    model_config = ConfigDict(extra="forbid")
    all: list[Condition] = Field(min_length=1)


class AnyOf(BaseModel):
    model_config = ConfigDict(extra="forbid")
    any: list[Condition] = Field(min_length=1)


class Not(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    not_: Condition = Field(alias="not")


def _condition_kind(value: Any) -> str:
    if isinstance(value, dict):
        for key in ("all", "any", "not"):
            if key in value:
                return f"<{key}>"
        return "<leaf>"
    return (
        "<all>"
        if isinstance(value, All)
        else "<any>"
        if isinstance(value, AnyOf)
        else ("<not>" if isinstance(value, Not) else "<leaf>")
    )


# Tags in angle brackets are dropped from error paths (see validator.problem_path).
Condition = Annotated[
    Annotated[All, Tag("<all>")]
    | Annotated[AnyOf, Tag("<any>")]
    | Annotated[Not, Tag("<not>")]
    | Annotated[Leaf, Tag("<leaf>")],
    Discriminator(_condition_kind),
]
All.model_rebuild()
AnyOf.model_rebuild()
Not.model_rebuild()


def leaves(condition: Any, path: str) -> list[tuple[str, dict[str, Any]]]:
    """Every leaf of a raw (dict) condition with its path; tolerant of malformed input (for the validator)."""
    if not isinstance(condition, dict):
        return []
    for key in ("all", "any"):
        if isinstance(condition.get(key), list):
            out: list[tuple[str, dict[str, Any]]] = []
            for index, child in enumerate(condition[key]):
                out += leaves(child, f"{path}.{key}[{index}]")
            return out
    if "not" in condition:
        return leaves(condition["not"], f"{path}.not")
    return [(path, condition)]
