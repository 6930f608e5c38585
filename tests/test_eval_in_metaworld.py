"""experiments.eval_in_metaworld: our policy's view of a Meta-World observation, and the pipe protocol with
scripts/metaworld_policy_driver.py (run here against a stand-in ``metaworld`` package, so no Meta-World venv is
needed; the real one is exercised by the tool's runs recorded in docs/metaworld_mjx.md)."""

import os
import subprocess
import sys
import textwrap

import jax.numpy as jnp
import numpy as np
import pytest

from experiments import eval_in_metaworld as ev

NAMES = ("reach", "push", "pick-place", "door-open", "drawer-open")


def _one_hot_policy(obs, task_id):
    """Echoes the one-hot (scaled so that clipping shows) and the task id as the action."""
    return jnp.concatenate([2.0 * obs[:, 39:42] - 0.5, task_id[:, None].astype(obs.dtype)], axis=1)


def test_actions_append_the_task_one_hot_and_clip():
    obs = np.arange(2 * 39, dtype=np.float32).reshape(2, 39) / 100.0
    a = ev.actions_for(_one_hot_policy, NAMES, "pick-place", obs)
    # one-hot of index 2 among 5 -> columns 39..41 read (0, 0, 1) -> (-0.5, -0.5, 1.5) -> clipped to 1; task id 2 -> 1
    np.testing.assert_allclose(a, [[-0.5, -0.5, 1.0, 1.0]] * 2)
    seen = {}
    ev.actions_for(lambda o, t: seen.setdefault("o", o)[:, :4], NAMES, "push", obs)
    np.testing.assert_allclose(np.asarray(seen["o"])[:, :39], obs)  # the 39 floats pass unchanged
    np.testing.assert_allclose(np.asarray(seen["o"])[:, 39:], [[0, 1, 0, 0, 0]] * 2)


def test_reach_puck_pinned_only_for_reach_and_only_its_slots():
    obs = np.full((1, 39), 0.3, np.float32)
    pinned = ev.pin_reach_puck(obs)
    expect = obs.copy()
    expect[0, [6, 24]] = 0.02
    expect[0, [7, 8, 9, 25, 26, 27]] = 0.0
    expect[0, [10, 28]] = 1.0
    np.testing.assert_array_equal(pinned, expect)
    seen = []
    ev.actions_for(lambda o, t: seen.append(np.asarray(o)) or o[:, :4], NAMES, "push", obs, pin=True)
    ev.actions_for(lambda o, t: seen.append(np.asarray(o)) or o[:, :4], NAMES, "reach", obs, pin=True)
    np.testing.assert_array_equal(seen[0][:, :39], obs)  # push: untouched
    np.testing.assert_array_equal(seen[1][:, :39], expect)


def test_actions_for_rejects_unknown_task_and_wrong_shape():
    with pytest.raises(ValueError, match="not one of the run's tasks"):
        ev.actions_for(_one_hot_policy, NAMES, "window-close", np.zeros((1, 39)))
    with pytest.raises(ValueError, match=r"\[episodes, 39\]"):
        ev.actions_for(_one_hot_policy, NAMES, "reach", np.zeros((1, 40)))


_STUB = textwrap.dedent("""
    import numpy as np

    class _Task:
        def __init__(self, env_name, i):
            self.env_name, self.i = env_name, i

    class _Env:  # success once the summed x actions reach 3 + the variation's index
        def set_task(self, t):
            self.i, self._last_rand_vec = t.i, np.array([t.i, 0.0, 0.0])
        def reset(self):
            self.x = 0.0
            return self._obs(), {}
        def _obs(self):
            o = np.zeros(39)
            o[0], o[1] = self.x, self.i
            return o
        def step(self, a):
            self.x += float(a[0])
            return self._obs(), float(a[0]), False, False, {"success": float(self.x >= 3.0 + self.i)}
        def close(self):
            pass

    class MT10:
        def __init__(self, seed):
            self.train_tasks = [_Task(f"{n}-v3", i) for n in ("reach", "push") for i in range(3)]
            self.train_classes = {"reach-v3": _Env, "push-v3": _Env}
""")


def test_driver_and_serve_run_episodes_and_count_success(tmp_path):
    pkg = tmp_path / "metaworld"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(_STUB)
    seen_obs = []

    def policy(obs, task_id):  # reach: +1 per step, push: +0.5 per step (x in the observation's slot 0)
        seen_obs.append(np.asarray(obs[:, 0]))
        return jnp.where(task_id[:, None] == 0, jnp.array([1.0, 0, 0, 0]), jnp.array([0.5, 0, 0, 0]))

    cmd = [sys.executable, ev.DRIVER, "--tasks", "reach", "push", "--episodes", "3", "--steps", "5"]
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    with subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env) as proc:
        res = ev.serve(proc, policy, NAMES)
    reach, push = res["reach"], res["push"]
    # reach: x = t + 1 after step t; success needs x >= 3 + i -> first success step 3, 4, 5 (1-based)
    assert [e["first_success_step"] for e in reach["episodes"]] == [3, 4, 5]
    assert reach["any_success"] == reach["last_success"] == 1.0 and reach["first_success_step"] == 4.0
    assert reach["return"] == 5.0 and [e["rand_vec"][0] for e in reach["episodes"]] == [0, 1, 2]
    # push: x = 0.5 (t + 1) <= 2.5 < 3: never
    assert push["any_success"] == 0.0 and push["first_success_step"] is None and push["return"] == 2.5
    np.testing.assert_allclose(seen_obs[1], [1.0, 1.0, 1.0])  # the driver's second observation carries step 1's x


def test_serve_reports_a_driver_that_dies():
    cmd = [sys.executable, "-c", "import sys; sys.exit(3)"]
    with (subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as proc,
          pytest.raises(RuntimeError, match="exit code 3")):
        ev.serve(proc, _one_hot_policy, NAMES)
