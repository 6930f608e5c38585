"""IsaacGym bridge: adapter and host-loop trainer against the torch stand-in (tests/torch_vectask_standin.py).

IsaacGym cannot be installed here; the stand-in reproduces MTBench's VecTask interface and step timing.
GPU tests (``-m gpu``) run the same adapter on CUDA and check zero-copy of actions and observations.
"""

import os
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

torch = pytest.importorskip("torch")

sys.path.insert(0, os.path.dirname(__file__))
import torch_vectask_standin as standin

from envs_bridge import dlpack
from envs_bridge.isaacgym import (
    IsaacGymConfig,
    hydra_overrides,
    make_isaacgym_env,
    task_ids_for,
)
from experiments import isaacgym_run
from mtjax import nets
from mtjax.algos import host_loop, ppo

CPU = {"sim_device": "cpu", "rl_device": "cpu"}


def _env(num_envs=20, episode_length=5, **kw):
    cfg = IsaacGymConfig(suite="mt10", num_envs=num_envs, episode_length=episode_length, **CPU, **kw)
    return make_isaacgym_env(cfg, make_fn=standin.make, compose_fn=standin.compose)


def _small_ppo(**kw):
    base_kw = {"horizon": 8, "epochs": 2, "minibatch_size": 80, "lr": 1e-3}
    base_kw.update(kw)
    return ppo.PPOConfig(**base_kw)


def _nets(env):
    return nets.make_actor_critic(actor_net="mlp", critic_net="mlp", action_size=env.action_size,
                                  num_tasks=env.num_tasks, actor_kwargs={"hidden": (16,)},
                                  critic_kwargs={"hidden": (16,)})


def test_missing_isaacgym_gives_install_instructions():
    with pytest.raises(ImportError, match="IsaacGym Preview 4") as e:
        make_isaacgym_env(IsaacGymConfig(suite="mt10", num_envs=40))
    assert "pip install -e ." in str(e.value) and "XLA_PYTHON_CLIENT_PREALLOCATE=false" in str(e.value)


def test_task_tables_and_overrides():
    ids, names = task_ids_for("mt10")
    assert ids == (4, 16, 17, 18, 28, 31, 38, 40, 48, 49) and names[1] == "door_open"
    ids, names = task_ids_for("metaworld", ("reach-v3", "push", "assembly"))
    assert ids == (0, 38, 40) and names == ("assembly", "push", "reach")
    with pytest.raises(ValueError, match="valid: .*window_open"):
        task_ids_for("mt50", ("reachh",))
    with pytest.raises(ValueError, match="valid: .*go1_hard"):
        task_ids_for("mt11")
    ov, _ = hydra_overrides(IsaacGymConfig(suite="mt10", num_envs=24576))
    # MTBench's split: 24,576 = 2,458 x 6 + 2,457 x 4
    assert "task_counts=[2458,2458,2458,2458,2458,2458,2457,2457,2457,2457]" in ov
    assert "task_id=[4,16,17,18,28,31,38,40,48,49]" in ov and "task=meta-world-v2" in ov
    with pytest.raises(ValueError, match="episode_length_s"):
        hydra_overrides(IsaacGymConfig(suite="go1_hard", num_envs=4096, episode_length=150))
    ov, names = hydra_overrides(IsaacGymConfig(suite="go1_hard", num_envs=4200))
    assert "task=final_go1_hard" in ov and "task_id=[" + ",".join(map(str, range(21))) + "]" in ov
    assert names[0] == "jump_on_and_off_box" and names[-1] == "flat"
    with pytest.raises(ValueError, match="summing to num_envs"):
        hydra_overrides(IsaacGymConfig(suite="mt10", num_envs=20, task_counts=(1,) * 10))


def test_adapter_maps_vectask_tensors_to_envstate():
    env = _env(num_envs=20, episode_length=4, reward_scale=100.0)
    vt = env.env
    assert env.task_set.envs_per_task == (2,) * 10 and env.obs_size == 49 and env.action_size == 4
    es = env.reset(jax.random.key(0))
    # MTBench's reset obs is all zeros; the adapter repairs the one-hot only
    np.testing.assert_array_equal(np.asarray(es.obs[:, -10:]), env.task_set.one_hot())
    assert float(jnp.abs(es.obs[:, :39]).sum()) == 0.0
    returns = np.zeros(20)
    a = jnp.tile(jnp.array([[0.5, -0.2, 0.1, 1.0]]), (20, 1))
    for step in range(8):
        es = env.step(es, a)
        assert env._held_action.data_ptr() == dlpack.buffer_pointer(a)  # the action crossed zero-copy
        np.testing.assert_allclose(np.asarray(es.obs), vt.obs_buf.numpy(), rtol=0, atol=0)
        np.testing.assert_allclose(np.asarray(es.reward), vt.rew_buf.numpy(), rtol=0, atol=0)
        np.testing.assert_array_equal(np.asarray(es.done), vt.reset_buf.numpy() != 0)
        np.testing.assert_array_equal(np.asarray(es.truncated), vt.extras["time_outs"].numpy())
        np.testing.assert_array_equal(np.asarray(es.info["success"]), vt.success_buf.numpy())
        returns += vt.rew_buf.numpy()
        if bool(es.done.any()):
            d = np.asarray(es.done)
            # episode return accumulated by the adapter == MTBench's cumulative reward logged in extras
            np.testing.assert_allclose(np.asarray(es.info["episode_return"])[d], returns[d], rtol=1e-5)
            got = np.asarray(es.info["episode_return"])[d][:2]
            np.testing.assert_allclose(got, vt.extras["episode"]["task_4_reward"].numpy(), rtol=1e-5)
            assert set(np.asarray(es.info["episode_length"])[d].tolist()) == {3 if step == 2 else 4}
            returns[d] = 0.0
    np.testing.assert_array_equal(np.asarray(es.task_id), env.task_set.task_ids)


def test_copy_policy_survives_in_place_rew_buf_write():
    env = _env(num_envs=10)
    es = env.reset(jax.random.key(0))
    es1 = env.step(es, jnp.full((10, 4), 0.5))
    kept_reward, kept_obs = np.asarray(es1.reward).copy(), np.asarray(es1.obs).copy()
    env.step(es1, jnp.full((10, 4), -1.0))  # the simulator rewrites rew_buf in place
    assert not np.allclose(env.env.rew_buf.numpy(), kept_reward)
    np.testing.assert_array_equal(np.asarray(es1.reward), kept_reward)
    np.testing.assert_array_equal(np.asarray(es1.obs), kept_obs)


def test_adapter_sorts_interleaved_layout_into_task_major():
    env = _env(num_envs=20, overrides=("+task.env.interleave=True",))
    vt = env.env
    raw_tid = vt.extras["task_indices"].numpy()
    assert not np.all(np.diff(raw_tid) >= 0)  # round-robin in the simulator
    es = env.reset(jax.random.key(0))
    # action of task-major env i encodes its task id; the simulator must receive it at the env of that task
    a = jnp.stack([env.task_set.task_ids.astype(np.float32) / 10.0] + [jnp.zeros(20)] * 3, -1)
    es = env.step(es, a)
    np.testing.assert_allclose(vt.actions[:, 0].numpy(), raw_tid / 10.0, rtol=1e-6)
    onehot_task = np.argmax(np.asarray(es.obs[:, -10:]), -1)
    np.testing.assert_array_equal(onehot_task, env.task_set.task_ids)


class _GoalVecTask(standin.PointVecTask):
    """Go1-style goal counter: grows each step and is reset *inside* step where the episode ends."""

    def __init__(self, *a, **k):
        super().__init__(*a, **k)
        from types import SimpleNamespace

        self.cfg = SimpleNamespace(terrain=SimpleNamespace(num_goals=8))
        self.cur_goal_idx = torch.zeros(self.num_envs, dtype=torch.long)

    def step(self, actions):
        out = super().step(actions)
        self.cur_goal_idx = torch.where(out[2].bool(), 0, torch.clamp(self.cur_goal_idx + 1, max=8))
        return out


def test_goal_progress_uses_the_episode_running_max():
    from envs_bridge.isaacgym.adapter import VecTaskAdapter

    cfg = standin.compose(hydra_overrides(IsaacGymConfig(suite="mt10", num_envs=10, episode_length=5, **CPU))[0])
    env = VecTaskAdapter(_GoalVecTask(cfg.task, "cpu", "cpu", -1, True), task_ids_for("mt10")[1])
    assert env.goal_progress
    es = env.reset(jax.random.key(0))
    for t in range(4):  # first episode: 4 steps (progress 1..4); its last step reads the reset counter 0
        es = env.step(es, jnp.zeros((10, 4), jnp.float32))
    assert bool(es.done.all()) and int(env.env.cur_goal_idx.max()) == 0
    np.testing.assert_allclose(np.asarray(es.info["episode_progress"]), 3 / 8)  # max before the reset
    es = env.step(es, jnp.zeros((10, 4), jnp.float32))
    np.testing.assert_allclose(np.asarray(es.info["progress"]), 1 / 8)  # new episode starts from its own count


def test_host_loop_trains_end_to_end_on_standin():
    env = _env(num_envs=20, episode_length=6)
    init_fn, apply_fn = _nets(env)
    trainer = host_loop.make_host_train(_small_ppo(), env, init_fn, apply_fn)
    state = trainer.init(jax.random.key(0))
    p0 = jax.tree.map(np.asarray, state.learner.params)
    for _ in range(2):
        state, m = trainer.iteration(state)
    assert not bool(m["nonfinite"]) and np.isfinite(float(m["loss/total"]))
    assert float(m["task/episodes"].sum()) > 0 and np.isfinite(float(m["return"]))
    moved = jax.tree.map(lambda a, b: float(np.abs(np.asarray(a) - b).max()), state.learner.params, p0)
    assert max(jax.tree.leaves(moved)) > 0


def test_packed_fast_path_equals_envstate_path(goal=True):
    """One dispatch per step + per-iteration statistics give the same training as the per-step EnvState path.

    Run with the Go1-style goal counter (the only branch that differs from Meta-World: a running max).
    """
    from envs_bridge.isaacgym.adapter import VecTaskAdapter

    def make():
        if not goal:
            return _env(num_envs=20, episode_length=6)
        cfg = standin.compose(hydra_overrides(IsaacGymConfig(suite="mt10", num_envs=20, episode_length=6,
                                                             **CPU))[0])
        return VecTaskAdapter(_GoalVecTask(cfg.task, "cpu", "cpu", -1, True), task_ids_for("mt10")[1])

    runs = []
    for packed in (False, True):
        env = make()
        init_fn, apply_fn = _nets(env)
        trainer = host_loop.make_host_train(_small_ppo(), env, init_fn, apply_fn, packed=packed)
        state = trainer.init(jax.random.key(5))
        ms = []
        for _ in range(2):
            state, m = trainer.iteration(state)
            ms.append(m)
        runs.append((state, ms))
    (s0, m0), (s1, m1) = runs
    close = lambda a, b: np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)
    jax.tree.map(close, s0.learner.params, s1.learner.params)
    jax.tree.map(close, (s0.env_state.obs, s0.env_state.episode, s0.env_state.info),
                 (s1.env_state.obs, s1.env_state.episode, s1.env_state.info))
    for k in ("loss/total", "reward", "return", "progress", "task/episodes"):
        close(m0[1][k], m1[1][k])
    assert float(m1[1]["task/episodes"].sum()) > 0


def _train(env, bound, iterations=2, key=5):
    init_fn, apply_fn = _nets(env)
    trainer = host_loop.make_host_train(_small_ppo(), env, init_fn, apply_fn, bound=bound)
    assert trainer.path == ("bound" if bound else "packed")
    state, ms = trainer.init(jax.random.key(key)), []
    for _ in range(iterations):
        state, m = trainer.iteration(state)
        ms.append(m)
    return state, ms


def _assert_same_training(a, b):
    """Bitwise: both paths feed the same obs to the same jitted policy maths and the same scan (XLA:CPU)."""
    def same(x, y):
        if jnp.issubdtype(x.dtype, jax.dtypes.prng_key):
            x, y = jax.random.key_data(x), jax.random.key_data(y)
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
    jax.tree.map(same, a, b)


def _bind_recorder(env, box, order="auto"):
    """Wraps ``env.bind_packed`` so the test can inspect the binding the host loop made."""
    orig = env.bind_packed
    env.bind_packed = lambda: box.append(orig(order=order)) or box[-1]


@pytest.mark.default_xla  # a bitwise equality of two compiled paths (compile_options.py)
def test_bound_path_equals_packed_path_bitwise():
    """The persistent aliased block + one fused call per step trains exactly like per-step ``step_packed``.

    Interleaved layout (the pack's index_select(out=) branch) and the Go1-style goal counter (running max).
    """
    from envs_bridge.isaacgym.adapter import VecTaskAdapter

    def make():
        ov = hydra_overrides(IsaacGymConfig(suite="mt10", num_envs=20, episode_length=6, **CPU,
                                            overrides=("+task.env.interleave=True",)))[0]
        return VecTaskAdapter(_GoalVecTask(standin.compose(ov).task, "cpu", "cpu", -1, True),
                              task_ids_for("mt10")[1])

    env_b, box = make(), []
    assert env_b._perm is not None
    _bind_recorder(env_b, box)
    s_p, m_p = _train(make(), bound=False)
    s_b, m_b = _train(env_b, bound=True)
    (b,) = box  # one binding for the whole run
    # which import happened: on this CPU JAX, the one import at bind time aliases torch's buffer
    assert b.aliased, b.reason
    assert b.order == "none"  # CPU torch ops are synchronous
    assert dlpack.buffer_pointer(b.block) == b.out.data_ptr()
    assert float(m_b[1]["task/episodes"].sum()) > 0  # episode ends (and resets) inside the rollouts
    _assert_same_training((s_p, m_p), (s_b, m_b))


def test_binding_alias_sees_in_place_torch_writes():
    env, ref = _env(num_envs=20), _env(num_envs=20)
    env.reset(jax.random.key(0))
    ref.reset(jax.random.key(0))
    b = env.bind_packed()
    assert b.aliased, b.reason  # this JAX aliases on CPU: a torch write must show through the JAX array
    assert dlpack.buffer_pointer(b.block) == b.out.data_ptr() and b.block.shape == (20, env.obs_size + 5)
    b.out.fill_(3.0)
    assert float(jnp.min(b.block)) == float(jnp.max(b.block)) == 3.0
    a = jax.random.uniform(jax.random.key(1), (20, 4), minval=-1, maxval=1)
    for _ in range(7):  # across an episode end (episode_length 5): same bytes as the fresh-buffer path
        blk = b.step(a)
        assert blk is b.block
        np.testing.assert_array_equal(np.asarray(blk), np.asarray(ref.step_packed(a)))
    imp = env.bind_packed(order="import")  # re-imports the same memory each step (CUDA: the handshake orders)
    for _ in range(2):
        blk = imp.step(a)
        assert blk is imp.block and dlpack.buffer_pointer(blk) == imp.out.data_ptr()
        np.testing.assert_array_equal(np.asarray(blk), np.asarray(ref.step_packed(a)))
    with pytest.raises(ValueError, match="valid: auto, host, import, none"):
        env.bind_packed(order="sync")
    with pytest.raises(ValueError, match="expected"):  # a wrong column set would make torch resize `out`
        env.bind_packed().pack([b.out[:, :3], b.out[:, :3]])


@pytest.mark.default_xla  # a bitwise equality of two compiled paths (compile_options.py)
def test_bound_path_falls_back_when_the_import_copies(monkeypatch):
    """A JAX whose import copies: the binding says so and re-imports each step; training is unchanged."""
    from envs_bridge.isaacgym import fast_step

    env_b, box = _env(num_envs=20, episode_length=6), []
    _bind_recorder(env_b, box)
    real = dlpack.torch_to_jax
    monkeypatch.setattr(fast_step.dlpack, "torch_to_jax", lambda t, copy=True: real(t, copy=True))
    s_b, m_b = _train(env_b, bound=True, iterations=1)
    monkeypatch.undo()
    (b,) = box
    assert not b.aliased and "copied" in b.reason
    s_p, m_p = _train(_env(num_envs=20, episode_length=6), bound=False, iterations=1)
    _assert_same_training((s_p, m_p), (s_b, m_b))


def test_cli_run_with_standin(tmp_path):
    import ml_collections

    from experiments.configs import mt10_ppo

    c = mt10_ppo.get_config("smoke")
    c.env_backend = "isaacgym"
    c.env.num_envs = 20
    c.env.kwargs = {"episode_length": 6, "reward_scale": 100.0}
    c.isaacgym = ml_collections.ConfigDict({"make_module": "torch_vectask_standin", **CPU})
    c.ppo.horizon, c.ppo.minibatch_size, c.total_iterations, c.iters_per_call, c.checkpoint_every = 8, 80, 2, 1, 1
    c.net.actor_kwargs.hidden = c.net.critic_kwargs.hidden = (16,)
    c.run_dir, c.tensorboard, c.progress, c.plot = str(tmp_path), False, False, False
    rec = isaacgym_run.run(c)
    assert rec["iteration"] == 2 and os.path.isdir(tmp_path / "checkpoints" / "2")
    # resume one more iteration through the out-of-process bridge (the Python-3.8 IsaacGym route)
    c.total_iterations = 3
    c.isaacgym.server_python = sys.executable
    rec2 = isaacgym_run.run(c, resume=True)
    assert rec2["iteration"] == 3 and os.path.isdir(tmp_path / "checkpoints" / "3")


def _ipc_env(device="cpu", num_envs=20, episode_length=5, transport="torch"):
    from envs_bridge.isaacgym.ipc import IPCVecEnv

    cfg = IsaacGymConfig(suite="mt10", num_envs=num_envs, episode_length=episode_length, sim_device=device,
                         rl_device=device)
    return IPCVecEnv(cfg, make_module="torch_vectask_standin", pythonpath=os.path.dirname(__file__),
                     transport=transport,
                     spin_sleep=1e-3 if device == "cpu" else 0.0)  # do not hog the 2 CI cores


def _check_ipc_matches_in_process(ipc, local, steps=7):
    """Same env, same seed: the out-of-process bridge returns what the in-process adapter returns."""
    # zero-copy: the JAX array over the server's output buffer is the memory the torch IPC tensor maps
    assert dlpack.buffer_pointer(ipc._out_jax) == ipc._out.data_ptr()
    assert ipc.task_set == local.task_set and ipc.obs_size == local.obs_size
    es_i, es_l = ipc.reset(jax.random.key(0)), local.reset(jax.random.key(0))
    key, dones = jax.random.key(7), 0
    for _ in range(steps):
        key, sub = jax.random.split(key)
        a = jax.random.uniform(sub, (local.task_set.num_envs, 4), minval=-1, maxval=1)
        es_i, es_l = ipc.step(es_i, a), local.step(es_l, a)
        jax.tree.map(lambda x, y: np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=1e-6),
                     (es_i.obs, es_i.reward, es_i.done, es_i.info), (es_l.obs, es_l.reward, es_l.done, es_l.info))
        dones += int(es_i.done.sum())
    assert dones > 0  # episode ends crossed the bridge too


def test_cuda_array_interface_view_shape():
    from envs_bridge.isaacgym.ipc_server import CudaArrayView

    cai = CudaArrayView(0x7F0000001000, (4096, 54)).__cuda_array_interface__
    assert cai == {"shape": (4096, 54), "typestr": "<f4", "data": (0x7F0000001000, False), "version": 2,
                   "strides": None}


def test_ipc_server_is_python38_and_jax_free():
    import ast

    from envs_bridge.isaacgym import ipc_server

    with open(ipc_server.__file__) as f:
        src = f.read()
    ast.parse(src, feature_version=(3, 8))  # IsaacGym Preview 4's newest Python
    tree = ast.parse(src)
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert {"torch", "numpy"} <= imported
    assert not imported & {"jax", "jaxlib", "envs_bridge", "mtjax", "flax"}, imported


def test_ipc_server_errors_reach_the_learner():
    from envs_bridge.isaacgym.ipc import IPCVecEnv

    cfg = IsaacGymConfig(suite="mt10", num_envs=20, **CPU)
    with pytest.raises(RuntimeError, match="No module named 'no_such_env_module'") as e:
        IPCVecEnv(cfg, make_module="no_such_env_module", spin_sleep=1e-3)
    assert "failed to build the env" in str(e.value)


def test_ipc_bridge_two_processes_cpu():
    ipc = _ipc_env(transport="raw")  # raw CUDA handles fall back to torch's transport on CPU
    try:
        assert ipc.server_info["transport"] == "torch" and ipc.server_info["device"] == "cpu"
        _check_ipc_matches_in_process(ipc, _env(num_envs=20, episode_length=5))
        init_fn, apply_fn = _nets(ipc)
        trainer = host_loop.make_host_train(_small_ppo(), ipc, init_fn, apply_fn)
        _, m = trainer.iteration(trainer.init(jax.random.key(0)))
        assert not bool(m["nonfinite"]) and float(m["task/episodes"].sum()) > 0
    finally:
        ipc.close()
    assert ipc._proc.returncode == 0  # the server exited cleanly on CMD_CLOSE


# ----------------------------------------------------------------------------------------------- GPU


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs torch CUDA")
def test_cuda_adapter_zero_copy_and_host_loop():
    cfg = IsaacGymConfig(suite="mt10", num_envs=4096, episode_length=10, sim_device="cuda:0", rl_device="cuda:0")
    env = make_isaacgym_env(cfg, make_fn=standin.make, compose_fn=standin.compose)
    es = env.reset(jax.random.key(0))
    assert es.obs.devices().pop().platform == "gpu"
    a = jnp.full((4096, 4), 0.25)
    es = env.step(es, a)
    assert env._held_action.data_ptr() == dlpack.buffer_pointer(a)  # the action crossed without a copy
    np.testing.assert_allclose(np.asarray(es.obs), env.env.obs_buf.cpu().numpy())
    init_fn, apply_fn = _nets(env)
    runs = {}
    for bound in (True, False):  # the persistent aliased block (default) and the per-step fresh block
        env = make_isaacgym_env(cfg, make_fn=standin.make, compose_fn=standin.compose)  # same seed, fresh sim
        trainer = host_loop.make_host_train(_small_ppo(minibatch_size=4096), env, init_fn, apply_fn, bound=bound)
        assert trainer.path == ("bound" if bound else "packed")
        state, m = trainer.iteration(trainer.init(jax.random.key(1)))
        assert not bool(m["nonfinite"])
        runs[bound] = (state.env_state.obs, m["reward"], m["loss/total"])
    # same data, different XLA programs around the same policy maths: equal up to float32 rounding
    jax.tree.map(lambda a, b: np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-4, atol=1e-5),
                 runs[True], runs[False])


class _SlowCountVecTask:
    """CUDA VecTask whose step runs ~ms of matmuls on torch's stream, then writes ``step count`` in place."""

    def __init__(self, n, device):
        self.num_envs, self.num_obs, self.num_actions, self.rl_device = n, 49, 4, device
        self.extras = {"task_indices": torch.arange(n, device=device) * 10 // n}
        self.obs_buf = torch.zeros((n, 49), device=device)
        self.rew_buf = torch.zeros(n, device=device)
        self.reset_buf = torch.zeros(n, dtype=torch.long, device=device)
        self.count, self._m = 0, torch.randn(2048, 2048, device=device) / 64

    def step(self, actions):
        x = self._m
        for _ in range(30):  # torch's stream is busy long after the host returns
            x = torch.tanh(x @ self._m)
        self.count += 1
        self.obs_buf.fill_(float(self.count))  # in place, after the chain (same stream)
        self.rew_buf.fill_(float(self.count))
        return {"obs": self.obs_buf}, self.rew_buf, self.reset_buf, self.extras


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs torch CUDA")
@pytest.mark.parametrize("order", ["host", "import"])
def test_cuda_bound_block_orders_torch_writes_and_jax_reads(order):
    """Each JAX read of the aliased block sees exactly the step torch just packed: never the previous one
    (read-after-write: ``order``) and never the next one (write-after-read: the action's event)."""
    from envs_bridge.isaacgym.adapter import VecTaskAdapter

    n, steps = 4096, 24
    env = VecTaskAdapter(_SlowCountVecTask(n, "cuda:0"), tuple(f"t{k}" for k in range(10)))
    torch.cuda.synchronize()  # the env's buffers are initialised (default stream) before the side stream runs
    store = jax.jit(lambda buf, blk, t: (buf.at[t].set(blk[:, 0]), 0.01 * jnp.tanh(blk[:, :4])),
                    donate_argnums=0)
    with torch.cuda.stream(torch.cuda.Stream()):  # torch on a non-default stream: no implicit sync with JAX
        b = env.bind_packed(order=order)
        assert b.aliased and b.order == order and b.block.devices().pop().platform == "gpu", b.reason
        buf, a = jnp.zeros((steps, n), jnp.float32), jnp.zeros((n, 4), jnp.float32)
        for t in range(steps):
            buf, a = store(buf, b.step(a), t)
        got = np.asarray(buf)
    np.testing.assert_array_equal(got, np.broadcast_to(np.arange(1, steps + 1, dtype=np.float32)[:, None],
                                                       (steps, n)))


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs torch CUDA")
@pytest.mark.parametrize("transport", ["torch", "raw"])
def test_cuda_ipc_bridge_two_processes_one_gpu(transport):
    ipc = _ipc_env(device="cuda:0", num_envs=4096, episode_length=5, transport=transport)
    try:
        assert ipc._out.is_cuda and ipc.server_info["device"].startswith("cuda")
        assert ipc.server_info["transport"] == transport
        local = make_isaacgym_env(IsaacGymConfig(suite="mt10", num_envs=4096, episode_length=5,
                                                 sim_device="cuda:0", rl_device="cuda:0"),
                                  make_fn=standin.make, compose_fn=standin.compose)
        _check_ipc_matches_in_process(ipc, local)
    finally:
        ipc.close()


def test_cli_refuses_several_devices_on_the_host_loop(tmp_path):
    from experiments.configs import mt10_ppo

    c = mt10_ppo.get_config("smoke")
    c.env_backend, c.num_devices, c.run_dir = "isaacgym", 2, str(tmp_path)
    with pytest.raises(ValueError, match="num_devices=2: the IsaacGym host loop runs on one device"):
        isaacgym_run.run(c)
    assert not os.listdir(tmp_path)  # refused before the run directory was touched
