#!/usr/bin/env bash
# The GPU check, for a machine with an NVIDIA GPU (a lent one has the driver and its Vulkan ICD but
# often no Vulkan loader). One script, under 8 minutes given a release binary and a Python with
# PyTorch:
#   1. the Vulkan loader: unpacked from .deb files carried in GL_DEBS (default .gl) when
#      `libvulkan.so.1` is missing, and the NVIDIA ICD named when none is registered;
#   2. the adapter wgpu picks;
#   3. RM-bench on wgpu against PyTorch on CUDA (bench/compare.sh, one round);
#   4. `bench strength` and `bench ppo` (factorised and transformer) on wgpu against this
#      machine's CPU path;
#   5. a short train-rm and a short ppo run on wgpu and on the CPU, whose results must agree:
#      validation accuracy within 0.02 and validation loss within 0.05 (train-rm), gold within 0.05
#      (factorised PPO; both draw the same actions from the same probabilities up to rounding).
# Usage:
#   RLHF_LAB_BIN=target/release/rlhf-lab PYTHON=python3 bash scripts/gpu-check.sh [--dry-run]
# --dry-run prints what it would carry and run, and runs nothing. GPU_CHECK_STEPS picks parts
# (default "adapter rmbench bench agreement"; the loader step always runs), e.g. to rehearse the
# agreement on lavapipe: GPU_CHECK_STEPS=agreement. To carry the loader to a machine
# without one, here, in the repository root (GL_DEBS is git-ignored by .git/info/exclude):
#   echo /.gl/ >> .git/info/exclude; mkdir -p .gl /tmp/amd64/partial
#   o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
#   apt-get $o update; (cd .gl && apt-get $o download libvulkan1 libegl1 libglvnd0)
set -euo pipefail
cd "$(dirname "$0")/.."
DRY=0
if [ "${1:-}" = "--dry-run" ]; then DRY=1; fi
BIN="${RLHF_LAB_BIN:-target/release/rlhf-lab}"
PY="${PYTHON:-python3}"
GL="${GL_DEBS:-.gl}"
OUT="${GPU_CHECK_OUT:-$(mktemp -d)}"
mkdir -p "$OUT"
STEPS=" ${GPU_CHECK_STEPS:-adapter rmbench bench agreement} "
want() { [[ "$STEPS" == *" $1 "* ]]; }
say() { echo "gpu-check: $*" >&2; }
run() {
  echo "+ $*" >&2
  if [ "$DRY" = 0 ]; then "$@"; fi
}

# 0. What runs here.
if command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
else
  say "no nvidia-smi: PyTorch's CUDA run will fail without an NVIDIA GPU"
fi
if [ ! -x "$BIN" ]; then
  say "no release binary at $BIN: building one (minutes)"
  run cargo build --release --locked --bin rlhf-lab
fi

# 1. The Vulkan loader and the NVIDIA ICD.
# (grep without -q reads all of ldconfig's output: with -q, ldconfig could die of SIGPIPE and,
# under pipefail, the loader would look missing.)
LDCONFIG=$(command -v ldconfig || echo /sbin/ldconfig)
if "$LDCONFIG" -p 2>/dev/null | grep 'libvulkan.so.1' >/dev/null; then
  say "Vulkan loader: present"
else
  debs=$(ls "$GL"/*.deb 2>/dev/null || true)
  if [ -n "$debs" ]; then
    say "Vulkan loader missing: unpacking $(echo "$debs" | wc -l) package(s) from $GL"
    for f in $debs; do run dpkg -x "$f" /; done
    run "$LDCONFIG"
  else
    say "Vulkan loader missing and no $GL/*.deb to unpack: see this script's header"
    if [ "$DRY" = 0 ]; then exit 1; fi
  fi
fi
ICD=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ] && [ -f "$ICD" ] \
  && ! compgen -G '/usr/share/vulkan/icd.d/nvidia*' >/dev/null \
  && ! compgen -G '/etc/vulkan/icd.d/nvidia*' >/dev/null; then
  say "naming the NVIDIA ICD: VK_DRIVER_FILES=$ICD (and VK_ICD_FILENAMES, for older loaders)"
  export VK_DRIVER_FILES="$ICD" VK_ICD_FILENAMES="$ICD"
fi

# 2. The adapter wgpu picks.
echo "== adapter"
if ! want adapter; then
  :
elif [ "$DRY" = 0 ]; then
  "$BIN" bench rm --backend gpu --steps 1 | "$PY" -c \
    'import json,sys; d=json.load(sys.stdin); print(d["backend"], "|", d["adapter"])' \
    || say "no adapter line (see the error above); going on"
else
  run "$BIN" bench rm --backend gpu --steps 1
fi

# 3. RM-bench: wgpu against PyTorch on CUDA.
echo "== RM-bench, wgpu vs PyTorch CUDA"
# Each part may fail (no PyTorch, no CUDA, a timeout) without taking the later parts with it.
if want rmbench; then
  run env RLHF_LAB_BIN="$BIN" PYTHON="$PY" timeout 200 bash bench/compare.sh 1 --backend gpu \
    || say "RM-bench failed (exit $?); going on"
fi

# 4. Benchmarks on wgpu against the CPU path.
echo "== bench strength and ppo, wgpu vs cpu"
for b in gpu cpu; do
  want bench || break
  run sh -c "\"$BIN\" bench strength --backend $b > \"$OUT/strength-$b.json\"" \
    || say "bench strength on $b failed; going on"
  run sh -c "\"$BIN\" bench ppo --backend $b --policy factorised > \"$OUT/ppo-f-$b.json\"" \
    || say "bench ppo (factorised) on $b failed; going on"
  run sh -c "\"$BIN\" bench ppo --backend $b --policy transformer > \"$OUT/ppo-t-$b.json\"" \
    || say "bench ppo (transformer) on $b failed; going on"
done

# 5. Short runs that must agree across the two paths.
echo "== agreement, wgpu vs cpu"
# Dropout off: the two devices draw different dropout masks, so only a model without dropout
# can agree to a tolerance (the rehearsal on lavapipe with dropout on: accuracy 0.51 vs 0.61).
cat > "$OUT/rm-config.json" <<'JSON'
{"model": {"d_model": 32, "layers": 1, "heads": 2, "ffn": 64, "max_len": 24, "dropout": 0.0},
 "batch_size": 16, "eval_every": 10}
JSON
for b in gpu cpu; do
  want agreement || break
  run "$BIN" train-rm --config "$OUT/rm-config.json" --data synthetic --pairs 400 --epochs 2 \
    --backend "$b" --seed 1 --out "$OUT/rm-$b"
  run "$BIN" ppo --world synthetic --policy factorised --steps 20 --backend "$b" --seed 1 \
    --out "$OUT/ppo-$b"
done
if [ "$DRY" = 1 ]; then
  say "dry run: nothing was run; results would be in $OUT"
  exit 0
fi
"$PY" - "$OUT" <<'PY'
import json, sys
out = sys.argv[1]
load = lambda p: json.load(open(f"{out}/{p}"))
import os
for name in ("strength", "ppo-f", "ppo-t"):
    if not all(os.path.getsize(f"{out}/{name}-{b}.json") > 0 if os.path.exists(f"{out}/{name}-{b}.json")
               else False for b in ("gpu", "cpu")):
        continue
    g, c = load(f"{name}-gpu.json"), load(f"{name}-cpu.json")
    keys = [k for k in ("wall_s", "seconds_per_step", "rollout_seconds_per_step",
                        "update_seconds_per_step", "ensemble_s", "bands_s") if k in g and k in c]
    print(name, " ".join(f"{k}: wgpu {g[k]:.3g} / cpu {c[k]:.3g} ({c[k] / g[k]:.2f}x)"
                          for k in keys), "|", g.get("adapter"))
failures = []
if not os.path.exists(f"{out}/rm-gpu/report.json"):
    sys.exit(0)
checks = (("train-rm", "rm", (("validation_accuracy", 0.02), ("validation_loss", 0.05))),
          ("ppo", "ppo", (("gold_final", 0.05), ("gold_peak", 0.05))))
for label, run, keys in checks:
    g, c = load(f"{run}-gpu/report.json"), load(f"{run}-cpu/report.json")
    for key, tol in keys:
        a, b = g.get(key), c.get(key)
        ok = a is not None and b is not None and abs(a - b) <= tol
        print(f"{label} {key}: wgpu {a} cpu {b} (tolerance {tol}) {'ok' if ok else 'DIFFERS'}")
        failures += [] if ok else [f"{label} {key}"]
sys.exit(1 if failures else 0)
PY
