"""envs_bridge/metaworld/tasks.py: the "fixed" mode's variation file is an explicit argument (``rand_vecs_path``
of ``MetaWorldEnv``, reachable through the run's env kwargs), and the task constants have one home."""

import json

import numpy as np

from envs_bridge import registry
from envs_bridge.metaworld import probes, rewards, scenes, tasks


def _write_rand_vecs(path, reach):
    with open(path, "w") as f:
        json.dump({"MT10_seed0": {"reach-v3": reach}}, f)


def test_load_rand_vecs_reads_the_given_file_and_defaults_to_the_packaged_one(tmp_path):
    path = tmp_path / "rv.json"
    reach = [[0.01, 0.65, 0.02, 0.0, 0.85, 0.1], [-0.02, 0.62, 0.02, 0.05, 0.88, 0.2]]
    _write_rand_vecs(path, reach)
    np.testing.assert_array_equal(tasks.load_rand_vecs("reach", str(path)), np.asarray(reach, np.float32))
    default = tasks.load_rand_vecs("reach")
    assert default.shape == (50, 6) and tasks.RAND_VECS_PATH.endswith("rand_vecs_mt10_seed0.json")


def test_make_env_forwards_rand_vecs_path(tmp_path):
    path = tmp_path / "rv.json"
    reach = [[0.01, 0.65, 0.02, 0.0, 0.85, 0.1]] * 3
    _write_rand_vecs(path, reach)
    env = registry.make_env("reach", 2, mode="fixed", rand_vecs_path=str(path))  # builds the model, no stepping
    np.testing.assert_array_equal(np.asarray(env._tasks[0].rand_vecs), np.asarray(reach, np.float32))


def test_task_constants_have_one_home():
    assert scenes.TASKS is tasks.TASKS and rewards.TASK_NAMES is tasks.TASKS and tuple(tasks.SPECS) == tasks.TASKS
    for name, spec in tasks.SPECS.items():
        assert rewards.RANGES[name] == (spec.rand_low, spec.rand_high)
        assert spec.joint == probes.JOINTS.get(name)
