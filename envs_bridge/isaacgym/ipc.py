"""Learner side of the out-of-process IsaacGym bridge (Part B). **Not jittable.**

IsaacGym Preview 4 runs only on CPython <= 3.8 (newest JAX there: 0.4.13). ``IPCVecEnv`` starts
``ipc_server.py`` in the IsaacGym Python (torch only, no JAX), receives the server's action buffer and packed
output buffer once (CUDA IPC memory handles through torch's multiprocessing reductions; ``/dev/shm`` files on
CPU), maps the output buffer into JAX **once** without a copy (``dlpack.torch_to_jax(copy=False)``) and then
steps with a shared-memory handshake (see ``ipc_server``'s docstring for the protocol).

Aliasing rule (``envs_bridge.dlpack`` RULE 2): the JAX array over the server's output buffer changes on every
step, so it is only ever read inside the jitted ``finish`` (``adapter.make_finish``), whose slices are new XLA
buffers; the next request is sent only after the learner's CUDA stream is synchronised following the action
copy, and the action depends on ``finish``'s outputs, so the server never overwrites data XLA still reads.
The same host-env interface as ``VecTaskAdapter`` (``reset(key)``, ``step(state, action)``), so
``mtjax.algos.host_loop.make_host_train`` drives either.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from multiprocessing import connection, shared_memory

import jax
import jax.numpy as jnp
import numpy as np

from envs_bridge import dlpack
from envs_bridge.isaacgym import ipc_server
from envs_bridge.isaacgym.adapter import IsaacGymConfig, hydra_overrides, make_finish
from mtjax import envs

__all__ = ["SERVER_SCRIPT", "IPCVecEnv"]

SERVER_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ipc_server.py")
CMD_STEP, CMD_RESET, CMD_CLOSE = 1, 2, 3
REQ, CMD, REPLY = 0, 1, 2


class IPCVecEnv:
    """An MTBench VecTask living in another process (see the module docstring).

    Attributes:
      task_set, obs_size, action_size: as ``VecTaskAdapter``. server_info: what the server reported.
    """

    def __init__(self, cfg: IsaacGymConfig, *, python: str = sys.executable, make_module: str = "",
                 pythonpath: str = "", timeout_s: float = 300.0, spin_sleep: float = 0.0,
                 repair_reset_onehot: bool = True, transport: str = "torch"):
        """Starts the server and maps its buffers.

        Args:
          cfg: the env to build (the server composes MTBench's Hydra config from ``hydra_overrides(cfg)``).
          python: interpreter of the IsaacGym environment (e.g. ``~/miniconda3/envs/mtbench/bin/python``).
          make_module: module with ``make``/``compose`` replacing isaacgymenvs (tests: the torch stand-in).
          pythonpath: extra ``sys.path`` entries for the server. timeout_s: server start-up limit.
          spin_sleep: seconds the server sleeps between polls after 2,000 empty spins (0: yield only).
          transport: "torch" (torch's multiprocessing reductions; CUDA IPC or /dev/shm) or "raw" (CUDA only:
            64-byte ``cuIpcGetMemHandle`` handles through ctypes, independent of the two torch versions).
        """
        if transport not in ("torch", "raw"):
            raise ValueError(f"transport={transport!r}; valid: torch, raw")
        import torch

        self._torch = torch
        overrides, names = hydra_overrides(cfg)
        self._tmp = tempfile.mkdtemp(prefix="mtjax-ipc-")
        address = os.path.join(self._tmp, "bridge.sock")
        authkey = os.urandom(16)
        self._shm = shared_memory.SharedMemory(create=True, size=64)
        self._ctrl = np.ndarray((8,), dtype=np.int64, buffer=self._shm.buf)
        self._ctrl[:] = 0
        self._seq = 0
        listener = connection.Listener(address, family="AF_UNIX", authkey=authkey)
        env_vars = dict(os.environ, MTJAX_IPC_AUTHKEY=authkey.hex())
        self._proc = subprocess.Popen([python, SERVER_SCRIPT, "--address", address, "--pythonpath", pythonpath],
                                      env=env_vars)
        atexit.register(self.close)  # never leave the server spinning
        self._conn = self._accept(listener, timeout_s)
        make_kwargs = {"seed": cfg.seed, "task": overrides[0].split("=", 1)[1], "num_envs": cfg.num_envs,
                       "sim_device": cfg.sim_device, "rl_device": cfg.rl_device,
                       "graphics_device_id": cfg.graphics_device_id, "headless": True, "multi_gpu": False,
                       "virtual_screen_capture": False, "force_render": False}
        self._conn.send({"make_module": make_module, "overrides": overrides, "make_kwargs": make_kwargs,
                         "shm_name": self._shm.name, "spin_sleep": spin_sleep, "transport": transport})
        if not self._conn.poll(timeout_s):
            self.close()
            raise TimeoutError(f"IsaacGym server did not report its buffers within {timeout_s} s")
        try:
            info = self._conn.recv()  # rebuilds the server's tensors: CUDA IPC handles / shm files
        except EOFError:
            info = {"error": f"the server exited (code {self._proc.wait(timeout=30)}) without a report"}
        if "error" in info:
            self.close()
            raise RuntimeError(f"IsaacGym server ({python}, Python {info.get('python', '?')}) failed to build the "
                               f"env:\n{info['error']}")
        self._opened = []
        if info["transport"] == "raw":
            self._driver = ipc_server.CudaDriver()
            dev = torch.device(info["device"])
            torch.zeros(1, device=dev)  # CUDA context current on this thread before driver calls
            for name in ("act", "out"):
                ptr = self._driver.open(info.pop(f"{name}_handle"))
                self._opened.append(ptr)
                setattr(self, f"_{name}", ipc_server.tensor_on_pointer(ptr, info.pop(f"{name}_shape"), dev))
        else:
            self._act = info.pop("act")
            self._out = info.pop("out")
        self.server_info = info
        counts = np.bincount(np.asarray(info["task_indices"]), minlength=len(names))
        self.task_set = envs.TaskSet(tuple(names), tuple(int(c) for c in counts))
        self.obs_size, self.action_size = int(info["obs_size"]), int(info["action_size"])
        self._out_jax = dlpack.torch_to_jax(self._out, copy=False)  # the same memory, mapped once
        self._task_id = jnp.asarray(self.task_set.task_ids)
        self.goal_progress = bool(info.get("goal_progress", False))
        self._copy = jax.jit(lambda x: x + 0.0)  # a new XLA buffer (jnp.copy may forward the input)
        self._finish = make_finish(self.obs_size, jnp.asarray(self.task_set.one_hot()), repair_reset_onehot,
                                   self.goal_progress)

    def _accept(self, listener, timeout_s):
        box: dict = {}
        th = threading.Thread(target=lambda: box.setdefault("conn", listener.accept()), daemon=True)
        th.start()
        t0 = time.time()
        while th.is_alive() and time.time() - t0 < timeout_s:
            if self._proc.poll() is not None:
                listener.close()
                raise RuntimeError(f"IsaacGym server exited with code {self._proc.returncode} before connecting")
            th.join(0.05)
        listener.close()
        if "conn" not in box:
            self._proc.kill()
            raise TimeoutError(f"IsaacGym server did not connect within {timeout_s} s")
        return box["conn"]

    @property
    def num_tasks(self) -> int:
        return self.task_set.num_tasks

    def _request(self, cmd: int) -> None:
        self._seq += 1
        self._ctrl[CMD] = cmd
        self._ctrl[REQ] = self._seq  # publish after the command (x86 stores are not reordered)
        spins = 0
        while int(self._ctrl[REPLY]) != self._seq:
            spins += 1
            if spins > 2000:
                time.sleep(0)  # yield: matters when both processes share few cores
            if spins % 4096 == 0 and self._proc.poll() is not None:
                raise RuntimeError(f"IsaacGym server died (exit code {self._proc.returncode})")

    def reset(self, key: jax.Array) -> envs.EnvState:
        self._request(CMD_RESET)
        n = self.task_set.num_envs
        return self._finish(envs.init_episode_stats(n), self._out_jax, self._task_id, key, True)

    def step(self, state: envs.EnvState, action: jax.Array) -> envs.EnvState:
        self._step_shared(action)
        return self._finish(state.episode, self._out_jax, state.task_id, state.key, False)

    def step_packed(self, action: jax.Array) -> jax.Array:
        """The host loop's fast path (see ``VecTaskAdapter.step_packed``): a private copy of the shared block,
        made before the next request can let the server overwrite it (the next action depends on it)."""
        self._step_shared(action)
        return self._copy(self._out_jax)

    def _step_shared(self, action: jax.Array) -> None:
        torch = self._torch
        if action.dtype != jnp.float32:
            action = action.astype(jnp.float32)
        a = dlpack.jax_to_torch(action)  # zero-copy view of JAX's action
        self._act.copy_(a)  # into the server's memory (N*A floats)
        if self._act.is_cuda:
            torch.cuda.current_stream(self._act.device).synchronize()  # copy done before the server reads
        self._request(CMD_STEP)

    def close(self) -> None:
        """Stops the server and frees the control block (idempotent)."""
        # Drop every view of the server's memory (after pending reads) before the server frees it.
        with contextlib.suppress(Exception):  # (may run from atexit while JAX shuts down)
            jax.block_until_ready(getattr(self, "_out_jax", None))
        self._out_jax = None
        self._out = self._act = None
        for ptr in getattr(self, "_opened", None) or []:
            self._driver.close(ptr)  # raw transport: unmap
        self._opened = []
        atexit.unregister(self.close)
        if getattr(self, "_proc", None) is not None and self._proc.poll() is None:
            try:
                self._ctrl[CMD] = CMD_CLOSE
                self._seq += 1
                self._ctrl[REQ] = self._seq
                self._proc.wait(timeout=30)
            except Exception:  # noqa: BLE001
                self._proc.kill()
        if getattr(self, "_conn", None) is not None:
            self._conn.close()
            self._conn = None
        if getattr(self, "_shm", None) is not None:
            self._ctrl = None
            self._shm.close()
            with contextlib.suppress(FileNotFoundError):
                self._shm.unlink()
            self._shm = None
        shutil.rmtree(getattr(self, "_tmp", ""), ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
