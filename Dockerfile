# quarty in a container: `docker build -t quarty .` then
#   docker run -p 8000:8000 -e SECRET_KEY=... -e DATABASE_URL=postgresql+asyncpg://... quarty
# On start it migrates (alembic upgrade head), adds the default roles
# (quart --app quarty deploy) and serves with uvicorn (python -m quarty.serve) on $PORT.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    QUARTY_CONFIG=production \
    DATABASE_URL=sqlite+aiosqlite:////app/data/quarty.sqlite \
    PORT=8000

# The wheel carries templates/, static/ and alembic/ inside the package.
COPY . /tmp/src
RUN pip install /tmp/src && rm -rf /tmp/src

RUN useradd --system --uid 10001 --home-dir /app quarty \
    && mkdir -p /app/data && chown quarty:quarty /app/data
WORKDIR /app
# What `alembic upgrade head` (and hypercorn, the other server) read from the working directory.
COPY alembic.ini hypercorn.toml ./
COPY alembic ./alembic

USER quarty
VOLUME ["/app/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$PORT/', timeout=4)"

# exec: python -m quarty.serve becomes PID 1 and gets the SIGTERM of `docker stop`;
# its workers finish in-flight requests and send the mail still due, then it exits 0.
CMD ["sh", "-c", "alembic upgrade head && quart --app quarty deploy && exec python -m quarty.serve --host 0.0.0.0 --port $PORT"]
