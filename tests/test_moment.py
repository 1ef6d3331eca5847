"""The moment() template helper: markup the browser script formats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from quart.testing import QuartClient

from quarty.web.moment import moment

INSTANT = datetime(2026, 11, 25, 9, 30, 15, tzinfo=UTC)


@pytest.mark.parametrize("fmt", ["L", "LL", "LLL", "LLLL", "LT", "LTS"])
def test_format_carries_the_utc_instant_and_the_format(fmt: str) -> None:
    html = str(moment(INSTANT).format(fmt))
    assert html.startswith('<time class="quarty-moment"')
    assert 'datetime="2026-11-25T09:30:15.000Z"' in html
    assert f'data-format="{fmt}"' in html
    assert "2026-11-25 09:30:15 UTC" in html  # the text before the script runs


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported moment format"):
        moment(INSTANT).format("YYYY")


def test_from_now_refreshes_when_asked() -> None:
    assert "data-refresh" not in str(moment(INSTANT).fromNow())
    assert 'data-refresh="60000"' in str(moment(INSTANT).fromNow(refresh=True))
    assert 'data-refresh="5000"' in str(moment(INSTANT).fromNow(refresh=5000))
    assert 'data-kind="fromNow"' in str(moment(INSTANT).fromNow())


def test_calendar_kind() -> None:
    assert 'data-kind="calendar"' in str(moment(INSTANT).calendar())


def test_other_zones_and_naive_values_become_utc() -> None:
    eastern = INSTANT.astimezone(timezone(timedelta(hours=-5)))
    assert 'datetime="2026-11-25T09:30:15.000Z"' in str(moment(eastern).format("L"))
    naive = INSTANT.replace(tzinfo=None)
    assert 'datetime="2026-11-25T09:30:15.000Z"' in str(moment(naive).format("L"))


async def test_footer_shows_the_local_time_and_time_ago(client: QuartClient) -> None:
    html = await (await client.get("/")).get_data(as_text=True)
    assert "The local date and time is <time" in html
    assert "That was <time" in html
    assert "/static/js/moment.js" in html


async def test_moment_script_is_served(client: QuartClient) -> None:
    response = await client.get("/static/js/moment.js")
    assert response.status_code == 200
    assert "Intl.DateTimeFormat" in await response.get_data(as_text=True)
