#!/usr/bin/env bash
# One command from a fresh machine to a judged example: installs the system
# packages, fetches the real example clips (Debian packages), builds
# leoma-gpu in release mode and evaluates the example task.
#   scripts/run-example.sh [--format json|table] [...more evaluate options]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
task=$(bash scripts/fetch-examples.sh | tail -n 1)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/leoma-gpu/target}
cargo build --release --quiet
[ $# -gt 0 ] || set -- --format table
exec "$CARGO_TARGET_DIR/release/leoma-gpu" evaluate "$task" "$@"
