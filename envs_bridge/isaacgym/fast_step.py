"""The IsaacGym adapter's persistent-buffer step: pack in place, alias once, no per-step import. **Not jittable.**

MTBench's ``VecTask`` (Joshi et al., 2025, arXiv 2507.23172) updates its torch buffers in place every step. The
packed path (``VecTaskAdapter.step_packed``) allocates a fresh ``[N, O+5]`` block per step with ``torch.cat``
and imports it into JAX through DLPack (35-60 us per import on an H200, ``benchmarks/README.md``). Here one
buffer ``out [N, O+5]`` (float32, on the simulator's device) is allocated once, imported into JAX once with
``copy=False`` (``block``, the same memory), and every step repacks it in place with one ``torch.cat(out=)``
(plus an ``index_select(out=)`` for non-task-major layouts), as the out-of-process server does
(``envs_bridge/isaacgym/ipc_server.py``).

Aliasing rule (``envs_bridge.dlpack`` RULE 2): ``block`` changes on every ``step``. A consumer must read it only
inside a jitted call whose outputs hold copies (the host loop writes it into its rollout buffer with
``dynamic_update_slice`` in the same call that computes the next action), and must pass to ``step`` an action
produced by that call or later, so that the call has finished reading ``block`` before torch overwrites it:

* write-after-read (torch's next pack vs JAX's read): ``jax_to_torch(action)`` makes torch's stream wait for
  the action's definition event (CUDA; recorded after the whole jitted call) or blocks until it is ready (CPU),
  so the next pack is ordered after every read of ``block`` in that call.
* read-after-write (JAX's next read vs torch's pack), CUDA only, by ``order``:
  ``"host"`` (default on CUDA): the host synchronises torch's current stream after the pack, before the next
  JAX dispatch can be enqueued (one host sync per step; MTBench's PhysX step already syncs on the host);
  ``"import"``: ``out`` is re-imported every step (zero-copy): the DLPack handshake makes JAX's stream wait on
  torch's, without a host sync but with an import (~35 us) per step. CPU torch ops are synchronous: ``"none"``.

If the first import copies instead of aliasing (a JAX whose importer copies), ``aliased`` is False, ``reason``
says why, and every ``step`` imports ``out`` again (a copy, made after the pack, so still correct).
"""

from __future__ import annotations

from typing import Any

import jax

from envs_bridge import dlpack

__all__ = ["ORDERS", "PackedBinding"]

ORDERS = ("auto", "host", "import", "none")


class PackedBinding:
    """A persistent ``[N, O+5]`` torch buffer, packed in place each step and aliased by JAX.

    Attributes:
      out: the torch buffer ``[N, O+5]`` float32 (obs | reward | reset | time-out | success | progress).
      block: the JAX array over ``out`` (``[N, O+5]``); a new array each step when not aliased or ``"import"``.
      aliased: the first import shared ``out``'s memory. reason: why not, when not.
      order: how JAX's reads are ordered after torch's pack on CUDA (module docstring).
    """

    def __init__(self, adapter: Any, order: str = "auto"):
        """Allocates ``out`` and imports it once.

        Args:
          adapter: a ``VecTaskAdapter`` (its ``_sim_step``, ``_columns``, ``_perm`` are used).
          order: ``"auto"`` (``"host"`` on CUDA, ``"none"`` on CPU), ``"host"``, ``"import"`` or ``"none"``
            (no ordering: only correct on CPU).

        Raises:
          ValueError: unknown ``order``, or ``"none"`` requested on CUDA.
        """
        if order not in ORDERS:
            raise ValueError(f"order={order!r}; valid: {', '.join(ORDERS)}")
        torch = adapter._torch
        self._torch, self._adapter = torch, adapter
        n, width = adapter.task_set.num_envs, adapter.obs_size + 5
        dev = torch.device(adapter._device())
        self._cuda = dev.type == "cuda"
        if order == "auto":
            order = "host" if self._cuda else "none"
        if order == "none" and self._cuda:
            raise ValueError("order='none' leaves JAX's reads unordered after torch's CUDA writes; use 'host' or "
                             "'import'")
        self.order = order
        self.out = torch.zeros((n, width), dtype=torch.float32, device=dev)
        self._ptr, self._shape, self._checked = self.out.data_ptr(), tuple(self.out.shape), False
        self._scratch = None if adapter._perm is None else torch.zeros_like(self.out)
        self.block = dlpack.torch_to_jax(self.out, copy=None)
        self.aliased = dlpack.buffer_pointer(self.block) == self.out.data_ptr()
        self.reason = "" if self.aliased else (
            f"jax.dlpack import copied the buffer (JAX {jax.__version__}, {dev}): JAX pointer "
            f"{dlpack.buffer_pointer(self.block):#x} != torch {self.out.data_ptr():#x}; re-importing every step")

    def pack(self, cols: list) -> None:
        """Writes the columns into ``out`` in place (one ``cat(out=)``; bool/int columns promote to float32)."""
        torch = self._torch
        if not self._checked:  # a wrong column set would make torch resize `out` (new memory, alias lost)
            width = sum(c.shape[1] for c in cols)
            if width != self._shape[1] or any(c.shape[0] != self._shape[0] for c in cols):
                raise ValueError(f"packed columns are {[tuple(c.shape) for c in cols]}, expected {self._shape}")
            self._checked = True
        if self._scratch is None:
            torch.cat(cols, 1, out=self.out)
        else:
            torch.cat(cols, 1, out=self._scratch)
            torch.index_select(self._scratch, 0, self._adapter._perm, out=self.out)
        if self.out.data_ptr() != self._ptr:  # torch reallocated `out`: JAX's alias would be stale
            raise RuntimeError(f"torch reallocated the packed buffer (shape {tuple(self.out.shape)})")

    def refresh(self) -> jax.Array:
        """Orders JAX's next reads after the pack (``order``) and returns the array to read (``block``)."""
        if self.order == "import" or not self.aliased:
            self.block = dlpack.torch_to_jax(self.out, copy=None)  # the handshake orders JAX after torch
        elif self.order == "host":
            self._torch.cuda.current_stream(self.out.device).synchronize()
        return self.block

    def step(self, action: jax.Array) -> jax.Array:
        """One simulator step with ``action`` [N, A] (task-major); returns ``block`` holding its result.

        ``action`` must come from the jitted call that last read ``block``, or later (module docstring).
        """
        if not self._cuda:
            action.block_until_ready()  # CPU: that call has finished reading `block` (the export waits too)
        ad = self._adapter
        self.pack(ad._columns(*ad._sim_step(action)))
        return self.refresh()
