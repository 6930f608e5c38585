"""The single-task config (experiments/configs/mt1_ppo.py): one row per Meta-World task, each a registered env."""

import pytest

from envs_bridge import registry
from experiments.configs import mt1_ppo, mt50_ppo


def test_every_row_is_a_registered_single_task_env_with_mt50_physics():
    names = set(registry.env_names())
    assert len(mt1_ppo.ROWS) == 50 and set(mt1_ppo.STUCK_IN_MTBENCH) <= set(mt1_ppo.ROWS)
    for task in mt1_ppo.ROWS:
        c = mt1_ppo.get_config(task)
        assert c.env.name == task and task in names and c.name == f"mt1_ppo_{task}"
        assert {k: c.env.kwargs[k] for k in mt50_ppo.MT50_PHYSICS if k != "physics_graphs"} == {
            k: v for k, v in mt50_ppo.MT50_PHYSICS.items() if k != "physics_graphs"}
    c = mt1_ppo.get_config("")
    assert c.env.name == "assembly" and c.env.num_envs * c.ppo.horizon * c.total_iterations == 200_015_872
    s = mt1_ppo.get_config("stick-pull,smoke")
    assert s.env.name == "stick-pull" and s.env.kwargs["physics_impl"] == "jax" and s.env.num_envs == 16
    assert (s.env.num_envs * s.ppo.horizon) % s.ppo.minibatch_size == 0


def test_unknown_task_names_the_valid_rows():
    with pytest.raises(ValueError, match="box-close"):
        mt1_ppo.get_config("box-closed")
