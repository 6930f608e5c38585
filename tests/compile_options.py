"""XLA compile options for the few test programs whose running, not compiling, is the cost.

``tests/conftest.py`` compiles every test program without LLVM's optimisation passes
(``--xla_backend_optimization_level=0``): most test programs run a handful of times, so compiling is what costs.
Programs that run thousands of steps (the shared MT10 env, the toy off-policy learners, a 64-init network batch, the
arm's un-fenced kinematics) pass ``OPTIMISED`` to ``jax.jit`` (``compiler_options`` overrides the flag) and keep
XLA's default level, 2.
"""

OPTIMISED = {"xla_backend_optimization_level": 2}
# The suite-wide flag (conftest.py); tests that start subprocesses with XLA_FLAGS of their own add it there.
LEVEL0_FLAG = "--xla_backend_optimization_level=0"
