"""Record the mass properties of Meta-World's movable objects, for ``tests/test_metaworld_mass_properties.py``.

Runs Meta-World 3.1.1 in the venv that ``record_metaworld_traces.py`` builds and writes
``tests/fixtures/metaworld/mass_properties.json``: for each of the fifty tasks (``MT50(seed=0)``, variation 0, after
reset), every body outside the Sawyer arm and hand that has mass and moves (welded to a jointed body), with its mass
and MuJoCo's ``body_invweight0`` (translational, rotational), and every hinge or slide joint with its
``dof_invweight0``. MuJoCo scales a contact's softness by the two bodies' ``body_invweight0`` (the regulariser
``R = (1 - d) / d * (invweight_1 + invweight_2)``), and a joint limit's by ``dof_invweight0``, so a scene whose
object has Meta-World's mass but not its inertial frame (a body-origin centre of mass where the real one is offset
makes MuJoCo's estimate three times larger for a slide joint) meets the hand with a softer contact than the real one.

Usage (repository root)::

    python scripts/record_metaworld_mass.py
"""

from __future__ import annotations

import argparse
import json
import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, _HERE)
from record_metaworld_traces import run_inner

_SAWYER = ("hand", "mocap", "head")  # with the arm's right_* links and the fingers' *claw* / *pad* bodies


def _is_arm(name: str) -> bool:
    return name.startswith("right_") or name in _SAWYER or "claw" in name or "pad" in name


def _inner(args) -> None:
    import importlib.metadata as md

    import metaworld
    import mujoco

    bench = metaworld.MT50(seed=0)
    out = {"versions": " ".join(f"{p}=={md.version(p)}" for p in ("metaworld", "mujoco")), "tasks": {}}
    for name in sorted(bench.train_classes):
        env = bench.train_classes[name]()
        env.set_task(next(t for t in bench.train_tasks if t.env_name == name))
        env.reset()
        m = env.model

        def body_name(b, m=m):
            return mujoco.mj_id2name(m, mujoco.mjtObj.mjOBJ_BODY, b) or f"body{b}"

        bodies = [{"body": body_name(b), "mass": float(m.body_mass[b]),
                   "invweight0": [float(v) for v in m.body_invweight0[b]]}
                  for b in range(1, m.nbody)
                  if m.body_weldid[b] != 0 and m.body_mass[b] > 0 and not _is_arm(body_name(b))
                  and m.body_mass[b] >= 1e-3]  # Meta-World's 0.1 g 'screen' markers collide with nothing
        joints = [{"joint": mujoco.mj_id2name(m, mujoco.mjtObj.mjOBJ_JOINT, j),
                   "type": "hinge" if m.jnt_type[j] == mujoco.mjtJoint.mjJNT_HINGE else "slide",
                   "dof_invweight0": float(m.dof_invweight0[m.jnt_dofadr[j]])}
                  for j in range(m.njnt)
                  if m.jnt_type[j] in (mujoco.mjtJoint.mjJNT_HINGE, mujoco.mjtJoint.mjJNT_SLIDE)
                  and not _is_arm(body_name(m.jnt_bodyid[j]))]
        out["tasks"][name.removesuffix("-v3")] = {"bodies": bodies, "joints": joints}
        env.close()
    with open(args.out, "w") as f:
        json.dump(out, f, indent=1)
    print(f"wrote {args.out} ({len(out['tasks'])} tasks)")


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--venv", default="/tmp/mw_oracle_venv", help="virtual environment for metaworld 3.1.1")
    p.add_argument("--out", default=os.path.join("tests", "fixtures", "metaworld", "mass_properties.json"))
    p.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.inner:
        _inner(args)
        return
    run_inner(__file__, ["--out", os.path.abspath(args.out)], args.venv)


if __name__ == "__main__":
    main()
