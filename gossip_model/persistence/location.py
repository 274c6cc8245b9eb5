"""Display metadata carried by observations (contracts.md §5, LOC-1..LOC-3, RED-7)."""

from __future__ import annotations

from dataclasses import dataclass

from gossip_model.identity import check_type
from gossip_model.persistence.errors import Empty, TooLarge

MAX_LOCATION_DISPLAY_SIZE = 4096
MAX_LOCATION_URL_SIZE = 4096


@dataclass(frozen=True, slots=True)
class Location:
    """Where an observation was seen: ``display`` text and an optional ``url``.

    LOC-2 order: an empty ``url`` becomes ``None``; empty ``display`` raises
    ``Empty("Location.display")``; sizes over 4096 UTF-8 bytes raise
    ``TooLarge("Location.display" | "Location.url", size, 4096)``. No trimming,
    no URL parsing. Open point (ERR-5, §13 item 10): the errors are the
    ``Empty`` / ``TooLarge`` classes of ``persistence.errors`` with those field
    names. Not redacted: display-safe by contract (RED-7).
    """

    display: str
    url: str | None = None

    def __post_init__(self) -> None:
        check_type("Location", "display", self.display, str)
        if self.url is not None:
            check_type("Location", "url", self.url, str)
            if self.url == "":
                object.__setattr__(self, "url", None)
        if not self.display:
            raise Empty("Location.display")
        size = len(self.display.encode("utf-8"))
        if size > MAX_LOCATION_DISPLAY_SIZE:
            raise TooLarge("Location.display", size, MAX_LOCATION_DISPLAY_SIZE)
        if self.url is not None:
            size = len(self.url.encode("utf-8"))
            if size > MAX_LOCATION_URL_SIZE:
                raise TooLarge("Location.url", size, MAX_LOCATION_URL_SIZE)
