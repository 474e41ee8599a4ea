#!/usr/bin/env bash
# Mutation testing of the core files with Stryker.NET: a benchmark-style check, not part of CI (about 20-30 min on 2 cores).
# Usage: bench/stryker/run.sh [OUT]   (default OUT: bench/stryker/out)
# core.json lists the files mutated and the tests that cover them (the unit tests of those files, about 15 s of tests, not the slow
# convergence, closed-loop stage and CLI tests, which would make the run take hours); string literals (error messages) are not mutated. Stryker's reports land in
# OUT/reports/ (mutation-report.json, mutation-report.html); summary.py prints the score per file.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$(realpath -m "${1:-$here/out}")"
cd "$here/../../src/Engine.Tests"
dotnet tool restore > /dev/null
rm -rf "$out"
mkdir -p "$out"
dotnet stryker --config-file "$here/core.json" --output "$out" > "$out/stryker.log" 2>&1 || { echo "stryker failed, see $out/stryker.log" >&2; exit 1; }
python3 "$here/summary.py" "$out"
