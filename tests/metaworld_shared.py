"""The one Meta-World MT10 env that every Meta-World test module shares (fixture ``mt10`` in ``conftest.py``).

Compiling an MT10 step on a CPU takes minutes (``envs_bridge/metaworld/jitted.py`` says why), so the test suite
builds one env and one ``jax.jit`` of its ``step`` / ``reset`` / ``reset_from`` per pytest session; the modules
drive their rollouts from Python loops over that step, using the rows they need (the others get zero actions).

Sizes, chosen so every module fits:

* ``E`` = 20 envs per task: ``test_metaworld_policies.py`` evaluates 20 scripted episodes per task,
  ``test_metaworld_trajectory_parity.py`` needs 2 x 5 (open and closed loop), ``test_metaworld_probes.py``
  runs its 265 episodes per articulated task in 14 batches of 20.
* ``L`` = 510 steps per episode: above the 500 steps of the trajectory-parity episodes, so no env auto-resets
  within any test's rollout (the policy test's 160 steps and the probes' 150 steps are shorter still);
  ``test_metaworld_env.py`` checks the auto-reset by setting the step counter to ``L - 1``.
"""

E = 20  # envs per task
L = 510  # episode length (steps before the auto-reset)


def build():
    """A ``JittedEnv`` of MT10 with ``E`` envs per task and episode length ``L`` (the constructor's physics: the
    floating hand; the MT10 configs' arm is checked in C MuJoCo, ``test_metaworld_trajectory_parity_arm.py``)."""
    from compile_options import OPTIMISED

    from envs_bridge.metaworld import TASKS, MetaWorldEnv
    from envs_bridge.metaworld.jitted import JittedEnv
    from mtjax import envs

    # XLA's default optimisation level, not the suite's 0 (conftest.py): these programs run thousands of MT10 steps
    return JittedEnv(MetaWorldEnv(envs.TaskSet(TASKS, (E,) * len(TASKS)), episode_length=L), compiler_options=OPTIMISED)
