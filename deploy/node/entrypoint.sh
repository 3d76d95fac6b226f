#!/usr/bin/env bash
# The node image's entrypoint: llama-server, configured by its own LLAMA_ARG_* env (arguments given
# to the container go to it too), and the fleetgate agent beside it, configured by FLEETGATE_* env
# (FLEETGATE_GATEWAY, FLEETGATE_TOKEN, FLEETGATE_NODE_ID, FLEETGATE_REGION, FLEETGATE_PUBLIC_URL...).
# SIGTERM drains: the agent drains the node and deregisters it, then llama-server stops.
set -uo pipefail
export LLAMA_ARG_PORT="${LLAMA_ARG_PORT:-8080}"
export LLAMA_ARG_HOST="${LLAMA_ARG_HOST:-0.0.0.0}"
# The agent reports /slots and /metrics with its heartbeats, so gateways need not probe the node.
export LLAMA_ARG_ENDPOINT_METRICS="${LLAMA_ARG_ENDPOINT_METRICS:-1}"
export LLAMA_ARG_ENDPOINT_SLOTS="${LLAMA_ARG_ENDPOINT_SLOTS:-1}"
llama="${FLEETGATE_LLAMA_SERVER:-/opt/llama/llama-server}"
read -r -a cli <<< "${FLEETGATE_CLI:-node /app/dist/cli.js}"

"$llama" "$@" &
llama_pid=$!
"${cli[@]}" agent --llama "http://127.0.0.1:${LLAMA_ARG_PORT}" &
agent_pid=$!

stop() {
  kill -TERM "$agent_pid" 2>/dev/null
  wait "$agent_pid"
  kill -TERM "$llama_pid" 2>/dev/null
  wait "$llama_pid"
  exit 0
}
trap stop TERM INT

# One of the two ending on its own ends the node, with its status, so the orchestrator restarts it.
wait -n "$llama_pid" "$agent_pid"
status=$?
echo "entrypoint: $( kill -0 "$llama_pid" 2>/dev/null && echo agent || echo llama-server ) exited ($status)" >&2
kill -TERM "$agent_pid" "$llama_pid" 2>/dev/null
wait
exit "$status"
