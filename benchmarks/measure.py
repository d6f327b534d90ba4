"""Timing and a description of the machine, shared by the benchmarks.

The sides of a comparison are always measured in turn (A B A B ...), so that a slow spell
on a shared machine hits all of them alike, and each is summarised by its median with the
minimum and maximum beside it.
"""

from __future__ import annotations

import gc
import os
import platform
import re
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

Summary = dict[str, Any]  # {"median", "min", "max", "values"} of one measured quantity


def log(message: str) -> None:
    """Progress lines go to stderr, so stdout holds only the results table."""
    print(message, file=sys.stderr, flush=True)


def lookup(results: dict[str, Any], dotted: str) -> Any:
    """``results["a"]["b"]`` for ``"a.b"``."""
    for part in dotted.split("."):
        results = results[part]
    return results


def timed(function: Callable[[], Any]) -> tuple[float, Any]:
    """Run ``function()`` once, after a garbage collection; return ``(seconds, result)``."""
    gc.collect()
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


def summarize(values: list[float]) -> Summary:
    """The median, minimum and maximum of repeated measurements, and the values themselves."""
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "values": values}  # fmt: skip


def alternate(cases: dict[str, Callable[[int], float]], repeats: int, title: str) -> dict:
    """Run every case once per repeat, in turn, and summarise each case's seconds. A case is
    a function of the repeat number that sets itself up and returns the seconds it timed."""
    seconds: dict[str, list[float]] = {name: [] for name in cases}
    for repeat in range(repeats):
        for name, case in cases.items():
            seconds[name].append(case(repeat))
        parts = ", ".join(f"{name} {values[-1]:.3f} s" for name, values in seconds.items())
        log(f"  {title}, repeat {repeat + 1}/{repeats}: {parts}")
    return {name: summarize(values) for name, values in seconds.items()}


def paired_ratios(slower: Summary, faster: Summary) -> Summary:
    """The ratios of the same repeat's two measurements (A₁/B₁, A₂/B₂, ...), summarised."""
    return summarize([a / b for a, b in zip(slower["values"], faster["values"], strict=True)])


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages (runnable processes), or [] where unknown."""
    return [round(value, 2) for value in os.getloadavg()] if hasattr(os, "getloadavg") else []


def describe_machine() -> dict[str, Any]:
    """What produced the numbers: date, platform, CPU, cores, memory, library versions."""
    import numpy as np
    import torch
    import torchvision

    def find(pattern: str, path: str) -> str | None:
        match = re.search(pattern, Path(path).read_text() if Path(path).is_file() else "", re.M)
        return match.group(1).strip() if match else None

    memory_kib = find(r"^MemTotal:\s+(\d+) kB", "/proc/meminfo")
    return {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "platform": platform.platform(),
        "cpu_model": find(r"^model name\s*:(.+)$", "/proc/cpuinfo") or platform.processor(),
        "usable_cores": len(os.sched_getaffinity(0)) if sys.platform == "linux" else os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "memory_gib": round(int(memory_kib) / (1 << 20), 1) if memory_kib else None,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "numpy": np.__version__,
    }
