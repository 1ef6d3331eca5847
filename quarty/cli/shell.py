"""An asyncio REPL for `quart --app quarty shell`, where top-level `await` works."""

from __future__ import annotations

import ast
import asyncio
import code
import contextvars
import inspect
import threading
import types
from typing import Any

import click
from quart import Quart
from quart.cli import ScriptInfo

BANNER = (
    "Quarty shell: `await` works here. Ready: app, db (session factory), "
    "session, User, Role, select."
)


class AsyncConsole(code.InteractiveConsole):
    """Compiles with top-level await and runs coroutines on the app's loop."""

    def __init__(
        self,
        namespace: dict[str, Any],
        loop: asyncio.AbstractEventLoop,
        context: contextvars.Context,
    ) -> None:
        super().__init__(namespace)
        self.compile.compiler.flags |= ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
        self.loop = loop
        self.context = context

    def runcode(self, codeobj: types.CodeType) -> None:
        function = types.FunctionType(codeobj, self.locals)
        try:
            # Run every line on the loop, inside the app context, awaiting if needed.
            future = asyncio.run_coroutine_threadsafe(self._call(function), self.loop)
            future.result()
        except SystemExit:
            raise
        except BaseException:
            self.showtraceback()

    async def _call(self, function: types.FunctionType) -> Any:
        async def call() -> Any:
            result = function()
            if inspect.iscoroutine(result):
                result = await result
            return result

        task = asyncio.get_running_loop().create_task(
            call(), context=self.context.copy()
        )
        return await task


@click.command("shell", short_help="Run an asyncio shell in the app context.")
@click.pass_context
def shell_command(ctx: click.Context) -> None:
    """An interactive prompt where `await` works, inside an app context.

    Registered as a `quart.commands` entry point, which replaces Quart's own
    `shell` (that one cannot await).
    """
    app = ctx.ensure_object(ScriptInfo).load_app()
    asyncio.run(_serve_shell(app))


async def _serve_shell(app: Quart) -> None:
    from sqlalchemy import select

    from quarty.db import get_database
    from quarty.models import Role, User

    async with app.app_context():
        database = get_database()
        session = database.sessionmaker()
        namespace: dict[str, Any] = {
            "app": app,
            "db": database.sessionmaker,
            "session": session,
            "User": User,
            "Role": Role,
            "select": select,
        }
        console = AsyncConsole(
            namespace, asyncio.get_running_loop(), contextvars.copy_context()
        )
        done = asyncio.Event()
        loop = asyncio.get_running_loop()

        def interact() -> None:
            try:
                console.interact(banner=BANNER, exitmsg="")
            finally:
                loop.call_soon_threadsafe(done.set)

        threading.Thread(target=interact, daemon=True).start()
        try:
            await done.wait()
        finally:
            await session.close()
            await database.dispose()
