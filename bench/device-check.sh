#!/usr/bin/env bash
# Device check for a machine with a GPU and no .NET: unpack the carried self-contained publish, list the
# accelerators, run the engine's self-test of every kernel on CUDA against the CPU reference, then the train-step
# benchmark on CUDA and on the CPU. The full log goes to OUT/device-check.log, one log per step to OUT/steps/,
# and a short table is printed last (and saved to OUT/summary.txt).
#
# Usage: bench/device-check.sh OUT_DIR [ARCHIVE]
#   ARCHIVE defaults to publish/engine-linux-x64.tar.xz (made by
#   dotnet publish src/Engine.Cli -c Release -r linux-x64 --self-contained -p:InvariantGlobalization=true
#   and tar -cJ, because the unpacked publish is larger than what can be carried).
# Environment: STEP_TIMEOUT (seconds per step, default 240), ENGINE (use this executable instead of unpacking).
set -u -o pipefail

out="${1:?usage: device-check.sh OUT_DIR [ARCHIVE]}"
archive="${2:-publish/engine-linux-x64.tar.xz}"
step_timeout="${STEP_TIMEOUT:-240}"
mkdir -p "$out/steps"
log="$out/device-check.log"
summary="$out/summary.txt"
: >"$log"
rows=()

say() { echo "$*" | tee -a "$log"; }

say "# device check $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(hostname)"
if command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | tee -a "$log"
else
  say "nvidia-smi: not found"
fi
ls -l /usr/lib/x86_64-linux-gnu/libcuda.so* /usr/lib64/libcuda.so* 2>/dev/null | tee -a "$log"

engine="${ENGINE:-}"
if [[ -z "$engine" ]]; then
  work="$(mktemp -d "${TMPDIR:-/tmp}/engine-device-check.XXXXXX")"
  say "unpacking $archive into $work"
  if ! tar -xJf "$archive" -C "$work" >>"$log" 2>&1; then
    say "FATAL: could not unpack $archive"
    exit 2
  fi
  engine="$(find "$work" -type f -name engine -perm -u+x | head -n 1)"
  if [[ -z "$engine" ]]; then
    engine="$(find "$work" -type f -name engine | head -n 1)"
    [[ -n "$engine" ]] && chmod +x "$engine"
  fi
fi
if [[ -z "$engine" || ! -x "$engine" ]]; then
  say "FATAL: no 'engine' executable found"
  exit 2
fi
say "engine: $engine"
export DOTNET_CLI_TELEMETRY_OPTOUT=1

# run NAME ARGS...: runs one step with a timeout, keeps its output, records rc, seconds and the key line.
run() {
  local name="$1"; shift
  local file="$out/steps/$name.log"
  say ""
  say "## $name: engine $*"
  local start end rc
  start=$(date +%s.%N)
  timeout "$step_timeout" "$engine" "$@" >"$file" 2>&1
  rc=$?
  end=$(date +%s.%N)
  cat "$file" >>"$log"
  local secs key
  secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
  key=$(grep -E '^train-step |checks passed|^epoch [0-9]+:|^sigma_ood|^time-to-threshold|search|mean|^wrote .*summary.json' "$file" | tail -n 3 | tr '\n' ' ')
  [[ -z "$key" ]] && key=$(grep -v '^[[:space:]]*$' "$file" | tail -n 1)
  [[ $rc -eq 124 ]] && key="TIMEOUT after ${step_timeout}s; $key"
  say "-> rc $rc in ${secs}s"
  rows+=("$(printf '%-16s %4s %8s  %s' "$name" "$rc" "$secs" "${key:0:100}")")
}

run devices devices
run selftest-cuda selftest --backend cuda
run bench-cuda bench train-step --networks 32 --hidden 128 --batch 64 --steps 100 --backend cuda
run bench-cpu bench train-step --networks 32 --hidden 128 --batch 64 --steps 100 --backend cpu
run train-cuda train --task flipflop --bits 3 --networks 32 --hidden 128 --trials 32 --steps 30 --lr 3e-3 --clip 1 --max-epochs 4000 --backend cuda --quiet --out "$out/train-cuda"
run eval-cuda eval --ood "$out/train-cuda" --backend cuda
run cka-cuda compare "$out/train-cuda" --metric cka --all --backend cuda
run dsa-cuda compare "$out/train-cuda" --metric dsa --all --backend cuda
run tasks-cuda bench time-to-threshold --networks 32 --hidden 128 --backend cuda
run fixedpoints-cuda bench fixed-points --backend cuda --repeats 2
run fixedpoints-cpu bench fixed-points --backend cpu --repeats 2
# closed loop: 64 agents, N=100, T=50, 200 steps on the ILGPU kernels vs the fast CPU path (the README row is 1000 steps)
run closedloop-cuda closed-loop --path cuda --agents 64 --hidden 100 --horizon 50 --steps 200 --record-every 200 --conflict-horizon 0 --out "$out/cl-cuda"
run closedloop-cpu closed-loop --path cpu --agents 64 --hidden 100 --horizon 50 --steps 200 --record-every 200 --conflict-horizon 0 --out "$out/cl-cpu"

{
  echo ""
  echo "## summary (full log: $log)"
  printf '%-16s %4s %8s  %s\n' step rc seconds result
  for r in "${rows[@]}"; do echo "$r"; done
} | tee "$summary" | tee -a "$log"
