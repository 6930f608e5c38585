#!/usr/bin/env bash
# Packs warp-lang (MuJoCo Warp's runtime for physics_impl="warp") for the device machine, whose calls carry at most
# 64 MiB with the working tree (~27 MB tracked): the wheel (149 MB) without its examples, tests and CPU compiler (warp-clang.so: the
# GPU kernels compile through NVRTC inside warp.so), xz-compressed (77 MB) and split into .wp1, .wp2, .wp3 (git-excluded).
# Carry each part with its own call running `bash scripts/gpu_run.sh stash`; the next gpu_run.sh call unpacks them
# into /tmp/site once the checksums match. Usage (here): bash scripts/warp_parts.sh [PART_MB (default 26: each part beside the tree fits one call)]
set -euo pipefail
ver=1.18.0  # mujoco-mjx 3.17.0's "warp" extra
tmp=$(mktemp -d)
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 -d "$tmp" "warp-lang==$ver"
mkdir "$tmp/x" && (cd "$tmp/x" && unzip -q "$tmp"/warp_lang-*.whl && rm -rf warp/examples warp/tests warp/bin/warp-clang.so)
(cd "$tmp/x" && tar cf - .) | xz -T0 -9 > "$tmp/warp.tar.xz"
rm -rf .wp1 .wp2 .wp3 && mkdir -p "$tmp/parts"
split -b "${1:-26}M" -d -a 1 "$tmp/warp.tar.xz" "$tmp/parts/warp_part_"
(cd "$tmp/parts" && sha256sum warp_part_* > SHA256SUMS)
i=1; for f in "$tmp"/parts/warp_part_*; do mkdir -p ".wp$i"; mv "$f" ".wp$i/"; i=$((i + 1)); done
cp "$tmp/parts/SHA256SUMS" ".wp$((i - 1))/"
grep -qx '/.wp\*/' .git/info/exclude || echo '/.wp*/' >> .git/info/exclude
du -sh .wp*; rm -rf "$tmp"
