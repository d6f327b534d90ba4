"""Timing, peak memory and a description of the machine, shared by the benchmarks.

Two sides of a comparison are always measured in turn (A B A B ...), so that a slow
spell on a shared machine hits both alike, and summarised by the median with the
minimum and maximum beside it.
"""

from __future__ import annotations

import gc
import os
import platform
import re
import resource
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torchvision

Summary = dict[str, Any]
"""``{"median", "min", "max", "values"}`` of one measured quantity."""


def log(message: str) -> None:
    """Progress lines go to stderr, so stdout holds only the results table."""
    print(message, file=sys.stderr, flush=True)


def timed(function: Callable[[], Any]) -> tuple[float, Any]:
    """Run ``function()`` once, after a garbage collection; return ``(seconds, result)``."""
    gc.collect()
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


def summarize(values: list[float]) -> Summary:
    """The median, minimum and maximum of repeated measurements, and the values themselves."""
    if not values:
        raise ValueError("no measurements to summarise")
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "values": list(values),
    }


def alternate(
    cases: dict[str, Callable[[int], float]], repeats: int, title: str
) -> dict[str, Summary]:
    """Run every case once per repeat, in turn, and summarise each case's seconds.

    Args:
        cases: name → a function of the repeat number that sets itself up, times
            what it measures and returns those seconds.
        repeats: how many rounds.
        title: named in the progress lines.
    """
    seconds: dict[str, list[float]] = {name: [] for name in cases}
    for repeat in range(repeats):
        for name, case in cases.items():
            seconds[name].append(case(repeat))
        parts = ", ".join(f"{name} {values[-1]:.3f} s" for name, values in seconds.items())
        log(f"  {title}, repeat {repeat + 1}/{repeats}: {parts}")
    return {name: summarize(values) for name, values in seconds.items()}


def paired_ratios(slower: Summary, faster: Summary) -> Summary:
    """Ratios of the same repeat's two measurements, summarised (A₁/B₁, A₂/B₂, ...)."""
    pairs = zip(slower["values"], faster["values"], strict=True)
    return summarize([a / b for a, b in pairs])


# -- peak memory ------------------------------------------------------------------------


def _status_kib(field: str) -> int | None:
    """A ``kB`` field of ``/proc/self/status`` (Linux), e.g. VmRSS or VmHWM; None elsewhere."""
    try:
        text = Path("/proc/self/status").read_text()
    except OSError:
        return None
    match = re.search(rf"^{field}:\s+(\d+) kB", text, re.MULTILINE)
    return int(match.group(1)) if match else None


def _max_rss_mib() -> float:
    """``ru_maxrss`` in MiB (the kernel reports KiB on Linux, bytes on macOS)."""
    max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return max_rss / (1 << 20) if sys.platform == "darwin" else max_rss / 1024


def start_peak_memory() -> tuple[float, str]:
    """Mark the start of a measurement of peak memory; return ``(baseline MiB, method)``.

    On Linux the process's peak-RSS mark (VmHWM) is reset to its current RSS, so the
    later peak counts only what the measured code adds. ``ru_maxrss`` cannot be used
    for that on Linux: in a subprocess it may still hold the parent's peak, inherited
    at ``exec``. Elsewhere the baseline is ``ru_maxrss`` so far, which can hide an
    increase smaller than the import and loading peak.
    """
    gc.collect()
    try:
        Path("/proc/self/clear_refs").write_text("5")  # "5": reset the peak RSS to the current RSS
        current = _status_kib("VmRSS")
        if current is not None:
            return current / 1024, "VmHWM, reset through /proc/self/clear_refs"
    except OSError:
        pass
    return _max_rss_mib(), "ru_maxrss"


def peak_memory_mib(method: str) -> float:
    """The process's peak RSS in MiB, read the way `start_peak_memory` set up."""
    if method.startswith("VmHWM"):
        peak = _status_kib("VmHWM")
        if peak is not None:
            return peak / 1024
    return _max_rss_mib()


# -- the machine ------------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> float | None:
    try:
        text = Path("/proc/meminfo").read_text()
    except OSError:
        return None
    match = re.search(r"^MemTotal:\s+(\d+) kB", text, re.MULTILINE)
    return round(int(match.group(1)) / (1 << 20), 1) if match else None


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages (runnable processes), or [] where unknown."""
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except OSError:
        return []


def describe_machine() -> dict[str, Any]:
    """What produced the numbers: platform, CPU, cores, memory, library versions."""
    try:
        usable_cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        usable_cores = os.cpu_count()
    return {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "platform": platform.platform(),
        "cpu_model": _cpu_model(),
        "logical_cores": os.cpu_count(),
        "usable_cores": usable_cores,
        "torch_threads": torch.get_num_threads(),
        "memory_gib": _memory_gib(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "numpy": np.__version__,
        "blas": "MKL" if torch.backends.mkl.is_available() else "other",
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
    }
