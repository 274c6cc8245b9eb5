"""An immutable, hashable mapping: the model states the checker memoizes."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class FrozenMap(Mapping[K, V], Generic[K, V]):
    """A read-only dict whose hash (over its items, order-free) is computed once."""

    __slots__ = ("_data", "_hash")

    def __init__(self, data: Mapping[K, V] | None = None) -> None:
        self._data: dict[K, V] = dict(data) if data is not None else {}
        self._hash: int | None = None

    def __getitem__(self, key: K) -> V:
        return self._data[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(frozenset(self._data.items()))
        return self._hash

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FrozenMap):
            return self._data == other._data
        return NotImplemented

    def updated(self, changes: Mapping[K, V]) -> FrozenMap[K, V]:
        """A new map with ``changes`` applied (this one is untouched)."""
        merged = dict(self._data)
        merged.update(changes)
        return FrozenMap(merged)

    def __repr__(self) -> str:
        return f"FrozenMap({len(self._data)} entries)"


__all__ = ["FrozenMap"]
