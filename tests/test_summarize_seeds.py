"""experiments.summarize_seeds: MTBench's seed statistics on hand-made metrics files, numbers worked by hand."""

import gzip
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from experiments import summarize_seeds as ss

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _rec(it, steps, wall_s, a, b):
    """One iteration; ``success`` is the mean over the tasks that finished an episode (null if none did)."""
    vals = [v for v in (a, b) if v is not None]
    return {"iteration": it, "env_steps": steps, "wall_s": wall_s, "success": sum(vals) / len(vals) if vals else None,
            "task/a/success": a, "task/b/success": b, "task/a/episodes": 0.0 if a is None else 3.0}


# success:  A 0.2, 0.6 | B 0.4, null, 0.8 | C 0.0 (only a finished), 0.6, 1.0 (only b), 0.9.
RUN_A = [_rec(1, 100, 60.0, 0.0, 0.4), _rec(2, 200, 120.0, 1.0, 0.2)]
RUN_B = [_rec(1, 100, 30.0, 0.2, 0.6), _rec(2, 200, 60.0, None, None), _rec(3, 300, 90.0, 0.6, 1.0)]
RUN_C = [_rec(1, 100, 45.0, 0.0, None), _rec(2, 200, 90.0, 0.4, 0.8), _rec(3, 300, 135.0, None, 1.0),
         _rec(4, 400, 180.0, 0.8, 1.0)]


def test_two_seeds_by_hand():
    s = ss.summarize_seeds([RUN_A, RUN_B], last=1, target=0.5, grid=3)
    # Common frame = min(last logged steps) = min(200, 300) = 200. A's success there: 0.6. B is interpolated
    # between (100, 0.4) and (300, 0.8) (its null iteration is skipped): 0.4 + 0.4 * 100/200 = 0.6.
    assert s["target_frame"] == 200 and s["common_env_steps"] == [100, 200]
    np.testing.assert_allclose(s["success_at_target_frame"]["per_seed"], [0.6, 0.6], atol=1e-12)
    # Final (last 1 non-null success): A 0.6, B 0.8; mean 0.7.
    np.testing.assert_allclose(s["final_success"]["per_seed"], [0.6, 0.8], atol=1e-12)
    assert s["final_success"]["mean"] == pytest.approx(0.7)
    # Two seeds: a resample's mean is 0.6 (probability 1/4), 0.7 (1/2) or 0.8 (1/4); each extreme holds far more
    # than 2.5 % of 2,000 resamples, so the 2.5 % and 97.5 % quantiles are exactly 0.6 and 0.8.
    assert s["final_success"]["ci95"] == pytest.approx([0.6, 0.8])
    # IQM over the 4 finals {1.0, 0.2, 0.6, 1.0}: sorted (0.2, 0.6, 1.0, 1.0), middle two -> (0.6 + 1.0)/2 = 0.8.
    assert s["final_success"]["iqm_seeds_x_tasks"] == pytest.approx(0.8)
    assert s["final_task_success"]["a"] == {"per_seed": [1.0, 0.6], "mean": pytest.approx(0.8)}
    # First success >= 0.5: A at 200 steps / 2 min (0.2 at 100); B at 300 steps / 1.5 min (0.4 at 100).
    assert s["runs"][0]["first_success_ge_0.5"] == {"env_steps": 200, "wall_min": 2.0}
    assert s["runs"][1]["first_success_ge_0.5"] == {"env_steps": 300, "wall_min": 1.5}
    assert [r["last_env_steps"] for r in s["runs"]] == [200, 300]
    assert [r["last_wall_min"] for r in s["runs"]] == [2.0, 1.5]
    # Env-step curve on 100, 150, 200: A = 0.2, 0.4, 0.6; B = 0.4, 0.5, 0.6 -> mean 0.3, 0.45, 0.6; with two
    # seeds the band is (min, max) at every point (as for the finals above).
    c = s["mean_curve_env_steps"]
    np.testing.assert_allclose(c["mean"], [0.3, 0.45, 0.6], atol=1e-12)
    np.testing.assert_allclose(c["ci95_low"], [0.2, 0.4, 0.6], atol=1e-12)
    np.testing.assert_allclose(c["ci95_high"], [0.4, 0.5, 0.6], atol=1e-12)
    # Wall-clock: A's points at 1, 2 min, B's at 0.5, 1.5 min -> common range 1-1.5 min, grid 1, 1.25, 1.5:
    # A = 0.2, 0.3, 0.4; B = 0.6, 0.7, 0.8 -> mean 0.4, 0.5, 0.6.
    w = s["mean_curve_wall_min"]
    assert s["common_wall_min"] == [1.0, 1.5]
    np.testing.assert_allclose(w["wall_min"], [1.0, 1.25, 1.5], atol=1e-12)
    np.testing.assert_allclose(w["mean"], [0.4, 0.5, 0.6], atol=1e-12)
    np.testing.assert_allclose(w["ci95_low"], [0.2, 0.3, 0.4], atol=1e-12)
    np.testing.assert_allclose(w["ci95_high"], [0.6, 0.7, 0.8], atol=1e-12)


def test_three_seeds_of_different_lengths_by_hand():
    s = ss.summarize_seeds([RUN_A, RUN_B, RUN_C], last=2, target=0.5, grid=3)
    # Final = mean of the last 2 non-null success values: A (0.2 + 0.6)/2 = 0.4, B (0.4 + 0.8)/2 = 0.6,
    # C (1.0 + 0.9)/2 = 0.95. (C's mean over its per-task finals would be (0.6 + 1.0)/2 = 0.8: not what is asked.)
    np.testing.assert_allclose(s["final_success"]["per_seed"], [0.4, 0.6, 0.95], atol=1e-12)
    assert s["final_success"]["mean"] == pytest.approx(0.65)
    # Bootstrap of 3 seeds: all three draws equal the smallest (0.4) with probability 1/27 = 3.7 % (74 +- 8 of
    # 2,000 resamples, more than the 50 below the 2.5 % quantile), likewise the largest: the CI is (0.4, 0.95).
    assert s["final_success"]["ci95"] == pytest.approx([0.4, 0.95])
    # Per task (last 2 non-null): a: A (0 + 1)/2 = 0.5, B (0.2 + 0.6)/2 = 0.4, C (0.4 + 0.8)/2 = 0.6;
    # b: A (0.4 + 0.2)/2 = 0.3, B (0.6 + 1)/2 = 0.8, C (1 + 1)/2 = 1.
    np.testing.assert_allclose(s["final_task_success"]["a"]["per_seed"], [0.5, 0.4, 0.6], atol=1e-12)
    np.testing.assert_allclose(s["final_task_success"]["b"]["per_seed"], [0.3, 0.8, 1.0], atol=1e-12)
    assert s["final_task_success"]["b"]["mean"] == pytest.approx(0.7)
    # IQM of (0.3, 0.4, 0.5, 0.6, 0.8, 1.0): drop one each side -> (0.4 + 0.5 + 0.6 + 0.8)/4 = 0.575.
    assert s["final_success"]["iqm_seeds_x_tasks"] == pytest.approx(0.575)
    # The shortest seed (A, 200 steps) sets the frame; all three are 0.6 there (C logged 0.6 at 200).
    assert s["target_frame"] == 200 and s["common_env_steps"] == [100, 200]
    assert s["success_at_target_frame"]["mean"] == pytest.approx(0.6)
    assert s["success_at_target_frame"]["ci95"] == pytest.approx([0.6, 0.6])
    assert [r["last_env_steps"] for r in s["runs"]] == [200, 300, 400]
    assert [r["last_wall_min"] for r in s["runs"]] == [2.0, 1.5, 3.0]
    # C first reaches 0.5 at 200 steps, 90 s.
    assert s["runs"][2]["first_success_ge_0.5"] == {"env_steps": 200, "wall_min": 1.5}
    # Wall-clock range: starts max(1, 0.5, 0.75) = 1 min, ends min(2, 1.5, 3) = 1.5 min.
    assert s["common_wall_min"] == [1.0, 1.5]


def test_final_only_seed_enters_the_final_statistics_not_the_curves():
    s = ss.summarize_seeds([RUN_A, RUN_B], last=1, grid=3, finals_only=[{"per_task": {"a": 0.0, "b": 0.2},
                                                                           "env_steps": 50}])
    # Finals 0.6, 0.8 and (0.0 + 0.2)/2 = 0.1 -> mean 0.5; the curve statistics are unchanged.
    assert s["num_seeds"] == 3 and s["num_seeds_with_curves"] == 2
    assert s["final_success"]["mean"] == pytest.approx(0.5)
    assert s["final_task_success"]["a"]["per_seed"] == [1.0, 0.6, 0.0]
    np.testing.assert_allclose(s["mean_curve_env_steps"]["mean"], [0.3, 0.45, 0.6], atol=1e-12)


def test_errors():
    with pytest.raises(ValueError, match="tasks"):
        ss.summarize_seeds([RUN_A], finals_only=[{"per_task": {"a": 0.0}, "env_steps": 5}])
    with pytest.raises(ValueError, match="at least 2 runs"):
        ss.summarize_seeds([RUN_A])
    with pytest.raises(ValueError, match="success value"):
        ss.summarize_seeds([RUN_A, [_rec(1, 100, 1.0, None, None)]])
    other = [{**r, "task/c/success": 0.5} for r in RUN_B]
    with pytest.raises(ValueError, match="run 1 has tasks"):
        ss.summarize_seeds([RUN_A, other])


def _write(path, recs, gz=False):
    with (gzip.open(path, "wt") if gz else open(path, "w")) as f:
        f.writelines(json.dumps(r) + "\n" for r in recs)


def test_run_directories_gzip_missing_wall_clock_and_plot(tmp_path):
    (tmp_path / "s1").mkdir()
    _write(tmp_path / "s1" / "metrics.jsonl", RUN_A)
    _write(tmp_path / "b.jsonl.gz", RUN_B, gz=True)
    assert ss.read_run(str(tmp_path / "s1")) == RUN_A and ss.read_run(str(tmp_path / "b.jsonl.gz")) == RUN_B
    with pytest.raises(ValueError, match="holds none"):
        ss.read_run(str(tmp_path))
    no_wall = [{k: v for k, v in r.items() if k != "wall_s"} for r in RUN_B]
    s = ss.summarize_seeds([RUN_A, no_wall], last=1, grid=3)
    assert s["mean_curve_wall_min"] is None and s["runs"][1]["last_wall_min"] is None
    np.testing.assert_allclose(s["mean_curve_env_steps"]["mean"], [0.3, 0.45, 0.6], atol=1e-12)
    png = tmp_path / "s.png"
    ss.plot(s, str(png), ["s1", "b"])
    assert png.stat().st_size > 10_000


def test_cli(tmp_path):
    (tmp_path / "s1").mkdir()
    _write(tmp_path / "s1" / "metrics.jsonl", RUN_A)
    _write(tmp_path / "b.jsonl.gz", RUN_B, gz=True)
    out, png = tmp_path / "out.json", tmp_path / "out.png"
    p = subprocess.run([sys.executable, "-m", "experiments.summarize_seeds",
                        f"--runs={tmp_path / 's1'},{tmp_path / 'b.jsonl.gz'}", f"--out={out}", f"--png={png}",
                        "--last=1", "--grid=3", "--note=test"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert p.returncode == 0, p.stderr[-3000:]
    s = json.loads(out.read_text())
    assert s["final_success"]["mean"] == pytest.approx(0.7) and s["note"] == "test"
    assert s["inputs"] == [str(tmp_path / "s1"), str(tmp_path / "b.jsonl.gz")]
    assert png.stat().st_size > 10_000
    assert "final success (last 1): 0.700 (95 % CI 0.600-0.800)" in p.stdout
