"""Trajectory parity of the forty MT50 scenes outside MT10 with the faithful Sawyer arm (``ARM_PHYSICS``: 4 x 3.125 ms,
Newton 4 + 4, the MT10 configs' physics), in CI.

The fixture, targets, episodes and steps of ``test_metaworld_trajectory_parity_mt50.py`` (which checks the floating
hand, the MT50 configs' physics until session 23), C MuJoCo physics with the env's own reset, observation and reward code (``CpuRollout``; ~1 min
on two cores). Since session 22 the arm's scenes take Meta-World's own numbers where the MT50 scenes departed from
them for the floating hand (``scenes_mt50_arm.py``, ``scenes_mt50_fixtures.arm_body``; ``docs/metaworld_mt50.md``,
"The arm with Meta-World's own numbers"): all four targets on 23 of 40 tasks (session 19: 11); 24 since session
23's dial (Meta-World's hinge, the pads' margin on the knob bar); 23 since shelf-place's wrist on the back wall; 24
since pick-out-of-hole's peg sphere (session 28). Each remaining miss is a strict xfail, so a scene change that meets one fails until its row goes, and a regression fails at once.
"""

import jax
import pytest
from test_metaworld_trajectory_parity import check_target
from test_metaworld_trajectory_parity_mt50 import FIXTURE, STEPS, TARGET_KEYS, TASKS, E

from envs_bridge.metaworld import ARM_PHYSICS
from envs_bridge.metaworld import trajectory_parity as tp

# Measured (C MuJoCo, E x STEPS, mujoco 3.17.0, session 22); regenerate with ``python -m
# envs_bridge.metaworld.trajectory_parity --fixture mt50 --backend cpu --hand arm --frame-skip 4 --iterations 4
# --episodes 5 --steps 200 --known-misses``. Success cells of one episode in five (0.2) are noted as such in the doc.
# "at the floor": Meta-World 3.1.1 itself, run on our mujoco 3.17 instead of its 3.3.0, misses the same target against
# the same fixture (scripts/metaworld_version_floor.py --parity mt50; docs/metaworld_mt50.md, "The floor under the
# targets"); the others are ours alone.
KNOWN_MISSES: dict[tuple[str, str], str] = {
    ("bin-picking", "ok_success"): "any 1.00 vs 1.00, last 0.80 vs 1.00, steps 65.2 vs 94.2"
                                   "; at the floor: Meta-World on mujoco 3.17 misses it too, steps 73.4 vs 94.2",
    ("box-close", "ok_obj"): "0.40 within 10 mm",
    ("box-close", "ok_success"): "any 1.00 vs 0.80, last 0.60 vs 0.40, steps 71.6 vs 49.2"
                                 "; at the floor: Meta-World on mujoco 3.17 misses it too, any 0.60 vs 0.80",
    ("button-press", "ok_tcp"): "11.2 mm",
    ("coffee-push", "ok_obj"): "0.60 within 10 mm",
    ("coffee-push", "ok_success"): "any 1.00 vs 1.00, last 0.00 vs 0.40, steps 88.2 vs 120.0"
                                   "; at the floor: Meta-World on mujoco 3.17 misses it too, last 1.00 vs 0.40",
    ("disassemble", "ok_obj"): "0.40 within 10 mm",
    ("disassemble", "ok_success"): "any 1.00 vs 0.80, last 1.00 vs 0.60, steps 88.8 vs 55.4"
                                   "; at the floor: Meta-World on mujoco 3.17 misses it too, last 1.00 vs 0.60",
    ("door-lock", "ok_joint"): "excess 0.016 vs 0.000",
    ("door-unlock", "ok_joint"): "excess 1.156 vs 0.752"
                                 "; at the floor: Meta-World on mujoco 3.17 misses it too, excess 0.818 vs 0.752",
    ("faucet-open", "ok_joint"): "excess 0.352 vs 0.326"
                                 "; at the floor: Meta-World on mujoco 3.17 misses it too, excess 0.348 vs 0.326",
    ("faucet-close", "ok_success"): "any 1.00 vs 1.00, last 0.00 vs 0.20, steps 125.8 vs 128.4",
    ("plate-slide-side", "ok_tcp"): "6.7 mm; at the floor: Meta-World on mujoco 3.17 misses it too, 11.3 mm",
    ("peg-unplug-side", "ok_success"): "any 1.00 vs 1.00, last 0.20 vs 0.00, steps 51.6 vs 51.0",
    ("shelf-place", "ok_success"): "any 1.00 vs 1.00, last 0.40 vs 0.60, steps 57.2 vs 77.0"
                                   "; at the floor: Meta-World on mujoco 3.17 misses it too, any 0.60 vs 1.00",
    ("soccer", "ok_obj"): "0.60 within 10 mm"
                          "; at the floor: Meta-World on mujoco 3.17 misses it too, 0.60 within 10 mm",
    ("soccer", "ok_success"): "any 0.80 vs 0.60, last 0.80 vs 0.60, steps 102.6 vs 80.8",
    ("stick-push", "ok_success"): "any 1.00 vs 1.00, last 1.00 vs 0.00, steps 127.2 vs 72.0"
                                  "; at the floor: Meta-World on mujoco 3.17 misses it too, last 1.00 vs 0.00",
    ("stick-pull", "ok_success"): "any 0.80 vs 1.00, last 0.40 vs 0.40, steps 30.0 vs 31.4"
                                  "; at the floor: Meta-World on mujoco 3.17 misses it too, last 0.20 vs 0.40",
    ("sweep-into", "ok_obj"): "0.60 within 10 mm",
    ("sweep-into", "ok_success"): "any 1.00 vs 0.80, last 0.20 vs 0.00, steps 48.2 vs 13.4"
                                  "; at the floor: Meta-World on mujoco 3.17 misses it too, steps 21.8 vs 13.4",
}


@pytest.fixture(scope="module")
def table():
    fixture = tp.load_fixture(FIXTURE, list(TASKS), episodes=E, steps=STEPS)
    return tp.metrics(tp.run(fixture, jax.random.key(0), backend="cpu", **ARM_PHYSICS), fixture)


def test_the_arm_meets_every_target_on_at_least_24_tasks(table):
    """The headline: all four targets on 24 of 40 (the floating hand: 1), TCP on 38; 23 after shelf-place's wrist
    on the back wall (it meets the 50-variation closed loop and loses one of five episodes at step 200), 24 again since
    pick-out-of-hole's peg sphere (session 28)."""
    assert sum(all(table[t][k] for k in TARGET_KEYS) for t in TASKS) >= 24
    assert sum(table[t]["ok_tcp"] for t in TASKS) >= 38


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("target", TARGET_KEYS)
def test_arm_trajectory_parity_target(table, task, target, request):
    check_target(table, task, target, KNOWN_MISSES, request)
