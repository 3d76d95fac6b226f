#!/bin/sh
# Builds llama-server from the llama.cpp source node-llama-cpp bundles (`fleetgate llama build`) and
# installs it, with its shared libraries, into OUT_DIR. The node image runs this; so do the tests.
# Usage: build-llama.sh cpu|cuda OUT_DIR   (FLEETGATE_CLI: how to run fleetgate; default the image's)
set -eu
backend="${1:-}"
out="${2:-}"
cli="${FLEETGATE_CLI:-node /app/dist/cli.js}"
case "$backend" in
  cpu) flag=--cpu ;;
  cuda) flag=--cuda ;;
  *) echo "build-llama.sh: the backend must be cpu or cuda, got '$backend'" >&2; exit 2 ;;
esac
if [ -z "$out" ]; then echo "build-llama.sh: give the output directory" >&2; exit 2; fi
# The bin prints the binary's path on stdout; progress goes to stderr.
binary="$($cli llama build "$flag")"
mkdir -p "$out"
cp "$binary" "$out/llama-server"
# llama.cpp builds libllama and libggml* as shared libraries by default: they go beside the binary.
find "$(dirname "$binary")/.." -name '*.so*' \( -type f -o -type l \) -exec cp -P {} "$out/" \;
LD_LIBRARY_PATH="$out" "$out/llama-server" --version
