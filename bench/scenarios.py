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
  login   GET /auth/login (the token and a new session cookie), then POST it
          with the bench account's email and password; a 302 is a login
  write   POST / again and again as the signed-in bench account, with its
          cookies and a CSRF token fetched just before the run: a new post
          each time; a 302 to / is a post written

Tags: "posts" and "comments" mark the pages that also run at
--posts-connections; "signed-in" ones are sent with a login's cookies.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Seeded users are named like this; the known-name traffic picks among them.
SEED_NAME_FORMAT = "user%04d"
# Then `quart --app quarty fake` adds accounts and posts by them, follows among
# them and comments on the posts, the same ones in every run: the pages show
# the same text from run to run.
FAKE_ACCOUNTS = 100
FAKE_POSTS = 1000
FAKE_FOLLOWS = 10  # per fake account
FAKE_COMMENTS = 2000
FAKE_SEED = 14
# In every list of posts (the book's _posts.html), on no page without one.
POSTS_SHOWN = "Permalink"
# What write-post sends, %s made unique per request; Markdown, as people write.
POST_BODY = (
    "Posted by the bench (%s). A paragraph of *Markdown*, as people write it: "
    "some **bold** words, a [link](https://example.com/bench) and a list.\n\n"
    "- one item\n- another item\n\nAnd a closing line."
)

# The account the logged-in scenarios use, made in the bench's throwaway
# database just before they run (a bench password need not be secret).
ACCOUNT_EMAIL = "bench@quarty.example.com"
ACCOUNT_USERNAME = "benchuser"
ACCOUNT_PASSWORD = "bench passphrase, throwaway"
# It follows this many of the fake accounts: its Followed tab is their posts.
ACCOUNT_FOLLOWS = 50
# The cookie that picks the Followed tab of / (the book's).
SHOW_FOLLOWED_COOKIE = "show_followed=1"
# The moderator whose /moderate is measured, made beside it.
MODERATOR_EMAIL = "moderator@quarty.example.com"
MODERATOR_USERNAME = "benchmoderator"
# One post gets exactly this many comments, a full page of them; those the
# bench adds say this, and its permalink must show it.
POST_COMMENTS = 30
BENCH_COMMENT = "A comment from the bench"
# Each login checks an argon2id hash at the production cost (3 passes over
# 64 MiB in 4 lanes), about 0.2 s of CPU: 2 cores complete ~10 a second, so at
# 100 connections a login would wait ~10 s, past the timeout. Higher levels
# would measure only the queue.
LOGIN_MAX_CONNECTIONS = 10
# At 10 connections logins end in batches about a second apart: a run of a
# few seconds would count one batch or none.
LOGIN_MIN_DURATION = 10.0


@dataclass(frozen=True)
class Scenario:
    """One kind of traffic against one app."""

    name: str
    app: str  # "quarty", "quart" (Quart hello ceiling) or "raw" (raw ASGI ceiling)
    kind: str  # get | rotate | flow | post | login | write
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
    # login: the credentials posted; signed-in: whose login the cookie is of
    # (none: the bench account's)
    email: str = ""
    password: str = ""
    # get, rotate: a response counts only with this status and these texts in
    # its body
    expect_texts: tuple[str, ...] = ()
    # write: the body of each post, %s made unique per request
    post_body: str = ""
    # levels above this are skipped (0: none are)
    max_connections: int = 0
    # seconds a run lasts at least, whatever --duration says
    min_duration: float = 0.0
    # what one completed flow is, in the report
    flow_unit: str = "flows"
    tags: tuple[str, ...] = field(default_factory=tuple)

    @property
    def sends_mail(self) -> bool:
        return self.names == "new"

    @property
    def wide(self) -> bool:
        """A page with posts or comments: it also runs at --posts-connections."""
        return "posts" in self.tags or "comments" in self.tags


CEILINGS = (
    Scenario("raw-hello", "raw", "get", description="raw ASGI app, fixed page"),
    Scenario("quart-hello", "quart", "get", description="Quart app, fixed page"),
)


# The home page of a visitor: posts, and a Flask figure too.
HOME = Scenario(
    "home",
    "quarty",
    "get",
    "/",
    expect_texts=(POSTS_SHOWN,),
    tags=("posts",),
    description="GET / anonymous, 20 posts",
)


def quarty_scenarios(
    *,
    seeded_users: int,
    api_pages: int,
    author: str = "",
    post_ids: tuple[int, int] = (1, FAKE_POSTS),
) -> list[Scenario]:
    """The scenarios against quarty itself, reads first, writes last.

    `author` wrote some of the seeded posts; `post_ids` are the first and last
    seeded post's.
    """
    user_name = SEED_NAME_FORMAT % 42
    return [
        HOME,
        Scenario(
            "user-page",
            "quarty",
            "get",
            f"/user/{user_name}",
            description="GET /user/<name>",
        ),
        Scenario(
            "user-posts",
            "quarty",
            "get",
            f"/user/{author}",
            expect_texts=("Member since", POSTS_SHOWN),
            tags=("posts",),
            description="GET /user/<name>, an author's profile and posts",
        ),
        Scenario(
            "post-page",
            "quarty",
            "rotate",
            path_format="/post/%d",
            first=post_ids[0],
            last=post_ids[1],
            expect_texts=(POSTS_SHOWN,),
            tags=("posts",),
            description="GET /post/<id>",
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


def account_scenarios(*, commented_post: int = 1) -> list[Scenario]:
    """The scenarios of a signed-in user, served with the login limiter off.

    The pages come first, so that their figures are not those of a server that
    has just hashed passwords under load, nor of a home page showing the posts
    the bench wrote. The cookie of each signed-in scenario (session and
    quarty_auth) comes from one login just before it runs; a scenario's own
    `cookie` is sent with it. `commented_post` has POST_COMMENTS comments.
    """
    return [
        Scenario(
            "profile-page",
            "quarty",
            "get",
            f"/user/{ACCOUNT_USERNAME}",
            # An account's profile (avatar, dates), not a name-only greeting.
            expect_texts=("Member since",),
            tags=("account",),
            description="GET /user/<username>, an account's profile",
        ),
        Scenario(
            "home-logged-in",
            "quarty",
            "get",
            "/",
            # The greeting, not the name form: the cookie still signs in.
            expect_texts=(f"Hello, {ACCOUNT_USERNAME}!", POSTS_SHOWN),
            tags=("account", "signed-in", "posts"),
            description="GET / logged in, 20 posts",
        ),
        Scenario(
            "home-followed",
            "quarty",
            "get",
            "/",
            cookie=SHOW_FOLLOWED_COOKIE,
            # The tab, and the posts of the 50 accounts followed.
            expect_texts=("Followed", POSTS_SHOWN),
            tags=("account", "signed-in", "posts"),
            description=f"GET / logged in, Followed tab ({ACCOUNT_FOLLOWS} followed)",
        ),
        Scenario(
            "post-comments",
            "quarty",
            "get",
            f"/post/{commented_post}",
            # The comment form and the comments, not only the post.
            expect_texts=("Enter your comment", BENCH_COMMENT),
            tags=("account", "signed-in", "comments"),
            description=f"GET /post/<id> logged in, {POST_COMMENTS} comments",
        ),
        Scenario(
            "moderate",
            "quarty",
            "get",
            "/moderate",
            email=MODERATOR_EMAIL,
            password=ACCOUNT_PASSWORD,
            # The moderator's navbar link, and the comments' buttons.
            expect_texts=("Moderate Comments", "Disable"),
            tags=("account", "signed-in", "comments"),
            description="GET /moderate as a moderator, newest comments",
        ),
        Scenario(
            "write-post",
            "quarty",
            "write",
            "/",
            method="POST",
            expect=302,
            post_body=POST_BODY,
            tags=("account", "signed-in", "posts"),
            description="POST / a new post, logged in",
        ),
        Scenario(
            "login",
            "quarty",
            "login",
            "/auth/login",
            expect=302,
            email=ACCOUNT_EMAIL,
            password=ACCOUNT_PASSWORD,
            max_connections=LOGIN_MAX_CONNECTIONS,
            min_duration=LOGIN_MIN_DURATION,
            flow_unit="logins",
            tags=("account", "argon2"),
            description="GET + POST /auth/login (argon2id)",
        ),
    ]


def flask_comparison_scenarios(*, seeded_users: int) -> list[Scenario]:
    """The three figures the Flask original was measured on, at 50 connections."""
    return [
        HOME,
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
