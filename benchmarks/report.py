"""What a benchmark reports: figures, each a ratio against a limit measured in the same run."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass
class Figure:
    """One measured figure. ``ratio`` compares it with ``limit`` (same run, same machine).

    ``higher_is_better`` tells how ``ratio`` is compared with ``target``; ``target`` None
    means the figure is reported, not judged.
    """

    benchmark: str
    backend: str
    name: str
    value: float
    unit: str
    limit_name: str = ""
    limit: float | None = None
    ratio: float | None = None
    target: float | None = None
    higher_is_better: bool = True
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def met(self) -> bool | None:
        if self.target is None or self.ratio is None:
            return None
        return self.ratio >= self.target if self.higher_is_better else self.ratio <= self.target

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "met": self.met}


def ratio(measured: float, limit: float) -> float:
    return round(measured / limit, 3) if limit else 0.0


def median_by(items: Sequence[T], key: Callable[[T], float]) -> T:
    """The item whose ``key`` is the median (the upper one of an even count): the round a
    benchmark of several rounds reports, as single rounds on this machine vary widely."""
    return sorted(items, key=key)[len(items) // 2]
