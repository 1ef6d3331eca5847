"""`moment(dt)` for templates: a UTC timestamp the browser shows in local time.

The markup carries the ISO-8601 UTC instant; static/js/moment.js formats it with
the browser's own Intl API, so no date library or CDN is needed.
"""

from __future__ import annotations

from datetime import UTC, datetime

from markupsafe import Markup, escape

LOCALIZED_FORMATS = frozenset({"L", "LL", "LLL", "LLLL", "LT", "LTS"})
DEFAULT_REFRESH_MS = 60_000


class Moment:
    """One instant, rendered as a <time> element for the browser to format."""

    def __init__(self, timestamp: datetime | None = None) -> None:
        timestamp = timestamp or datetime.now(UTC)
        if timestamp.tzinfo is None:  # naive values are UTC by convention
            timestamp = timestamp.replace(tzinfo=UTC)
        self.timestamp = timestamp.astimezone(UTC)
        self.iso = self.timestamp.isoformat(timespec="milliseconds").replace(
            "+00:00", "Z"
        )
        # Made once, not per element: a page shows one instant several ways.
        self._time_attributes = f'class="quarty-moment" datetime="{escape(self.iso)}"'
        # The UTC stamp is the text until the script formats it (and if it never runs).
        self._text = escape(self.timestamp.strftime("%Y-%m-%d %H:%M:%S UTC"))

    def format(self, fmt: str = "LLL") -> Markup:
        """The instant in a moment.js localized format (L, LL, LLL, LLLL, LT, LTS)."""
        if fmt not in LOCALIZED_FORMATS:
            raise ValueError(f"unsupported moment format {fmt!r}")
        return self._render("format", fmt=fmt)

    def fromNow(self, refresh: bool | int = False) -> Markup:  # noqa: N802 - moment's name
        """The time from now in words ('3 minutes ago'), optionally kept fresh."""
        return self._render("fromNow", refresh=refresh)

    def calendar(self) -> Markup:
        """A calendar phrase ('Today at 10:30', 'Yesterday at …', or a date)."""
        return self._render("calendar")

    def _render(
        self, kind: str, *, fmt: str = "", refresh: bool | int = False
    ) -> Markup:
        attributes = [self._time_attributes, f'data-kind="{escape(kind)}"']
        if fmt:
            attributes.append(f'data-format="{escape(fmt)}"')
        if refresh:
            interval = DEFAULT_REFRESH_MS if refresh is True else int(refresh)
            attributes.append(f'data-refresh="{interval}"')
        return Markup(f"<time {' '.join(attributes)}>{self._text}</time>")


def moment(timestamp: datetime | None = None) -> Moment:
    """The Jinja global: `{{ moment(dt).format('LLL') }}`."""
    return Moment(timestamp)
