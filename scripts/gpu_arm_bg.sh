#!/usr/bin/env bash
# Detached device session: Go1 parkour env benchmark, then the MT10 env step with the arm hand (frame_skip 1).
# start: setsid nohup bash scripts/gpu_arm_bg.sh > /tmp/arm_bg.log 2>&1 &   follow: tail /tmp/arm_bg.log
set -u
export OUT=/tmp/armout; mkdir -p $OUT
bash scripts/gpu_run.sh parkour
export PYTHONUNBUFFERED=1 XLA_PYTHON_CLIENT_PREALLOCATE=false JAX_COMPILATION_CACHE_DIR=/tmp/jaxcache PYTHONPATH=/tmp/site:$PWD
echo "=== arm fs1 $(date +%T)"
timeout 560 python3 experiments/benchmark_envs.py --envs 24576 --no-profile --repeats 5 --hand arm --frame-skip 1 \
  --iterations 6 --out="$OUT/envs24k_arm_fs1_it6.json" 2>&1 | grep --line-buffered -v -i "warp"
echo "=== done $(date +%T)"
