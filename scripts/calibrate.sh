#!/usr/bin/env bash
# Calibration tier (not in CI): the paper's phenomena at small scale over 5 seeds (world seed and
# run seed), each asserted on the mean with a margin of two standard errors — PS-1…PS-4, LB-1…LB-5,
# HH-1, HH-3, CL-2, OO-1…OO-3, MR-2 — plus the HH-4, OO-4/OO-5, PPO-preset and MR-3…MR-5
# reports. Every check prints a row
#   | name | mean ± 2 SE | seed:value … |
# A check that does not hold fails its test after printing every row; nothing is tuned until it
# passes. Run it alone on the machine, after `bash scripts/test.sh` has installed the tools.
#
#   bash scripts/calibrate.sh [--only GROUP[,GROUP…]] [--out DIR]
#
# Groups, run in this order (the README gives each one's time on a 2-core machine):
#   ps  preference strength (PS-1…PS-4)         lb  flip, smoothing, margin (LB-1…LB-5)
#   hh  the HH-RLHF text (HH-1, HH-3, HH-4)      cl  contrastive reward models (CL-2)
#   oo  over-optimisation (OO-1…OO-5)           pm  PPO-max against vanilla PPO, the presets
#   mr  MetaRM and iterative rounds (MR-2…MR-5)
# (`selftest` is a one-second stand-in the fast tier runs to test this script.)
#
# After each group its rows go to DIR/table-GROUP.md (default runs/calibration), its wall time to
# DIR/time-GROUP.md and its log to DIR/log-GROUP.txt; DIR/table.md and DIR/times.md gather every
# group run so far, at this sitting or an earlier one, so a run cut off part-way keeps every
# group it finished. The exit status is 0 only when every group asked for ran and held.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}"

all_groups=(ps lb hh cl oo pm mr)
filter_of() {
  case "$1" in
    ps) echo 'test(/^cal_ps_/)' ;;
    lb) echo 'test(/^cal_lb/)' ;;
    hh) echo 'test(/^cal_hh/) | test(/^hh4_/)' ;;
    cl) echo 'test(/^cal_cl/)' ;;
    oo) echo 'test(/^cal_oo/)' ;;
    pm) echo 'test(/^cal_pm_/)' ;;
    mr) echo 'test(/^cal_mr/)' ;;
    selftest) echo 'test(=calibrate_stand_in_group)' ;;
    *) return 1 ;;
  esac
}

out=runs/calibration
only=""
while [ $# -gt 0 ]; do
  case "$1" in
    --only) only=${2:-}; shift 2 || { echo "calibrate.sh: --only needs a group" >&2; exit 2; } ;;
    --out) out=${2:-}; shift 2 || { echo "calibrate.sh: --out needs a folder" >&2; exit 2; } ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "calibrate.sh: unknown option $1 (use --only GROUP[,GROUP…] or --out DIR)" >&2; exit 2 ;;
  esac
done
if [ -n "$only" ]; then
  IFS=',' read -r -a groups <<< "$only"
else
  groups=("${all_groups[@]}")
fi
for g in "${groups[@]}"; do
  if ! filter_of "$g" > /dev/null; then
    echo "calibrate.sh: unknown group '$g': use ${all_groups[*]} (comma-separated for several)" >&2
    exit 2
  fi
done

mkdir -p "$out"
# table.md and times.md gather every group's own files, so a later `--only` keeps the rows of
# groups run at another sitting.
gather() {
  : > "$out/table.md"
  printf '| group | wall time (s) | nextest exit |\n|---|---|---|\n' > "$out/times.md"
  for g in "${all_groups[@]}" selftest; do
    [ -f "$out/table-$g.md" ] && cat "$out/table-$g.md" >> "$out/table.md"
    [ -f "$out/time-$g.md" ] && cat "$out/time-$g.md" >> "$out/times.md"
  done
  return 0
}
failed=0
for g in "${groups[@]}"; do
  echo "== group $g: $(filter_of "$g")"
  start=$(date +%s)
  cargo nextest run --locked --profile calibration --run-ignored only \
    --success-output final --failure-output final \
    -E "$(filter_of "$g")" 2>&1 | tee "$out/log-$g.txt"
  status=${PIPESTATUS[0]}
  seconds=$(( $(date +%s) - start ))
  grep -E '^[[:space:]]*\| ' "$out/log-$g.txt" | sed 's/^[[:space:]]*//' | awk '!seen[$0]++' > "$out/table-$g.md"
  printf '| %s | %s | %s |\n' "$g" "$seconds" "$status" > "$out/time-$g.md"
  gather
  echo "== group $g: ${seconds} s, nextest exit $status"
  [ "$status" -eq 0 ] || failed=1
done
echo "table: $out/table.md ($(wc -l < "$out/table.md") rows); times: $out/times.md"
cat "$out/times.md"
exit "$failed"
