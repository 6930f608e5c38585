"""FIFO replay and n-step accumulator (mtjax/replay.py): hand-computed cases."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import serialization

from mtjax import replay

# Jitted once per module: eager op-by-op dispatch dominates these tiny cases on 2 shared cores.
_add = jax.jit(replay.add)
_sample = jax.jit(replay.sample, static_argnums=2)
_push = jax.jit(replay.nstep_push, static_argnames=("gamma", "timeout_as_terminal"))

def _batch(step, n=2):
    # Transition i of add ``step`` carries the value 10 * step + i + 1 (never 0, the padding value).
    v = 10.0 * step + jnp.arange(n, dtype=jnp.float32) + 1.0
    return {"x": v, "obs": jnp.stack([v, -v], axis=1), "task": jnp.zeros((n,), jnp.int32)}


def test_fifo_overwrites_the_oldest_row_and_rounds_capacity_down():
    # N = 2, capacity 7 -> 3 rows (6 transitions). Adds 0..3: add 3 overwrites row 0 (add 0, the oldest).
    state = replay.init_replay(_batch(0), capacity=7)
    assert state.data["x"].shape == (3, 2) and state.data["obs"].shape == (3, 2, 2)
    for step in range(4):
        state = _add(state, _batch(step))
    np.testing.assert_array_equal(state.data["x"], [[31, 32], [11, 12], [21, 22]])
    assert int(state.insert) == 1 and int(state.filled) == 3 and int(replay.num_transitions(state)) == 6


def test_invalid_add_changes_nothing():
    state = replay.add(replay.init_replay(_batch(0), capacity=4), _batch(0))
    after = replay.add(state, _batch(5), valid=False)
    chex.assert_trees_all_equal(after, state)


def test_sample_draws_only_from_filled_rows_and_covers_them():
    # 5 rows, 2 filled: the 4 stored values are {1, 2, 11, 12}; padding rows hold 0.
    state = replay.init_replay(_batch(0), capacity=10)
    state = _add(_add(state, _batch(0)), _batch(1))
    s = _sample(state, jax.random.key(0), 512)
    assert s["x"].shape == (512,) and s["obs"].shape == (512, 2)
    assert set(np.unique(np.asarray(s["x"]))) == {1.0, 2.0, 11.0, 12.0}
    np.testing.assert_array_equal(s["obs"][:, 0], s["x"])  # fields of one transition stay together


def test_sample_per_task_is_stratified_on_an_uneven_task_major_layout():
    # 5 envs, tasks [0, 0, 0, 1, 1] (MTBench's uneven split); each transition stores its own task id.
    task_id = np.array([0, 0, 0, 1, 1], np.int32)
    state = replay.init_replay({"x": jnp.zeros(5), "task": jnp.zeros(5, jnp.int32)}, capacity=15)
    for step in range(2):
        state = _add(state, {"x": 10.0 * step + jnp.arange(5.0) + 1, "task": jnp.asarray(task_id)})
    sample = jax.jit(replay.sample_per_task, static_argnames=("per_task", "num_tasks"))
    s = sample(state, jax.random.key(1), per_task=300, task_id=task_id, num_tasks=2)
    assert s["x"].shape == (2, 300)
    np.testing.assert_array_equal(s["task"], np.repeat([[0], [1]], 300, axis=1))
    # task 0 owns env columns 0..2 -> values {1, 2, 3, 11, 12, 13}; task 1 -> {4, 5, 14, 15}; all are drawn
    assert set(np.unique(np.asarray(s["x"][0]))) == {1.0, 2.0, 3.0, 11.0, 12.0, 13.0}
    assert set(np.unique(np.asarray(s["x"][1]))) == {4.0, 5.0, 14.0, 15.0}


def test_jit_scan_matches_a_step_loop_and_traces_once():
    keys = jax.random.split(jax.random.key(2), 6)

    @chex.assert_max_traces(n=1)
    def run(state, keys):
        def body(st, xs):
            step, k = xs
            st = replay.add(st, _batch(step))
            return st, replay.sample(st, k, 4)["x"]

        return jax.lax.scan(body, state, (jnp.arange(6.0), keys))

    state0 = replay.init_replay(_batch(0), capacity=8)
    f = jax.jit(run, donate_argnums=0)
    got_state, got = f(state0, keys)
    eager = replay.init_replay(_batch(0), capacity=8)
    want = []
    for i in range(6):
        eager = _add(eager, _batch(float(i)))  # a Python loop of separately jitted steps
        want.append(_sample(eager, keys[i], 4)["x"])
    np.testing.assert_array_equal(got, np.stack(want))
    chex.assert_trees_all_equal(got_state, eager)
    f(replay.init_replay(_batch(0), capacity=8), keys)  # second call: no retrace


def test_checkpoint_round_trip_resumes_exactly():
    state = replay.init_replay(_batch(0), capacity=6)
    for step in range(4):
        state = _add(state, _batch(step))
    blob = serialization.to_bytes(state)
    restored = serialization.from_bytes(replay.init_replay(_batch(0), capacity=6), blob)
    chex.assert_trees_all_equal(restored, state)
    key = jax.random.key(3)
    chex.assert_trees_all_equal(_sample(restored, key, 16), _sample(state, key, 16))
    chex.assert_trees_all_equal(_add(restored, _batch(9)), _add(state, _batch(9)))


def test_nbytes_counts_storage_and_works_without_allocating():
    # per transition: obs 3 f32 (12 B) + action 2 f32 (8 B) + done bool (1 B) = 21 B;
    # capacity 8 with N = 4 -> 2 rows = 8 transitions = 168 B, plus the int32 insert and filled (8 B) = 176 B.
    example = {"obs": jnp.zeros((4, 3)), "action": jnp.zeros((4, 2)), "done": jnp.zeros((4,), bool)}
    assert replay.nbytes(replay.init_replay(example, 8)) == 176
    assert replay.nbytes(jax.eval_shape(lambda: replay.init_replay(example, 8))) == 176
    # FastTD3 MT10 sizing, abstractly: 8,388,608 transitions of 2 x 49 obs + 4 action + 3 scalars f32 = 420 B
    big = jax.eval_shape(lambda: replay.init_replay(
        replay.Transition(jnp.zeros((4096, 49)), jnp.zeros((4096, 4)), jnp.zeros(4096), jnp.zeros((4096, 49)),
                          jnp.zeros(4096), jnp.zeros(4096)), 8_388_608))
    assert replay.nbytes(big) == 8_388_608 * 420 + 8


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="capacity"):
        replay.init_replay(_batch(0, n=4), capacity=3)
    with pytest.raises(ValueError, match="leading N"):
        replay.init_replay({"a": jnp.zeros(3), "b": jnp.zeros(4)}, capacity=12)
    with pytest.raises(ValueError, match="n must be"):
        replay.init_nstep(jnp.zeros((2, 1)), jnp.zeros((2, 1)), 0)


# ---------------------------------------------------------------------------------------------- n-step


def _run_nstep(n, rewards, dones, truncs, timeout_as_terminal=True, gamma=0.5):
    # obs of step t is t, next_obs is 10 + t, action is 100 + t; one column per env.
    h, num = rewards.shape
    st = replay.init_nstep(jnp.zeros((num, 1)), jnp.zeros((num, 1)), n)
    outs, readies = [], []
    for t in range(h):
        o = jnp.full((num, 1), float(t))
        st, out, ready = _push(st, o, o + 100.0, jnp.asarray(rewards[t]), o + 10.0, jnp.asarray(dones[t]),
                               jnp.asarray(truncs[t]), gamma=gamma, timeout_as_terminal=timeout_as_terminal)
        outs.append(out)
        readies.append(bool(ready))
    return outs, readies


def test_nstep_five_steps_with_a_done_in_the_middle():
    # n = 3, gamma = 0.5. Env 0: r = [1, 2, 4, 8, 16], episode ends at step 1. Env 1: r = 1, no end.
    r = np.array([[1, 1], [2, 1], [4, 1], [8, 1], [16, 1]], np.float32)
    d = np.zeros((5, 2), bool)
    d[1, 0] = True
    outs, readies = _run_nstep(3, r, d, np.zeros_like(d))
    assert readies == [False, False, True, True, True]
    o2, o3, o4 = outs[2], outs[3], outs[4]
    # push 2 -> transition of step 0, window steps 0..2: env 0 ends at step 1 -> R = 1 + 0.5*2 = 2, m = 2,
    # next_obs at the end = 10 + 1, done = 1. Env 1: R = 1 + 0.5 + 0.25 = 1.75, m = 3, next_obs 12, done 0.
    np.testing.assert_allclose(o2.reward, [2.0, 1.75])
    np.testing.assert_array_equal(o2.n_steps, [2, 3])
    np.testing.assert_array_equal(o2.next_obs[:, 0], [11, 12])
    np.testing.assert_array_equal(o2.done, [1, 0])
    np.testing.assert_array_equal(o2.obs[:, 0], [0, 0])
    np.testing.assert_array_equal(o2.action[:, 0], [100, 100])
    # push 3 -> step 1, window 1..3: env 0's end is the first step: R = 2, m = 1, next_obs 11, done 1.
    np.testing.assert_allclose(o3.reward, [2.0, 1.75])
    np.testing.assert_array_equal(o3.n_steps, [1, 3])
    np.testing.assert_array_equal(o3.next_obs[:, 0], [11, 13])
    np.testing.assert_array_equal(o3.done, [1, 0])
    # push 4 -> step 2 (new episode), window 2..4, no end: R = 4 + 0.5*8 + 0.25*16 = 12, m = 3, next_obs 14.
    np.testing.assert_allclose(o4.reward, [12.0, 1.75])
    np.testing.assert_array_equal(o4.n_steps, [3, 3])
    np.testing.assert_array_equal(o4.next_obs[:, 0], [14, 14])
    np.testing.assert_array_equal(o4.done, [0, 0])
    np.testing.assert_array_equal(o4.obs[:, 0], [2, 2])


def test_nstep_timeouts_terminal_flag():
    # Same env 0, but the end at step 1 is a time-out. MT-SAC (flag on): done = 1. Flag off: the bootstrap is
    # kept (done = 0) from next_obs at the time-out (11) with m = 2 steps, R = 2 unchanged.
    r = np.array([[1], [2], [4]], np.float32)
    d = np.array([[False], [True], [False]])
    for flag, want_done in ((True, 1.0), (False, 0.0)):
        outs, _ = _run_nstep(3, r, d, d, timeout_as_terminal=flag)
        np.testing.assert_array_equal(outs[2].done, [want_done])
        np.testing.assert_allclose(outs[2].reward, [2.0])
        np.testing.assert_array_equal(outs[2].n_steps, [2])
        np.testing.assert_array_equal(outs[2].next_obs[:, 0], [11])


def test_nstep_one_is_the_identity_and_runs_in_scan():
    # n = 1: every push is ready and returns the step itself.
    num = 3
    st = replay.init_nstep(jnp.zeros((num, 2)), jnp.zeros((num, 1)), 1)

    def body(s, t):
        o = jnp.full((num, 2), t)
        s, out, ready = replay.nstep_push(s, o, o[:, :1], o[:, 0] * 2, o + 1, o[:, 0] > 1, o[:, 0] > 5, 0.9)
        return s, (out, ready)

    _, (out, ready) = jax.jit(lambda s: jax.lax.scan(body, s, jnp.arange(4.0)))(st)
    assert bool(jnp.all(ready))
    np.testing.assert_allclose(out.reward[:, 0], [0, 2, 4, 6])
    np.testing.assert_allclose(out.done[:, 0], [0, 0, 1, 1])
    np.testing.assert_allclose(out.next_obs[:, 0, 0], [1, 2, 3, 4])
