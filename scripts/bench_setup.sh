#!/usr/bin/env bash
# Fresh set-up benchmark (issue: "a fast fresh set-up"; not a test, timings depend on the machine).
# Clones this repository into a temporary folder, runs the README's `make book` there with empty
# package caches (pip and uv), then a forced render-only rebuild, and prints both times and their
# ratio. Goal: fresh `make book` <= 3 x the render-only rebuild.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
git clone -q "$here" "$work/repo"
ln -s "$here/../shared" "$work/shared" 2>/dev/null || true
cd "$work/repo"
export PIP_NO_CACHE_DIR=1 UV_CACHE_DIR="$work/uv-cache" UV_NO_CACHE=1
t0=$(date +%s.%N)
make book >"$work/fresh.log" 2>&1 || { tail -20 "$work/fresh.log"; exit 1; }
t1=$(date +%s.%N)
.venv/bin/vertint book --render-only --force >"$work/render.log" 2>&1 || { tail -20 "$work/render.log"; exit 1; }
t2=$(date +%s.%N)
python3 - "$t0" "$t1" "$t2" <<'EOF'
import sys
t0, t1, t2 = map(float, sys.argv[1:])
fresh, render = t1 - t0, t2 - t1
print(f"fresh clone make book: {fresh:.1f} s; forced render-only rebuild: {render:.1f} s; ratio {fresh / render:.2f} (goal <= 3)")
EOF
