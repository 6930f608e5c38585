"""Run provenance (``mtjax/provenance.py``) and the envs' physics fingerprints (``envs_bridge/fingerprint.py``)."""

import json
import os

import jax
import mujoco
import numpy as np
import pytest
from toy_run import toy_run_config

from envs_bridge import registry
from experiments import common
from experiments import train as train_cli
from experiments.configs import mt10_ppo
from mtjax import checkpoint, provenance

# The MT10 configs' physics (`mt10_ppo.py:24k_warp`). A change of any MT10 scene, reset table or physics setting
# changes it: then this pin, README's headline and docs/metaworld_mjx.md say which physics each result was made on.
# History: a11017dbe99c67a5 = README's 3-seed headline (commits 22219cf, seed 42; a494ae1, seeds 43, 44; to session
# 28); c38b94f0bce8832e in sessions 29-31 (door-open's wrist x panel pair, reach's free puck; three clamped seeds to
# 226 M); 2905169831a657cb in session 32 (the windows' frame top rail); da58bb147be8f770 since session 33 (door-open's
# wrist x handle bar pair), no 1 B result yet.
MT10_HEADLINE_DIGEST = "da58bb147be8f770"

_XML = '<mujoco><worldbody><body><freejoint/><geom size="0.1" friction="{f} 0.005 0.0001"/></body></worldbody></mujoco>'


def test_digests_are_deterministic_and_see_every_byte():
    assert provenance.digest({"a": 1, "b": [2, 3]}) == provenance.digest({"b": [2, 3], "a": 1})
    assert provenance.digest({"a": 1}) != provenance.digest({"a": 2})
    x = np.arange(6, dtype=np.float32)
    y = x.copy()
    y[3] = np.nextafter(y[3], np.float32(10))  # one ulp
    assert provenance.array_digest(x) == provenance.array_digest(x.copy())
    assert provenance.array_digest(x) != provenance.array_digest(y)
    assert provenance.array_digest(x) != provenance.array_digest(x.reshape(2, 3))  # shape is part of it
    assert len(provenance.digest(0)) == 16


def test_model_digest_follows_the_compiled_model():
    a = mujoco.MjModel.from_xml_string(_XML.format(f=1.0))
    b = mujoco.MjModel.from_xml_string(_XML.format(f=1.0))
    c = mujoco.MjModel.from_xml_string(_XML.format(f=0.9))
    assert provenance.model_digest(a) == provenance.model_digest(b)
    assert provenance.model_digest(a) != provenance.model_digest(c)


class _Env:
    def __init__(self, digest):
        self.digest = digest

    def fingerprint(self):
        return {"kind": "fake", "digest": self.digest}


def test_record_appends_segments_and_warns_on_a_physics_change(tmp_path):
    seg, warn = provenance.record(str(tmp_path), _Env("aaaa"), 0)
    assert warn is None and seg["from_iteration"] == 0 and seg["env"]["digest"] == "aaaa"
    assert seg["versions"]["jax"] == jax.__version__ and seg["devices"]
    _, warn = provenance.record(str(tmp_path), _Env("aaaa"), 40)
    assert warn is None
    seg, warn = provenance.record(str(tmp_path), _Env("bbbb"), 80)
    assert "aaaa -> bbbb" in warn and seg["env_changed_from"] == "aaaa"
    segs = provenance.load(str(tmp_path))["segments"]
    assert [s["from_iteration"] for s in segs] == [0, 40, 80]
    # a resume from an earlier checkpoint redoes iterations: segments that started after it go
    provenance.record(str(tmp_path), None, 48)
    assert [s["from_iteration"] for s in provenance.load(str(tmp_path))["segments"]] == [0, 40, 48]


def test_metaworld_fingerprint_sees_physics_not_batching():
    base = registry.make_env("mt10", 20, hand="arm", frame_skip=4)
    fp = base.fingerprint()
    assert fp["kind"] == "metaworld" and set(fp["parts"]) == set(base.task_set.task_names)
    same = registry.make_env("mt10", 30, hand="arm", frame_skip=4, physics_graphs=4)  # other count, shared graphs
    assert same.fingerprint()["digest"] == fp["digest"]
    other = registry.make_env("mt10", 20, hand="arm", frame_skip=2).fingerprint()
    assert other["digest"] != fp["digest"]
    assert all(other["parts"][t] != fp["parts"][t] for t in fp["parts"])  # every scene's timestep differs
    refreshed = registry.make_env("mt10", 20, hand="arm", frame_skip=4, refresh_poses=True).fingerprint()
    assert refreshed["digest"] != fp["digest"] and refreshed["parts"] == fp["parts"]  # same scenes, another read


def test_the_mt10_configs_still_step_the_headline_physics():
    rc = common.typed(mt10_ppo.get_config("24k_warp"))
    env = common.build_env(rc, num_envs=10)
    assert env.fingerprint()["digest"] == MT10_HEADLINE_DIGEST


def test_parkour_fingerprint_follows_the_box_slots():
    a = registry.make_env("parkour_hard", 4, tasks=("flat", "balance_beam")).fingerprint()
    b = registry.make_env("parkour_hard", 8, tasks=("flat", "balance_beam")).fingerprint()
    c = registry.make_env("parkour_hard", 4, tasks=("flat", "balance_beam"), active_boxes=4).fingerprint()
    assert a["kind"] == "parkour" and a["digest"] == b["digest"] != c["digest"]
    assert a["parts"]["model"] != c["parts"]["model"]


def test_a_run_records_its_segments_and_the_export_carries_them(tmp_path):
    run = tmp_path / "run"
    train_cli.run(toy_run_config(run, total_iterations=2))
    segs = provenance.load(str(run))["segments"]
    assert [s["from_iteration"] for s in segs] == [0] and segs[0]["env"] is None  # the toy env has no physics
    train_cli.run(toy_run_config(run, total_iterations=4), resume=True)
    segs = provenance.load(str(run))["segments"]
    assert [s["from_iteration"] for s in segs] == [0, 2]
    checkpoint.export_learner(str(run), str(tmp_path / "export"))
    with open(os.path.join(tmp_path, "export", provenance.FILE)) as f:
        assert json.load(f) == provenance.load(str(run))


@pytest.mark.parametrize("given", [False, True])
def test_summarize_run_takes_the_provenance_beside_the_metrics(tmp_path, given):
    from experiments import summarize_run

    run = tmp_path / "run"
    train_cli.run(toy_run_config(run, total_iterations=2))
    provenance.record(str(run), _Env("cafe"), 2)
    s = summarize_run.attach_provenance({}, str(run / "metrics.jsonl"),
                                        str(run / provenance.FILE) if given else None)
    assert s["env_digests"] == ["cafe"] and len(s["provenance"]["segments"]) == 2
    assert summarize_run.attach_provenance({}, str(tmp_path / "metrics.jsonl")) == {}  # none beside it: nothing
    with pytest.raises(FileNotFoundError):
        summarize_run.attach_provenance({}, str(run / "metrics.jsonl"), str(tmp_path / "missing.json"))
