#!/usr/bin/env bash
# The sidecard walk-through: one control plane, two sidecars (host-a and
# host-b), and two tiny A2A agents, alice next to host-a and bob next to
# host-b, that register themselves through their own sidecar and call each
# other by name through it. See README.md for what each step shows.
#
# Needs Go only. Everything listens on 127.0.0.1; data and logs go to a
# temporary directory that is removed on exit, with every process this
# script started. Every wait is bounded; the whole run takes about 30 s
# after the build.
#
# Ports can be changed through the environment: CP_XDS_PORT, CP_HTTP_PORT,
# SIDECAR_A_PORT, SIDECAR_B_PORT, ALICE_PORT, BOB_PORT.
set -euo pipefail

cd "$(dirname "$0")/../.."   # the repository root

CP_XDS_PORT=${CP_XDS_PORT:-18100}
CP_HTTP_PORT=${CP_HTTP_PORT:-18180}
SIDECAR_A_PORT=${SIDECAR_A_PORT:-17101}
SIDECAR_B_PORT=${SIDECAR_B_PORT:-17102}
ALICE_PORT=${ALICE_PORT:-9101}
BOB_PORT=${BOB_PORT:-9102}
CP_HTTP=127.0.0.1:$CP_HTTP_PORT
SIDECAR_A=127.0.0.1:$SIDECAR_A_PORT
SIDECAR_B=127.0.0.1:$SIDECAR_B_PORT

work=$(mktemp -d "${TMPDIR:-/tmp}/sidecard-walkthrough.XXXXXX")
pids=()   # every process started, in start order
names=()  # their names, in the same order

# cleanup stops what was started, one after the other (the agents first,
# then the sidecars, which deregister their agents, the control plane
# last), at most 10 s in all before it kills what is left; it shows the
# logs when the run failed and removes the temporary directory.
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  local i pid end=$((SECONDS + 10))
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    pid=${pids[i]}
    kill -TERM "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < end)); do sleep 0.1; done
    { kill -KILL "$pid" && wait "$pid"; } 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if ((status != 0)); then
    echo >&2
    echo "The walk-through failed (exit $status). The last lines of each log:" >&2
    for log in "$work"/*.log; do
      [[ -e $log ]] || continue
      echo "--- $(basename "$log")" >&2
      tail -n 15 "$log" >&2
    done
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# step prints a step's title.
step() { printf '\n==> %s\n' "$*"; }

# start NAME COMMAND...: runs COMMAND in the background, output to NAME.log.
start() {
  local name=$1
  shift
  "$@" >"$work/$name.log" 2>&1 &
  pids+=("$!")
  names+=("$name")
}

# pid_of NAME prints the pid of the process started as NAME.
pid_of() {
  local i
  for ((i = 0; i < ${#names[@]}; i++)); do
    if [[ ${names[i]} == "$1" ]]; then
      echo "${pids[i]}"
      return
    fi
  done
  return 1
}

# wait_until LIMIT WHAT COMMAND...: runs COMMAND every 0.2 s until it
# succeeds; fails after LIMIT seconds.
wait_until() {
  local limit=$1 what=$2
  shift 2
  local end=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= end)); then
      echo "timed out after ${limit}s waiting for $what" >&2
      return 1
    fi
    sleep 0.2
  done
}

# port_free PORT fails when something listens on 127.0.0.1:PORT.
port_free() {
  if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
    echo "port $1 is in use; set the *_PORT variables to free ports (see the top of $0)" >&2
    return 1
  fi
}

for port in "$CP_XDS_PORT" "$CP_HTTP_PORT" "$SIDECAR_A_PORT" "$SIDECAR_B_PORT" "$ALICE_PORT" "$BOB_PORT"; do
  port_free "$port"
done

step "1. Build sidecard and the walk-through agent"
go build -o "$work/bin/" ./cmd/sidecard ./examples/walkthrough/agent
sidecard=$work/bin/sidecard
echo "built into $work/bin"

step "2. Start the control plane (xDS on :$CP_XDS_PORT, HTTP API on :$CP_HTTP_PORT; writes need a token)"
# One token per sidecar, named after its node: the control plane records
# the name as registered_by of the entries the sidecar registers.
cat >"$work/tokens" <<TOKENS
walkthrough-host-a-token-0123456789 host-a
walkthrough-host-b-token-0123456789 host-b
TOKENS
start controlplane "$sidecard" controlplane --data "$work/controlplane" --tokens-file "$work/tokens" \
  --xds-addr "127.0.0.1:$CP_XDS_PORT" --http-addr "$CP_HTTP" --log-level warn
wait_until 30 "the control plane" "$sidecard" status --sidecars --controlplane "$CP_HTTP"
echo "control plane ready"

step "3. Start two sidecars: host-a on :$SIDECAR_A_PORT, host-b on :$SIDECAR_B_PORT"
for host in a b; do
  case $host in a) port=$SIDECAR_A_PORT ;; b) port=$SIDECAR_B_PORT ;; esac
  echo "walkthrough-host-$host-token-0123456789" >"$work/host-$host.token"
  cat >"$work/host-$host.yaml" <<YAML
node: {id: host-$host}
controlplane:
  addresses: ["127.0.0.1:$CP_XDS_PORT"]
  http_addresses: ["$CP_HTTP"]
  token_file: host-$host.token
addr: 127.0.0.1:$port
data_dir: host-$host-data
log_level: warn
log_format: text
register:
  ttl: 10s              # the lease of an agent registered through this sidecar, renewed every 10s/3
  health_interval: 1s   # GET the agent's card every second...
  failure_threshold: 3  # ...and deregister it after 3 failures in a row
YAML
  start "sidecar-$host" "$sidecard" sidecar --config "$work/host-$host.yaml"
done
connected() { "$sidecard" status --addr "$1" -o json | grep -q '"connected": true'; }
wait_until 30 "sidecar host-a to connect" connected "$SIDECAR_A"
wait_until 30 "sidecar host-b to connect" connected "$SIDECAR_B"
"$sidecard" status --sidecars --controlplane "$CP_HTTP"

step "4. Start alice (next to host-a) and bob (next to host-b); each registers through its own sidecar and greets the other by name"
start alice "$work/bin/agent" -name alice -port "$ALICE_PORT" -sidecar "$SIDECAR_A" -peer bob -wait 30s
start bob "$work/bin/agent" -name bob -port "$BOB_PORT" -sidecar "$SIDECAR_B" -peer alice -wait 30s
wait_until 45 "alice to finish talking" grep -q "done talking" "$work/alice.log"
wait_until 45 "bob to finish talking" grep -q "done talking" "$work/bob.log"
cat "$work/alice.log" "$work/bob.log"

step "5. alice registered through host-a; host-b found her in its own replica"
"$sidecard" get alice --addr "$SIDECAR_B"
echo
echo "host-a keeps alice's lease alive while her card answers (GET $SIDECAR_A/v1/status, registrations):"
"$sidecard" status --addr "$SIDECAR_A" -o json | sed -n '/"registrations"/,/\]/p'

step "6. alice crashes (kill -9): host-a's health check fails 3 times, deregisters her, and every sidecar drops her"
alice=$(pid_of alice)
{ kill -KILL "$alice" && wait "$alice"; } 2>/dev/null || true
killed_at=$SECONDS
gone() { ! "$sidecard" get "$1" --addr "$2"; }
wait_until 30 "alice to disappear from host-b" gone alice "$SIDECAR_B"
echo "alice is gone from host-b $((SECONDS - killed_at))s after she died (health interval 1s x 3 failures + propagation)"
"$sidecard" get alice --addr "$SIDECAR_B" 2>&1 | sed 's/^/  sidecard get alice: /' || true

step "7. host-b shuts down cleanly: it deregisters bob on its way out"
kill -TERM "$(pid_of sidecar-b)"
wait_until 15 "bob to disappear from host-a" gone bob "$SIDECAR_A"
echo "bob is gone from host-a: host-b deregistered him when it stopped"

step "Done: stopping everything and removing $work"
