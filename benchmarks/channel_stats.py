"""Per-channel mean and standard deviation of the training images (DLwPT §7.1.4).

- the notes' way: every image through ``ToTensor``, ``torch.stack`` of all of them as
  floats, then ``.view(3, -1).mean(dim=1)`` and ``.std(dim=1)`` (`notes_way.channel_stats`);
- ptm: ``ptm.channel_stats(dataset.data)``, one streaming pass over the raw uint8 images.

Each measurement runs in a fresh process of its own, so its peak memory is its own: the
process imports, opens the training set (not timed), notes its memory, then times the
statistics and reports the peak memory they added. Run this file directly to do one such
measurement: ``python benchmarks/channel_stats.py notes DATA_DIR`` prints one JSON line.
"""

from __future__ import annotations

import contextlib
import functools
import json
import re
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

import ptm

# isort: split
# the benchmark's own modules (benchmarks/ is on sys.path when this file runs)
import notes_way
from measure import alternate, paired_ratios, summarize, timed

METHODS = ("notes", "ptm")
TOLERANCE = 1e-4  # the notes' float32 sums against ptm's exact counts


def memory_mib(field: str) -> float:
    """VmRSS (resident memory now) or VmHWM (its peak) in MiB on Linux; elsewhere the peak
    so far (``ru_maxrss``, KiB on Linux), which can hide an increase below that peak."""
    status = Path("/proc/self/status")
    match = re.search(rf"^{field}:\s+(\d+) kB", status.read_text() if status.exists() else "", re.M)
    kib = int(match.group(1)) if match else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kib / 1024


def measure_here(method: str, data_dir: Path) -> dict[str, Any]:
    """Open the training set, then time one method's statistics and its peak extra memory."""
    if method == "notes":
        dataset = notes_way.open_tensor_cifar10(data_dir)
        compute = functools.partial(notes_way.channel_stats, dataset)
    else:
        dataset = ptm.load_cifar10(True, data_dir, download=False)
        compute = functools.partial(ptm.channel_stats, dataset.data)
    with contextlib.suppress(OSError):  # Linux: reset the peak (VmHWM) to the current RSS
        Path("/proc/self/clear_refs").write_text("5")
    baseline = memory_mib("VmRSS")
    seconds, (mean, std) = timed(compute)
    peak = memory_mib("VmHWM")
    return {
        "seconds": seconds,
        "peak_additional_mib": max(peak - baseline, 0.0),
        "values": [*map(float, mean), *map(float, std)],
        "n_images": len(dataset),
    }


def measure_in_subprocess(method: str, data_dir: Path) -> dict[str, Any]:
    """Run `measure_here` in a fresh Python process and return what it reports."""
    command = [sys.executable, str(Path(__file__).resolve()), method, str(data_dir)]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"the {method} statistics process failed:\n{completed.stderr}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def run(data_dir: Path, repeats: int) -> dict[str, Any]:
    """Alternate the two methods, each in its own process; compare time, memory and values."""
    reports: dict[str, list[dict[str, Any]]] = {method: [] for method in METHODS}

    def case(method: str) -> Any:
        def measure(repeat: int) -> float:
            reports[method].append(measure_in_subprocess(method, data_dir))
            return reports[method][-1]["seconds"]

        return measure

    times = alternate({method: case(method) for method in METHODS}, repeats, "channel statistics")
    memory = {f"{method}_mib": summarize([report["peak_additional_mib"] for report in
                                          reports[method]]) for method in METHODS}  # fmt: skip
    notes_values, ptm_values = reports["notes"][-1]["values"], reports["ptm"][-1]["values"]
    difference = max(abs(a - b) for a, b in zip(notes_values, ptm_values, strict=True))
    return {
        **times,
        **memory,
        "speedup": times["notes"]["median"] / times["ptm"]["median"],
        "paired_speedup": paired_ratios(times["notes"], times["ptm"]),
        "memory_fraction": memory["ptm_mib"]["median"] / max(memory["notes_mib"]["median"], 1e-9),
        "paired_memory_fraction": paired_ratios(memory["ptm_mib"], memory["notes_mib"]),
        "notes_values": notes_values,
        "ptm_values": ptm_values,
        "max_abs_difference": difference,
        "same_values": difference <= TOLERANCE,
        "tolerance": TOLERANCE,
        "n_images": reports["ptm"][-1]["n_images"],
    }


if __name__ == "__main__":
    print(json.dumps(measure_here(sys.argv[1], Path(sys.argv[2]))))
