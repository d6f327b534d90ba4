"""How long a learner waits before anything happens: ``import ptm`` and ``ptm --help``.

Each command runs in a fresh Python process, the cases in turn (A B C D A B C D ...):
``python -c pass`` (the interpreter alone), ``python -c "import torch"``,
``python -c "import ptm"`` and ``python -m ptm --help``. The times are the processes'
wall-clock times, as a learner sees them. ``import ptm`` loads its names on first use,
and ``ptm --help`` should import neither torch nor matplotlib: ``python -X importtime``
lists what each command imports, and the heavy modules found are reported.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from typing import Any

# isort: split
# the benchmark's own modules (benchmarks/ is on sys.path when run.py runs)
from measure import alternate, paired_ratios

COMMANDS = {
    "python": ["-c", "pass"],
    "torch": ["-c", "import torch"],
    "ptm": ["-c", "import ptm"],
    "ptm_help": ["-m", "ptm", "--help"],
}
HEAVY_MODULES = ("torch", "torchvision", "matplotlib", "numpy")


def run_once(arguments: list[str]) -> float:
    """Seconds of one fresh ``python ARGUMENTS`` process, start to exit."""
    started = time.perf_counter()
    subprocess.run([sys.executable, *arguments], check=True, capture_output=True)
    return time.perf_counter() - started


def heavy_imports(arguments: list[str]) -> str:
    """The modules of `HEAVY_MODULES` that ``python ARGUMENTS`` imports, or "none"."""
    completed = subprocess.run([sys.executable, "-X", "importtime", *arguments],
                               check=True, capture_output=True, text=True)  # fmt: skip
    imported = set(re.findall(r"^import time:.*\|\s*([\w.]+)\s*$", completed.stderr, re.M))
    return ", ".join(name for name in HEAVY_MODULES if name in imported) or "none"


def run(repeats: int) -> dict[str, Any]:
    """Alternate the four commands; compare ``import ptm`` and ``ptm --help`` with torch."""
    cases = {
        name: (lambda repeat, a=arguments: run_once(a)) for name, arguments in COMMANDS.items()
    }
    for case in cases.values():  # warm up: the files into the page cache
        case(0)
    times = alternate(cases, repeats, "import time")
    torch_median = times["torch"]["median"]
    return {
        **times,
        "ptm_vs_torch": times["ptm"]["median"] / torch_median,
        "help_vs_torch": times["ptm_help"]["median"] / torch_median,
        "paired_ptm_vs_torch": paired_ratios(times["ptm"], times["torch"]),
        "paired_help_vs_torch": paired_ratios(times["ptm_help"], times["torch"]),
        "ptm_imports": heavy_imports(COMMANDS["ptm"]),
        "ptm_help_imports": heavy_imports(COMMANDS["ptm_help"]),
    }
