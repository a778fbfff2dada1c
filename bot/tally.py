"""Records of counts that add up field by field: a round's, a batch's, a whole run's."""

from __future__ import annotations

from dataclasses import Field, fields, replace
from typing import Any, ClassVar, Self


class Tally:
    """Mixin for a dataclass whose fields are all counts.

    `a + b` is a new record with each count summed (so `total += part` works for
    frozen records too); `total` is the sum of every field.
    """

    __dataclass_fields__: ClassVar[dict[str, Field[Any]]]

    def __add__(self, other: Self) -> Self:
        sums = {f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        return replace(self, **sums)

    @property
    def total(self) -> int:
        return sum(getattr(self, f.name) for f in fields(self))
