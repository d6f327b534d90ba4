"""The benchmarks run end to end in their quick mode, and their page fills in completely.

Speeds are not asserted: timings on a shared machine are too noisy for a test. What is
asserted: the benchmark command exits with 0, which it does only when both sides
computed the same values; its JSON holds what the page and readers use; the page
template fills in without a name left over, with the GPU section measured or not; and the
GPU script's dry run on the CPU writes its JSON.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch

REPOSITORY = Path(__file__).resolve().parent.parent
BENCHMARKS = REPOSITORY / "benchmarks"
LEFT_OVER = re.compile(r"\{[\w\[\] ]+(:[^{}]*)?\}|\$\w|<!-- section")  # an unfilled name


@pytest.fixture
def benchmarks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the benchmark's modules importable, as they are when its scripts run."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))


def lookup(results: dict[str, Any], dotted: str) -> Any:
    value: Any = results
    for part in dotted.split("."):
        assert isinstance(value, dict) and part in value, f"the JSON has no field {dotted!r}"
        value = value[part]
    return value


def gpu_dry_run(tmp_path: Path) -> dict[str, Any]:
    """The GPU script on the CPU with tiny data, called as a function."""
    import gpu_training

    out = tmp_path / "gpu_training.json"
    arguments = ["--device", "cpu", "--n-per-class", "10", "--epochs", "1", "--out", str(out)]
    assert gpu_training.main(arguments) == 0
    return json.loads(out.read_text())


def test_gpu_script_dry_run_on_the_cpu(benchmarks: None, tmp_path: Path) -> None:
    gpu = gpu_dry_run(tmp_path)
    assert gpu["measured"] is True and gpu["device"] == "cpu" and gpu["n_train_images"] == 20
    for side in ("dataloader", "tensor_batches"):
        assert gpu[side]["seconds_per_epoch"]["values"] and gpu[side]["warmup_seconds"] > 0
        assert 0 < gpu[side]["final_loss"] < 10
    assert {"date", "gpu", "torch", "speedup"} <= set(gpu)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_gpu_script_without_cuda_exits_2_and_writes_nothing(benchmarks: None, tmp_path: Path):
    import gpu_training

    assert gpu_training.main(["--out", str(tmp_path / "gpu.json")]) == 2
    assert not (tmp_path / "gpu.json").exists()


def test_benchmarks_stay_short_and_named_for_what_they_measure() -> None:
    files = sorted(BENCHMARKS.glob("*.py"))
    assert "training.py" not in {path.name for path in files}  # it would shadow ptm's name
    lines = sum(len(path.read_text(encoding="utf-8").splitlines()) for path in files)
    assert lines <= 1400, f"benchmarks/ holds {lines} lines of Python"
    for path in [*files, BENCHMARKS / "page_template.md"]:
        assert not re.search(r"\bissue \d", path.read_text(encoding="utf-8"), re.I), path.name


@pytest.mark.slow
def test_quick_benchmark_runs_and_fills_the_page(benchmarks: None, tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, str(BENCHMARKS / "run.py"), "--quick", "--out", str(tmp_path)],
        cwd=REPOSITORY, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-4000:]
    assert "CIFAR-2 preparation, cold" in completed.stdout  # the table is printed
    assert (tmp_path / "benchmarks.txt").read_text().startswith("benchmark")
    assert (tmp_path / "benchmarks.png").read_bytes().startswith(b"\x89PNG")

    results = json.loads((tmp_path / "benchmarks.json").read_text())
    assert results["mode"] == "quick" and results["same_results"] is True
    for goal in results["goals"]:
        assert {"description", "target", "measured", "met"} <= set(goal), goal
        if goal["key"] != "same_results":
            for side in ("baseline", "ptm", "paired"):  # what the table shows
                summary = lookup(results, goal[side])
                assert summary["min"] <= summary["median"] <= summary["max"], goal[side]
    assert [goal["key"] for goal in results["goals"]][-1] == "same_results"
    assert len(results["goals"]) == 13
    assert results["imports"]["ptm_help_imports"] == "none"  # no torch, no matplotlib
    assert results["crop"]["n_images"] == results["prep"]["n_train_images"]

    import page

    not_measured = {"measured": False, "reason": "no CUDA GPU here"}
    for gpu in (not_measured, gpu_dry_run(tmp_path)):
        text = page.fill_page(results, gpu)  # a name without a value raises a KeyError
        assert not LEFT_OVER.search(text), LEFT_OVER.search(text)
        assert ("Not measured: no CUDA GPU here" in text) != gpu["measured"]
        assert "CIFAR-2 preparation, cold" in text
