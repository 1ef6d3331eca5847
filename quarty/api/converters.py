"""The `id` URL converter: a row id, matched only when the store can hold it."""

from __future__ import annotations

from werkzeug.routing import IntegerConverter, Map

# Ids are 32-bit integers in the store; anything else cannot name a row.
MAX_ID = 2**31 - 1


def whole_numbers_up_to(limit: int) -> str:
    """A regex matching 1 to `limit`, written without leading zeros."""
    digits = str(limit)
    # Every number with fewer digits, then those with as many that stay below
    # the limit: equal up to some digit, smaller there, anything after.
    alternatives = [f"[1-9][0-9]{{0,{len(digits) - 2}}}"] if len(digits) > 1 else []
    for position, digit in enumerate(digits):
        lowest = 1 if position == 0 else 0
        if int(digit) > lowest:
            rest = len(digits) - position - 1
            alternatives.append(
                f"{digits[:position]}[{lowest}-{int(digit) - 1}][0-9]{{{rest}}}"
            )
    alternatives.append(digits)
    return f"(?:{'|'.join(alternatives)})"


class IdConverter(IntegerConverter):
    """`<id:name>`: 1 to MAX_ID, else the path is a 404.

    The range is in the regex, not only in `to_python`: werkzeug picks a rule
    by its pattern and method before it converts, so on a path that takes
    several methods an id out of range would be a 405 for the other methods.
    """

    regex = whole_numbers_up_to(MAX_ID)

    def __init__(self, url_map: Map) -> None:
        super().__init__(url_map, min=1, max=MAX_ID)
