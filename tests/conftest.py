"""Test-suite setup: XLA flags, compile cache, GPU skips, the default_xla hand-over, the shared MT10 env."""

import os

# Test programs compile without LLVM's optimisation passes and with XLA's older CPU fusion emitter: where compiling,
# not running, is the cost (the toy learners, the transforms) this roughly halves the CPU time (``compile_options``,
# ``docs/testing.md``, "Duration"). Programs whose running dominates ask for XLA's default level 2 themselves
# (``compile_options.OPTIMISED``: a ``jax.jit`` ``compiler_options`` entry overrides the level). Subprocesses started
# by the tests inherit the flags.
# Tests marked ``default_xla`` (equalities that hold under XLA's default CPU emitters, which the product uses) are
# left out of the run and run together in one subprocess with only the level flag (``test_compile_options.py``).
from compile_options import DEFAULT_XLA_ENV, DEFAULT_XLA_TESTS, LEVEL0_FLAG, SUITE_FLAGS

DEFAULT_XLA = os.environ.get(DEFAULT_XLA_ENV) == "1"
os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " " + (LEVEL0_FLAG if DEFAULT_XLA else SUITE_FLAGS)).strip()

import jax  # after XLA_FLAGS: the CPU backend reads it when it starts
import pytest

os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", os.path.join(os.path.dirname(__file__), "..", ".jax_cache"))
jax.config.update("jax_compilation_cache_dir", os.path.abspath(os.environ["JAX_COMPILATION_CACHE_DIR"]))
jax.config.update("jax_persistent_cache_min_compile_time_secs", 1.0)


def _has_gpu() -> bool:
    try:
        return any(d.platform == "gpu" for d in jax.devices())
    except RuntimeError:
        return False


DEFAULT_XLA_OWNER = "test_default_xla_tests_pass_under_the_default_emitters"  # runs them (test_compile_options.py)
_ORPHANED = pytest.StashKey[int]()


def pytest_terminal_summary(terminalreporter, config):
    n = config.stash.get(_ORPHANED, 0)
    if n:
        terminalreporter.write_line(
            f"note: {n} default_xla test(s) were deselected and not run (they need XLA's default CPU emitters): add "
            f"tests/test_compile_options.py to the run, or run them with {DEFAULT_XLA_ENV}=1", yellow=True)


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(config, items):
    if not DEFAULT_XLA:
        marked = [item for item in items if "default_xla" in item.keywords]
        config.stash[DEFAULT_XLA_TESTS] = [item.nodeid for item in marked]
        if marked:
            config.hook.pytest_deselected(items=marked)
            items[:] = [item for item in items if "default_xla" not in item.keywords]
            if not any(item.name == DEFAULT_XLA_OWNER for item in items):
                config.stash[_ORPHANED] = len(marked)
    # Under `pytest -n 2 --dist loadgroup` (the README's command) a module's tests stay on one worker (their
    # module-scoped fixtures, often compiled programs, are built once), and every test that uses the shared MT10 env
    # runs on one worker, so the MT10 program is compiled once per run, not once per worker.
    for item in items:
        group = "mt10" if "mt10" in getattr(item, "fixturenames", ()) else item.nodeid.split("::")[0]
        item.add_marker(pytest.mark.xdist_group(group))
    if _has_gpu():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU (marked gpu)")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def mt10():
    """One MT10 ``JittedEnv`` (``metaworld_shared.E`` envs per task, episode length ``metaworld_shared.L``) for
    every Meta-World test module: its jitted step is compiled once per session instead of once per module."""
    import metaworld_shared

    return metaworld_shared.build()
