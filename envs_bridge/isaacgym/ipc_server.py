"""Out-of-process IsaacGym server: torch only (no JAX), Python >= 3.8, run as a plain script.

IsaacGym Preview 4 needs CPython <= 3.8, whose newest JAX is 0.4.13. This server runs the simulator in that
Python and exposes its buffers to a learner process with a current Python/JAX (``envs_bridge.isaacgym.ipc``):

* Setup (once, over an authenticated ``multiprocessing.connection`` socket): the learner sends the env
  factory and its arguments; the server builds the VecTask, allocates an action buffer ``act [N, A]`` and a
  packed output buffer ``out [N, O + 5]`` (obs | reward | reset | time-out | success | progress) on the
  simulator's device and sends them as torch tensors. torch's multiprocessing reductions turn CUDA tensors
  into CUDA IPC memory handles (``cudaIpcGetMemHandle``); the learner maps the *same device memory* and
  aliases it into JAX through DLPack. CPU tensors are shared through ``/dev/shm`` files (torch's
  ``file_system`` strategy), which is what the CPU tests use.
* Per step (no pickling): a 64-byte shared-memory control block holds ``[request_seq, command, reply_seq]``
  (int64). The learner writes the actions into ``act``, synchronises its CUDA stream, sets ``command`` and
  bumps ``request_seq``; the server spins on it, steps the env with ``act``, writes ``out`` with one
  ``torch.cat(..., out=)``, synchronises its stream and publishes ``reply_seq``. The host-side handshake plus
  the stream synchronisations on both sides order all device reads and writes across the two processes.

The env is permuted to task-major order here (by ``extras["task_indices"]``) so the learner sees our layout.
Usage (normally spawned by ``ipc.IPCVecEnv``):
``MTJAX_IPC_AUTHKEY=<hex> python ipc_server.py --address /tmp/x.sock [--pythonpath DIR]``.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import importlib
import os
import sys
import time

CMD_STEP, CMD_RESET, CMD_CLOSE = 1, 2, 3
REQ, CMD, REPLY = 0, 1, 2


def compose_hydra(overrides):
    """MTBench's Hydra config (``isaacgymenvs/cfg/config.yaml``) with our overrides (hydra-core >= 1.1).

    Stdlib-only module level, so both this server (Python 3.8, no JAX) and the in-process adapter use it.
    """
    import isaacgymenvs
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    cfg_dir = os.path.join(os.path.dirname(os.path.abspath(isaacgymenvs.__file__)), "cfg")
    GlobalHydra.instance().clear()
    try:
        ctx = initialize_config_dir(config_dir=cfg_dir, version_base="1.1")  # MTBench's own semantics
    except TypeError:  # hydra 1.1 has no version_base
        ctx = initialize_config_dir(config_dir=cfg_dir)
    with ctx:
        return compose(config_name="config", overrides=list(overrides))


def build_env(spec):
    """Builds the VecTask: ``spec`` = dict(make_module, overrides, make_kwargs). Imports isaacgym before torch."""
    module = spec.get("make_module") or ""
    if not module:
        importlib.import_module("isaacgym")  # must precede torch
        mod = importlib.import_module("isaacgymenvs")
        compose = compose_hydra
    else:
        mod = importlib.import_module(module)
        compose = mod.compose
    cfg = compose(spec["overrides"])
    return mod.make(cfg=cfg, **spec["make_kwargs"])


class CudaDriver:
    """The few CUDA driver calls of the "raw" transport, through ctypes on ``libcuda.so.1`` (no torch internals).

    Torch-version independent: the handles are 64 plain bytes (``CUipcMemHandle``), so a server on IsaacGym's
    old torch and a learner on a current torch need not agree on torch's pickled ``rebuild_cuda_tensor``
    arguments. Calls need a current CUDA context: call after torch has initialised CUDA on this thread.
    """

    class Handle(ctypes.Structure):
        _fields_ = [("reserved", ctypes.c_char * 64)]

    def __init__(self):
        self.lib = ctypes.CDLL("libcuda.so.1")
        self._open = getattr(self.lib, "cuIpcOpenMemHandle_v2", None) or self.lib.cuIpcOpenMemHandle
        self._open.argtypes = [ctypes.POINTER(ctypes.c_uint64), CudaDriver.Handle, ctypes.c_uint]

    def _check(self, rc, what):
        if rc != 0:
            msg = ctypes.c_char_p()
            self.lib.cuGetErrorString(rc, ctypes.byref(msg))
            raise RuntimeError(f"{what} failed: CUDA error {rc} ({(msg.value or b'').decode()})")

    def alloc(self, nbytes: int) -> int:
        ptr = ctypes.c_uint64()
        self._check(self.lib.cuMemAlloc_v2(ctypes.byref(ptr), ctypes.c_size_t(nbytes)), "cuMemAlloc")
        return int(ptr.value)

    def free(self, ptr: int) -> None:
        self._check(self.lib.cuMemFree_v2(ctypes.c_uint64(ptr)), "cuMemFree")

    def export(self, ptr: int) -> bytes:
        h = CudaDriver.Handle()
        self._check(self.lib.cuIpcGetMemHandle(ctypes.byref(h), ctypes.c_uint64(ptr)), "cuIpcGetMemHandle")
        return bytes(h)  # all 64 bytes (``h.reserved`` would stop at the first NUL)

    def open(self, handle: bytes) -> int:
        h = CudaDriver.Handle.from_buffer_copy(handle)
        ptr = ctypes.c_uint64()
        self._check(self._open(ctypes.byref(ptr), h, 1), "cuIpcOpenMemHandle")  # 1: lazy peer access
        return int(ptr.value)

    def close(self, ptr: int) -> None:
        self._check(self.lib.cuIpcCloseMemHandle(ctypes.c_uint64(ptr)), "cuIpcCloseMemHandle")


class CudaArrayView:
    """A ``__cuda_array_interface__`` (v2) producer over a raw float32 device pointer; ``torch.as_tensor``
    consumes it without a copy (and from torch the memory reaches JAX through DLPack)."""

    def __init__(self, ptr: int, shape):
        self.__cuda_array_interface__ = {"shape": tuple(int(d) for d in shape), "typestr": "<f4",
                                         "data": (int(ptr), False), "version": 2, "strides": None}


def tensor_on_pointer(ptr: int, shape, device):
    """A torch float32 tensor viewing ``ptr`` (device memory of ``device``), no copy."""
    import torch

    t = torch.as_tensor(CudaArrayView(ptr, shape), device=device)
    if t.data_ptr() != ptr:
        raise RuntimeError("torch copied the __cuda_array_interface__ buffer; cannot share it")
    return t


class Server:
    """Owns the env and the shared buffers; ``serve()`` answers step/reset commands until close."""

    def __init__(self, env, spin_sleep: float = 0.0, transport: str = "torch"):
        import numpy as np
        import torch

        self.torch = torch
        self.env = env
        self.spin_sleep = spin_sleep
        dev = torch.device(getattr(env, "rl_device", "cpu"))
        self.device = dev
        self.num_envs = int(env.num_envs)
        self.obs_size = int(getattr(env, "num_obs", getattr(env, "num_observations", 0)))
        self.action_size = int(env.num_actions)
        tidx = env.extras.get("task_indices", getattr(env, "task_indices", None))
        tidx = np.asarray(tidx.detach().cpu().numpy(), dtype=np.int64)
        perm = np.argsort(tidx, kind="stable")
        self.task_indices = tidx[perm]
        inv = np.empty_like(perm)
        inv[perm] = np.arange(len(perm))
        ident = bool(np.array_equal(perm, np.arange(len(perm))))
        self.perm = None if ident else torch.as_tensor(perm, device=dev)
        self.inv_perm = None if ident else torch.as_tensor(inv, device=dev)
        shapes = {"act": (self.num_envs, self.action_size), "out": (self.num_envs, self.obs_size + 5)}
        self.transport = transport if dev.type == "cuda" else "torch"  # raw handles are CUDA only
        self.raw = {}
        if self.transport == "raw":
            torch.zeros(1, device=dev)  # CUDA context current on this thread before driver calls
            self.driver = CudaDriver()
            for name, shape in shapes.items():
                ptr = self.driver.alloc(4 * shape[0] * shape[1])
                self.raw[name] = (ptr, self.driver.export(ptr), shape)
                setattr(self, name, tensor_on_pointer(ptr, shape, dev))
                getattr(self, name).zero_()
        else:
            self.act = torch.zeros(shapes["act"], dtype=torch.float32, device=dev)
            self.out = torch.zeros(shapes["out"], dtype=torch.float32, device=dev)
        self._scratch = torch.zeros_like(self.out)

    def _write(self, obs, rew, reset, timeouts, succ, prog):
        torch = self.torch
        # One kernel: cat promotes bool/int columns into the float32 output (reset_buf is 0/1).
        cols = [obs, rew.reshape(-1, 1), reset.reshape(-1, 1), timeouts.reshape(-1, 1), succ.reshape(-1, 1),
                prog.reshape(-1, 1)]
        if self.perm is None:
            torch.cat(cols, 1, out=self.out)
        else:
            torch.cat(cols, 1, out=self._scratch)
            torch.index_select(self._scratch, 0, self.perm, out=self.out)
        if self.out.is_cuda:
            torch.cuda.current_stream(self.out.device).synchronize()

    @property
    def goal_progress(self) -> bool:
        """Go1-style goal counter present (the learner then keeps the episode's running max of progress)."""
        num_goals = getattr(getattr(getattr(self.env, "cfg", None), "terrain", None), "num_goals", None)
        return getattr(self.env, "cur_goal_idx", None) is not None and bool(num_goals)

    def _signals(self, extras):
        torch = self.torch
        succ = getattr(self.env, "success_buf", None)
        if succ is None:
            succ = torch.zeros(self.num_envs, dtype=torch.bool, device=self.device)
        if self.goal_progress:
            prog = self.env.cur_goal_idx.float() / float(self.env.cfg.terrain.num_goals)
        else:
            prog = succ.float()
        return succ, prog

    def reset(self):
        obs = self.env.reset()["obs"]
        z = self.torch.zeros(self.num_envs, device=obs.device)
        self._write(obs, z, z, z, z.bool(), z)

    def step(self):
        a = self.act if self.inv_perm is None else self.act.index_select(0, self.inv_perm)
        obs_dict, rew, reset, extras = self.env.step(a)
        timeouts = extras.get("time_outs")
        if timeouts is None:
            timeouts = self.torch.zeros_like(rew, dtype=self.torch.bool)
        succ, prog = self._signals(extras)
        self._write(obs_dict["obs"], rew, reset, timeouts, succ, prog)

    def serve(self, ctrl, seen: int):
        """Spins on ``ctrl`` (an int64 array view of the shared control block) until CMD_CLOSE.

        ``seen`` is the request counter read *before* the buffers were announced: the learner may send its
        first request before this loop starts, so reading it here could swallow that request.
        """
        parent = os.getppid()
        while True:
            spins = 0
            while int(ctrl[REQ]) == seen:
                spins += 1
                if spins > 2000:
                    time.sleep(self.spin_sleep)
                if spins % 1024 == 0 and os.getppid() != parent:
                    return  # the learner died without CMD_CLOSE: do not spin forever
            seen = int(ctrl[REQ])
            cmd = int(ctrl[CMD])
            if cmd == CMD_CLOSE:
                ctrl[REPLY] = seen
                return
            if cmd == CMD_RESET:
                self.reset()
            else:
                self.step()
            ctrl[REPLY] = seen


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--address", required=True, help="the learner's listening socket path")
    p.add_argument("--pythonpath", default="", help="extra sys.path entries (os.pathsep separated)")
    args = p.parse_args(argv)
    for d in filter(None, args.pythonpath.split(os.pathsep)):
        sys.path.insert(0, d)
    from multiprocessing import connection, shared_memory

    import numpy as np

    authkey = bytes.fromhex(os.environ["MTJAX_IPC_AUTHKEY"])
    conn = connection.Client(args.address, family="AF_UNIX", authkey=authkey)
    spec = conn.recv()  # plain dict of str/int/list (sent by the learner)
    try:
        env = build_env(spec)  # isaacgym (if any) is imported before torch here
        import torch
        import torch.multiprocessing as tmp

        tmp.set_sharing_strategy("file_system")  # CPU tensors by /dev/shm name (CUDA uses IPC handles anyway)
        server = Server(env, spin_sleep=float(spec.get("spin_sleep", 0.0)),
                        transport=spec.get("transport", "torch"))
    except Exception:  # report to the learner instead of dying silently
        import traceback

        conn.send({"error": traceback.format_exc(), "python": sys.version.split()[0]})
        conn.close()
        raise
    shm = shared_memory.SharedMemory(name=spec["shm_name"])
    # The learner owns (and unlinks) the block; Python < 3.13 would unlink it at our exit (bpo-38119).
    with contextlib.suppress(Exception):
        from multiprocessing import resource_tracker

        resource_tracker.unregister(shm._name, "shared_memory")
    ctrl = np.ndarray((8,), dtype=np.int64, buffer=shm.buf)
    info = {"num_envs": server.num_envs, "obs_size": server.obs_size, "action_size": server.action_size,
            "task_indices": server.task_indices.tolist(), "device": str(server.device),
            "torch_version": torch.__version__, "python": sys.version.split()[0], "transport": server.transport,
            "goal_progress": server.goal_progress}
    if server.transport == "raw":  # 64-byte CUDA IPC handles, no torch objects on the wire
        info.update({f"{k}_handle": v[1] for k, v in server.raw.items()})
        info.update({f"{k}_shape": list(v[2]) for k, v in server.raw.items()})
    else:  # torch's reductions: CUDA IPC handles / shm file names inside rebuild payloads
        info.update(act=server.act, out=server.out)
    seen = int(ctrl[REQ])  # before the learner knows the buffers, hence before its first request
    conn.send(info)
    try:
        server.serve(ctrl, seen)
    finally:
        del ctrl
        shm.close()
        conn.close()


if __name__ == "__main__":
    main()
