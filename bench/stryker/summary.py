#!/usr/bin/env python3
"""Mutation score per file from Stryker.NET's mutation-report.json files under a folder.

Usage: summary.py OUT_DIR [--survivors]
Score = (killed + timeout) / (killed + timeout + survived + no coverage); compile errors and ignored mutants do not count.
"""
import json
import pathlib
import sys

root = pathlib.Path(sys.argv[1])
show = "--survivors" in sys.argv
rows = []
for report in sorted(root.glob("**/reports/mutation-report.json")):
    data = json.loads(report.read_text())
    for path, f in sorted(data["files"].items()):
        counts = {}
        for m in f["mutants"]:
            counts[m["status"]] = counts.get(m["status"], 0) + 1
        detected = counts.get("Killed", 0) + counts.get("Timeout", 0)
        valid = detected + counts.get("Survived", 0) + counts.get("NoCoverage", 0)
        if valid == 0:
            continue
        rows.append((path.split("Engine.Managed/")[-1], detected, counts.get("Survived", 0), counts.get("NoCoverage", 0), valid))
        if show:
            lines = f["source"].splitlines()
            for m in f["mutants"]:
                if m["status"] in ("Survived", "NoCoverage"):
                    line = m["location"]["start"]["line"]
                    print(f"{path.split('Engine.Managed/')[-1]}:{line} [{m['status']}] {m['mutatorName']}: {m.get('replacement', '')!r}  | {lines[line - 1].strip()}")
print(f"{'file':45} {'killed':>7} {'survived':>9} {'no cov':>7} {'score':>7}")
tk = tv = 0
for name, det, sur, nc, valid in rows:
    tk += det
    tv += valid
    print(f"{name:45} {det:7} {sur:9} {nc:7} {100 * det / valid:6.1f}%")
if tv:
    print(f"{'all':45} {tk:7} {'':9} {'':7} {100 * tk / tv:6.1f}%")
