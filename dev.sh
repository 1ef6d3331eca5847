#!/usr/bin/env bash
# The project's two commands: `./dev.sh run` serves the app, `./dev.sh test` runs
# every check. Both first install what a fresh Debian machine lacks.
set -euo pipefail
cd "$(dirname "$0")"

VENV=.venv
PY=$VENV/bin/python

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "==> apt-get install ${missing[*]}"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

python_setup() {
  if [ ! -x "$PY" ]; then
    echo "==> creating $VENV"
    python3 -m venv "$VENV"
    "$PY" -m pip install -q --upgrade pip
  fi
  # Reinstall only when the project's dependencies or their lock changed. The lock
  # (requirements-dev.txt) holds the exact tested versions of every dependency,
  # the dev, postgresql and uvicorn extras included; the project goes in on top.
  local stamp=$VENV/.quarty-installed
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ requirements-dev.txt -nt "$stamp" ]; then
    echo "==> pip install -r requirements-dev.txt && pip install --no-deps -e ."
    "$PY" -m pip install -q -r requirements-dev.txt
    "$PY" -m pip install -q --no-deps -e .
    touch "$stamp"
  fi
}

cmd_run() {
  python_setup
  export QUARTY_CONFIG=${QUARTY_CONFIG:-development}
  "$VENV/bin/quart" --app quarty deploy
  # hypercorn with hypercorn.toml's settings (uvloop worker, 2 workers), after a
  # check of the config.
  exec "$VENV/bin/python" -m quarty.serving --host 127.0.0.1 --port 5000
}

postgres_pass_wanted() {
  # CI always runs the PostgreSQL pass; QUARTY_SKIP_POSTGRES=1 skips it locally.
  [ "${CI:-}" = "true" ] || [ "${QUARTY_SKIP_POSTGRES:-0}" = "0" ]
}

cmd_test() {
  apt_install chromium wrk
  if postgres_pass_wanted; then apt_install postgresql; fi
  python_setup
  echo "==> ruff"
  "$VENV/bin/ruff" check .
  "$VENV/bin/ruff" format --check .
  echo "==> mypy"
  "$VENV/bin/mypy"
  echo "==> pytest (SQLite)"
  "$VENV/bin/pytest" "$@"
  if postgres_pass_wanted; then
    # The whole suite again, on a throwaway server that tests/pg.py starts and deletes.
    echo "==> pytest (PostgreSQL)"
    "$PY" tests/pg.py "$VENV/bin/pytest" "$@"
  else
    echo "==> pytest (PostgreSQL) skipped: QUARTY_SKIP_POSTGRES is set"
  fi
}

case "${1:-}" in
  run) shift; cmd_run "$@" ;;
  test) shift; cmd_test "$@" ;;
  *) echo "usage: ./dev.sh run | ./dev.sh test [pytest args]" >&2; exit 2 ;;
esac
