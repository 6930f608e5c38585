"""Shared pieces of the benchmark scripts: device/version record, peak device memory, median timing.

Every benchmark records the device and library versions beside its numbers and times jitted calls as the median
of repeats after a warm-up, with ``block_until_ready`` (``benchmarks/README.md``).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import jax

from mtjax import run_logger

__all__ = ["device_info", "median_time", "peak_bytes"]


def device_info(**versions: str) -> dict[str, Any]:
    """``{"device", "platform", "jax", "mujoco"}`` plus any extra ``name=version`` pairs given."""
    d = jax.devices()[0]
    info: dict[str, Any] = {"device": d.device_kind, "platform": d.platform, "jax": jax.__version__}
    try:
        import mujoco

        info["mujoco"] = mujoco.__version__
    except ImportError:
        pass
    info.update(versions)
    return info


peak_bytes = run_logger.device_peak_bytes  # the device's peak memory in use, or None on CPU (one definition)


def median_time(fn: Callable, *args: Any, repeats: int) -> float:
    """Median seconds of ``repeats`` calls of ``fn(*args)``, each waited for with ``block_until_ready``."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(fn(*args))
        times.append(time.perf_counter() - t0)
    return statistics.median(times)
