"""``envs_bridge.warp_streams``: an external CUDA stream stays registered in Warp while any wrapper of it lives."""

import gc
import types

import pytest

from envs_bridge import warp_streams


def test_refcounts_report_the_last_release_only():
    c = warp_streams.RefCounts()
    c.acquire("s")
    c.acquire("s")
    c.acquire("t")
    assert c.count("s") == 2
    assert c.release("s") is False  # one wrapper of "s" is still alive
    assert c.release("s") is True
    assert c.count("s") == 0
    assert c.release("never-counted") is True  # not ours: behave as Warp does
    assert c.release("t") is True


def _fake_stream(cls, context: int, ptr: int):
    s = cls.__new__(cls)  # owner False, as Warp's __new__ sets it
    s.device = types.SimpleNamespace(context=context)
    s.cuda_stream = ptr
    return s


def test_installed_stream_unregisters_with_its_last_wrapper(monkeypatch):
    pytest.importorskip("warp")
    from warp._src import context

    warp_streams.install()
    warp_streams.install()  # idempotent: wrapping twice would count every wrapper twice
    assert warp_streams.installed()
    unregistered = []
    core = types.SimpleNamespace(wp_cuda_stream_unregister=lambda ctx, ptr: unregistered.append((ctx, ptr)),
                                 wp_cuda_stream_destroy=lambda ctx, ptr: unregistered.append(("destroy", ptr)))
    monkeypatch.setattr(context, "runtime", types.SimpleNamespace(core=core))
    a, b = _fake_stream(context.Stream, 7, 1234), _fake_stream(context.Stream, 7, 1234)
    other = _fake_stream(context.Stream, 7, 99)
    for key in [(7, 1234), (7, 1234), (7, 99)]:  # what the patched __init__ does for Stream(device, cuda_stream=ptr)
        warp_streams.COUNTS.acquire(key)
    del a
    gc.collect()
    assert unregistered == []  # b still wraps stream 1234: Warp alone would have erased it here
    del b
    gc.collect()
    assert unregistered == [(7, 1234)]
    del other
    gc.collect()
    assert unregistered == [(7, 1234), (7, 99)]


@pytest.mark.gpu
def test_capture_on_a_stream_whose_other_wrapper_died():
    wp = pytest.importorskip("warp")
    wp.init()
    if not wp.is_cuda_available():
        pytest.skip("needs a CUDA device")
    warp_streams.install()
    owner = wp.Stream("cuda:0")
    a = wp.Stream("cuda:0", cuda_stream=owner.cuda_stream)
    b = wp.Stream("cuda:0", cuda_stream=owner.cuda_stream)
    del a
    gc.collect()
    x = wp.zeros(4, dtype=float, device="cuda:0")
    with wp.ScopedStream(b, sync_enter=False), wp.ScopedCapture() as capture:  # "unknown stream" unpatched
        x.fill_(2.0)
    wp.capture_launch(capture.graph, stream=b)
    wp.synchronize_stream(b)
    assert x.numpy().tolist() == [2.0] * 4
