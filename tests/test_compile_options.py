"""The suite's XLA flags (``compile_options``): the flag check reads the installed jaxlib, and the flags in use are
the ones this process runs with (``conftest.py`` puts them in ``XLA_FLAGS`` before jax starts)."""

import os

import pytest
from compile_options import (
    DEFAULT_XLA_ENV,
    DEFAULT_XLA_TESTS,
    LEGACY_EMITTERS_FLAG,
    LEVEL0_FLAG,
    SUITE_FLAGS,
    jaxlib_knows,
)


def test_jaxlib_knows_a_real_flag_and_not_a_made_up_one_or_a_prefix():
    assert jaxlib_knows(LEVEL0_FLAG)
    assert not jaxlib_knows("--xla_cpu_no_such_flag_in_any_release=true")
    assert not jaxlib_knows("--xla_backend_optimization_leve=0")  # a prefix of a real name is not a flag


def test_the_suite_runs_with_its_flags():
    flags = os.environ["XLA_FLAGS"].split()
    assert LEVEL0_FLAG in flags
    assert (LEGACY_EMITTERS_FLAG in flags) == (LEGACY_EMITTERS_FLAG in SUITE_FLAGS.split())


def test_default_xla_tests_pass_under_the_default_emitters(request):
    """The ``default_xla`` tests (bitwise equalities between two compiled paths) in one subprocess with XLA's default
    CPU emitters and the suite's level flag; ``conftest.py`` left them out of this run."""
    import subprocess
    import sys

    nodeids = request.config.stash.get(DEFAULT_XLA_TESTS, [])
    if not nodeids:
        pytest.skip("this run collected no default_xla test (a selection of files, or the subprocess itself)")
    root = str(request.config.rootpath)
    env = {**os.environ, DEFAULT_XLA_ENV: "1", "XLA_FLAGS": ""}
    p = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *nodeids], cwd=root, env=env,
                       capture_output=True, text=True, timeout=900, check=False)
    assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-2000:]
    assert f"{len(nodeids)} passed" in p.stdout, p.stdout[-2000:]
