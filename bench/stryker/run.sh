#!/usr/bin/env bash
# Mutation testing of the core files with Stryker.NET: a benchmark-style check, not part of CI.
# Usage: bench/stryker/run.sh [OUT [GROUP...]]   (default OUT: bench/stryker/out; default: every group of groups.tsv)
# Each group mutates its files and runs only the unit tests that cover them (groups.tsv), one Stryker run per group:
# Stryker compiles mutants into the whole assembly and, with every core file in one run, its per-test coverage pass
# alone took over 17 minutes here. String literals (error messages) are not mutated.
# The fixed-point group runs FixedPointAnalysisTests alone: its search is scripted. Tests that run real searches
# (FixedPointScienceTests, 5 s) go through instrumented search loops: their coverage pass ran over 10 minutes, and
# without coverage analysis each mutant took 15-20 s (about 45 minutes for the file's 297 mutants).
# DSA's alignment (DsaAlignment, DsaBatch) is a group of its own: with its SIMD loops mutated every DSA test runs several
# times slower, and one run over all DSA files took an hour here.
# Reports: OUT/GROUP/reports/mutation-report.{json,html}; summary.py prints the score per file.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$(realpath -m "${1:-$here/out}")"
shift || true
want=("$@")
cd "$here/../../src/Engine.Tests"
dotnet tool restore > /dev/null
while IFS=$'\t' read -r group files filter; do
    [[ -z "$group" || "$group" == \#* ]] && continue
    if (( ${#want[@]} > 0 )) && [[ " ${want[*]} " != *" $group "* ]]; then continue; fi
    dir="$out/$group"
    rm -rf "$dir"
    mkdir -p "$dir"
    mutate=$(printf '"%s",' ${files//,/ })
    cat > "$dir/stryker-config.json" <<JSON
{
  "stryker-config": {
    "project": "Engine.Managed.csproj",
    "mutate": [${mutate%,}],
    "coverage-analysis": "perTest",
    "reporters": ["json", "html", "cleartext"],
    "test-case-filter": "$filter",
    "ignore-mutations": ["string"],
    "configuration": "Release",
    "concurrency": 2
  }
}
JSON
    start=$(date +%s)
    if dotnet stryker --config-file "$dir/stryker-config.json" --output "$dir" > "$dir/stryker.log" 2>&1; then
        echo "$group: $(( $(date +%s) - start )) s" >&2
    else
        echo "$group: stryker failed, see $dir/stryker.log" >&2
    fi
done < "$here/groups.tsv"
python3 "$here/summary.py" "$out"
