#!/usr/bin/env bash
# Shrinks the working tree that every device call copies (tracked ~34 MB since session 27, 23 MB of it
# benchmarks/results and 7.5 MB tests/fixtures, which training and benchmarks on the device never read), so that a
# call's 64 MiB holds more of what it carries: with the tree at ~3.5 MB the warp-lang parts and wheels travel in two
# stash calls instead of four (docs/runs.md, "Fewer device calls").
#
# Usage (here, nothing else running in the tree: tests read tests/fixtures):
#   bash scripts/device_tree.sh slim      # deletes the tracked files of SLIM_PATHS (refuses if any is modified)
#   ... device calls ...
#   bash scripts/device_tree.sh restore   # git checkout of the same paths
# Learner exports a device run resumes from must be copied to runs/carry/ (git-ignored; carry it) before `slim`.
set -euo pipefail
cd "$(dirname "$0")/.."
SLIM_PATHS=(benchmarks/results tests/fixtures)

case ${1:-} in
  slim)
    if [ -n "$(git status --porcelain -- "${SLIM_PATHS[@]}")" ]; then
      echo "device_tree: uncommitted changes under ${SLIM_PATHS[*]}; commit them first:" >&2
      git status --short -- "${SLIM_PATHS[@]}" >&2
      exit 1
    fi
    git ls-files -z -- "${SLIM_PATHS[@]}" | xargs -0 rm -f
    echo "slim: $(git ls-files -z | xargs -0 du -cb 2>/dev/null | tail -n 1 | cut -f1) bytes of tracked files left;" \
      "run 'bash scripts/device_tree.sh restore' after the device calls" ;;
  restore)
    git checkout -- "${SLIM_PATHS[@]}"
    echo "restored: $(git ls-files -- "${SLIM_PATHS[@]}" | wc -l) files" ;;
  *)
    echo "usage: device_tree.sh slim|restore (paths: ${SLIM_PATHS[*]})" >&2
    exit 2 ;;
esac
