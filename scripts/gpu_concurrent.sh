#!/usr/bin/env bash
# Several MT10 training runs at once on one GPU, detached, so that they outlive the 10-minute device command and
# share one compile wait: start them in one device call, follow them with calls made right after each other
# (the machine and its /tmp stay while calls follow within the idle window), then fetch their metrics.
#
# Usage (device, repo root; wheels in .whl as for scripts/gpu_run.sh, installed by `start` through it):
#   RUNS="cagrad=experiments/configs/mt10_mtrl.py:cagrad famo=experiments/configs/mt10_mtrl.py:famo" \
#   EXTRA="--config.seed=42" MPS=1 bash scripts/gpu_concurrent.sh start
#   FOLLOW_S=540 bash scripts/gpu_concurrent.sh follow
#   bash scripts/gpu_concurrent.sh fetch          # metrics.jsonl.gz + config.json of each run into $OUT
# Per-run flags go after a '@' in RUNS: "unclamped=experiments/configs/mt10_ppo.py:24k@--config.seed=43" (',' for ' ').
# RESUME="name=DIR ..." continues run <name> from a run directory (e.g. a learner export unpacked on the device):
# it is copied to /tmp/runs/<name> and started with --resume. MuJoCo Warp configs (e.g. mt10_mtrl.py:pcgrad_warp)
# need warp-lang: `start` first runs scripts/gpu_run.sh without a job, which installs .whl, unpacks the warp-lang parts
# kept by earlier calls (and this one) and restores carried compile caches (WARP_CACHE_PATH as there).
# `fetch` also writes each run's learner-only export (<name>_learner.tgz: the full 24k checkpoint holds the envs);
# FULL="name ..." also packs those runs' newest full checkpoint as a run directory (<name>_run.tgz: config,
# provenance, metrics, checkpoints/<newest>), for envs whose state must survive a resume (Go1 hard_cl's curriculum
# levels; a few MB at 4,096 envs): RESUME="name=DIR" from its unpacked <name>/ continues the same run.
# PRE="name=CONFIG[@flags]" runs that one first (e.g. Go1 parkour's stage 1, go1_parkour.py:flat) and then starts RUNS
# with --config.init_params_from=/tmp/runs/<name> (its parameters; docs/parkour.md, "Two-stage protocol"), detached.
# MPS=1 starts NVIDIA's Multi-Process Service first (kernels of the runs then share the GPU instead of
# time-slicing); if a JAX client cannot start under it, MPS is stopped again and the runs go without it.
set -u
export PYTHONUNBUFFERED=1 XLA_PYTHON_CLIENT_PREALLOCATE=false JAX_COMPILATION_CACHE_DIR=/tmp/jaxcache
export CUDA_MPS_PIPE_DIRECTORY=/tmp/mps_pipe CUDA_MPS_LOG_DIRECTORY=/tmp/mps_log
OUT=${OUT:-/tmp/out}
export PYTHONPATH=/tmp/site:$PWD WARP_CACHE_PATH=${WARP_CACHE_PATH:-/tmp/warpcache}
mkdir -p /tmp/runs

start_mps() {
  mkdir -p "$CUDA_MPS_PIPE_DIRECTORY" "$CUDA_MPS_LOG_DIRECTORY"
  if nvidia-cuda-mps-control -d && python3 -c "import jax.numpy as jnp; print('MPS client ok', float(jnp.ones(3).sum()))"; then
    echo "MPS on"; echo 1 > /tmp/runs/mps
  else
    echo quit | nvidia-cuda-mps-control 2>/dev/null; echo "MPS unavailable: runs share the GPU by time-slicing"
    echo 0 > /tmp/runs/mps
  fi
}

launch() {  # launch NAME=CONFIG [FLAGS...]: one detached train run in /tmp/runs/NAME (FLAGS: ','-separated own flags)
  local name=${1%%=*} cfg=${1#*=} own=${2:-} extra=${3:-}
  for r in ${RESUME:-}; do [ "${r%%=*}" = "$name" ] || continue
    rm -rf "/tmp/runs/$name" && cp -r "${r#*=}" "/tmp/runs/$name" && own="$own,--resume"; done
  # shellcheck disable=SC2086
  setsid nohup python3 -m experiments.train --config="$cfg" --config.run_dir="/tmp/runs/$name" \
    --config.tensorboard=False --config.plot=False --config.progress=False --config.iters_per_call=8 \
    --config.checkpoint_every="${CKPT_EVERY:-48}" ${EXTRA:-} ${own//,/ } $extra \
    > "/tmp/runs/$name.log" 2>&1 < /dev/null &
  echo $! > "/tmp/runs/$name.pid"; echo "started $name ($cfg $own $extra) pid $!"
}

case ${1:-} in
  start)
    OUT=$OUT bash "$(dirname "$0")/gpu_run.sh"  # setup only: wheels, warp-lang parts, compile caches; prints the card
    [ "${MPS:-0}" = 1 ] && start_mps
    if [ -n "${PRE:-}" ]; then  # a stage-1 run first, then RUNS from its parameters (detached chain)
      pre=${PRE%%=*}; mkdir -p /tmp/runs
      setsid nohup bash -c "$(declare -f launch); launch ${PRE//@/ } && while kill -0 \$(cat /tmp/runs/$pre.pid) 2>/dev/null; do sleep 5; done; \
        for spec in $RUNS; do launch \${spec/@/ } --config.init_params_from=/tmp/runs/$pre; done" \
        > /tmp/runs/chain.out 2>&1 < /dev/null &
      echo "chain started: $pre, then $RUNS from its parameters (pid $!)"
    else
      for spec in ${RUNS:?set RUNS}; do launch ${spec/@/ }; done
    fi
    FOLLOW_S=${FOLLOW_S:-0} bash "$0" follow ;;
  follow)  # prints each run's last log line every 60 s until all end or FOLLOW_S seconds pass
    end=$((SECONDS + ${FOLLOW_S:-540}))
    while [ $SECONDS -lt $end ]; do
      alive=0
      for p in /tmp/runs/*.pid; do kill -0 "$(cat "$p")" 2>/dev/null && alive=1; done
      for l in /tmp/runs/*.log; do echo "$(date +%T) $(basename "$l" .log): $(grep -v -E 'Failed to import' "$l" | tail -n 1 | cut -c1-220)"; done
      [ $alive = 0 ] && break
      sleep $(( end - SECONDS < 60 ? (end - SECONDS > 0 ? end - SECONDS : 0) : 60 ))
    done
    echo "=== follow done $(date +%T)" ;;
  fetch)
    for d in /tmp/runs/*/; do
      name=$(basename "$d"); [[ $name == *_learner ]] && continue
      gzip -c "$d/metrics.jsonl" > "$OUT/$name.metrics.jsonl.gz" 2>/dev/null
      cp "$d/config.json" "$OUT/$name.config.json" 2>/dev/null; cp "$d/provenance.json" "$OUT/$name.provenance.json" 2>/dev/null
      grep -v -E 'Failed to import' "/tmp/runs/$name.log" | tail -n 30 > "$OUT/$name.log"
      [ -d "$d/checkpoints" ] && python3 -c "from mtjax import checkpoint; print('$name exported step', \
        checkpoint.export_learner('/tmp/runs/$name', '/tmp/runs/${name}_learner'))" \
        && tar czf "$OUT/${name}_learner.tgz" -C /tmp/runs "${name}_learner"
      if [[ " ${FULL:-} " == *" $name "* ]] && [ -d "$d/checkpoints" ]; then
        last=$(find "$d/checkpoints" -mindepth 1 -maxdepth 1 -name '[0-9]*' -printf '%f\n' | sort -n | tail -n 1)
        files=("$name/config.json" "$name/metrics.jsonl" "$name/checkpoints/$last")
        [ -f "$d/provenance.json" ] && files+=("$name/provenance.json")
        tar czf "$OUT/${name}_run.tgz" -C /tmp/runs "${files[@]}" && echo "$name: full checkpoint $last packed"
      fi
    done
    ls -la "$OUT" ;;
  *) echo "usage: gpu_concurrent.sh start|follow|fetch (RUNS, RESUME, EXTRA, MPS, FOLLOW_S, CKPT_EVERY, FULL)"; exit 2 ;;
esac
