"""experiments.summarize_seeds: MTBench's seed statistics on hand-made metrics files."""

import gzip
import json

import numpy as np
import pytest

from experiments import summarize_run, summarize_seeds


def _rec(it, steps, wall_s, a, b):
    mean = None if a is None else (a + b) / 2
    return {"iteration": it, "env_steps": steps, "wall_s": wall_s, "env_steps_per_s": 1000.0, "success": mean,
            "task/a/success": a, "task/b/success": b}


# Run A logs at 100 and 200 steps, run B at 100, 200 (no episode finished: null) and 300.
RUN_A = [_rec(1, 100, 60.0, 0.0, 0.4), _rec(2, 200, 120.0, 1.0, 0.2)]
RUN_B = [_rec(1, 100, 30.0, 0.2, 0.6), _rec(2, 200, 60.0, None, None), _rec(3, 300, 90.0, 0.6, 1.0)]


def test_statistics_by_hand():
    s = summarize_seeds.summarize_seeds([RUN_A, RUN_B], last=1, target=0.5, grid=3)
    # Common frame = min(last logged steps) = min(200, 300) = 200. A's mean there: (1.0 + 0.2)/2 = 0.6.
    # B is interpolated between (100, 0.4) and (300, 0.8): 0.4 + 0.4 * 100/200 = 0.6.
    assert s["target_frame"] == 200
    np.testing.assert_allclose(s["success_at_target_frame"]["per_seed"], [0.6, 0.6], atol=1e-12)
    # Finals with last=1: A (a=1.0, b=0.2) -> 0.6; B (a=0.6, b=1.0) -> 0.8; mean 0.7.
    np.testing.assert_allclose(s["final_success"]["per_seed"], [0.6, 0.8], atol=1e-12)
    assert s["final_success"]["mean"] == pytest.approx(0.7)
    # A resample of the two seed values averages to 0.6 (probability 1/4), 0.7 (1/2) or 0.8 (1/4); each extreme
    # holds far more than 2.5 % of 2,000 resamples, so the 2.5 % and 97.5 % quantiles are exactly 0.6 and 0.8.
    lo, hi = s["final_success"]["ci95"]
    assert lo == pytest.approx(0.6) and hi == pytest.approx(0.8)
    # IQM over the 4 finals {1.0, 0.2, 0.6, 1.0}: sorted (0.2, 0.6, 1.0, 1.0), middle two -> (0.6 + 1.0)/2 = 0.8.
    assert s["final_success"]["iqm_seeds_x_tasks"] == pytest.approx(0.8)
    assert s["final_task_success"]["a"]["per_seed"] == [1.0, 0.6]
    # First crossing of 0.5: A at 200 steps / 2 min (its mean is 0.2 at 100); B at 300 steps / 1.5 min (0.4 at 100).
    assert s["runs"][0]["first_success_ge_0.5"] == {"env_steps": 200, "wall_min": 2.0}
    assert s["runs"][1]["first_success_ge_0.5"] == {"env_steps": 300, "wall_min": 1.5}
    # Mean curve on the grid 100, 150, 200: A = 0.2, 0.4, 0.6; B = 0.4, 0.5, 0.6 -> 0.3, 0.45, 0.6.
    np.testing.assert_allclose(s["mean_curve_env_steps"]["mean"], [0.3, 0.45, 0.6], atol=1e-12)


def test_final_only_seed_enters_the_final_statistics_not_the_curves():
    s = summarize_seeds.summarize_seeds([RUN_A, RUN_B], last=1, grid=3,
                                        finals_only=[{"per_task": {"a": 0.0, "b": 0.2}, "env_steps": 50}])
    # Finals 0.6, 0.8 and (0.0 + 0.2)/2 = 0.1 -> mean 0.5; the curve statistics are unchanged.
    assert s["num_seeds"] == 3 and s["num_seeds_with_curves"] == 2
    assert s["final_success"]["mean"] == pytest.approx(0.5)
    np.testing.assert_allclose(s["mean_curve_env_steps"]["mean"], [0.3, 0.45, 0.6], atol=1e-12)
    with pytest.raises(ValueError, match="tasks"):
        summarize_seeds.summarize_seeds([RUN_A], finals_only=[{"per_task": {"a": 0.0}, "env_steps": 5}])
    with pytest.raises(ValueError, match="at least 2 runs"):
        summarize_seeds.summarize_seeds([RUN_A])


def test_gzipped_metrics_and_plot(tmp_path):
    path = tmp_path / "m.jsonl.gz"
    with gzip.open(path, "wt") as f:
        f.writelines(json.dumps(r) + "\n" for r in RUN_B)
    assert summarize_run.read_metrics(str(path)) == RUN_B
    s = summarize_seeds.summarize_seeds([RUN_A, summarize_run.read_metrics(str(path))], last=1, grid=3)
    s["inputs"] = ["a.jsonl", str(path)]
    png = tmp_path / "s.png"
    summarize_seeds.plot(s, str(png))
    assert png.stat().st_size > 10_000
