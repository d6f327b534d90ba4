"""Benchmark 2: per-channel mean and standard deviation of the training images (DLwPT §7.1.4).

- the notes' way: every image through ``ToTensor``, ``torch.stack`` of all of them as
  floats, then ``.view(3, -1).mean(dim=1)`` and ``.std(dim=1)`` (`notes_way.channel_stats`);
- ptm: ``ptm.channel_stats(dataset.data)``, one streaming pass over the raw uint8 images.

Each measurement runs in a fresh process of its own, so its peak memory is its own:
the process imports, opens the training set (not timed), notes its memory, then times
the statistics and reports the peak memory they added. Run this file directly to do one
such measurement: ``python benchmarks/stats.py notes DATA_DIR`` prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import ptm

# isort: split
# the benchmark's own modules (benchmarks/ is on sys.path when run.py runs)
from measure import (
    Summary,
    log,
    paired_ratios,
    peak_memory_mib,
    start_peak_memory,
    summarize,
    timed,
)
from notes_way import channel_stats, open_tensor_cifar10

METHODS = ("notes", "ptm")
TOLERANCE = 1e-4  # the notes' float32 sums against ptm's exact counts


def measure_here(method: str, data_path: Path) -> dict[str, Any]:
    """Open the training set, then time one method's statistics and its peak extra memory."""
    if method == "notes":
        dataset = open_tensor_cifar10(data_path)

        def compute() -> Any:
            return channel_stats(dataset)
    else:
        dataset = ptm.load_cifar10(True, data_path, download=False)

        def compute() -> Any:
            return ptm.channel_stats(dataset.data)

    baseline, memory_method = start_peak_memory()
    seconds, (mean, std) = timed(compute)
    peak = peak_memory_mib(memory_method)
    return {
        "method": method,
        "seconds": seconds,
        "baseline_mib": baseline,
        "peak_mib": peak,
        "peak_additional_mib": max(peak - baseline, 0.0),
        "memory_method": memory_method,
        "mean": [float(value) for value in mean],
        "std": [float(value) for value in std],
        "n_images": len(dataset),
    }


def measure_in_subprocess(method: str, data_path: Path) -> dict[str, Any]:
    """Run `measure_here` in a fresh Python process and return what it reports."""
    command = [sys.executable, str(Path(__file__).resolve()), method, str(data_path)]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise RuntimeError(
            f"the {method} statistics process failed (exit {completed.returncode}):\n"
            + completed.stderr
        )
    return json.loads(completed.stdout.strip().splitlines()[-1])


def run(data_path: Path, repeats: int) -> dict[str, Any]:
    """Alternate the two methods, each in its own process, and compare time, memory, values."""
    reports: dict[str, list[dict[str, Any]]] = {method: [] for method in METHODS}
    for repeat in range(repeats):
        for method in METHODS:
            reports[method].append(measure_in_subprocess(method, data_path))
        parts = ", ".join(
            f"{method} {reports[method][-1]['seconds']:.3f} s, "
            f"+{reports[method][-1]['peak_additional_mib']:.0f} MiB"
            for method in METHODS
        )
        log(f"  channel statistics, repeat {repeat + 1}/{repeats}: {parts}")

    def side(method: str) -> dict[str, Summary]:
        return {
            "seconds": summarize([report["seconds"] for report in reports[method]]),
            "peak_additional_mib": summarize(
                [report["peak_additional_mib"] for report in reports[method]]
            ),
        }

    notes, fast = side("notes"), side("ptm")
    notes_values = reports["notes"][-1]["mean"] + reports["notes"][-1]["std"]
    ptm_values = reports["ptm"][-1]["mean"] + reports["ptm"][-1]["std"]
    max_difference = max(abs(a - b) for a, b in zip(notes_values, ptm_values, strict=True))
    return {
        "notes": notes,
        "ptm": fast,
        "speedup": notes["seconds"]["median"] / fast["seconds"]["median"],
        "paired_speedup": paired_ratios(notes["seconds"], fast["seconds"]),
        "memory_fraction": fast["peak_additional_mib"]["median"]
        / max(notes["peak_additional_mib"]["median"], 1e-9),
        "memory_method": reports["ptm"][-1]["memory_method"],
        "notes_mean": reports["notes"][-1]["mean"],
        "notes_std": reports["notes"][-1]["std"],
        "ptm_mean": reports["ptm"][-1]["mean"],
        "ptm_std": reports["ptm"][-1]["std"],
        "max_abs_difference": max_difference,
        "same_values": max_difference <= TOLERANCE,
        "tolerance": TOLERANCE,
        "n_images": reports["ptm"][-1]["n_images"],
    }


def main(argv: list[str] | None = None) -> None:
    """One measurement in this process; prints its report as one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("method", choices=METHODS)
    parser.add_argument("data_path", type=Path, help="the folder holding cifar-10-batches-py/")
    arguments = parser.parse_args(argv)
    print(json.dumps(measure_here(arguments.method, arguments.data_path)))


if __name__ == "__main__":
    main()
