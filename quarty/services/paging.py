"""One page of a longer list, and the page numbers a pagination bar shows."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar, TypeVarTuple

from sqlalchemy import Row, Select
from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")
Columns = TypeVarTuple("Columns")


def page_count(total: int, per_page: int) -> int:
    """How many pages `total` items fill, `per_page` a page; none for none."""
    return -(-total // per_page)


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """The items of page `number` (1-based) of `total` items, `per_page` a page.

    A page past the end has no items; it is not an error.
    """

    items: Sequence[T]
    number: int
    per_page: int
    total: int

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.per_page

    @property
    def pages(self) -> int:
        """How many pages the list has; an empty list has none."""
        return page_count(self.total, self.per_page)

    @property
    def has_prev(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    @property
    def prev_num(self) -> int | None:
        return self.number - 1 if self.has_prev else None

    @property
    def next_num(self) -> int | None:
        return self.number + 1 if self.has_next else None

    def iter_pages(
        self,
        *,
        left_edge: int = 2,
        left_current: int = 2,
        right_current: int = 4,
        right_edge: int = 2,
    ) -> Iterator[int | None]:
        """Page numbers to link, with None where a run of them is left out.

        The first and last `*_edge` pages and those around the current one,
        as Flask-SQLAlchemy's `Pagination.iter_pages` gives them.
        """
        last = self.pages
        left_end = min(1 + left_edge, last + 1)
        yield from range(1, left_end)
        if left_end > last:
            return
        mid_start = max(left_end, self.number - left_current)
        mid_end = min(self.number + right_current + 1, last + 1)
        if mid_start > left_end:
            yield None
        yield from range(mid_start, mid_end)
        if mid_end > last:
            return
        right_start = max(mid_end, last - right_edge + 1)
        if right_start > mid_end:
            yield None
        yield from range(right_start, last + 1)


async def read_page(
    session: AsyncSession,
    rows: Select[*Columns],
    count: Select[int],
    *,
    page: int,
    per_page: int,
    known_total: int | None = None,
    sliced: bool = False,
) -> tuple[Sequence[Row[*Columns]], int]:
    """Page `page` of the ordered `rows`, and how many `count` says there are.

    The total rides along each row as a scalar subquery: one query, and a
    second only for a page past the end, which has no rows to carry it (an
    empty first page needs none: the list is empty), unless the caller
    already knows it (`known_total`, as a profile does). `sliced`: `rows`
    already holds only this page (its own OFFSET and LIMIT are inside it).
    """
    if page < 1 or per_page < 1:
        raise ValueError(f"no page {page} of {per_page}: both start at 1")
    offset = (page - 1) * per_page
    with_total = rows.add_columns(count.scalar_subquery().label("total"))
    if not sliced:
        with_total = with_total.offset(offset).limit(per_page)
    found = (await session.execute(with_total)).all()
    if found:
        return found, int(found[0].total)
    if offset == 0:
        return found, 0
    if known_total is not None:
        return found, known_total
    return found, int((await session.execute(count)).scalar_one())
