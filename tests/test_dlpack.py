"""Tests of envs_bridge.dlpack: zero-copy by buffer pointers, the copy policy, dtype and layout rules.

CPU tests run everywhere; ``@pytest.mark.gpu`` tests need torch with CUDA and a JAX GPU backend.
The legacy capsule path (JAX <= 0.4.13) is exercised on the modern JAX by replacing the two JAX capsule
entry points with equivalents built from ``__dlpack__`` (the bridge's own logic, casts and syncs run as is).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from envs_bridge import dlpack


def _gpu_ok():
    try:
        return torch.cuda.is_available() and jax.devices()[0].platform == "gpu"
    except RuntimeError:
        return False


gpu = pytest.mark.skipif(not _gpu_ok(), reason="needs torch CUDA and a JAX GPU backend")


@pytest.fixture
def legacy_hooks(monkeypatch):
    """Capsule in/out on a modern JAX: capsule -> torch view -> modern import (still zero-copy)."""
    monkeypatch.setattr(dlpack, "_legacy_capsule_to_jax",
                        lambda cap: jax.dlpack.from_dlpack(torch.utils.dlpack.from_dlpack(cap), copy=False))
    monkeypatch.setattr(dlpack, "_legacy_jax_to_capsule", lambda arr: arr.__dlpack__())


def test_module_stays_python38_compatible():
    """The legacy path exists for IsaacGym's Python 3.8 (JAX 0.4.13): the module must parse there."""
    import ast

    with open(dlpack.__file__) as f:
        src = f.read()
    ast.parse(src, feature_version=(3, 8))
    assert "functools.cache\n" not in src and "kw_only" not in src


def test_protocol_gate():
    assert dlpack.protocol() == ("modern" if dlpack.jax_version() > (0, 4, 13) else "legacy")
    with pytest.raises(ValueError, match="modern"):
        dlpack.torch_to_jax(torch.zeros(2), protocol_override="v2")


@pytest.mark.parametrize("path", ["modern", "legacy"])
def test_torch_to_jax_zero_copy_pointer(path, request):
    if path == "legacy":
        request.getfixturevalue("legacy_hooks")
    t = torch.arange(64 * 49, dtype=torch.float32).reshape(64, 49)
    a = dlpack.torch_to_jax(t, copy=False, protocol_override=path)
    assert dlpack.buffer_pointer(a) == t.data_ptr()
    t[3, 5] = -7.0  # aliasing allowed: the producer's write is visible
    assert float(a[3, 5]) == -7.0


@pytest.mark.parametrize("path", ["modern", "legacy"])
def test_jax_to_torch_zero_copy_pointer(path, request):
    if path == "legacy":
        request.getfixturevalue("legacy_hooks")
    a = jnp.arange(4096 * 4, dtype=jnp.float32).reshape(4096, 4)
    t = dlpack.jax_to_torch(a, protocol_override=path)
    assert t.data_ptr() == dlpack.buffer_pointer(a)
    np.testing.assert_array_equal(t.numpy(), np.asarray(a))
    c = dlpack.jax_to_torch(a, copy=True, protocol_override=path)
    assert c.data_ptr() != dlpack.buffer_pointer(a)


@pytest.mark.parametrize("path", ["modern", "legacy"])
def test_copy_policy_protects_against_in_place_overwrite(path, request):
    if path == "legacy":
        request.getfixturevalue("legacy_hooks")
    obs_buf = torch.ones(32, 49)
    kept = dlpack.torch_to_jax(obs_buf, protocol_override=path)  # default copy=True
    assert dlpack.buffer_pointer(kept) != obs_buf.data_ptr()
    obs_buf.mul_(0.0).add_(5.0)  # the simulator's next step writes in place
    np.testing.assert_array_equal(np.asarray(kept), np.ones((32, 49), np.float32))
    aliased = dlpack.torch_to_jax(obs_buf, copy=False, protocol_override=path)
    obs_buf.fill_(2.0)
    assert float(aliased.sum()) == 2.0 * 32 * 49  # why the default is copy=True


def test_copy_none_aliases_when_possible():
    t = torch.zeros(16, 16)
    assert dlpack.buffer_pointer(dlpack.torch_to_jax(t, copy=None)) == t.data_ptr()


@pytest.mark.parametrize("path", ["modern", "legacy"])
def test_dtype_rules(path, request):
    if path == "legacy":
        request.getfixturevalue("legacy_hooks")
    b = torch.tensor([True, False, True])
    jb = dlpack.torch_to_jax(b, protocol_override=path)
    assert jb.dtype == jnp.bool_ and jb.tolist() == [True, False, True]
    d = torch.tensor([1.5, -2.25], dtype=torch.float64)
    jd = dlpack.torch_to_jax(d, protocol_override=path)
    assert jd.dtype == jnp.float32 and jd.tolist() == [1.5, -2.25]
    i = torch.tensor([3, -4], dtype=torch.int64)
    assert dlpack.torch_to_jax(i, protocol_override=path).dtype == jnp.int32
    with pytest.raises(ValueError, match="float64 must become"):
        dlpack.torch_to_jax(d, copy=False, protocol_override=path)
    back = dlpack.jax_to_torch(jnp.array([True, False]), protocol_override=path)
    assert back.dtype == torch.bool and back.tolist() == [True, False]
    with pytest.raises(TypeError, match="supported"):
        dlpack.torch_to_jax(torch.zeros(2, dtype=torch.uint16))
    with pytest.raises(TypeError, match="torch.Tensor"):
        dlpack.torch_to_jax(np.zeros(2))


def test_layout_rules():
    t = torch.arange(8 * 10, dtype=torch.float32).reshape(8, 10)
    strided = t[:, ::2]
    with pytest.raises(ValueError, match="not C-contiguous"):
        dlpack.torch_to_jax(strided, copy=False)
    np.testing.assert_array_equal(np.asarray(dlpack.torch_to_jax(strided)), strided.numpy())
    np.testing.assert_array_equal(np.asarray(dlpack.torch_to_jax(t.T, copy=None)), t.T.numpy())
    view = t[1:]  # contiguous but 40 bytes past a 64-byte boundary
    with pytest.raises(ValueError, match="cannot alias"):
        dlpack.torch_to_jax(view, copy=False)
    np.testing.assert_array_equal(np.asarray(dlpack.torch_to_jax(view, copy=None)), view.numpy())


# ----------------------------------------------------------------------------------------------- GPU


@pytest.mark.gpu
@gpu
def test_cuda_zero_copy_both_ways():
    t = torch.arange(4096 * 49, dtype=torch.float32, device="cuda").reshape(4096, 49)
    a = dlpack.torch_to_jax(t, copy=False)
    assert a.devices().pop().platform == "gpu"
    assert dlpack.buffer_pointer(a) == t.data_ptr()
    t.mul_(2.0)  # in-place torch write (on torch's stream) visible from JAX when aliasing is allowed
    torch.cuda.synchronize()
    assert float(a[10, 3]) == 2.0 * (10 * 49 + 3)
    x = jnp.ones((4096, 4), jnp.float32) * 3.0
    tx = dlpack.jax_to_torch(x)
    assert tx.is_cuda and tx.data_ptr() == dlpack.buffer_pointer(x)
    assert float(tx.sum()) == 3.0 * 4096 * 4


@pytest.mark.gpu
@gpu
def test_cuda_copy_policy_and_stream_order():
    s = torch.cuda.Stream()
    with torch.cuda.stream(s):  # producer on a non-default stream: the handshake must order the copy
        buf = torch.zeros(24576, 49, device="cuda")
        for _ in range(20):
            buf.add_(1.0)
        kept = dlpack.torch_to_jax(buf)  # copy=True
        buf.fill_(-1.0)  # next "step" overwrites in place on the same stream
    s.synchronize()
    assert dlpack.buffer_pointer(kept) != buf.data_ptr()
    assert float(jnp.min(kept)) == 20.0 and float(jnp.max(kept)) == 20.0


def test_fast_import_matches_public_api_and_falls_back(monkeypatch):
    t = torch.arange(128 * 8, dtype=torch.float32).reshape(128, 8)
    fast = dlpack.torch_to_jax(t, copy=False)
    public = dlpack.torch_to_jax(t, copy=False, fast=False)
    assert dlpack.buffer_pointer(fast) == dlpack.buffer_pointer(public) == t.data_ptr()
    assert isinstance(fast, jax.Array) and fast.dtype == public.dtype and fast.shape == public.shape
    np.testing.assert_array_equal(np.asarray(fast), t.numpy())
    # a jaxlib whose private importer has another signature: permanently fall back to the public API
    monkeypatch.setattr(dlpack, "_FAST_CACHE", {})
    monkeypatch.setattr(dlpack, "_FAST_OK", [True])

    def broken(key):
        raise TypeError("dlpack_managed_tensor_to_buffer(): incompatible function arguments")
    monkeypatch.setattr(dlpack, "_fast_entry", broken)
    again = dlpack.torch_to_jax(t, copy=False)
    assert dlpack.buffer_pointer(again) == t.data_ptr() and dlpack._FAST_OK == [False]
