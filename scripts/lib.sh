# Shared by scripts/run and scripts/test: idempotent set-up and step timing.
# Installs only what is missing: the wasm target and the end2end npm
# packages (binaryen's wasm-opt; Playwright) for building, and for the tests
# Debian's Chromium and a PostgreSQL server on 127.0.0.1:5432. No separate
# tool is compiled: `cargo xtask` drives wasm-bindgen as a library.

set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

STEP_SUMMARY=()
step() {
  local name="$1"; shift
  echo "==> $name" >&2
  local start=$SECONDS
  "$@"
  local took=$((SECONDS - start))
  STEP_SUMMARY+=("$(printf '%6ss  %s' "$took" "$name")")
  echo "<== $name (${took}s)" >&2
}
print_step_summary() {
  echo "---- step timings ----" >&2
  local line
  for line in "${STEP_SUMMARY[@]}"; do echo "$line" >&2; done
}

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

install_wasm_target() {
  rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
}

install_chromium() {
  if [ -x /usr/bin/chromium ]; then return; fi
  as_root apt-get update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
}

install_npm_packages() {
  # npm ci only when node_modules is missing or older than the lock file.
  if [ -f end2end/node_modules/.package-lock.json ] &&
     [ end2end/node_modules/.package-lock.json -nt end2end/package-lock.json ]; then return; fi
  (cd end2end && npm ci --no-audit --no-fund)
}

# The tests' PostgreSQL: a server on 127.0.0.1:5432 where user postgres
# connects without a password and database `test` exists. Skipped when
# HOOKRELAY_TEST_POSTGRES names another server. Installs Debian's
# postgresql only when no server is there; trusts 127.0.0.1 only on a
# cluster this script created.
ensure_postgres() {
  if [ -n "${HOOKRELAY_TEST_POSTGRES:-}" ]; then return; fi
  if ! command -v pg_isready >/dev/null || ! pg_isready -q -h 127.0.0.1 -p 5432; then
    start_postgres
  fi
  ensure_test_database
}

# Remembers that this script installed PostgreSQL (so it may set its auth),
# written before the install so an interrupted run still finishes the job.
PG_INSTALLED_HERE=/var/lib/hookrelay-installed-postgresql

start_postgres() {
  if ! command -v pg_ctlcluster >/dev/null || ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    as_root touch "$PG_INSTALLED_HERE"
    as_root apt-get update
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql
  fi
  local version hba marker="# added by hookrelay scripts/lib.sh"
  version="$(ls /etc/postgresql | sort -V | tail -n 1)"
  hba="/etc/postgresql/$version/main/pg_hba.conf"
  # A cluster someone else set up keeps its own authentication.
  if [ -f "$PG_INSTALLED_HERE" ] && ! as_root grep -qF "$marker" "$hba"; then
    as_root sed -i "1i host all postgres 127.0.0.1/32 trust  $marker" "$hba"
  fi
  as_root pg_ctlcluster "$version" main start || as_root pg_ctlcluster "$version" main reload
  local deadline=$((SECONDS + 60))
  until pg_isready -q -h 127.0.0.1 -p 5432; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "PostgreSQL did not start on 127.0.0.1:5432 within 60 s" >&2
      return 1
    fi
    sleep 0.5
  done
}

ensure_test_database() {
  local psql=(env PGCONNECT_TIMEOUT=5 psql -w -h 127.0.0.1 -U postgres -d postgres -Atc)
  local found
  if ! found="$("${psql[@]}" "SELECT 1 FROM pg_database WHERE datname = 'test'")"; then
    echo "Cannot connect to PostgreSQL on 127.0.0.1:5432 as user postgres without a password." >&2
    echo "Set HOOKRELAY_TEST_POSTGRES to an admin URL (postgres://user:password@host:port/db) and run again." >&2
    return 1
  fi
  if [ "$found" != 1 ]; then "${psql[@]}" "CREATE DATABASE test"; fi
}

# What building needs: the wasm target, and npm's binaryen for wasm-opt
# (Debian's breaks hydration; `cargo xtask` finds it in end2end/node_modules).
setup_build() {
  step "setup: wasm32 target" install_wasm_target
  step "setup: end2end npm packages" install_npm_packages
  export PATH="$ROOT/end2end/node_modules/.bin:$HOME/.cargo/bin:$PATH"
}

# What testing needs on top: Chromium for Playwright.
setup_test() {
  setup_build
  step "setup: chromium" install_chromium
}

# The release binary with the dashboard inside it (target/release/hookrelay).
# The server and its dependencies compile beside the dashboard (cargo locks
# each profile's build directory apart, and each build's single-threaded
# stretches leave a core to the other); then `cargo xtask binary` packs the
# finished site onto the end of the executable (no second compile). The
# environment is the one `cargo xtask` gives its own builds, so the
# artifacts are shared.
build_release() {
  echo "building the release server and the dashboard side by side (their logs follow when both end)" >&2
  in_parallel \
    "server (release)" -- env -u RUSTFLAGS -u CARGO_ENCODED_RUSTFLAGS LEPTOS_OUTPUT_NAME=hookrelay \
      cargo build --release --locked -p server --bin hookrelay ++ \
    "dashboard (release)" -- cargo xtask site --release
  cargo xtask binary
}

# Runs the named commands at the same time, each one's output into its own
# log, printed (in the order given) once all have ended; fails if any failed.
# Usage: in_parallel NAME -- CMD ARGS… ++ NAME -- CMD ARGS…
# Used where the work mostly waits (servers, receivers, a browser), so two
# cores carry both.
in_parallel() {
  local dir names=() pids=() failed=0 i=0
  dir="$(mktemp -d)"
  # Background jobs of a script ignore Ctrl-C: stop them ourselves.
  trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$dir"; trap - INT TERM; exit 130' INT TERM
  while [ "$#" -gt 0 ]; do
    local name="$1"; shift
    [ "${1:-}" = "--" ] && shift
    local cmd=()
    while [ "$#" -gt 0 ] && [ "$1" != "++" ]; do cmd+=("$1"); shift; done
    [ "${1:-}" = "++" ] && shift
    names+=("$name")
    "${cmd[@]}" >"$dir/$i.log" 2>&1 &
    pids+=("$!")
    i=$((i + 1))
  done
  for i in "${!pids[@]}"; do
    local status=0
    wait "${pids[$i]}" || status=$?
    echo "---- ${names[$i]} (exit $status) ----" >&2
    cat "$dir/$i.log" >&2
    [ "$status" = 0 ] || failed=1
  done
  trap - INT TERM
  rm -rf "$dir"
  return "$failed"
}

# The test executables `cargo test --no-run` built, one per line:
# "<target name> <executable> <package directory>". Running them directly
# (in their package directory, as cargo does) lets two runs go side by side:
# cargo holds its artifact-directory lock while it runs tests.
test_executables() {
  "$@" --no-run --message-format=json-render-diagnostics | python3 -c '
import json, os, sys
for line in sys.stdin:
    if not line.startswith("{"):
        continue
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("profile", {}).get("test") and m.get("executable"):
        print(m["target"]["name"], m["executable"], os.path.dirname(m["manifest_path"]))
'
}

# Runs each listed test executable in its package directory; extra
# arguments go to every one. Fails at the end if any failed.
run_test_executables() {
  local list="$1"; shift
  local name exe dir failed=0
  while read -r name exe dir; do
    echo "     Running $name ($exe)"
    (cd "$dir" && "$exe" "$@") || failed=1
  done <"$list"
  return "$failed"
}
