"""The benchmark command runs end to end in its quick mode (issue 5).

Speeds are not asserted: timings on a shared machine are too noisy for a test. What is
asserted: the command exits with 0, which it does only when both sides computed the
same values, and its JSON holds every field that docs/benchmarks.md and readers use.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPOSITORY = Path(__file__).resolve().parent.parent
RUN_BENCHMARKS = REPOSITORY / "benchmarks" / "run.py"

SUMMARY_FIELDS = ("median", "min", "max", "values")
"""Every measured quantity is summarised as its median, minimum, maximum and values."""

SUMMARIES = (
    "prep.notes", "prep.ptm_cold", "prep.ptm_cached", "prep.paired_speedup_cold",
    "prep.paired_speedup_cached",
    "stats.notes.seconds", "stats.notes.peak_additional_mib", "stats.ptm.seconds",
    "stats.ptm.peak_additional_mib", "stats.paired_speedup",
    "epoch.notes", "epoch.ptm", "epoch.limit", "epoch.notes_loader_only", "epoch.paired_speedup",
    "epoch.paired_fraction_of_limit",
    "per_sample.notes", "per_sample.ptm", "per_sample.paired_speedup",
)  # fmt: skip

FIELDS = (
    "schema_version", "command", "docs_command", "mode", "settings", "total_seconds",
    "all_goals_met", "same_results", "goals",
    "load_average.start", "load_average.end",
    "machine.date", "machine.platform", "machine.cpu_model", "machine.logical_cores",
    "machine.usable_cores", "machine.torch_threads", "machine.memory_gib", "machine.python",
    "machine.torch", "machine.torchvision", "machine.numpy",
    "data.description", "data.synthetic", "data.path", "data.note", "data.n_train_images",
    "data.n_val_images",
    "prep.speedup_cold", "prep.speedup_cached", "prep.cold_definition", "prep.n_train_images",
    "prep.n_val_images", "prep.same_tensors", "prep.max_abs_difference", "prep.checksum_seconds",
    "prep.data_file_mib", "prep.cache_file_mib",
    "stats.speedup", "stats.memory_fraction", "stats.memory_method", "stats.notes_mean",
    "stats.notes_std", "stats.ptm_mean", "stats.ptm_std", "stats.max_abs_difference",
    "stats.same_values", "stats.tolerance", "stats.n_images",
    "epoch.speedup", "epoch.fraction_of_limit", "epoch.notes_fraction_of_limit",
    "epoch.loader_share_of_notes_epoch", "epoch.speedup_if_batching_were_free", "epoch.flops",
    "epoch.limit_gflops_per_second", "epoch.ptm_gflops_per_second", "epoch.n_images",
    "epoch.n_batches", "epoch.batch_size", "epoch.learning_rate", "epoch.same_losses",
    "epoch.max_loss_difference", "epoch.same_weights", "epoch.n_batches_compared",
    "epoch.profile.epoch_seconds", "epoch.profile.categories", "epoch.profile.shares",
    "epoch.profile.top_operators", "epoch.profile.n_epochs_profiled",
    "per_sample.speedup", "per_sample.n_steps",
)  # fmt: skip

GOAL_KEYS = (
    "prep.speedup_cold", "prep.speedup_cached", "stats.speedup", "stats.memory_fraction",
    "epoch.speedup", "epoch.fraction_of_limit", "same_results",
)  # fmt: skip


def lookup(results: dict[str, Any], dotted: str) -> Any:
    """``results["a"]["b"]`` for ``"a.b"``; fails the test naming the missing field."""
    value: Any = results
    for part in dotted.split("."):
        assert isinstance(value, dict) and part in value, f"the JSON has no field {dotted!r}"
        value = value[part]
    return value


@pytest.mark.slow
def test_quick_benchmark_runs_and_reports_every_field(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, str(RUN_BENCHMARKS), "--quick", "--out", str(tmp_path)],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    assert "CIFAR-2 preparation, cold" in completed.stdout  # the table is printed

    results = json.loads((tmp_path / "benchmarks.json").read_text())
    assert results["mode"] == "quick"
    assert results["same_results"] is True
    for dotted in FIELDS:
        lookup(results, dotted)
    for dotted in SUMMARIES:
        summary = lookup(results, dotted)
        assert set(SUMMARY_FIELDS) <= set(summary), f"{dotted} lacks {SUMMARY_FIELDS}"
        assert summary["min"] <= summary["median"] <= summary["max"]
    assert [goal["key"] for goal in results["goals"]] == list(GOAL_KEYS)
    for goal in results["goals"]:
        assert {"description", "target", "direction", "measured", "met"} <= set(goal)

    assert (tmp_path / "benchmarks.txt").read_text().startswith("benchmark")
    assert (tmp_path / "benchmarks.png").read_bytes().startswith(b"\x89PNG")
