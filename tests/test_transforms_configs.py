"""experiments/configs/mt10_mtrl.py: MTBench's MT10 PCGrad/CAGrad/FAMO rows build valid trainer settings."""

import pytest

from experiments import common
from experiments.configs import mt10_mtrl
from mtjax import transforms as mt


@pytest.mark.parametrize("row,minibatch,schedule", [("pcgrad", 32768, "fixed"), ("cagrad", 16384, "fixed"),
                                                    ("famo", 16384, "adaptive")])
def test_rows_match_mtbench_table(row, minibatch, schedule):
    c = mt10_mtrl.get_config(row)
    cfg = common.ppo_config(c)
    assert (c.env.num_envs, c.total_iterations, cfg.minibatch_size, cfg.lr_schedule) == (24576, 1272, minibatch,
                                                                                         schedule)
    assert cfg.mtrl == row and cfg.mtrl_target == "critic"
    kw = dict(cfg.mtrl_kwargs)
    if row == "cagrad":
        assert (kw["c"], kw["rescale"], kw["reduction"]) == (0.4, 1, "sum")
    if row == "famo":
        assert (kw["variant"], kw["w_lr"], kw["gamma"], kw["eps"]) == ("mtbench", 1e-3, 1e-3, 1e-2)
    mt.make_mtrl(cfg.mtrl, cfg.mtrl_target, num_tasks=10, **kw)  # valid options for the method
    smoke = common.ppo_config(mt10_mtrl.get_config(f"{row},smoke"))
    assert smoke.mtrl == row and smoke.minibatch_size < minibatch


@pytest.mark.parametrize("method", ["pcgrad", "cagrad", "famo"])
def test_warp_rows_are_the_rows_on_the_24k_warp_physics(method):
    """``<method>_warp`` = the method's row with ``mt10_ppo.py:24k_warp``'s env (MuJoCo Warp, one call per skeleton)."""
    plain, warp = mt10_mtrl.get_config(method), mt10_mtrl.get_config(f"{method}_warp")
    assert warp.env.kwargs["physics_impl"] == "warp" and warp.env.kwargs["physics_graphs"] == 1
    assert plain.env.kwargs.get("physics_impl", "jax") == "jax"
    assert common.ppo_config(warp) == common.ppo_config(plain) and warp.name == plain.name == f"mt10_{method}"
    rest = lambda c: {k: v for k, v in c.env.kwargs.items() if k not in ("physics_impl", "physics_graphs")}
    assert rest(warp) == rest(plain) and warp.env.num_envs == 24576 and warp.total_iterations == 1272


def test_unknown_variant_lists_rows():
    with pytest.raises(ValueError, match="pcgrad, cagrad, famo"):
        mt10_mtrl.get_config("nash_mtl")
