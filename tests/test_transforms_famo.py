"""FAMO: hand-computed logit updates (both variants) and equality with the weighted log-loss gradient."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from mtjax import transforms as mt


def _grads(t=2, p=3):
    return {"w": jnp.arange(t * p, dtype=jnp.float32).reshape(t, p) / 10.0}


def test_mtbench_variant_one_logit_update_by_hand():
    agg = mt.famo(2, variant="mtbench")  # w_lr 1e-3, gamma 1e-3, eps 1e-2, unit-norm logit gradient
    state = agg.init(None)
    losses = jnp.array([1.0, 2.0])
    upd, state = agg.update(_grads(), state, task_losses=losses)
    # Weights use the logits before the update: z = (1/2, 1/2), D = l + eps = (1.01, 2.01),
    # w = (z/D) / sum(z/D) = (1/1.01, 1/2.01) / (1/1.01 + 1/2.01).
    w = np.array([1 / 1.01, 1 / 2.01])
    w /= w.sum()
    np.testing.assert_allclose(state.task_weights, w, rtol=1e-6)
    np.testing.assert_allclose(upd["w"], w @ np.asarray(_grads()["w"]), rtol=1e-6)
    # delta = log(l_prev + eps) - log(l + eps) with l_prev = 0:
    # delta_1 - delta_2 = log(2.01) - log(1.01); d = z * (delta - z.delta) = (+1/4, -1/4) * log(2.01/1.01),
    # normalised -> (1/sqrt2, -1/sqrt2). Weight decay adds gamma * xi = 0. Adam's first step is
    # -lr * m_hat / (sqrt(v_hat) + 1e-8) = -lr * g / (|g| + 1e-8) = (-1e-3, +1e-3) (up to 1e-8 relative).
    np.testing.assert_allclose(state.logits, [-1e-3, 1e-3], rtol=1e-5)
    np.testing.assert_allclose(state.prev_losses, losses)


def test_paper_variant_two_steps_by_hand():
    agg = mt.famo(2)  # paper: w_lr 0.025, gamma 0.01, eps 1e-8, no normalisation
    state = agg.init(None)
    _, state = agg.update(_grads(), state, task_losses=jnp.array([1.0, 2.0]))
    # First call: no previous losses -> logits stay 0; w ∝ (0.5/1, 0.5/2) -> (2/3, 1/3).
    np.testing.assert_allclose(state.logits, [0.0, 0.0])
    np.testing.assert_allclose(state.task_weights, [2 / 3, 1 / 3], rtol=1e-6)
    upd, state = agg.update(_grads(), state, task_losses=jnp.array([0.5, 1.5]))
    # delta = log(l_prev) - log(l) = (log 2, log 4/3) = (0.6931, 0.2877); z.delta = 0.4904;
    # d = z * (delta - z.delta) = (0.1014, -0.1014). Adam first step: -0.025 * sign(d) -> xi = (-0.025, 0.025).
    np.testing.assert_allclose(state.logits, [-0.025, 0.025], rtol=1e-5)
    z = np.exp([-0.025, 0.025]) / np.exp([-0.025, 0.025]).sum()
    w = z / np.array([0.5, 1.5])
    w /= w.sum()
    np.testing.assert_allclose(state.task_weights, w, rtol=1e-5)
    np.testing.assert_allclose(upd["w"], w @ np.asarray(_grads()["w"]), rtol=1e-5)


def test_weight_decay_is_torch_adam_style():
    # With equal losses delta = 0 -> d = 0; only the decay term gamma * xi moves the logits, and Adam
    # normalises it: -lr * sign(xi) on the first step it is non-zero.
    agg = mt.famo(2, gamma=0.5)
    state = agg.init(None)._replace(logits=jnp.array([1.0, -1.0]))
    _, state = agg.update(_grads(), state, task_losses=jnp.array([1.0, 1.0]))  # first call: no logit step
    _, state = agg.update(_grads(), state, task_losses=jnp.array([1.0, 1.0]))
    np.testing.assert_allclose(state.logits, [1.0 - 0.025, -1.0 + 0.025], rtol=1e-5)


@pytest.mark.parametrize("variant", ["paper", "mtbench"])
def test_aggregate_equals_gradient_of_weighted_log_loss(variant):
    t = 3
    targets = jnp.array([[1.0, 0.0], [0.0, 2.0], [-1.0, -1.0]])

    def task_loss(theta, k):
        return jnp.sum((theta["a"] * targets[k] - theta["b"]) ** 2) + 0.1

    theta = {"a": jnp.array(0.3), "b": jnp.array([0.2, -0.4])}
    agg = mt.famo(t, variant=variant)
    state = agg.init(theta)
    per_task = jax.vmap(jax.value_and_grad(task_loss), in_axes=(None, 0))
    for step in range(3):  # a few steps so that the logits are non-trivial
        losses, grads = per_task(theta, jnp.arange(t))
        old_logits = state.logits
        upd, state = agg.update(grads, state, task_losses=losses)
        logits = state.logits if variant == "paper" else old_logits
        eps = 1e-8 if variant == "paper" else 1e-2
        z = jax.nn.softmax(logits)
        c = jnp.sum(z / (losses + eps))

        def weighted_log_loss(th):
            ls = jax.vmap(task_loss, in_axes=(None, 0))(th, jnp.arange(t))
            return jnp.sum(z * jnp.log(ls + eps)) / c

        ref = jax.grad(weighted_log_loss)(theta)
        jax.tree.map(lambda u, r: np.testing.assert_allclose(u, r, rtol=1e-5, atol=1e-6), upd, ref)
        theta = jax.tree.map(lambda p, u: p - 0.05 * u, theta, upd)
    assert not np.allclose(state.logits, 0.0)


def test_errors():
    agg = mt.famo(2)
    with pytest.raises(ValueError, match="task_losses"):
        agg.update(_grads(), agg.init(None))
    with pytest.raises(ValueError, match=r"shape \[T\]"):
        agg.update(_grads(), agg.init(None), task_losses=jnp.ones(3))
    with pytest.raises(ValueError, match="num_tasks=2"):
        agg.update(_grads(t=3), agg.init(None), task_losses=jnp.ones(3))
    for kwargs, match in (({"variant": "orig"}, "variant"), ({"w_lr": 0.0}, "w_lr"), ({"gamma": -1.0}, "gamma"),
                          ({"eps": -1e-3}, "eps"), ({"reduction": "x"}, "reduction")):
        with pytest.raises(ValueError, match=match):
            mt.famo(2, **kwargs)
    with pytest.raises(ValueError, match="num_tasks"):
        mt.famo(0)
    # optax.tree.get finds the weights inside a chain.
    tx = optax.chain(mt.famo(2), optax.adam(1e-3))
    st = tx.init({"w": jnp.zeros(3)})
    _, st = tx.update(_grads(), st, {"w": jnp.zeros(3)}, task_losses=jnp.array([1.0, 2.0]))
    np.testing.assert_allclose(optax.tree.get(st, "task_weights"), [2 / 3, 1 / 3], rtol=1e-6)
