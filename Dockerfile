# quarty in a container: `docker build -t quarty .` then
#   docker run -p 8000:8000 --stop-timeout 20 -e SECRET_KEY=... -e DATABASE_URL=postgresql+asyncpg://... quarty
# On start it migrates (alembic upgrade head), adds the default roles
# (quart --app quarty deploy) and serves with hypercorn (python -m quarty.serving:
# the uvloop worker, 2 workers, hypercorn.toml's settings) on $PORT.
# --stop-timeout 20: longer than hypercorn's graceful_timeout (15 s), so that
# `docker stop` does not kill the workers while they finish.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    QUARTY_CONFIG=production \
    DATABASE_URL=sqlite+aiosqlite:////app/data/quarty.sqlite \
    PORT=8000

# The dependencies at the exact tested versions (the runtime ones and the postgresql
# extra), in a layer of their own that a change to the code alone does not rebuild.
COPY requirements.txt /tmp/requirements.txt
RUN pip install -r /tmp/requirements.txt && rm /tmp/requirements.txt

# Then the project, without dependencies: the lock above already holds them.
# The wheel carries templates/, static/, alembic/ and hypercorn.toml inside the package.
COPY . /tmp/src
RUN pip install --no-deps /tmp/src && rm -rf /tmp/src

RUN useradd --system --uid 10001 --home-dir /app quarty \
    && mkdir -p /app/data && chown quarty:quarty /app/data
WORKDIR /app
# What `alembic upgrade head` reads from the working directory, and hypercorn's settings.
COPY alembic.ini hypercorn.toml ./
COPY alembic ./alembic

USER quarty
VOLUME ["/app/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$PORT/', timeout=4)"

# A bad config (no SECRET_KEY, say) exits 3 with a one-line reason before it serves.
# exec: python -m quarty.serving becomes PID 1 and gets the SIGTERM of `docker stop`;
# hypercorn's workers finish in-flight requests and flush the outbox (the mail still
# due), then it exits 0.
CMD ["sh", "-c", "alembic upgrade head && quart --app quarty deploy && exec python -m quarty.serving --host 0.0.0.0 --port $PORT"]
