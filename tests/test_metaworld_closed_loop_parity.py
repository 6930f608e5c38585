"""Closed-loop parity over Meta-World's 50 seeded variations (``envs_bridge/metaworld/closed_loop_parity.py``): our
scripted policy on the faithful arm (``ARM_PHYSICS``, the MT10 configs' physics), C MuJoCo, one 500-step episode per
variation, against the real env's figures for the same variations. Any-step and final-step success shares within
10 points; the 5-episode closed-loop cells of the trajectory-parity tests swing 20 points per episode, these 50 do
not. ~4 s per task. 46 of 50 met (session 23, mujoco 3.17.0; hand-insert since its cube and pads on the hole table,
coffee-push since the arm's pads hold a round mug, shelf-place since its wrist on the back wall, soccer since its
back net and fingers, sweep-into since its pads' 1 mm margin on the cube, faucet-close since the faucets'
fingers); the misses are strict xfails: meeting one fails until its row goes, and a regression on a met task fails
at once.
"""

import numpy as np
import pytest

from envs_bridge.metaworld import ARM_PHYSICS
from envs_bridge.metaworld import closed_loop_parity as clp

# ours vs real: any-step share, final-step share (50 variations x 500 steps)
KNOWN_MISSES = {
    "door-unlock": "final 0.98 vs 0.84",
    "pick-out-of-hole": "final 0.60 vs 0.42",
    "plate-slide-back-side": ("final 0.12 vs 0.00: the 50 episodes are one trajectory (the policy ignores the "
                              "goal); our arm's re-descent 1 mm higher sets its push cycle's phase at step 500"),
    "stick-pull": "final 0.52 vs 0.24: our square lower wrist box rests on the handle's top, the real taper slides off",
}


def test_summarise_counts_as_the_real_figures_do():
    # 4 episodes x 5 steps: success first at steps 2 and 4 (1-based) in two episodes, never in one, lost by the
    # end in one: any 3/4, first steps (2 + 4 + 1) / 3, final 2/4
    s = np.array([[0, 1, 1, 1, 1],
                  [0, 0, 0, 1, 0],
                  [0, 0, 0, 0, 0],
                  [1, 1, 1, 1, 1]], bool)
    any_, first, final = clp.summarise(s)
    assert (any_, final) == (0.75, 0.5) and first == pytest.approx(7 / 3)
    assert np.isnan(clp.summarise(np.zeros((2, 3), bool))[1])


def test_compare_applies_ten_points_on_both_shares():
    real = (0.86, 108.9, 0.50)
    assert clp.compare((0.96, 160.0, 0.40), real)["ok_closed"]  # exactly 10 points off on both: met
    assert not clp.compare((0.86, 108.9, 0.61), real)["ok_closed"]
    assert not clp.compare((0.75, 108.9, 0.50), real)["ok_closed"]
    row = clp.compare((0.86, 159.0, 0.50), real)
    assert row["ok_first"] is False and row["ok_closed"]  # the first step is reported, not part of ok_closed
    assert set(clp.REAL) >= {"reach", "assembly", "sweep"} and len(clp.REAL) == 50


@pytest.mark.parametrize("task", list(clp.REAL))
def test_closed_loop_on_fifty_variations(task, request):
    if task in KNOWN_MISSES:
        request.applymarker(pytest.mark.xfail(strict=True, reason=KNOWN_MISSES[task]))
    row = clp.compare(clp.summarise(clp.run_task(task, **ARM_PHYSICS)), clp.REAL[task])
    assert row["ok_closed"], row
