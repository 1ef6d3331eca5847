"""Schemathesis runs the app's own /openapi.json against it, with every default check.

The app is served over ASGI on schemathesis's own event-loop thread, lifespan and
all (so its database engine starts and is disposed of as under hypercorn). The
run is schemathesis's engine, as `schemathesis run` drives it: the schema's
examples, coverage cases (boundaries, wrong types, missing fields, undeclared
methods), a bounded number of generated examples per operation, then stateful
sequences that follow the Location header of created users. Every response must
pass every check, and none may be a 5xx.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from quart import Quart
from schemathesis.config import SchemathesisConfig
from schemathesis.core.result import Err
from schemathesis.engine import Status, StopReason, events
from schemathesis.python.asgi import shutdown_lifespans
from schemathesis.schemas import BaseSchema

from quarty import create_app
from quarty.db import EXTENSION_KEY, Database
from quarty.models import Base, User
from quarty.services import roles as roles_service

#: Generated examples per operation and phase; the coverage cases come on top.
MAX_EXAMPLES = 100
#: A fixed seed: the same cases on every run, so CI is deterministic.
SEED = 20240601
OPERATIONS = {
    "GET /api/v1/users",
    "POST /api/v1/users",
    "GET /api/v1/users/{user_id}",
    "GET /api/v1/roles",
    "GET /api/v1/roles/{role_id}",
    "GET /api/v1/roles/{role_id}/users",
}


async def _prepare_store(app: Quart) -> None:
    """Tables, the default roles and a few users, so lookups can find rows."""
    database: Database = app.extensions[EXTENSION_KEY]
    async with database.engine.begin() as connection:
        await connection.run_sync(Base.metadata.drop_all)
        await connection.run_sync(Base.metadata.create_all)
    async with database.sessionmaker() as session:
        await roles_service.insert_default_roles(session)
        roles = await roles_service.list_roles(session)
        session.add_all(
            User(username=f"seed{number}", role_id=roles[number % len(roles)].id)
            for number in range(7)
        )
        await session.commit()
    # Connections belong to this loop; the app makes its own on schemathesis's.
    await database.dispose()


@pytest.fixture
def api_schema(app_settings: dict[str, object]) -> Iterator[BaseSchema]:
    app = create_app("testing", **app_settings)
    asyncio.run(_prepare_store(app))
    config = SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "generation": {"max-examples": MAX_EXAMPLES, "database": "none"},
        }
    )
    try:
        yield schemathesis.openapi.from_asgi("/openapi.json", app, config=config)
    finally:
        # Runs the app's shutdown, which disposes of its database engine.
        shutdown_lifespans()


def test_api_passes_every_schemathesis_check(
    api_schema: BaseSchema, artifacts_dir: Path
) -> None:
    cases: Counter[str] = Counter()
    checks: Counter[str] = Counter()
    failures: list[str] = []
    errors: list[str] = []
    statuses: Counter[int] = Counter()
    finished: events.EngineFinished | None = None

    for event in schemathesis.engine.from_schema(api_schema).execute():
        if isinstance(event, events.ScenarioFinished):
            recorder = event.recorder
            cases[event.phase.value] += len(recorder.cases)
            for case_id, nodes in recorder.checks.items():
                for node in nodes:
                    checks[node.name] += 1
                    if node.status == Status.FAILURE:
                        failures.append(_describe(recorder.label, node, case_id))
            for interaction in recorder.interactions.values():
                if interaction.response is not None:
                    statuses[interaction.response.status_code] += 1
        elif isinstance(event, (events.NonFatalError, events.FatalError)):
            errors.append(repr(event))
        elif isinstance(event, events.EngineFinished):
            finished = event

    operations = {operation.label for operation in _operations(api_schema)}
    summary = {
        "operations": len(operations),
        "examples": sum(cases.values()),
        "examples_per_phase": dict(cases),
        "checks": dict(sorted(checks.items())),
        "failures": len(failures),
        "responses_per_status": dict(sorted(statuses.items())),
    }
    (artifacts_dir / "schemathesis.json").write_text(json.dumps(summary, indent=2))
    print(f"\nschemathesis: {json.dumps(summary)}")

    assert finished is not None
    assert finished.stop_reason == StopReason.COMPLETED
    assert errors == []
    assert failures == []
    assert operations == OPERATIONS
    assert not [status for status in statuses if status >= 500]
    # Each phase ran: the fuzzing and stateful ones did real work.
    assert cases["coverage"] > 0
    assert cases["fuzzing"] >= MAX_EXAMPLES * (len(OPERATIONS) - 1)
    assert cases["stateful"] > 0
    assert {201, 400, 404, 405, 409} <= set(statuses)


def _operations(
    schema: BaseSchema,
) -> Iterator[schemathesis.APIOperation[Any, Any, Any, Any]]:
    for result in schema.get_all_operations():
        if isinstance(result, Err):  # the schema has an operation it cannot read
            raise result.err()
        yield result.ok()


def _describe(label: str, node: object, case_id: str) -> str:
    info = getattr(node, "failure_info", None)
    failure = getattr(info, "failure", None)
    return f"{label}: {getattr(node, 'name', '?')}: {failure} (case {case_id})"
