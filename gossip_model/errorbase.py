"""Exceptions that behave as values (contracts.md §1.3, ERR-4).

Every error of this package carries its fields as attributes, compares equal
to another error of the same class with equal fields, hashes consistently
with that equality, and pickles by its fields (so errors survive the process
pool of the simulation sweep). Subclasses list their fields in ``_fields``
and render their message in ``_message``.
"""

from __future__ import annotations

from typing import Any, ClassVar


class ValueEquality(Exception):
    """Mixin for exceptions that are values: ERR-4 equality, hashing, pickling."""

    _fields: ClassVar[tuple[str, ...]] = ()

    def _init_fields(self, **values: Any) -> None:
        for name, value in values.items():
            setattr(self, name, value)
        super().__init__(self._message())

    def _message(self) -> str:
        raise NotImplementedError

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self._fields)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, ValueEquality)
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._values()))

    def __repr__(self) -> str:
        inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{type(self).__name__}({inner})"

    def __str__(self) -> str:
        return self._message()

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), self._values())
