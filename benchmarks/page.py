"""The results as a table, a bar chart of the ratios, and docs/benchmarks.md.

The page is `page_template.md` filled in with ``str.format``: the prose lives there and
names the numbers it shows, e.g. ``{prep[ptm_cold][median]:time}`` (the results of a run,
as in benchmarks.json, with ``:time`` for seconds), ``{gpu[speedup]}`` (from
docs/gpu_training.json) or ``{page[results_table]}`` (made here: tables, lists, ratios).
Nothing here measures anything.
"""

from __future__ import annotations

import json
import re
import string
from pathlib import Path
from typing import Any

# isort: split
# the benchmark's own modules (benchmarks/ is on sys.path when run.py runs)
from measure import lookup

Results = dict[str, Any]
TEMPLATE = Path(__file__).resolve().with_name("page_template.md")
HEADER = ["benchmark", "baseline (notes' way unless named)", "ptm", "ratio", "goal", "met"]
BASELINE_NAMES = {
    "prep.ptm_cold": "ptm cold ",
    "epoch.limit": "limit ",
    "imports.torch": "torch ",
    "crop.torchvision": "torchvision ",
    "crop.plain_epoch": "plain epoch ",
    "live.plain": "without ",
}


def seconds(value: float) -> str:
    """``14.1 s``, ``2.35 s``, ``612 ms``, ``8.4 ms``."""
    if value >= 1:
        return f"{value:.1f} s" if value >= 10 else f"{value:.2f} s"
    return f"{value * 1000:.0f} ms" if value >= 0.01 else f"{value * 1000:.1f} ms"


def summary(values: dict[str, Any], unit: str = "s") -> str:
    """``median (min–max)`` of a summary, in seconds or MiB."""
    if unit == "MiB":
        return f"{values['median']:.0f} MiB ({values['min']:.0f}–{values['max']:.0f})"
    return f"{seconds(values['median'])} ({seconds(values['min'])}–{seconds(values['max'])})"


class PageFormatter(string.Formatter):
    """``str.format`` with two more format specs: ``:time`` and ``:summary``."""

    def format_field(self, value: Any, format_spec: str) -> str:
        if format_spec in ("time", "summary"):
            return seconds(value) if format_spec == "time" else summary(value)
        return super().format_field(value, format_spec)


def ratio_cell(goal: dict[str, Any], paired: dict[str, Any]) -> str:
    """``24.3× faster (3.20–27.7)``, ``71% of the limit (54%–79%)`` or ``0.013× (...)``:
    the ratio of the medians, then its range over single repeats."""
    value, low, high = goal["measured"], paired["min"], paired["max"]
    if goal["key"] == "epoch.fraction_of_limit":
        return f"{value:.0%} of the limit ({low:.0%}–{high:.0%})"
    if goal["direction"] == "at most":
        return f"{value:.3f}× ({low:.3f}–{high:.3f})"
    if value < 1:
        return f"{number(1 / value)}× slower ({number(1 / high)}–{number(1 / low)})"
    return f"{number(value)}× faster ({number(low)}–{number(high)})"


def number(ratio: float) -> str:
    """``1.06``, ``24.3``, ``919``."""
    return f"{ratio:.2f}" if ratio < 10 else f"{ratio:.1f}" if ratio < 100 else f"{ratio:.0f}"


def table_rows(results: Results) -> list[list[str]]:
    """One row per goal: the baseline, ptm, their ratio, the goal and whether it was met."""
    rows = []
    for goal in results["goals"]:
        met = "yes" if goal["met"] else "**no**"
        if goal["key"] == "same_results":
            checks = "all checks pass" if goal["met"] else "a check FAILED"
            rows.append([goal["label"], "", "", checks, "equal", met])
            continue
        unit = "MiB" if goal["baseline"].endswith("_mib") else "s"
        sides = [summary(lookup(results, goal[side]), unit) for side in ("baseline", "ptm")]
        sign = "≥" if goal["direction"] == "at least" else "≤"
        target = f"{goal['target']:.0%}" if "limit" in goal["key"] else f"{goal['target']:g}×"
        ratio = ratio_cell(goal, lookup(results, goal["paired"]))
        baseline = BASELINE_NAMES.get(goal["baseline"], "") + sides[0]
        rows.append([goal["label"], baseline, sides[1], ratio, f"{sign} {target}", met])
    return rows


def markdown_table(rows: list[list[Any]], header: list[str]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(map(str, row)) + " |" for row in rows])


def text_table(results: Results) -> str:
    """The results table as aligned plain text, for the terminal."""
    rows = [HEADER, *[[cell.replace("**", "") for cell in row] for row in table_rows(results)]]
    widths = [max(len(row[column]) for row in rows) for column in range(len(HEADER))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in lines)


def plot_ratios(results: Results) -> Any:
    """Horizontal bars, log scale: how many times better ptm does than each baseline (for
    "at most" goals, baseline over ptm), each goal marked with a black tick."""
    from matplotlib.figure import Figure

    bars = []
    for goal in results["goals"][:-1]:  # the last is the same-results check
        value, target = goal["measured"], goal["target"]
        if goal["direction"] == "at most":
            value, target = 1 / max(value, 1e-9), 1 / target
        bars.append((goal["label"].replace("`", ""), value, target))
    figure = Figure(figsize=(8.5, 4.8), layout="constrained")
    ax = figure.add_subplot()
    positions = list(range(len(bars)))[::-1]
    colours = ["tab:green" if value >= target else "tab:red" for _, value, target in bars]
    ax.barh(positions, [value for _, value, _ in bars], color=colours, height=0.6)
    for position, (label, value, target) in zip(positions, bars, strict=True):
        text = f"{value:.0%} of the limit" if "limit" in label else f"{value:.3g}×"
        ax.annotate(text, (max(value, target) * 1.1, position), va="center", fontsize=9)
        ax.plot([target, target], [position - 0.4, position + 0.4], color="black", linewidth=2)
    ax.set_xscale("log")
    values = [number for _, value, target in bars for number in (value, target)]
    ax.set_xlim(min(0.3, min(values) / 2), max(values) * 8)
    ax.set_yticks(positions, [label for label, _, _ in bars], fontsize=8)
    ax.set_xlabel("× better than the baseline (limit: fraction of the machine's matmul rate)")
    machine = results["machine"]
    ax.set_title(
        f"ptm benchmarks: {results['data']['description']}\n{machine['cpu_model']}, "
        f"{machine['usable_cores']} cores, torch {machine['torch']}\n"
        "black ticks: goals; green: met, red: missed",
        fontsize=9,
    )
    return figure


def page_values(results: Results, gpu: dict[str, Any], sections: dict[str, str]) -> dict:
    """The ``{page[...]}`` values of the template: what needs more than a format spec."""
    prep, epoch = results["prep"], results["epoch"]
    profile, limit = epoch["profile"], epoch["limit"]
    categories = sorted(profile["categories"].items(), key=lambda item: -item[1])
    shares = [
        [name, seconds(value), f"{profile['shares'][name]:.0%}"] for name, value in categories
    ]
    gpu_section = sections["gpu_measured" if gpu.get("measured") else "gpu_not_measured"]
    return {
        "minutes": f"{results['total_seconds'] / 60:.0f}",
        "load": [f"{load[0]:.2f}" if load else "?" for load in results["load_average"].values()],
        "results_table": markdown_table(table_rows(results), HEADER),
        "goals_list": "\n".join(
            f"- {'met' if goal['met'] else '**missed**'}: {goal['description']}"
            for goal in results["goals"]
        ),
        "limit_spread": f"{limit['max'] / limit['min'] - 1:.0%}",
        "checksum_share": f"{prep['checksum_seconds'] / prep['ptm_cold']['median']:.0%}",
        "cache_speed": f"{prep['cache_file_mib'] / 1024 / prep['ptm_cached']['median']:.1f}",
        "profile_table": markdown_table(shares, ["where", "time", "share"]),
        "matmul_slowdown": f"{profile['categories']['matrix multiplies'] / limit['median']:.2f}",
        "gpu_section": PageFormatter().format(gpu_section, gpu=gpu).strip(),
    }


def fill_page(results: Results, gpu: dict[str, Any]) -> str:
    """The whole of docs/benchmarks.md; a name without a value raises a KeyError."""
    page, *rest = re.split(r"^<!-- section: (\w+) -->\n", TEMPLATE.read_text(), flags=re.M)
    sections = dict(zip(rest[::2], rest[1::2], strict=True))
    values = page_values(results, gpu, sections)
    return PageFormatter().format(page, **results, page=values).rstrip() + "\n"


def write_outputs(results: Results, folder: Path) -> str:
    """Write benchmarks.txt and benchmarks.png into ``folder``; return the text table."""
    folder.mkdir(parents=True, exist_ok=True)
    table = text_table(results)
    (folder / "benchmarks.txt").write_text(table + "\n")
    plot_ratios(results).savefig(folder / "benchmarks.png", dpi=120)
    return table


def write_docs(results: Results, docs: Path) -> list[Path]:
    """Rewrite docs/benchmarks.md and its plot, with the GPU numbers of gpu_training.json."""
    gpu = json.loads((docs / "gpu_training.json").read_text())
    plot_ratios(results).savefig(docs / "benchmarks.png", dpi=120)
    (docs / "benchmarks.md").write_text(fill_page(results, gpu))
    return [docs / "benchmarks.md", docs / "benchmarks.png"]
