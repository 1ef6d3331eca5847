"""What every body written in Markdown must be before it is stored."""

from __future__ import annotations


class InvalidBodyError(ValueError):
    """A body that cannot be stored; str() says why, for the writer."""


def clean_text(
    body: str, *, noun: str, max_length: int, error: type[InvalidBodyError]
) -> str:
    """The body as stored: line ends made "\\n"; blank, too long, a NUL or a
    lone surrogate raise `error`, whose message names the `noun`."""
    text = body.replace("\r\n", "\n")
    if not text.strip():
        raise error(f"The {noun} is empty.")
    if len(text) > max_length:
        raise error(
            f"A {noun} has at most {max_length:,} characters; "
            f"this one has {len(text):,}."
        )
    if "\x00" in text:  # PostgreSQL text cannot hold it
        raise error(f"A {noun} cannot contain NUL characters.")
    try:
        text.encode()
    except UnicodeEncodeError:  # a lone surrogate, from a JSON escape
        raise error(f"The {noun} is not valid Unicode text.") from None
    return text
