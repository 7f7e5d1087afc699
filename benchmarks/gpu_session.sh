#!/usr/bin/env bash
# The GPU runs whose numbers the docs record, in steps (several per call fit a lent machine's 10-minute limit):
#   OUT=gpu-out bash benchmarks/gpu_session.sh setup ipc smoke clockparts examples judge  # run 1 (smoke stops early)
#   EXAMPLES_KD='--kernel-dir examples/triton_rmsnorm.py' ... examples   # a part of the examples (one call's limit)
#   OUT=gpu-out bash benchmarks/gpu_session.sh setup unit redteam profile
#   OUT=gpu-out bash benchmarks/gpu_session.sh setup library agreement               # run 2
#   OUT=gpu-out bash benchmarks/gpu_session.sh setup fidelity gates                  # run 3
#   OUT=gpu-out bash benchmarks/gpu_session.sh setup multigpu                        # run 4, two or more GPUs
#   OUT=gpu-out bash benchmarks/gpu_session.sh setup capture                         # problems captured from a block
#   OUT=gpu-out bash benchmarks/gpu_session.sh setup judge overhead ray              # the judge's GPU half (issues 15, 18)
#   OUT=gpu-out bash benchmarks/gpu_session.sh setup confine                         # a measure that stops CUDA, found
#   OUT=gpu-out bash benchmarks/gpu_session.sh setup costs examples                  # the judge's parts, the README job
#   OUT=gpu-out bash benchmarks/gpu_session.sh setup witness ab                      # the GPU's witness; the judge's cost, old and new
#   REDTEAM_HONEST=examples ... setup alone redteam alone                            # all cheats, then the examples as alone
#   OUT=gpu-out bash benchmarks/gpu_session.sh setup costs jprofile                   # the judge's cost, part by part and function by function
#   OUT=gpu-out bash benchmarks/gpu_session.sh setup blocks examples                  # the judge's shared blocks, then its memory in the job
# DEADLINE_S=N stops every step by N seconds after the start. GPU_MEM_WATCH=1 logs the card's memory by process. Every step logs under $OUT/logs; the last packs them into $OUT/logs.tgz. Clocks are only observed, never set.
set -u
OUT=${OUT:-gpu-out}
LOGS=$OUT/logs
mkdir -p "$LOGS"
export PYTHONUNBUFFERED=1
PYTEST=(python -m pytest -p no:cacheprovider -p no:randomly)
SOL=("${PYTEST[@]}" --solbench -rs)
STOP=(timeout -s INT -k 20)  # pytest stopped by SIGINT still prints the failures it saw and writes its files
step() { echo "=== $1 $(date +%T)" >>"$LOGS/steps.txt"; }
cap() {  # SECONDS: at most that, and no later than DEADLINE_S seconds after the script began (one call's limit)
  local left=$(( ${DEADLINE_S:-100000} - SECONDS - 15 ))
  echo $(( $1 < left ? $1 : (left > 1 ? left : 1) ))
}
timed() {  # NAME CMD...: run CMD, and log its wall time and exit status
  local name=$1 start=$SECONDS rc; shift
  "$@"; rc=$?
  echo "$name wall $((SECONDS - start)) s exit $rc" >>"$LOGS/steps.txt"
  return $rc
}

if [ -n "${GPU_MEM_WATCH:-}" ]; then  # every 2 s: the card's memory in use and each process's share (an OOM's cause)
  (while sleep 2; do echo "$(date +%T) $(nvidia-smi --query-gpu=memory.used,memory.total --format=csv,noheader)"
     nvidia-smi --query-compute-apps=pid,used_memory --format=csv,noheader | sed 's/^/  /'; done) >"$LOGS/gpu_mem.txt" 2>&1 &
  mem_watcher=$!
fi
for what in "$@"; do
  step "$what"
  case $what in
    setup)
      { nvidia-smi --query-gpu=index,name,driver_version,clocks.sm,clocks.mem,clocks.max.sm,power.limit --format=csv
        python -c "import sys, torch, triton, pytest; print(sys.version.split()[0], torch.__version__, triton.__version__, pytest.__version__)"
        python -m pip install --no-deps --no-build-isolation --root-user-action=ignore -q -e . 2>&1 | tail -3
        python -c "import importlib.metadata as m; print('installed', m.version('pytest-solbench'))"
      } >"$LOGS/setup.txt" 2>&1 ;;
    smoke)  # one honest item with the guard on; where it fails, again with the newest measures left out one by one
      S=("${SOL[@]}" --kernel-dir examples/triton_rmsnorm.py -k "num_tokens:4096]" -v)
      timed smoke "${STOP[@]}" 120 "${S[@]}" >"$LOGS/smoke.log" 2>&1 && continue
      found=
      for off in read-only-proc read-only-proc,private-dev private-dev; do
        if SOLBENCH_CONFINE_OFF=$off timed "smoke-off-$off" "${STOP[@]}" 120 "${S[@]}" >"$LOGS/smoke_off_$off.log" 2>&1; then
          export SOLBENCH_CONFINE_OFF=$off found=1  # guard.confine's measure broke the kernel's CUDA: the steps after run without
          echo "smoke passed only with SOLBENCH_CONFINE_OFF=$off: the steps after run so" >>"$LOGS/steps.txt"; break
        fi
      done
      [ -n "$found" ] && continue
      timeout 120 "${S[@]}" --solbench-guard off >"$LOGS/smoke_guard_off.log" 2>&1
      echo "smoke failed: the steps after it were not run" >>"$LOGS/steps.txt"; break ;;
    costs)  # issue 15: what the judge's parts cost one by one (operator record, CUPTI profile, comparisons)
      timed costs timeout "$(cap 120)" python benchmarks/judge_costs.py >"$LOGS/costs.log" 2>&1 ;;
    jprofile)  # issue 15: one item's judge function by function (cProfile), for three kernels of the README job
      for case in "llama3_1_8b_rmsnorm_h4096 examples/triton_rmsnorm.py num_tokens=4096" \
                  "llama3_1_8b_silu_and_mul_i14336 examples/triton_swiglu.py num_tokens=64" \
                  "llama3_1_8b_gqa_paged_decode_h32_kv8_d128_ps16 examples/torch_gqa_decode.py batch_size=7"; do
        set -- $case
        timed "jprofile-$1" timeout "$(cap 90)" python benchmarks/judge_profile.py $case --top 35 >"$LOGS/jprofile_$1.log" 2>&1
      done ;;
    witness)  # the library kernels this card names, against guard.vendor_kernels; a GEMM replayed out of the record's sight
      timed witness-names timeout "$(cap 150)" python benchmarks/vendor_kernel_names.py "$LOGS/vendor_kernel_names.json" \
        >"$LOGS/vendor_kernel_names.log" 2>&1
      timed witness "${STOP[@]}" "$(cap 240)" "${PYTEST[@]}" -q -rs tests/test_vendor_kernels.py >"$LOGS/witness.log" 2>&1 ;;
    confine)  # which confinement measure stops CUDA in a kernel's process, and what under /proc, /sys the driver opens
      timed confine timeout "$(cap 240)" python benchmarks/confine_probe.py "$LOGS/confine" >"$LOGS/confine.log" 2>&1 ;;
    kmeta)  # what Kineto says of a kernel beyond its name (grid, block, bytes): red-team round 64, ee01
      timed kmeta timeout "$(cap 90)" python benchmarks/kineto_metadata_probe.py >"$LOGS/kmeta.log" 2>&1 ;;
    blocks)  # the judge's shared CUDA blocks: which exchange pattern leaves them allocated (session 19's 31 GiB)
      timed blocks timeout "$(cap 120)" python benchmarks/judge_blocks_probe.py 6 >"$LOGS/blocks.log" 2>&1 ;;
    ipc)  # CUDA and the judge's IPC tensors in a child with a private /dev/shm, then with a user id of its own
      timed ipc timeout "$(cap 150)" python benchmarks/ipc_probe.py >"$LOGS/ipc.log" 2>&1 ;;
    clockparts)  # issue 15: the outside clock's batch split into per-call slope and fixed intercept, honest RMSNorm
      timed clockparts timeout "$(cap "${CLOCKPARTS_S:-200}")" python benchmarks/outside_clock_parts.py >"$LOGS/clockparts.log" 2>&1 ;;
    unit)  # the suite's GPU-only tests and the modules that touch the GPU
      timed unit timeout 240 "${PYTEST[@]}" -q tests/test_timing.py tests/test_worker.py tests/test_clocks.py \
        tests/test_integrity.py tests/test_library.py -k "gpu or timing or worker or clock or integrity or audit" \
        >"$LOGS/unit.log" 2>&1 ;;
    examples)  # the README table
      timed examples "${STOP[@]}" "$(cap "${EXAMPLES_S:-420}")" "${SOL[@]}" ${EXAMPLES_KD:---kernel-dir examples} --solbench-max-time 0.5 -v --durations 25 \
        --solbench-json "$LOGS/examples.jsonl" --junitxml "$LOGS/examples.xml" >"$LOGS/examples.log" 2>&1
      python benchmarks/item_overhead.py "$LOGS/examples.jsonl" "$LOGS/examples.xml" >"$LOGS/overhead.log" 2>&1 ;;
    redteam)  # every red-team kernel, then honest ones ($REDTEAM_HONEST, default the RMSNorm example): on each problem
      # they come after its cheats, and their scores must match the `alone` step's. 250 s held 242 items on an H100
      # (session 16): REDTEAM_K="hack_r1 or hack_r2" and its complement split it over two calls
      K="num_tokens:4096] or batch_size:64]"; [ -n "${REDTEAM_K:-}" ] && K="($K) and ($REDTEAM_K)"
      timed redteam "${STOP[@]}" "$(cap "${REDTEAM_S:-300}")" "${SOL[@]}" --kernel-dir tests/redteam \
        --kernel-dir "${REDTEAM_HONEST:-examples/triton_rmsnorm.py}" --solbench-max-time 0.5 -k "$K" \
        --solbench-json "$LOGS/redteam.jsonl" >"$LOGS/redteam.log" 2>&1 ;;
    alone)  # the honest kernels of the redteam step at its workloads, with no cheat in the session
      n_alone=$(( ${n_alone:-0} + 1 ))
      timed "alone-$n_alone" "${STOP[@]}" "$(cap 120)" "${SOL[@]}" --kernel-dir "${REDTEAM_HONEST:-examples/triton_rmsnorm.py}" \
        --solbench-max-time 0.5 -k "num_tokens:4096] or batch_size:64]" --solbench-json "$LOGS/alone_$n_alone.jsonl" \
        >"$LOGS/alone_$n_alone.log" 2>&1 ;;
    profile)
      timed profile timeout 300 "${SOL[@]}" --kernel-dir examples/triton_rmsnorm.py --kernel-dir examples/triton_swiglu.py \
        --solbench-profile -v -k "num_tokens:4096]" --solbench-json "$LOGS/profile.jsonl" >"$LOGS/profile.log" 2>&1
      ncu --query-metrics 2>/dev/null | grep -E "^(gpu__dram_throughput|dram__throughput|sm__throughput|gpu__compute_memory_throughput)" \
        >"$LOGS/ncu_metrics.txt" 2>&1 ;;
    library)  # every bundled reference as its own kernel: how far PyTorch is from SOL
      timed library timeout 480 "${SOL[@]}" --solbench-max-time 0.3 --solbench-rounds 2 -q \
        --solbench-json "$LOGS/library.jsonl" >"$LOGS/library.log" 2>&1 ;;
    library-rest)  # the problems listed in $REST (a first library run that ran out of time stopped before them)
      timed library-rest timeout 300 "${SOL[@]}" --solbench-max-time 0.2 --solbench-rounds 1 -q $(cat "$REST") \
        --solbench-json "$LOGS/library_rest.jsonl" >"$LOGS/library_rest.log" 2>&1 ;;
    agreement)
      timed agreement timeout "${AGREEMENT_S:-270}" python benchmarks/reference_agreement.py "$LOGS/agreement.jsonl" \
        ${START_AT:+--start-at "$START_AT"} >"$LOGS/agreement.md" 2>&1 ;;
    fidelity)  # CUPTI and events beside Nsight Compute
      timed fidelity timeout 150 python benchmarks/timing_fidelity.py "$LOGS/fidelity.json" >"$LOGS/fidelity.log" 2>&1
      for k in add_tiny rmsnorm_small mul_elementwise softmax_fp32 decode_attention; do
        echo "=== $k" >>"$LOGS/ncu.log"
        timeout 30 ncu --clock-control none --nvtx --nvtx-include "solbench_target/" --metrics gpu__time_duration.sum \
          python benchmarks/timing_fidelity.py --ncu-target "$k" >>"$LOGS/ncu.log" 2>&1
      done ;;
    multigpu)  # the bundled library with one worker, then one worker per GPU
      n=$(nvidia-smi -L | wc -l)
      timed "multigpu-n1" timeout 280 "${SOL[@]}" -n 1 --solbench-max-time 0.3 --solbench-rounds 2 -q \
        -k llama3_1_8b --solbench-json "$LOGS/multi_n1.jsonl" >"$LOGS/multi_n1.log" 2>&1
      (while sleep 5; do nvidia-smi --query-compute-apps=gpu_uuid,pid,used_memory --format=csv,noheader; done) \
        >"$LOGS/multi_apps.txt" 2>&1 & watcher=$!
      timed "multigpu-n$n" timeout 280 "${SOL[@]}" -n "$n" --solbench-max-time 0.3 --solbench-rounds 2 -q \
        -k llama3_1_8b --solbench-json "$LOGS/multi_nN.jsonl" >"$LOGS/multi_nN.log" 2>&1
      kill $watcher ;;
    gates)  # save, compare unchanged (5 times), compare a kernel made 10 % slower
      G=("${SOL[@]}" --solbench-store "$OUT/runs" --solbench-max-time 1
         -k "num_tokens:16384]" -p no:xdist)
      timed gates-save timeout 120 "${G[@]}" --kernel-dir benchmarks/slow_kernels/base --solbench-save main >"$LOGS/gates.log" 2>&1
      for i in 1 2 3 4 5; do
        timeout 120 "${G[@]}" --kernel-dir benchmarks/slow_kernels/base --solbench-compare main >>"$LOGS/gates.log" 2>&1
        echo "same run $i exit $?" >>"$LOGS/gates.log"
      done
      timeout 120 "${G[@]}" --kernel-dir benchmarks/slow_kernels/slower --solbench-compare main --solbench-markdown "$LOGS/pr.md" \
        >>"$LOGS/gates.log" 2>&1
      echo "slow run exit $?" >>"$LOGS/gates.log" ;;
    judge)  # issue 15: CUDA IPC, CUPTI kernel sets, the outside clock on fresh inputs, confinement with CUDA
      timed judge "${STOP[@]}" "$(cap "${JUDGE_S:-420}")" "${PYTEST[@]}" -q -rs ${JUDGE_FILES:-tests/test_judge.py tests/test_confine.py \
        tests/test_user_call.py tests/test_redteam.py} ${JUDGE_K:+-k "$JUDGE_K"} >"$LOGS/judge.log" 2>&1 ;;
    ab)  # issue 15: the judge's per-item cost at an older commit ($AB_OLD: a folder holding its pytest_solbench/, made
      # with `git archive OLD pytest_solbench | tar x -C ab_old`) and at this one, same card, same call, same kernels
      AB=("${SOL[@]}" problems/llama3_1_8b_rmsnorm_h4096/definition.json problems/llama3_1_8b_silu_and_mul_i14336/definition.json
          --kernel-dir examples/triton_rmsnorm.py --kernel-dir examples/triton_swiglu.py --solbench-max-time 0.5 -q
          ${AB_K:+-k "$AB_K"})
      for side in old new; do
        pp=$([ "$side" = old ] && echo "$AB_OLD" || echo "")
        PYTHONPATH=$pp timed "ab-$side" timeout "$(cap 150)" "${AB[@]}" --solbench-json "$LOGS/ab_$side.jsonl" \
          --junitxml "$LOGS/ab_$side.xml" >"$LOGS/ab_$side.log" 2>&1
        python benchmarks/item_overhead.py "$LOGS/ab_$side.jsonl" "$LOGS/ab_$side.xml" >"$LOGS/ab_${side}_overhead.log" 2>&1
      done ;;
    overhead)  # issue 15: seconds per item beyond its timed phases (budget 0.25 s), on the README's examples
      timed overhead timeout 420 "${SOL[@]}" --kernel-dir examples --solbench-max-time 0.5 -q \
        --solbench-json "$LOGS/overhead.jsonl" --junitxml "$LOGS/overhead.xml" >"$LOGS/overhead_run.log" 2>&1
      python benchmarks/item_overhead.py "$LOGS/overhead.jsonl" "$LOGS/overhead.xml" >"$LOGS/overhead.log" 2>&1 ;;
    ray)  # issue 18: the same examples through a one-node Ray cluster, beside a plain run (scores within noise)
      if [ -f .raysite/ray-site.tar.xz ]; then  # ray is not in the lent image: a trimmed copy travels (carry .raysite)
        mkdir -p /tmp/raysite && tar xJf .raysite/ray-site.tar.xz -C /tmp/raysite && export PYTHONPATH=/tmp/raysite
        chmod +x /tmp/raysite/ray/core/src/ray/gcs/gcs_server /tmp/raysite/ray/core/src/ray/raylet/raylet  # tar kept no x
      fi
      if python -c "import ray" 2>/dev/null; then
        R=("${SOL[@]}" ${RAY_KD:---kernel-dir examples} --solbench-max-time 0.5 -q -k "${RAY_K:-num_tokens:4096] or batch_size:64]}")
        timed ray-plain "${STOP[@]}" "$(cap "${RAY_S:-280}")" "${R[@]}" --solbench-json "$LOGS/ray_plain.jsonl" >"$LOGS/ray_plain.log" 2>&1
        timed ray "${STOP[@]}" "$(cap "${RAY_S:-280}")" "${R[@]}" --solbench-ray local --solbench-json "$LOGS/ray.jsonl" >"$LOGS/ray.log" 2>&1
      else
        echo "ray is not installed here: pip list has no ray" >"$LOGS/ray.log"
      fi ;;
    capture)  # issue 17: a decoder block (hidden 2048, bf16) captured with CUDA-event time shares, its problems timed
      timed capture "${STOP[@]}" "$(cap "${CAPTURE_S:-300}")" "${PYTEST[@]}" -q -s tests/test_capture.py -k real_sized >"$LOGS/capture.log" 2>&1 ;;
  esac
done
[ -n "${mem_watcher:-}" ] && kill "$mem_watcher"
tar czf "$OUT/logs.tgz" -C "$OUT" logs
tail -n 5 "$LOGS"/*.log "$LOGS/steps.txt" 2>/dev/null | tail -n 120
