"""Template rendering: what every page's context gets, and what it does not need."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from flask.templating import _default_template_ctx_processor
from quart import Quart


def drop_flasks_sync_context_processor(app: Quart) -> None:
    """Remove Flask's sync default context processor, which Quart runs in a thread.

    Quart's blueprints inherit it from Flask's Scaffold, and Quart runs a sync
    processor in a worker thread on every render: a thread hop per page that
    cost 330-470 µs of CPU on GET / (1,659 and 1,773 µs per request with it,
    1,337 and 1,301 without, in-process, 600 requests each). Quart's own async
    processor already puts `g`, `request` and `session` in every template's
    context, so nothing is lost. Flask keeps the function private; it is looked
    up by identity only (tested with the Flask versions pyproject.toml allows).
    """
    for processors in app.template_context_processors.values():
        processors[:] = [
            processor
            for processor in processors
            if processor is not _default_template_ctx_processor
        ]


def run_sync_context_processors_inline(app: Quart) -> None:
    """Run the sync context processors left (quart-auth's) on the loop, not a thread.

    Quart runs a sync processor in a worker thread on every render, as it must
    for one that might block. quart-auth's puts `current_user` in the context
    from `g`, which never blocks; its thread hop cost 380-450 µs of CPU on
    every page (GET /: 1,756 and 1,825 µs per request with it, 1,377 and 1,327
    inline, in-process, best of 3 runs of 3,000). The processor itself is untouched:
    it is called directly, and awaited as Quart awaits an async one.
    """
    for processors in app.template_context_processors.values():
        processors[:] = [_inline(processor) for processor in processors]


def _inline(
    processor: Callable[[], Any],
) -> Callable[[], Awaitable[dict[str, Any]]]:
    if inspect.iscoroutinefunction(processor):
        return processor

    @functools.wraps(processor)
    async def inline() -> dict[str, Any]:
        context: dict[str, Any] = processor()
        return context

    return inline
