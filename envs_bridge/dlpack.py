"""torch <-> JAX without copies through DLPack, version-gated, with an explicit copy policy.

Used by the IsaacGym bridge (``envs_bridge/isaacgym``), whose simulator (MTBench, Joshi et al., 2025,
arXiv 2507.23172) lives in torch. The functions are host calls, not jittable; torch is imported lazily.

Rules (each is enforced where marked ``RULE n`` below):

1. **Protocol gate.** JAX > 0.4.13 uses the modern protocol: the torch tensor itself is handed to
   ``jax.dlpack.from_dlpack`` and a JAX array to ``torch.from_dlpack``; both call ``__dlpack__(stream=...)``.
   JAX <= 0.4.13 (the newest JAX for Python 3.8, i.e. IsaacGym Preview 4) only understands capsules:
   ``torch.utils.dlpack.to_dlpack`` -> ``jax.dlpack.from_dlpack(capsule)`` and ``jax.dlpack.to_dlpack`` ->
   ``torch.utils.dlpack.from_dlpack``. ``protocol()`` tells which path is active.
2. **Copy policy (aliasing).** A zero-copy import makes the JAX array share the producer's memory. The
   simulator overwrites ``obs_buf``/``rew_buf``/``reset_buf`` in place on the next step, and a JAX array
   that outlives the step would silently change (JAX assumes immutability: undefined behaviour). Hence
   ``torch_to_jax(copy=True)`` is the default: the copy is a torch ``clone`` enqueued on torch's current
   stream *before* the simulator's next in-place write (same stream, program order), and the fresh clone is
   then imported without a second copy. ``copy=False`` aliases or raises (never copies silently); use it
   only for buffers nobody writes while the JAX array lives. ``copy=None`` aliases when possible.
   ``jax_to_torch`` aliases by default (``copy=False``): the torch tensor shares JAX's immutable buffer
   and **must not be written in place** (MTBench's ``VecTask.step`` clamps actions into a new tensor).
3. **Stream ordering (CUDA).** Modern path: JAX passes the stream it will read on to torch's
   ``__dlpack__``, which makes that stream wait on an event of torch's current stream (no host sync);
   the other way, torch passes its current stream and JAX makes it wait for the array's definition event.
   Legacy path: capsules carry no stream, so torch's current stream is synchronised before export and the
   JAX array is ``block_until_ready``-ed before export. ``synchronize=True`` forces the host sync on the
   modern path too (for debugging torch versions whose ``__dlpack__`` stream handling differs,
   pytorch #150217 / #163242).
4. **Dtypes.** Supported as-is: float32/16, bfloat16, int8/16/32, uint8, bool, complex64. Without
   ``jax_enable_x64``: float64 -> float32, int64 -> int32, complex128 -> complex64, converted in torch
   (a copy, so ``copy=False`` raises). bool crosses as bool on the modern path; on the legacy path it crosses
   as uint8 and is cast back (old JAX had no DLPack bool). Anything else raises ``TypeError``.
5. **Layout.** Only compact row-major (C-contiguous) tensors are aliased. A non-contiguous tensor (slice
   with steps, transpose, expand) is made contiguous by a copy when ``copy`` is not False and rejected with
   ``ValueError`` when ``copy=False`` (XLA rejects non-compact strides with UNIMPLEMENTED and some versions
   mis-handle permuted layouts). XLA's CPU client needs 64-byte aligned buffers: a misaligned view (e.g.
   ``buf[1:]``) cannot be aliased (``copy=False`` raises, ``copy=None`` copies).
6. **Fast import.** ``jax.dlpack.from_dlpack`` spends most of its ~50-70 us per call in Python (device and
   stream lookup, a ``jnp.asarray`` re-canonicalisation). After RULES 4-5 the tensor already has a canonical
   dtype and layout, so the modern path calls jaxlib's ``dlpack_managed_tensor_to_buffer`` directly with the
   (device, stream) pair cached per torch device (~13 us). Any error from that private entry point (another
   jaxlib) permanently falls back to the public API; ``fast=False`` forces the public API.
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp

__all__ = ["buffer_pointer", "jax_to_torch", "jax_version", "protocol", "torch_to_jax"]


@functools.lru_cache(maxsize=None)  # noqa: UP033 (functools.cache needs Python 3.9)
def jax_version() -> tuple[int, int, int]:
    parts = []
    for p in jax.__version__.split(".")[:3]:
        digits = "".join(c for c in p if c.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts + [0] * (3 - len(parts)))  # type: ignore[return-value]


@functools.lru_cache(maxsize=None)  # noqa: UP033 (functools.cache needs Python 3.9)
def protocol() -> str:
    """``"modern"`` (``__dlpack__`` objects) on JAX > 0.4.13, else ``"legacy"`` (capsules). RULE 1."""
    return "modern" if jax_version() > (0, 4, 13) else "legacy"


def _torch():
    try:
        import torch
    except ImportError as e:  # pragma: no cover - torch is present wherever this is called
        raise ImportError("envs_bridge.dlpack needs PyTorch: pip install 'mtjax[torch]'") from e
    return torch


# Legacy capsule hooks; module attributes so tests can exercise the legacy path on a modern JAX.
def _legacy_capsule_to_jax(capsule: Any) -> jax.Array:
    return jax.dlpack.from_dlpack(capsule)


def _legacy_jax_to_capsule(array: jax.Array) -> Any:
    return jax.dlpack.to_dlpack(array)  # removed in JAX 0.7; only reached on JAX <= 0.4.13


_FAST_CACHE: dict = {}
_FAST_OK = [True]
_DL_PLATFORM = {1: "cpu", 2: "cuda"}  # kDLCPU, kDLCUDA (pinned kDLCUDAHost=3 takes the public path)


def _fast_entry(key: tuple[int, int]):
    from jax._src import xla_bridge
    from jax._src.lib import _jax, jaxlib_extension_version

    device = xla_bridge.get_backend(_DL_PLATFORM[key[0]]).device_from_local_hardware_id(key[1])
    try:
        stream = device.get_stream_for_external_ready_events()  # GPU: JAX's stream for producers
    except _jax.JaxRuntimeError:
        stream = None  # CPU: no streams
    fn = _jax.dlpack_managed_tensor_to_buffer
    if jaxlib_extension_version >= 467:
        return device, stream, lambda cap, copy: fn(cap, device, stream, copy, key[0])
    return device, stream, lambda cap, copy: fn(cap, device, stream, copy)


def _fast_from_dlpack(t: Any, copy: bool | None) -> jax.Array | None:
    """RULE 6: jaxlib's importer with a cached (device, stream); None when unavailable (caller falls back)."""
    if not _FAST_OK[0]:
        return None
    dev_type, dev_id = t.__dlpack_device__()
    key = (int(dev_type), int(dev_id))
    if key[0] not in _DL_PLATFORM:
        return None
    try:
        entry = _FAST_CACHE.get(key)
        if entry is None:
            entry = _FAST_CACHE[key] = _fast_entry(key)
        _, stream, importer = entry
        capsule = t.__dlpack__(stream=stream)  # torch orders its current stream before `stream` (RULE 3)
        return importer(capsule, copy)
    except Exception as e:
        if "align" in str(e):  # a real answer (RULE 5), not an API mismatch
            raise
        _FAST_OK[0] = False  # another jaxlib: use the public API from now on
        return None


def _x64() -> bool:
    return bool(getattr(jax.config, "jax_enable_x64", False))


_DTYPES: dict = {}


def _dtype_tables():
    if not _DTYPES:
        torch = _torch()
        _DTYPES["same"] = {torch.float32, torch.float16, torch.bfloat16, torch.int8, torch.int16, torch.int32,
                           torch.uint8, torch.bool, torch.complex64}
        _DTYPES["wide"] = {torch.float64: torch.float32, torch.int64: torch.int32,
                           torch.complex128: torch.complex64}
    return _DTYPES["same"], _DTYPES["wide"]


def _target_dtype(torch_dtype):
    """The torch dtype a tensor must have before crossing (RULE 4)."""
    same, wide = _dtype_tables()
    if torch_dtype in same:
        return torch_dtype
    if torch_dtype in wide:
        return torch_dtype if _x64() else wide[torch_dtype]
    valid = sorted(str(d).replace("torch.", "") for d in list(same) + list(wide))
    raise TypeError(f"torch_to_jax: dtype {torch_dtype} cannot cross DLPack; supported: {', '.join(valid)}")


def torch_to_jax(tensor: Any, *, copy: bool | None = True, synchronize: bool = False,
                 protocol_override: str | None = None, fast: bool = True) -> jax.Array:
    """Imports a torch tensor into JAX (same device), aliasing its memory unless a copy is requested.

    Args:
      tensor: a ``torch.Tensor`` on CPU or CUDA, any shape ``[...]``.
      copy: ``True`` (default) always returns a private buffer (RULE 2, safe for simulator buffers);
        ``False`` aliases or raises ``ValueError``; ``None`` aliases when possible, copies otherwise.
      synchronize: also synchronise torch's current CUDA stream on the modern path (RULE 3).
      protocol_override: ``"modern"``/``"legacy"`` to force a path (tests); default ``protocol()``.
      fast: use RULE 6's direct importer on the modern path (falls back to the public API by itself).

    Returns:
      A ``jax.Array`` with the tensor's shape and the dtype of RULE 4.

    Raises:
      TypeError: not a torch tensor, or an unsupported dtype.
      ValueError: ``copy=False`` but the tensor needs a dtype conversion, is non-contiguous or misaligned.
    """
    torch = _torch()
    if not isinstance(tensor, torch.Tensor):
        raise TypeError(f"torch_to_jax expects a torch.Tensor, got {type(tensor).__name__}")
    path = protocol_override or protocol()
    if path not in ("modern", "legacy"):
        raise ValueError(f"protocol_override must be 'modern' or 'legacy', got {path!r}")
    t = tensor.detach()
    dtype = _target_dtype(t.dtype)  # RULE 4
    contiguous = t.is_contiguous()
    if copy is False and dtype != t.dtype:
        raise ValueError(f"torch_to_jax(copy=False): dtype {t.dtype} must become {dtype} (RULE 4: no x64), "
                         "which needs a copy; pass copy=True/None or enable jax_enable_x64")
    if copy is False and not contiguous:  # RULE 5
        raise ValueError(f"torch_to_jax(copy=False): tensor with shape {tuple(t.shape)} and strides "
                         f"{tuple(t.stride())} is not C-contiguous, so it cannot be aliased; call "
                         ".contiguous() first or pass copy=True/None")
    fresh = False
    if copy or dtype != t.dtype or not contiguous:
        # RULE 2/4/5: one torch op on the current stream, ordered before the simulator's next write.
        t = t.to(dtype=dtype, memory_format=torch.contiguous_format, copy=True)
        fresh = True
    legacy_bool = path == "legacy" and t.dtype == torch.bool
    if legacy_bool:  # RULE 4: old JAX has no DLPack bool
        if copy is False:
            raise ValueError("torch_to_jax(copy=False): bool crosses the legacy capsule path as uint8 "
                             "(a copy); pass copy=True/None")
        t = t.to(torch.uint8)
        fresh = True
    if t.is_cuda and (path == "legacy" or synchronize):  # RULE 3: capsules carry no stream
        torch.cuda.current_stream(t.device).synchronize()
    if path == "legacy":
        out = _legacy_capsule_to_jax(torch.utils.dlpack.to_dlpack(t))
        if copy is False and out.unsafe_buffer_pointer() != t.data_ptr():
            raise ValueError("torch_to_jax(copy=False): this JAX copied the buffer on import (misaligned?)")
        return out.astype(jnp.bool_) if legacy_bool else out
    # A fresh buffer may be aliased freely (copy=None avoids a second copy); else honour `copy`.
    jcopy = None if fresh else copy
    try:
        out = _fast_from_dlpack(t, jcopy) if fast else None
        if out is None:
            out = jax.dlpack.from_dlpack(t, copy=jcopy)
    except (ValueError, getattr(jax.errors, "JaxRuntimeError", RuntimeError)) as e:
        if "align" not in str(e):
            raise
        # JAX's misalignment message; RULE 5
        raise ValueError(f"torch_to_jax(copy=False): cannot alias this tensor ({e}); XLA needs aligned "
                         "buffers, e.g. slice views like buf[1:] are not; pass copy=True/None") from e
    return out


def jax_to_torch(array: jax.Array, *, copy: bool = False, synchronize: bool = False,
                 protocol_override: str | None = None) -> Any:
    """Exports a JAX array to torch (same device), aliasing its buffer unless ``copy=True``.

    The aliased tensor shares JAX's immutable buffer: never write it in place (RULE 2). Make sure the array
    is not donated while torch holds it (XLA refuses donation of externally referenced buffers).

    Args:
      array: a single-device ``jax.Array`` ``[...]``.
      copy: return a private torch buffer (a torch ``clone`` on torch's current stream, after the wait).
      synchronize: block until the array is ready before export on the modern path too (RULE 3).
      protocol_override: ``"modern"``/``"legacy"`` to force a path (tests); default ``protocol()``.

    Returns:
      A ``torch.Tensor`` of the same shape and dtype.
    """
    torch = _torch()
    if not isinstance(array, jax.Array):
        raise TypeError(f"jax_to_torch expects a jax.Array, got {type(array).__name__}")
    if len(array.devices()) != 1:
        raise ValueError(f"jax_to_torch needs a single-device array, got devices {array.devices()}")
    path = protocol_override or protocol()
    if path not in ("modern", "legacy"):
        raise ValueError(f"protocol_override must be 'modern' or 'legacy', got {path!r}")
    if path == "legacy":
        is_bool = array.dtype == jnp.bool_
        src = array.astype(jnp.uint8) if is_bool else array  # RULE 4
        src.block_until_ready()  # RULE 3: capsules carry no stream
        out = torch.utils.dlpack.from_dlpack(_legacy_jax_to_capsule(src))
        out = out.to(torch.bool) if is_bool else out
    else:
        if synchronize:
            array.block_until_ready()
        out = torch.from_dlpack(array)  # torch passes its current stream; JAX orders it (RULE 3)
    return out.clone() if copy else out


def buffer_pointer(x: Any) -> int:
    """Device address of the first element: ``data_ptr()`` for torch, ``unsafe_buffer_pointer()`` for JAX."""
    if isinstance(x, jax.Array):
        return int(x.unsafe_buffer_pointer())
    return int(x.data_ptr())
