"""experiments.summarize_run: MTBench's success curve and final per-task table from a metrics.jsonl."""

import json

import pytest

from experiments import summarize_run


def _rec(it, success, a, b):
    return {"iteration": it, "env_steps": 100 * it, "wall_s": 60.0 * it, "env_steps_per_s": 10.0 + it,
            "success": success, "task/a/success": a, "task/b/success": b}


def test_summary_skips_iterations_without_episodes_and_averages_the_last_n(tmp_path):
    recs = [_rec(1, None, None, None), _rec(2, 0.25, 0.5, 0.0), _rec(3, None, None, None),
            _rec(4, 0.75, 1.0, 0.5), _rec(5, 0.5, 0.5, None)]
    s = summarize_run.summarize(recs, last=2)
    assert [p["iteration"] for p in s["success_curve"]] == [2, 4, 5]
    assert s["success_curve"][1]["wall_min"] == 4.0
    # a: last two values 1.0, 0.5 -> 0.75; b: last two finite values 0.0, 0.5 -> 0.25
    assert s["final_task_success"] == {"a": 0.75, "b": 0.25}
    # the run's own curve: last two success values 0.75, 0.5 -> 0.625 (summarize_seeds' definition; the mean of
    # the per-task finals, 0.5, would differ here because task b has no value at iteration 5)
    assert s["final_success"] == 0.625
    assert s["iterations_run"] == 5 and s["env_steps"] == 500
    assert s["train_env_steps_per_s_median"] == 13.0  # sorted 11..15, middle element
    png = tmp_path / "c.png"
    summarize_run.plot(s, str(png))
    assert png.stat().st_size > 1000
    json.dumps(s)  # serialisable


def test_block_means_store_one_point_per_block_and_keep_the_final_numbers():
    recs = [_rec(1, 0.2, 0.4, 0.0), _rec(2, None, None, None), _rec(3, 0.6, 0.8, None), _rec(4, 1.0, 1.0, 1.0)]
    s = summarize_run.summarize(recs, last=2, block=2)
    # blocks (1, 2) -> only iteration 1 has values: 0.2 at iteration 2; (3, 4) -> (0.6 + 1.0) / 2 at iteration 4
    assert [p["iteration"] for p in s["success_curve"]] == [2, 4]
    assert s["success_curve"][0]["success"] == 0.2 and abs(s["success_curve"][1]["success"] - 0.8) < 1e-12
    assert s["success_curve"][1]["task_success"] == {"a": 0.9, "b": 1.0}  # b: only iteration 4 has a value
    assert abs(s["final_success"] - 0.8) < 1e-12  # last two success values 0.6, 1.0, as with block=1
    assert s["final_success"] == summarize_run.summarize(recs, last=2)["final_success"]


def test_progress_metric_is_summarised_under_the_success_names():
    recs = [{"iteration": 1, "env_steps": 10, "wall_s": 6.0, "success": 0.0, "progress": 0.375,
             "task/flat/success": 0.0, "task/flat/progress": 0.5, "task/squeeze/success": 0.0,
             "task/squeeze/progress": 0.25}]
    s = summarize_run.summarize(summarize_run.with_metric(recs, "progress"), last=1)
    assert s["final_success"] == 0.375
    assert s["final_task_success"] == {"flat": 0.5, "squeeze": 0.25}
    assert summarize_run.with_metric(recs, "success") is recs
    with pytest.raises(ValueError, match="valid are success, progress"):
        summarize_run.with_metric(recs, "returns")
    with pytest.raises(ValueError, match="no record has a 'progress' column"):
        summarize_run.with_metric([{"success": 1.0}], "progress")
