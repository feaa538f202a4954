#!/bin/bash
# Instructions the matching engine executes per command on the LOBSTER day, counted by
# callgrind inside Engine::SubmitUnproved only (the replay's parsing and book comparison are
# not counted). Unlike timings on this noisy VM, the count is the same on every run of the same
# binary, so two builds compare exactly (a change of 1% shows). It does not see cache misses or
# stalls: confirm a gain with `pom-bench replay` timings, alternating builds.
#
#   bench/count_instructions.sh [path/to/pom-bench]    (default: build/bin/pom-bench)
#
# Needs valgrind (apt: valgrind). Takes ~40 s (callgrind runs ~50x slower than native).
set -euo pipefail
cd "$(dirname "$0")/.."
bench=${1:-build/bin/pom-bench}
data=${POM_SHARED_DIR:-../shared}/data/lobster/GOOG_2012-06-21_34200000_57600000
command -v valgrind >/dev/null || { echo "count_instructions.sh: needs valgrind (apt install valgrind)" >&2; exit 1; }
out=$(mktemp)
log=$(mktemp)
trap 'rm -f "$out" "$log"' EXIT
valgrind --tool=callgrind --callgrind-out-file="$out" \
  --toggle-collect='pom::matcher::Engine::SubmitUnproved*' \
  "$bench" replay --lobster-messages "${data}_message_10.csv.gz" \
  --lobster-book "${data}_orderbook_10.csv.gz" --levels 10 >"$log" 2>&1 ||
  { echo "count_instructions.sh: the replay failed:" >&2; tail -20 "$log" >&2; exit 1; }
# Every command goes through Engine::Admit once: its call count is the number of commands.
callgrind_annotate --tree=calling "$out" 2>/dev/null | /usr/bin/python3 -c '
import re, sys
total, commands, per = 0, 0, {}
for line in sys.stdin:
    m = re.match(r"\s*([0-9,]+) ", line)
    if not m:
        continue
    n = int(m.group(1).replace(",", ""))
    calls = re.search(r"\(([0-9,]+)x\)", line)
    calls = int(calls.group(1).replace(",", "")) if calls else 0
    if "PROGRAM TOTALS" in line:
        total = n
    elif ">   " in line and "Engine::Admit(" in line and commands == 0:
        commands = calls
    elif ">   " in line and calls:
        rule = re.search(r"(PlaceOrderRules|DoCancel|DoAmend)<", line)
        if rule:
            per[rule.group(1)] = (n / calls, calls)
if commands == 0:
    sys.exit("count_instructions.sh: no commands counted")
print(f"instructions={total} commands={commands} per_command={total / commands:.1f}")
for rule, (each, calls) in sorted(per.items()):
    print(f"{rule}: {each:.0f} instructions per call ({calls} calls)")
'
