#!/usr/bin/env bash
# The GPU runs whose numbers docs/results.md records. Run from the repo root on a CUDA machine:
#   OUT=gpu-out bash benchmarks/run_gpu.sh [examples|library|fidelity|ncu|all]
# Each step writes its log under $OUT; nothing here changes the GPU's clocks (observe mode only).
set -u
OUT=${OUT:-gpu-out}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
what=${1:-all}
PYTEST=(python -m pytest -p no:cacheprovider --solbench --durations=15)

{
  nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem,clocks.max.sm,clocks.max.mem,power.limit --format=csv
  python -c "import sys, torch, triton, pytest; print('python', sys.version.split()[0], 'torch', torch.__version__, 'triton', triton.__version__, 'pytest', pytest.__version__)"
  # the plugin is found through its entry point: install it (offline: no build isolation, no dependencies)
  installed() { python -c "import importlib.metadata as m; m.distribution('pytest-solbench')" 2>/dev/null; }
  installed || python -m pip install --no-deps --no-build-isolation --root-user-action=ignore -q -e . 2>&1 | tail -5
} >"$OUT/gpu.txt" 2>&1
if ! python -c "import importlib.metadata as m; m.distribution('pytest-solbench')" 2>/dev/null; then
  echo "not installed: loading the plugin from the checkout with -p" >>"$OUT/gpu.txt"
  export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
  PYTEST=(python -m pytest -p no:cacheprovider -p pytest_solbench.plugin --solbench --durations=15)
fi

if [[ $what == examples || $what == all ]]; then
  /usr/bin/time -f "wall %e s" timeout 420 "${PYTEST[@]}" --kernel-dir examples --solbench-json "$OUT/examples.jsonl" \
    -rs >"$OUT/examples.log" 2>&1
fi
if [[ $what == library || $what == all ]]; then
  /usr/bin/time -f "wall %e s" timeout 540 "${PYTEST[@]}" --solbench-json "$OUT/library.jsonl" -rs >"$OUT/library.log" 2>&1
fi
if [[ $what == survival || $what == all ]]; then
  /usr/bin/time -f "wall %e s" timeout 300 "${PYTEST[@]}" --solbench-problems problems/llama3_1_8b_rmsnorm_h4096 \
    --kernel-dir benchmarks/crash_kernels --solbench-timeout 30 --solbench-rounds 1 -k 64 \
    --solbench-json "$OUT/survival.jsonl" >"$OUT/survival.log" 2>&1
fi
if [[ $what == ceilings ]]; then
  /usr/bin/time -f "wall %e s" timeout 480 "${PYTEST[@]}" --solbench-ceilings measured \
    --solbench-json "$OUT/library.jsonl" -rs >"$OUT/library.log" 2>&1
fi
if [[ $what == fidelity || $what == all ]]; then
  timeout 300 python benchmarks/timing_fidelity.py "$OUT/fidelity.json" >"$OUT/fidelity.log" 2>&1
fi
if [[ $what == ncu ]]; then
  for k in ${NCU_KERNELS:-add_tiny rmsnorm_small mul_elementwise softmax_fp32 decode_attention gemm_bf16_large}; do
    echo "=== $k" >>"$OUT/ncu.log"
    timeout 120 ncu --clock-control none --nvtx --nvtx-include "solbench_target/" --metrics gpu__time_duration.sum \
      python benchmarks/timing_fidelity.py --ncu-target "$k" >>"$OUT/ncu.log" 2>&1
  done
fi
tail -n 45 "$OUT"/*.log
