"""What the benchmark sends: one Scenario per kind of traffic.

A scenario is plain data. The load generators (wrk with load.lua, or the
bundled Python client) read the same fields, so both send the same requests.

kinds:
  get     one fixed request, the same every time
  rotate  GET path_format % n, with n walking first..last
  flow    the name form as a browser fills it: GET / (the token and the session
          cookie), POST / with the token, then GET / again as the redirect says
  post    POST / again and again with one session cookie and its token, as the
          Flask original was measured (known: one name; new: a new name each time)
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Seeded users are named like this; the known-name traffic picks among them.
SEED_NAME_FORMAT = "user%04d"


@dataclass(frozen=True)
class Scenario:
    """One kind of traffic against one app."""

    name: str
    app: str  # "quarty", "quart" (Quart hello ceiling) or "raw" (raw ASGI ceiling)
    kind: str  # get | rotate | flow | post
    path: str = "/"
    expect: int = 200
    method: str = "GET"
    # rotate: the path is path_format % n for n in first..last
    path_format: str = ""
    first: int = 1
    last: int = 1
    # flow and post: "new" names or "known" (seeded) names
    names: str = ""
    description: str = ""
    # post: the session cookie and its CSRF token, fetched just before the run
    cookie: str = ""
    token: str = ""
    # flow/post with new names: the prefix that keeps this run's names unique
    name_prefix: str = ""
    seeded_users: int = 0
    tags: tuple[str, ...] = field(default_factory=tuple)

    @property
    def sends_mail(self) -> bool:
        return self.names == "new"


CEILINGS = (
    Scenario("raw-hello", "raw", "get", description="raw ASGI app, fixed page"),
    Scenario("quart-hello", "quart", "get", description="Quart app, fixed page"),
)


def quarty_scenarios(*, seeded_users: int, api_pages: int) -> list[Scenario]:
    """The scenarios against quarty itself, reads first, writes last."""
    user_name = SEED_NAME_FORMAT % 42
    return [
        Scenario("home", "quarty", "get", "/", description="GET / anonymous"),
        Scenario(
            "user-page",
            "quarty",
            "get",
            f"/user/{user_name}",
            description="GET /user/<name>",
        ),
        Scenario(
            "api-list",
            "quarty",
            "rotate",
            path_format="/api/v1/users?page=%d",
            first=1,
            last=max(api_pages, 1),
            tags=("api",),
            description="GET /api/v1/users?page=N",
        ),
        Scenario(
            "api-user",
            "quarty",
            "rotate",
            path_format="/api/v1/users/%d",
            first=1,
            last=seeded_users,
            tags=("api",),
            description="GET /api/v1/users/<id>",
        ),
        Scenario(
            "not-found",
            "quarty",
            "get",
            "/no/such/page",
            expect=404,
            description="GET a missing page (404)",
        ),
        Scenario(
            "flow-known",
            "quarty",
            "flow",
            names="known",
            seeded_users=seeded_users,
            description="GET / + POST / + redirect, known name",
        ),
        Scenario(
            "flow-new",
            "quarty",
            "flow",
            names="new",
            description="GET / + POST / + redirect, new name (+ admin mail)",
        ),
    ]


def flask_comparison_scenarios(*, seeded_users: int) -> list[Scenario]:
    """The three figures the Flask original was measured on, at 50 connections."""
    return [
        Scenario("home", "quarty", "get", "/", description="GET / anonymous"),
        Scenario(
            "post-known",
            "quarty",
            "post",
            method="POST",
            expect=302,
            names="known",
            seeded_users=seeded_users,
            description="POST / with a known name",
        ),
        Scenario(
            "post-new",
            "quarty",
            "post",
            method="POST",
            expect=302,
            names="new",
            description="POST / with a new name (+ admin mail)",
        ),
    ]


# What each Flask figure was, and how many times it quarty must reach.
FLASK_FIGURES = {
    "home": (2075.0, 1.5),
    "post-known": (1123.0, 1.5),
    "post-new": (240.0, 2.0),
}
