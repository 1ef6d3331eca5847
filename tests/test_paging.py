"""The page arithmetic behind every paged list and its pagination bar."""

from __future__ import annotations

import pytest

from quarty.services.paging import Page


def page(number: int, total: int, per_page: int = 20) -> Page[int]:
    return Page([], number, per_page, total)


@pytest.mark.parametrize(
    ("total", "pages"), [(0, 0), (1, 1), (20, 1), (21, 2), (1000, 50)]
)
def test_pages_round_up(total: int, pages: int) -> None:
    assert page(1, total).pages == pages


def test_neighbours_exist_only_inside_the_list() -> None:
    first, middle, last = page(1, 100), page(3, 100), page(5, 100)
    assert (first.has_prev, first.prev_num, first.next_num) == (False, None, 2)
    assert (middle.prev_num, middle.next_num) == (2, 4)
    assert (last.has_next, last.next_num, last.prev_num) == (False, None, 4)


def test_a_page_past_the_end_links_back_but_not_forward() -> None:
    past = page(9, 100)
    assert past.has_prev
    assert not past.has_next


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        (1, [1, 2, 3, 4, 5, None, 49, 50]),
        (10, [1, 2, None, 8, 9, 10, 11, 12, 13, 14, None, 49, 50]),
        (50, [1, 2, None, 48, 49, 50]),
    ],
)
def test_the_bar_shows_the_edges_and_the_pages_around_the_current(
    number: int, expected: list[int | None]
) -> None:
    assert list(page(number, 1000).iter_pages()) == expected


@pytest.mark.parametrize(
    ("total", "expected"), [(0, []), (20, [1]), (100, [1, 2, 3, 4, 5])]
)
def test_short_lists_have_no_gaps(total: int, expected: list[int]) -> None:
    assert list(page(1, total).iter_pages()) == expected
