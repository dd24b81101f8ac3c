"""What every resource shares: the transport and the paging of list routes."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import BaseModel

if TYPE_CHECKING:
    from pictograph._transport import Transport
    from pictograph.client import Client

ModelT = TypeVar("ModelT", bound=BaseModel)
T = TypeVar("T")


class Resource:
    """Base of the resources: holds the client and its transport."""

    def __init__(self, client: Client) -> None:
        self._client = client
        self._transport: Transport = client._transport


class OffsetPager(Generic[T]):
    """Iterates an offset/limit list route page by page (the official SDK's ``OffsetPager``).

    Stops on an empty page, at ``max_total`` items, on ``pagination.has_more == false``, or,
    when ``has_more`` is absent, on a short page. Each ``iter()`` starts again at offset 0.
    """

    def __init__(
        self,
        fetch_page: Callable[[int, int], Any],
        parse_item: Callable[[Any], T],
        *,
        page_size: int = 100,
        max_total: int | None = None,
    ) -> None:
        if page_size <= 0:
            raise ValueError(f"page_size must be > 0, got {page_size}")
        if max_total is not None and max_total < 0:
            raise ValueError(f"max_total must be >= 0 when set, got {max_total}")
        self._fetch_page = fetch_page
        self._parse_item = parse_item
        self._page_size = page_size
        self._max_total = max_total
        #: The server's count of every matching item, once a page has been fetched (when told).
        self.total: int | None = None

    def __iter__(self) -> Iterator[T]:
        offset, yielded = 0, 0
        while self._max_total is None or yielded < self._max_total:
            page = self._fetch_page(offset, self._page_size)
            items = page.get("data", []) if isinstance(page, Mapping) else []
            self.total = _total(page) if isinstance(page, Mapping) else None
            if not items:
                return
            for raw in items[: None if self._max_total is None else self._max_total - yielded]:
                yield self._parse_item(raw)
                yielded += 1
            has_more = _has_more(page)
            if has_more is False or (has_more is None and len(items) < self._page_size):
                return
            offset += len(items)

    def all(self) -> list[T]:
        """Every item, fetched page by page."""
        return list(self)

    def first(self) -> T | None:
        """The first item, or ``None`` when there is none (fetches one page at most)."""
        return next(iter(self), None)


def _total(page: Mapping[str, Any]) -> int | None:
    pagination = page.get("pagination")
    total = pagination.get("total") if isinstance(pagination, Mapping) else None
    return total if isinstance(total, int) else None


def _has_more(page: Mapping[str, Any]) -> bool | None:
    pagination = page.get("pagination")
    if isinstance(pagination, Mapping) and isinstance(pagination.get("has_more"), bool):
        return bool(pagination["has_more"])
    return None
