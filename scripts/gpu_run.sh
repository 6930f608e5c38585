#!/usr/bin/env bash
# Runs named GPU jobs on the device machine, each under its own time limit, logging to $OUT/<job>.log.
# Usage (device): bash scripts/gpu_run.sh ppo transforms bridge nets train
# Installs the carried wheels (.whl: mujoco, mujoco-mjx, ml-collections, ...) into /tmp/site first.
# .whl (38 MB) beside the tracked tree (~34 MB since session 27) is more than one call may carry (64 MiB): keep the
# mujoco wheel in .whlm/ (`mkdir -p .whlm && mv .whl/mujoco-3*.whl .whlm/`) and carry [".whlm"] and [".whl"] in two
# calls; every call keeps the wheels it carries under /tmp/whlstash and installs them all, in one pip call, once the
# mujoco and mujoco-mjx wheels are both there (one pip call: mujoco-mjx installs into mujoco's package directory).
set -u
export PYTHONUNBUFFERED=1 XLA_PYTHON_CLIENT_PREALLOCATE=false
export JAX_COMPILATION_CACHE_DIR=${JAX_COMPILATION_CACHE_DIR:-/tmp/jaxcache}  # a carried cache: =$PWD/.jaxcache
OUT=${OUT:-/tmp/out}
for w in .whl*/*.whl; do [ -f "$w" ] && mkdir -p /tmp/whlstash && cp -n "$w" /tmp/whlstash/; done
if [ ! -f /tmp/site/.done ] && compgen -G "/tmp/whlstash/mujoco-[0-9]*.whl" > /dev/null \
    && compgen -G "/tmp/whlstash/mujoco_mjx-*.whl" > /dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
    /tmp/whlstash/*.whl && touch /tmp/site/.done
elif [ ! -f /tmp/site/.done ]; then
  echo "wheels so far: $(ls /tmp/whlstash 2>/dev/null | tr '\n' ' ') (installed once mujoco and mujoco-mjx are both carried)"
fi
# Every call keeps the parts it carries (.wp1, .wp2, .wp3: warp-lang; .wpc: compile caches) under /tmp/wparts before
# the checks below, so the call that carries the last part runs its job at once (since session 31; before, each part
# needed a `stash` call).
for d in .wp*; do [ -d "$d" ] && mkdir -p /tmp/wparts && cp "$d"/* /tmp/wparts/; done
# warp-lang (MuJoCo Warp's runtime, physics_impl="warp") is larger than one call may carry: scripts/warp_parts.sh
# splits it into .wp1, .wp2, .wp3 (each carried by its own call); once every part is there it is unpacked into /tmp/site.
if [ -f /tmp/wparts/SHA256SUMS ] && [ ! -f /tmp/site/.warp ] && (cd /tmp/wparts && sha256sum -c --quiet SHA256SUMS); then
  mkdir -p /tmp/site && cat /tmp/wparts/warp_part_* | xz -d | tar x -C /tmp/site && touch /tmp/site/.warp \
    && echo "warp-lang unpacked into /tmp/site"
fi
# Compile caches from an earlier machine (job cache_fetch: XLA's persistent cache and Warp's kernel cache, split into
# cache_part_* with CACHESUMS): put the fetched files into .wpc/ here (git-excluded), carry .wpc with any call (or
# beside .whl when small enough); once every part is under /tmp/wparts they are unpacked into /tmp. Same card kind and
# versions only (both caches key on them; a mismatch just compiles afresh).
export WARP_CACHE_PATH=${WARP_CACHE_PATH:-/tmp/warpcache}
if [ -f /tmp/wparts/CACHESUMS ] && [ ! -f /tmp/.caches_restored ] && (cd /tmp/wparts && sha256sum -c --quiet CACHESUMS); then
  cat /tmp/wparts/cache_part_* | tar xz -C /tmp && touch /tmp/.caches_restored \
    && echo "compile caches restored: $(du -sh /tmp/jaxcache /tmp/warpcache 2>/dev/null | tr '\n' ' ')"
fi
export PYTHONPATH=/tmp/site:$PWD
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import jax, mujoco; print('jax', jax.__version__, jax.devices(), 'mujoco', mujoco.__version__)"
# The MT10 24k training flags shared by the train and train_bg jobs; TRAIN_EXTRA adds --config flags to both
# (e.g. TRAIN_EXTRA="--config.ppo.obs_norm_clip=5 --config.ppo.obs_norm_eps=1e-5", or
# TRAIN_EXTRA="--config.env.kwargs.physics_impl=warp" for MuJoCo Warp after the stash calls); TRAIN_CONFIG picks another
# config file:row (default experiments/configs/mt10_ppo.py:24k, the arm; e.g. experiments/configs/mt10_ppo_floating.py:24k
# for the fast floating hand, or experiments/configs/mt10_mtrl.py:cagrad).
read -r -a extra <<< "${TRAIN_EXTRA:-}"
RD=${RUN_DIR:-/tmp/mt10_1b}  # the detached run's directory (train_bg*, follow, train_pause/cont, train_fetch, collect);
# another RUN_DIR starts a second run after the first ended (e.g. the next seed on a machine whose caches are warm)
# CKPT_EVERY: iterations between checkpoints (default 48, ~6 min of the arm's 24k run on an H100), so a run that the
# session's device time cuts off leaves a checkpoint for train_fetch's learner export (session 19 lost a 113 M run)
TRAIN_CONFIG=${TRAIN_CONFIG:-experiments/configs/mt10_ppo.py:24k}
TRAIN_ARGS=(--config="$TRAIN_CONFIG" --config.tensorboard=False --config.plot=False
            --config.checkpoint_every="${CKPT_EVERY:-48}" "${extra[@]}")
bg() {  # bg NAME CMD...: detached, logging to /tmp/bgout/NAME.log (waitbg waits for it, collect fetches it)
  local name=$1; shift; mkdir -p /tmp/bgout
  setsid nohup "$@" > "/tmp/bgout/$name.log" 2>&1 < /dev/null &
  echo $! >> /tmp/bg.pids; echo "started $name (pid $!) $(date +%T)"
}
train_detached() {  # train_detached NAME NOTE [ARGS...]: the 24k run in $RD, detached, logging to
  # /tmp/train_bg.log (pid in /tmp/train_bg.pid); ARGS are added to the train flags (e.g. --resume)
  setsid nohup python3 -m experiments.train "${TRAIN_ARGS[@]}" --config.run_dir="$RD" \
    --config.iters_per_call=8 "${@:3}" > /tmp/train_bg.log 2>&1 < /dev/null &
  echo $! > /tmp/train_bg.pid; echo "started $1 (pid $!)$2"
}
# The env benchmarks of benchset: MT10 floating (the fast option), MT10 arm 4 x 3.125 ms (mt10arm4: the MT10 configs'
# physics since session 18; w: on MuJoCo Warp, WGM: their warp_graph_mode), MT50 floating on Warp (mt50w;
# WGM=none runs at 48,579 env steps/s, the default capture and "jax" fail: session 22), MT10 arm 2 x 6.25 ms (g4: four shared physics graphs instead of ten, nb: without
# mjx_levels' barriers), MT50 (floating, 24,576 envs each); NAME=ARGS
BENCHES=("mt10=--envs 24576"
         "mt10arm4=--envs 24576 --hand arm --frame-skip 4 --iterations 4"
         "mt10arm4w=--envs 24576 --hand arm --frame-skip 4 --iterations 4 --physics-impl warp --warp-graph-mode ${WGM:-default}"
         "mt10w=--envs 24576 --physics-impl warp --warp-graph-mode ${WGM:-default}"
         "mt10arm2=--envs 24576 --hand arm --frame-skip 2 --iterations 6"
         "mt10arm2g4=--envs 24576 --hand arm --frame-skip 2 --iterations 6 --physics-graphs 4"
         "mt10arm2nb=--envs 24576 --hand arm --frame-skip 2 --iterations 6 --level-barriers off"
         "mt10arm2g4nb=--envs 24576 --hand arm --frame-skip 2 --iterations 6 --physics-graphs 4 --level-barriers off"
         "mt50=--suite mt50 --envs 24576 --physics-graphs ${PHYS:-auto}"
         "mt50w=--suite mt50 --envs 24576 --physics-impl warp --warp-graph-mode ${WGM:-default}"
         "mt10arm4wg=--envs 24576 --hand arm --frame-skip 4 --iterations 4 --physics-impl warp --physics-graphs 1 --warp-graph-mode ${WGM:-default}"
         "mt50wg=--suite mt50 --envs 24576 --physics-impl warp --physics-graphs 1 --warp-graph-mode ${WGM:-default}"
         "mt50armwg=--suite mt50 --envs 24576 --hand arm --frame-skip 4 --iterations 4 --physics-impl warp --physics-graphs 1 --warp-graph-mode ${WGM:-default}")
picked() { [[ " ${BENCH_ONLY:-$1} " == *" $1 "* ]]; }  # picked NAME: NAME is in BENCH_ONLY ("mt10 mt50"; unset: all)
job() {  # job NAME LIMIT_S CMD...
  local name=$1 limit=$2; shift 2
  echo "=== $name (limit ${limit}s) $(date +%T)"
  timeout "$limit" "$@" 2>&1 | grep --line-buffered -v -E "Failed to import (warp|mujoco_warp)" | tee "$OUT/$name.log" | tail -n 40
  echo "=== $name rc=${PIPESTATUS[0]} $(date +%T)"
}
for j in "$@"; do
  case $j in
    stash) # a call that only carries parts (every call keeps them under /tmp/wparts, above): lists what is kept so far
      mkdir -p /tmp/wparts && ls -la /tmp/wparts ;;
    ppo) job ppo 240 python3 -m experiments.benchmark_ppo --out="$OUT/ppo.json" ;;
    transforms) job transforms 300 python3 -m experiments.benchmark_transforms --out="$OUT/transforms.json" ;;
    bridge_tests) job bridge_tests 180 python3 -m pytest -q -m gpu -p no:cacheprovider tests/test_dlpack.py tests/test_isaacgym_bridge.py ;;
    gpu_tests) # every gpu-marked test (the bridge's, the Warp parity table on all ten tasks, ...): after the stash calls
      job gpu_tests 420 python3 -m pytest -q -m gpu -p no:cacheprovider tests ;;
    bridge) job bridge 240 python3 -m experiments.benchmark_bridge --out="$OUT/bridge.json" ;;
    nets) job nets 420 python3 -m experiments.benchmark_nets --out="$OUT/nets.json" ;;
    envs) job envs 300 python3 experiments/benchmark_envs.py --out="$OUT/envs.json" ;;
    envs4k) job envs4k 200 python3 experiments/benchmark_envs.py --envs 4096 --frame-skip 1 --no-profile --out="$OUT/envs4k.json" ;;
    train) job train "${TRAIN_LIMIT:-300}" python3 -m experiments.train "${TRAIN_ARGS[@]}" --config.run_dir=/tmp/mt10gpu \
      --config.total_iterations="${TRAIN_ITERS:-60}" --config.progress=False --config.iters_per_call=10
      cp /tmp/mt10gpu/metrics.jsonl "$OUT/mt10_train_metrics.jsonl" ;;
    train_bg) # the full 24k run (1,272 iterations), detached: follow /tmp/train_bg.log with later calls
      train_detached train_bg "" ;;
    train_bg_resume) # continues a run from a carried run directory, e.g. a train_fetch learner export unpacked under
      # runs/ (git-ignored: carry it): RESUME_DIR=runs/carry/mt10_1b_learner; it becomes $RD, then as train_bg
      rm -rf "$RD" && cp -r "${RESUME_DIR:?set RESUME_DIR to a carried run directory}" "$RD"
      train_detached train_bg_resume " from $RESUME_DIR" --resume ;;
    train_after) # queues the next run: once the current detached run (/tmp/train_bg.pid) has ended, starts train_bg with
      # this call's RUN_DIR, TRAIN_CONFIG and TRAIN_EXTRA (use another RUN_DIR), so the GPU does not idle between two
      # runs of one session; the earlier run stays in its directory for a later `RUN_DIR=<it> ... train_fetch`
      prev=$(cat /tmp/train_bg.pid 2>/dev/null || echo 0)
      export RUN_DIR="$RD" TRAIN_CONFIG TRAIN_EXTRA="${TRAIN_EXTRA:-}"
      setsid nohup bash -c "while kill -0 $prev 2>/dev/null; do sleep 2; done; bash scripts/gpu_run.sh train_bg" \
        > /tmp/train_after.log 2>&1 < /dev/null &
      echo "queued $TRAIN_CONFIG in $RD after pid $prev" ;;
    cache_fetch) # XLA's persistent cache and Warp's kernel cache as $OUT/cache_part_* (15 MiB each, at most 7) + CACHESUMS:
      # here, mkdir .wpc and copy them in; a later machine restores them at start (above) and skips the compiles that
      # ran here (session 24: the 24k_warp MT10 program took 161 s cold; Warp's kernels are most of it)
      # (the default cache folders /tmp/jaxcache and /tmp/warpcache only)
      (cd /tmp && tar czf - $(ls -d jaxcache warpcache 2>/dev/null)) | split -b 15m -d -a 1 - "$OUT/cache_part_"
      (cd "$OUT" && sha256sum cache_part_* > CACHESUMS) && ls -la "$OUT"/cache_part_* ;;
    parkour) job parkour 300 python3 experiments/benchmark_parkour.py --out="$OUT/parkour.json" ;;  # Go1 parkour MJX, 4,096 envs
    parkour_eval) # Go1 test mode on the GPU: the session-30 learner exports (copied to runs/carry/ before
      # device_tree.sh slim, carried with .whl), deterministic, on Warp and MJX-JAX (the CPU's numbers:
      # benchmarks/results/go1_parkour_policies_cpu_eval.json), and the CPU-vs-GPU step-by-step trace check
      # here: mkdir -p runs/carry && cp benchmarks/results/runs/go1_parkour_{flat,hard}_warp_s41_h100_mps_learner_it*.tgz
      # benchmarks/results/go1_parkour_flat_trace_cpu_jax.npz runs/carry/ (then slim, stash, and carry runs/carry, .whl)
      mkdir -p /tmp/c && for f in runs/carry/go1_parkour_*_learner_it*.tgz; do tar xzf "$f" -C /tmp/c; done
      for impl in warp jax; do job "flat_$impl" 240 python3 -m experiments.evaluate --run_dir=/tmp/c/flat_learner \
        --episodes=16 --env_overrides="{\"physics_impl\": \"$impl\"}"; done
      job hard_warp 240 python3 -m experiments.evaluate --run_dir=/tmp/c/hard_learner --episodes=10 \
        --env_overrides='{"physics_impl": "warp"}' --env_name=parkour_hard
      # step-by-step: the flat policy's trace on this GPU (both physics) to replay on the CPU, and the CPU's trace
      # (runs/carry/go1_parkour_flat_trace_cpu_jax.npz) replayed here (scripts/parkour_trace.py); all in one .tgz
      for impl in warp jax; do
        job "trace_$impl" 180 python3 scripts/parkour_trace.py record --run_dir=/tmp/c/flat_learner \
          --physics_impl=$impl --out="$OUT/trace_gpu_$impl.npz"
        job "replay_$impl" 180 python3 scripts/parkour_trace.py replay --physics_impl=$impl \
          --trace=runs/carry/go1_parkour_flat_trace_cpu_jax.npz --out="$OUT/replay_cpu_trace_on_gpu_$impl.json" >/dev/null
      done
      (cd "$OUT" && tar czf parkour_eval.tgz ./*.log ./*.npz ./*.json && rm -f ./*.log ./*.npz ./*.json) ;;  # 11 files: one
    parkourw) job parkourw 300 python3 experiments/benchmark_parkour.py --physics-impl warp --warp-graph-mode "${WGM:-default}" --out="$OUT/parkourw.json" ;;  # the same on MuJoCo Warp (after the stash calls)
    arm1|arm2) # the Sawyer arm option, MT10 at 24,576 envs, 1 or 2 substeps, Newton 6 (the configs' physics: mt10arm4)
      job "$j" 560 python3 experiments/benchmark_envs.py --envs 24576 --hand arm --frame-skip "${j#arm}" --iterations 6 \
        --no-profile --repeats 5 --out="$OUT/metaworld_mt10_envs_${j}_h200.json" ;;
    envs24k) job envs24k 240 python3 experiments/benchmark_envs.py --envs 24576 --no-profile --out="$OUT/envs24k.json" ;;
    mt50envs) # MT50 at 24,576 envs = MTBench's MT50 count: speed, compile, peak memory; PHYS: physics_graphs
      # (auto = the registry's MT50_PHYSICS_GRAPHS, none = one per task), MT50_LIMIT: the job's seconds
      job mt50envs "${MT50_LIMIT:-560}" python3 experiments/benchmark_envs.py --suite mt50 --envs 24576 --no-profile \
        --repeats 5 --physics-graphs "${PHYS:-auto}" --out="$OUT/metaworld_mt50_envs_g${PHYS:-auto}.json" ;;
    mt50envs_bg) # the mt50envs job detached (e.g. its compile beside a train_bg run); collect fetches its files
      bg mt50envs_bg python3 experiments/benchmark_envs.py --suite mt50 --envs 24576 --no-profile --repeats 5 \
        --physics-graphs "${PHYS:-auto}" --out="/tmp/bgout/metaworld_mt50_envs_g${PHYS:-auto}_bg.json" ;;
    mt50train_bg) # compile of the whole MT50 MT-PPO program (24,576 envs; the arm on Warp since session 23): 3 iterations, one per call, detached;
      # MT50_EXTRA adds --config flags (e.g. --config.seed=43); the floating hand is mt50_ppo.py:floating
      bg mt50train_bg bash -c "date +%s.%N > /tmp/bgout/mt50train_start; python3 -m experiments.train \
        --config=experiments/configs/mt50_ppo.py --config.tensorboard=False --config.plot=False \
        --config.total_iterations=3 --config.iters_per_call=1 --config.checkpoint_every=100000 \
        --config.run_dir=/tmp/mt50run ${MT50_EXTRA:-}; date +%s.%N > /tmp/bgout/mt50train_end; cp /tmp/mt50run/metrics.jsonl \
        /tmp/bgout/mt50train_metrics.jsonl" ;;
    mt1set) # issue 12's learnability runs: single-task MT-PPO (mt1_ppo.py, 200 M env steps at 4,096 envs) on each of
      # MT1_TASKS (default: the five MTBench's update names), all detached at once beside each other (each is small;
      # the GPU interleaves them); MT1_EXTRA adds --config flags. collect fetches their metrics so far.
      for t in ${MT1_TASKS:-assembly box-close disassemble stick-pull stick-push}; do
        bg "mt1_$t" python3 -m experiments.train --config="experiments/configs/mt1_ppo.py:$t" --config.tensorboard=False \
          --config.plot=False --config.progress=False --config.checkpoint_every=400 --config.run_dir="/tmp/mt1/$t" \
          ${MT1_EXTRA:-}; done ;;
    algoset) # issue 13: MT10 MT-GRPO, MT-SAC, FastTD3 and MT-PQN (their mt10_<algo>.py configs: MTBench's settings),
      # one after another in one detached chain, each for ALGO_LIMIT seconds (default 420) on 24k_warp's physics
      # stepping (MuJoCo Warp, one call per skeleton; after the stash calls); ALGOS picks (default "grpo sac fasttd3
      # pqn"), ALGO_EXTRA adds --config flags. Metrics (env steps/s per logged iteration, success) in /tmp/algos/<algo>/;
      # collect fetches them. A run cut by its limit keeps the rows logged so far (the curve as far as it went).
      bg algoset bash -c "for a in ${ALGOS:-grpo sac fasttd3 pqn}; do echo \"== \$a \$(date +%T)\"; timeout ${ALGO_LIMIT:-420} \
        python3 -m experiments.train --config=experiments/configs/mt10_\$a.py --config.tensorboard=False --config.plot=False \
        --config.progress=False --config.run_dir=/tmp/algos/\$a --config.env.kwargs.physics_impl=warp \
        --config.env.kwargs.physics_graphs=1 ${ALGO_EXTRA:-}; done" ;;
    benchset) # each BENCHES env benchmark twice: first all at once, detached (their compiles in parallel on the CPUs:
      # compile_s; their timed loops may overlap), then, after waitbg, one after another from the persistent compile
      # cache (the clean env steps/s). Results in /tmp/bgout/<name>_{par,seq}.json; collect brings them as one tgz.
      # BENCH_ONLY (benchset and benchseq): a subset, e.g. BENCH_ONLY=mt10 beside train_bg to fill the compile cache
      for b in "${BENCHES[@]}"; do read -r -a a <<< "${b#*=}"; picked "${b%%=*}" || continue
        bg "${b%%=*}_par" python3 experiments/benchmark_envs.py "${a[@]}" --no-profile --repeats 5 \
          --out="/tmp/bgout/${b%%=*}_par.json"; done ;;
    benchseq) for b in "${BENCHES[@]}"; do read -r -a a <<< "${b#*=}"
        picked "${b%%=*}" || continue
        job "${b%%=*}_seq" "${SEQ_LIMIT:-120}" python3 experiments/benchmark_envs.py "${a[@]}" --no-profile --repeats 10 \
          --out="/tmp/bgout/${b%%=*}_seq.json"; done ;;
    waitbg) # waits (up to FOLLOW_S seconds) for the jobs started with bg (benchset, mt50*_bg)
      end=$((SECONDS + ${FOLLOW_S:-540}))
      while [ $SECONDS -lt $end ]; do
        alive=0; for p in $(cat /tmp/bg.pids 2>/dev/null); do kill -0 "$p" 2>/dev/null && alive=1; done
        [ $alive = 0 ] && break; sleep 5
      done
      echo "=== waitbg done $(date +%T) (alive=$alive)" ;;
    collect) # the detached jobs' files so far, also the train_bg run's metrics (a later call may never come)
      cp "$RD/metrics.jsonl" "$OUT/$(basename "$RD")_metrics_sofar.jsonl" 2>/dev/null
      for d in /tmp/mt1/*/ /tmp/algos/*/; do [ -f "$d/metrics.jsonl" ] || continue  # mt1set's and algoset's runs
        n="$(basename "$(dirname "$d")")_$(basename "$d")"  # mt1_<task>, algos_<algo>
        cp "$d/metrics.jsonl" "/tmp/bgout/${n}_metrics.jsonl"; cp "$d/config.json" "/tmp/bgout/${n}_config.json" 2>/dev/null; done
      tar czf "$OUT/bgout.tgz" -C /tmp bgout 2>/dev/null
      tail -n 3 /tmp/bgout/*.log ;;
    follow) # waits (up to FOLLOW_S seconds) for the detached train_bg run, printing its new log lines
      tail -n 5 -f /tmp/train_bg.log & tpid=$!
      end=$((SECONDS + ${FOLLOW_S:-540}))
      while kill -0 "$(cat /tmp/train_bg.pid)" 2>/dev/null && [ $SECONDS -lt $end ]; do sleep 5; done
      kill $tpid
      echo "=== follow done $(date +%T)" ;;
    train_pause|train_cont) # stops (SIGSTOP) or continues the detached train_bg run, e.g. around a benchseq so its
      # timed loops have the GPU alone; the run's own iteration timings then include the pause (say so)
      pkill "-$([ $j = train_pause ] && echo STOP || echo CONT)" -f "[e]xperiments.train .*run_dir=$RD" \
        && echo "$j $(date +%T)" ;;
    train_fetch) # metrics, config and a learner-only checkpoint of the train_bg run (the full one holds 24k env states)
      cp "$RD/metrics.jsonl" "$RD/config.json" "$RD/provenance.json" /tmp/train_bg.log "$OUT/" 2>/dev/null
      for d in "$RD"/seed_*/; do [ -d "$d" ] && gzip -c "$d/metrics.jsonl" > "$OUT/$(basename "$d").metrics.jsonl.gz"; done
      python3 -c "from mtjax import checkpoint; print('exported step', checkpoint.export_learner('$RD', '${RD}_learner'))" \
        && tar czf "$OUT/$(basename "$RD")_learner.tgz" -C "$(dirname "$RD")" "$(basename "$RD")_learner" ;;
    scaling) job scaling 560 python3 -m experiments.benchmark_scaling --out="$OUT/scaling.json" ;;  # on nvidia-h200-x2
    unroll) for u in 1 8 50; do job "unroll$u" 120 python3 -m experiments.benchmark_transforms --solver_unroll=$u \
      --out="$OUT/transforms_unroll$u.json" --tasks=10,50 --methods=mean,pcgrad,cagrad,upgrad,nash_mtl --novariants; done ;;
    *) echo "unknown job $j; valid: stash ppo transforms bridge_tests gpu_tests bridge nets envs envs4k envs24k arm1 arm2 mt50envs train train_bg train_bg_resume train_after follow train_pause train_cont train_fetch mt50envs_bg mt50train_bg mt1set algoset benchset benchseq waitbg collect cache_fetch parkour parkourw scaling unroll" ;;
  esac
done
