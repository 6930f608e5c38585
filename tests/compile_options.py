"""XLA compile options of the test suite: cheap compiles everywhere, XLA's default level where running costs.

``tests/conftest.py`` puts ``SUITE_FLAGS`` in ``XLA_FLAGS`` for the whole run (subprocesses inherit it):

* ``--xla_backend_optimization_level=0``: no LLVM optimisation passes. Most test programs run a handful of times,
  so compiling is what costs.
* ``--xla_cpu_use_fusion_emitters=false``: XLA's CPU backend emits fused kernels with its older elemental emitter
  instead of the MLIR fusion emitters. Measured on the 2-core VM (jax 0.10.2, cold compile cache, ``docs/testing.md``,
  "Duration"): ``test_nets_ppo`` + ``test_transforms_common`` + ``test_transforms_cagrad`` + ``test_ppo`` 137 s -> 90 s
  wall (181 -> 104 s user CPU); the toy CARE PPO program compiles in 2.7-3.0 s instead of 4.0 s and runs ~15 %
  slower; results move by float32 rounding (a PPO loss by 5e-7 relative). Added only when the installed jaxlib
  knows the flag: XLA aborts the process on an unknown one. Two programs that evaluate the same ops in different
  fusion contexts (the host trainer's separately jitted pieces against one jitted iteration) agree bit for bit with
  the default emitters but only to float32 rounding with the older one (1.5e-8 absolute, 8e-7 relative, after one
  PPO iteration), so the tests of those bitwise equalities carry the ``default_xla`` marker: ``conftest.py`` leaves
  them out and ``test_compile_options.py`` runs them in one subprocess whose ``XLA_FLAGS`` hold only the level.

Programs that run thousands of steps (the shared MT10 env, the toy off-policy learners, a 64-init network batch, the
arm's un-fenced kinematics) pass ``OPTIMISED`` to ``jax.jit`` (``compiler_options`` overrides the flag) and keep
XLA's default level, 2.
"""

import glob
import mmap
import os

import pytest

OPTIMISED = {"xla_backend_optimization_level": 2}
LEVEL0_FLAG = "--xla_backend_optimization_level=0"
LEGACY_EMITTERS_FLAG = "--xla_cpu_use_fusion_emitters=false"
DEFAULT_XLA_ENV = "MTJAX_TESTS_DEFAULT_XLA"  # "1": the run holds only the ``default_xla`` tests, default emitters
# ``config.stash`` key: node ids of the ``default_xla`` tests the run collected and left out (``conftest.py``)
DEFAULT_XLA_TESTS = pytest.StashKey[list]()


def jaxlib_knows(flag: str) -> bool:
    """Whether the installed jaxlib registers the XLA flag ``flag`` (``--name=value``): its name, as a C string, is
    in the binary. Read without importing jax, because XLA reads ``XLA_FLAGS`` once, when the backend starts."""
    import importlib.util

    spec = importlib.util.find_spec("jaxlib")
    name = flag.lstrip("-").split("=")[0].encode() + b"\0"
    for path in glob.glob(os.path.join(os.path.dirname(spec.origin), "*.so")):
        with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
            if m.find(name) >= 0:
                return True
    return False


# The suite-wide flags (conftest.py); tests that start subprocesses with XLA_FLAGS of their own add them there.
SUITE_FLAGS = " ".join([LEVEL0_FLAG] + ([LEGACY_EMITTERS_FLAG] if jaxlib_knows(LEGACY_EMITTERS_FLAG) else []))
