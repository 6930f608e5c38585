"""The toy MT-PPO run config that the CLI-level tests (``experiments.train.run``) share.

32 envs x 8 steps = a 256-sample batch in 2 minibatches, 2 epochs, iterations in chunks of 2, no progress output,
plot or TensorBoard: seconds per run on the 2-core CPU, and one compiled program for every test that keeps these
sizes.
"""

import copy

from experiments.configs import toy_ppo


def toy_run_config(folder, total_iterations: int, checkpoint_every: int = 2, **over) -> dict:
    """The run-config dict of ``toy_ppo.py:smoke`` at the sizes above, writing to ``folder``.

    ``over`` sets top-level keys; a key ``ppo_<name>`` sets ``ppo.<name>`` (e.g. ``ppo_lr=10.0``).
    """
    d = copy.deepcopy(toy_ppo.get_config("smoke").to_dict())
    d.update(run_dir=str(folder), total_iterations=total_iterations, iters_per_call=2,
             checkpoint_every=checkpoint_every, progress=False, plot=False, tensorboard=False)
    d["env"]["num_envs"] = 32
    d["ppo"].update(horizon=8, minibatch_size=128, epochs=2)
    for k, v in over.items():
        if k.startswith("ppo_"):
            d["ppo"][k[4:]] = v
        else:
            d[k] = v
    return d
