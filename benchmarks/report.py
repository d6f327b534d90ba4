"""The benchmarks' results as a table, a bar chart of the ratios, and docs/benchmarks.md.

Everything here reads the results dictionary that `run.py` also writes as JSON; nothing
here measures anything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

Results = dict[str, Any]


# -- goals ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Goal:
    """One target of issue 5: a measured number, at least or at most a target."""

    key: str
    description: str
    target: float
    at_least: bool  # False: at most

    def measured(self, results: Results) -> float:
        section, field = self.key.split(".")
        return float(results[section][field])

    def met(self, results: Results) -> bool:
        value = self.measured(results)
        return value >= self.target if self.at_least else value <= self.target


GOALS = (
    Goal("prep.speedup_cold", "CIFAR-2 preparation, cold: ptm at least 20× faster", 20, True),
    Goal("prep.speedup_cached", "CIFAR-2 preparation, from cache: at least 100× faster", 100, True),
    Goal("stats.speedup", "Channel statistics: at least 20× faster", 20, True),
    Goal(
        "stats.memory_fraction",
        "Channel statistics: peak additional memory at most a tenth of the notes' way",
        0.1,
        False,
    ),
    Goal(
        "epoch.speedup",
        "Training epoch: ptm at least 1.15× faster than the notes' loop",
        1.15,
        True,
    ),
    Goal(
        "epoch.fraction_of_limit",
        "Training epoch: ptm at least 70 % of the matrix-multiply limit",
        0.7,
        True,
    ),
)

SAME_RESULT_CHECKS = {
    "prep.same_tensors": "CIFAR-2 tensors identical to the notes' list",
    "stats.same_values": "channel statistics equal within 1e-4",
    "epoch.same_losses": "same per-batch losses for the same batch order",
    "epoch.same_weights": "same weights after that epoch",
}


def evaluate_goals(results: Results) -> list[dict[str, Any]]:
    """Each goal with its target, the measured value and whether it was met."""
    evaluated = [
        {
            "key": goal.key,
            "description": goal.description,
            "target": goal.target,
            "direction": "at least" if goal.at_least else "at most",
            "measured": goal.measured(results),
            "met": goal.met(results),
        }
        for goal in GOALS
    ]
    evaluated.append(
        {
            "key": "same_results",
            "description": "No regression in what is computed: "
            + "; ".join(SAME_RESULT_CHECKS.values()),
            "target": True,
            "direction": "equal",
            "measured": same_results(results),
            "met": same_results(results),
        }
    )
    return evaluated


def same_results(results: Results) -> bool:
    """True when every check that both sides computed the same values passed."""
    checks = (key.split(".") for key in SAME_RESULT_CHECKS)
    return all(bool(results[section][field]) for section, field in checks)


# -- the table --------------------------------------------------------------------------


def format_seconds(seconds: float) -> str:
    """``14.1 s``, ``612 ms``, ``8.4 ms``: three significant figures or so."""
    if seconds >= 10:
        return f"{seconds:.1f} s"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 0.01:
        return f"{seconds * 1000:.0f} ms"
    return f"{seconds * 1000:.1f} ms"


def format_summary(summary: dict[str, Any], unit: str = "s") -> str:
    """``median (min–max)``, in seconds or MiB."""
    if unit == "MiB":
        return f"{summary['median']:.0f} MiB ({summary['min']:.0f}–{summary['max']:.0f})"
    low, high = format_seconds(summary["min"]), format_seconds(summary["max"])
    return f"{format_seconds(summary['median'])} ({low}–{high})"


def faster_or_slower(ratio: float, paired: dict[str, Any], digits: int = 2) -> str:
    """``1.06× faster (0.98–1.12)``: the ratio of the medians, then its range over single
    repeats; below 1 it reads ``1.54× slower (...)``."""
    if ratio >= 1:
        low, high = paired["min"], paired["max"]
        return f"{ratio:.{digits}f}× faster ({low:.{digits}f}–{high:.{digits}f})"
    low, high = 1 / paired["max"], 1 / paired["min"]
    return f"{1 / ratio:.{digits}f}× slower ({low:.{digits}f}–{high:.{digits}f})"


def fraction_cell(fraction: float, paired: dict[str, Any]) -> str:
    """``66% of the limit (60–72%)``."""
    return f"{fraction:.0%} of the limit ({paired['min']:.0%}–{paired['max']:.0%})"


def _goal_cells(results: Results, key: str) -> tuple[str, str]:
    goal = next(goal for goal in GOALS if goal.key == key)
    if key.endswith("fraction_of_limit"):
        target = f"≥ {goal.target:.0%}"
    elif goal.at_least:
        target = f"≥ {goal.target:g}×"
    else:
        target = f"≤ {goal.target:g}"
    return target, "yes" if goal.met(results) else "**no**"


def table_rows(results: Results) -> list[list[str]]:
    """The results table: one row per comparison, medians with min–max."""
    prep, stats = results["prep"], results["stats"]
    epoch, per_sample = results["epoch"], results["per_sample"]
    checks_pass = same_results(results)

    def row(label: str, baseline: str, fast: str, ratio: str, goal_key: str | None) -> list[str]:
        goal_cells = _goal_cells(results, goal_key) if goal_key else ("–", "–")
        return [label, baseline, fast, ratio, *goal_cells]

    return [
        row(
            "CIFAR-2 preparation, cold",
            format_summary(prep["notes"]),
            format_summary(prep["ptm_cold"]),
            faster_or_slower(prep["speedup_cold"], prep["paired_speedup_cold"], 1),
            "prep.speedup_cold",
        ),
        row(
            "CIFAR-2 preparation, from ptm's cache",
            format_summary(prep["notes"]),
            format_summary(prep["ptm_cached"]),
            faster_or_slower(prep["speedup_cached"], prep["paired_speedup_cached"], 0),
            "prep.speedup_cached",
        ),
        row(
            "Channel statistics, time",
            format_summary(stats["notes"]["seconds"]),
            format_summary(stats["ptm"]["seconds"]),
            faster_or_slower(stats["speedup"], stats["paired_speedup"], 1),
            "stats.speedup",
        ),
        row(
            "Channel statistics, peak additional memory",
            format_summary(stats["notes"]["peak_additional_mib"], "MiB"),
            format_summary(stats["ptm"]["peak_additional_mib"], "MiB"),
            f"{stats['memory_fraction']:.3f} of the notes'",
            "stats.memory_fraction",
        ),
        row(
            "Training epoch, 3072-512-2, batch 64",
            format_summary(epoch["notes"]),
            format_summary(epoch["ptm"]),
            faster_or_slower(epoch["speedup"], epoch["paired_speedup"]),
            "epoch.speedup",
        ),
        row(
            "Training epoch vs matmul limit",
            "limit " + format_summary(epoch["limit"]),
            format_summary(epoch["ptm"]),
            fraction_cell(epoch["fraction_of_limit"], epoch["paired_fraction_of_limit"]),
            "epoch.fraction_of_limit",
        ),
        row(
            "Per-sample training, per 1,000 steps",
            format_summary(per_sample["notes"]),
            format_summary(per_sample["ptm"]),
            faster_or_slower(per_sample["speedup"], per_sample["paired_speedup"]),
            None,
        ),
        [
            "Same results on both sides",
            "",
            "",
            "all checks pass" if checks_pass else "a check FAILED",
            "equal",
            "yes" if checks_pass else "**no**",
        ],
    ]


TABLE_HEADER = ["benchmark", "notes' way (or limit)", "ptm", "ratio", "goal", "met"]


def text_table(results: Results) -> str:
    """The table as aligned plain text, for the terminal."""
    rows = [
        TABLE_HEADER,
        *[[cell.replace("**", "") for cell in row] for row in table_rows(results)],
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(len(TABLE_HEADER))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in lines)


def markdown_table(rows: list[list[str]], header: list[str]) -> str:
    """Rows as a GitHub-flavoured Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


# -- the plot ---------------------------------------------------------------------------


def ratio_bars(results: Results) -> list[tuple[str, float, float | None]]:
    """``(label, ratio, goal)`` for each bar: how many times better ptm does than the baseline."""
    prep, stats, epoch = results["prep"], results["stats"], results["epoch"]
    return [
        ("CIFAR-2 preparation, cold", prep["speedup_cold"], 20),
        ("CIFAR-2 preparation, cached", prep["speedup_cached"], 100),
        ("channel statistics, time", stats["speedup"], 20),
        ("channel statistics, memory", 1 / max(stats["memory_fraction"], 1e-9), 10),
        ("training epoch vs notes' loop", epoch["speedup"], 1.15),
        ("training epoch vs matmul limit", epoch["fraction_of_limit"], 0.7),
        ("per-sample training", results["per_sample"]["speedup"], None),
    ]


def plot_ratios(results: Results) -> Figure:
    """Horizontal bars of the ratios on a log scale, each goal marked with a black tick."""
    bars = ratio_bars(results)
    figure = Figure(figsize=(8, 4.2), layout="constrained")
    ax = figure.add_subplot()
    positions = list(range(len(bars)))[::-1]
    colours = [
        "0.6" if goal is None else ("tab:green" if ratio >= goal else "tab:red")
        for _, ratio, goal in bars
    ]
    ratios = [ratio for _, ratio, _ in bars]
    ax.barh(positions, ratios, color=colours, height=0.6)
    for position, (label, ratio, goal) in zip(positions, bars, strict=True):
        text = f"{ratio:.0%} of the limit" if "limit" in label else f"{ratio:.3g}×"
        ax.annotate(
            text,
            (max(ratio, goal or 0) * 1.1, position),
            va="center",
            fontsize=9,
        )
        if goal is not None:
            ax.plot([goal, goal], [position - 0.4, position + 0.4], color="black", linewidth=2)
    ax.axvline(1, color="0.3", linewidth=0.8, linestyle=":")
    ax.set_xscale("log")
    goals = [goal for _, _, goal in bars if goal is not None]
    ax.set_xlim(min(0.3, min(ratios) / 2), max(ratios + goals) * 5)
    ax.set_yticks(positions, [label for label, _, _ in bars])
    ax.set_xlabel("ptm vs the notes' way, × better (limit: fraction of the machine's matmul rate)")
    machine = results["machine"]
    ax.set_title(
        f"ptm benchmarks: {results['data']['description']}\n"
        f"{machine['cpu_model']}, {machine['usable_cores']} cores, torch {machine['torch']}. "
        "Black ticks: goals; green: met, red: missed",
        fontsize=9,
    )
    return figure


# -- docs/benchmarks.md -----------------------------------------------------------------


def _preparation_notes(results: Results) -> str:
    """What ptm's data preparation spends its time on, from numbers of this run."""
    prep = results["prep"]
    cold, cached = prep["ptm_cold"]["median"], prep["ptm_cached"]["median"]
    checksum = prep["checksum_seconds"]
    return "\n".join(
        [
            f"- Cold, ptm reads, checksums (MD5), unpickles and converts "
            f"{prep['data_file_mib']:.0f} MiB of files in {format_seconds(cold)}. The MD5 "
            f"checksums alone (ptm hashes the files in parallel, one thread per core) take "
            f"{format_seconds(checksum)} here, {checksum / cold:.0%} of that; torchvision, and "
            "so the notes' way, checksums the same files one after the other, for each split "
            "it opens.",
            f"- From its cache, ptm loads {prep['cache_file_mib']:.0f} MiB of float32 tensors "
            f"with `torch.load` in {format_seconds(cached)} "
            f"({prep['cache_file_mib'] / 1024 / cached:.1f} GiB/s), then reads them once.",
        ]
    )


def _speedup_verdict(goal_met: bool, speedup_if_batching_were_free: float, outside: float) -> str:
    if goal_met:
        return "The 1.15× goal is met."
    if speedup_if_batching_were_free < 1.15:
        return (
            "Batching alone therefore cannot give 1.15×. The rest would have to come from "
            "spending less than the notes' loop on the step itself (the optimizer, the "
            "element-wise operations, Python and autograd between the multiplies: "
            f"{outside:.0%} of ptm's profiled epoch), which ptm's engine shares with the notes "
            "by design: it makes the same PyTorch calls the lesson teaches."
        )
    return (
        "The 1.15× goal is missed although free batching could reach it: ptm's engine "
        "spends more than the notes' loop outside the arithmetic (see the profile above)."
    )


def _limit_verdict(goal_met: bool, shares: dict[str, float], matmul_slowdown: float) -> str:
    outside = 1 - shares["matrix multiplies"]
    largest_other = max(
        (name for name in shares if name != "matrix multiplies"), key=lambda name: shares[name]
    )
    words = (
        f"In the profiled epoch {outside:.0%} of the time is outside the multiplies, the "
        f"largest part being {largest_other} ({shares[largest_other]:.0%}). "
    )
    if matmul_slowdown > 1.1:
        words += (
            f"The multiplies themselves take {matmul_slowdown:.2f}× their time alone: between "
            "them every step updates all 1.57 million weights (the optimizer reads about 12 MB "
            "and writes 6 MB), which likely leaves less of their data in the caches than a "
            "loop that only multiplies. "
        )
    else:
        words += f"The multiplies themselves take about their time alone ({matmul_slowdown:.2f}×). "
    if goal_met:
        return words + "The 70 % goal is met."
    return words + (
        "The 70 % goal asks for the multiplies to fill at least 70 % of the epoch; what "
        "happens between them takes more than the remaining 30 %."
    )


def _epoch_analysis(results: Results) -> str:
    """Where the training epoch's time goes, in words and numbers from this run."""
    epoch = results["epoch"]
    profile = epoch["profile"]
    shares = profile["shares"]
    share_rows = [
        [name, f"{profile['categories'][name] * 1000:.0f} ms", f"{share:.0%}"]
        for name, share in sorted(shares.items(), key=lambda item: item[1], reverse=True)
    ]
    matmul_seconds = profile["categories"]["matrix multiplies"]
    limit_seconds = epoch["limit"]["median"]
    speedup_goal_met = epoch["speedup"] >= 1.15
    limit_goal_met = epoch["fraction_of_limit"] >= 0.7
    paragraphs = [
        f"The fastest of {profile['n_epochs_profiled']} ptm epochs run under `torch.profiler` "
        f"({format_seconds(profile['epoch_seconds'])}, with the profiler's own overhead), by "
        "operator self time:",
        markdown_table(share_rows, ["where", "time", "share"]),
        f"The notes' loop and ptm's engine do the same arithmetic: same model, optimizer and "
        f"loss, the same {epoch['n_batches']} steps. What differs is how a batch is made: the "
        f"notes' `DataLoader` indexes the list 64 times and stacks the images, ptm indexes "
        f"one tensor. Iterating the notes' `DataLoader` alone takes "
        f"{format_seconds(epoch['notes_loader_only']['median'])}, "
        f"{epoch['loader_share_of_notes_epoch']:.0%} of the notes' epoch, so an engine whose "
        f"batches cost nothing at all would be at most "
        f"{epoch['speedup_if_batching_were_free']:.2f}× faster than the notes' loop. "
        + _speedup_verdict(
            speedup_goal_met,
            epoch["speedup_if_batching_were_free"],
            1 - shares["matrix multiplies"],
        ),
        f"Against the limit: the epoch's multiplies ({epoch['flops'] / 1e9:.1f} GFLOP) take "
        f"{format_seconds(limit_seconds)} alone with `torch.matmul` "
        f"({epoch['limit_gflops_per_second']:.0f} GFLOP/s); ptm's whole epoch runs at "
        f"{epoch['ptm_gflops_per_second']:.0f} GFLOP/s, {epoch['fraction_of_limit']:.0%} of that "
        f"(the notes' loop: {epoch['notes_fraction_of_limit']:.0%}). "
        + _limit_verdict(limit_goal_met, shares, matmul_seconds / limit_seconds),
    ]
    return "\n\n".join(paragraphs)


def markdown(results: Results, image_name: str) -> str:
    """The whole of docs/benchmarks.md."""
    machine, data = results["machine"], results["data"]
    settings = results["settings"]
    goals = "\n".join(
        f"- {'met' if goal['met'] else '**missed**'}: {goal['description']} "
        f"(measured {_format_goal_value(goal)})"
        for goal in results["goals"]
    )
    machine_rows = [[
        machine["cpu_model"],
        f"{machine['usable_cores']} ({machine['torch_threads']} torch threads)",
        f"{machine['memory_gib']} GiB", machine["platform"], machine["python"], machine["torch"],
        machine["torchvision"], machine["numpy"],
    ]]  # fmt: skip
    machine_header = [
        "CPU", "cores", "memory", "platform", "Python", "torch", "torchvision", "numpy"
    ]  # fmt: skip
    load = results["load_average"]
    prep, stats, epoch = results["prep"], results["stats"], results["epoch"]
    return f"""# Benchmarks

How long chapter 7's plumbing takes with ptm, next to the study notes' way of doing the
same thing, and next to what this machine can do at best. A learner on a laptop CPU
should wait for the lesson, not for the plumbing.

This page is written by the benchmark itself; regenerate it with

    {results["docs_command"]}

(the same as `make bench`). It takes about {results["total_seconds"] / 60:.0f} minutes here.
`python benchmarks/run.py` alone writes the results to `build/benchmarks/`
(`benchmarks.json`, `benchmarks.txt`, `benchmarks.png`) without touching this page, and
`--quick` runs everything on small data in well under a minute (numbers not meaningful).

## Machine and data

Run of {machine["date"]}:

{markdown_table(machine_rows, machine_header)}

Data: {data["description"]}, from `{data["shown_path"]}`. {data["note"]}
CIFAR-2 is the {prep["n_train_images"]:,} training and {prep["n_val_images"]:,} validation
images of airplanes and birds.

Load average (runnable processes, last minute) at the start and end of the run:
{_first(load["start"])} and {_first(load["end"])}. On {machine["usable_cores"]} cores, values
near or above {machine["usable_cores"]} mean that other programs competed for the CPU and
the times are noisier than they would be on a quiet machine. The matmul limit, the same
computation in every repeat, ranged from {format_seconds(epoch["limit"]["min"])} to
{format_seconds(epoch["limit"]["max"])} over the run ({_spread(epoch["limit"])}): a measure of
how steady the machine itself was (a shared virtual machine can slow down without any
other program in it running).

## Results

Medians of {settings["prep_repeats"]} (preparation), {settings["stats_repeats"]}
(statistics, one fresh process each), {settings["epoch_repeats"]} (epoch) and
{settings["per_sample_repeats"]} (per-sample) repeats that alternate the sides; min–max in
brackets. Ratios are the notes' median over ptm's (for the limit: the limit's median over
ptm's); in brackets, the lowest and highest ratio within single repeats.

{markdown_table(table_rows(results), TABLE_HEADER)}

![Ratios of ptm to the notes' way, with the goals](./{image_name})

## Goals

{goals}

## Where ptm's preparation time goes

{_preparation_notes(results)}

## Where the training epoch's time goes

{_epoch_analysis(results)}

## What is measured

1. **CIFAR-2 preparation**, raw files on disk → normalised training and validation
   tensors. The notes' way: `datasets.CIFAR10(..., transform=Compose([ToTensor(),
   Normalize(mean, std)]))` for both splits, then `[(img, label_map[label]) for img, label
   in cifar10 if label in [0, 2]]`, which transforms all {data["n_train_images"]:,} +
   {data["n_val_images"]:,} images one at a time. ptm cold: `ptm.load_cifar2(data_dir,
   cache=False)`, one vectorised conversion of the airplanes and birds. ptm from cache:
   `ptm.load_cifar2(data_dir)` with its cache entry already written. "Cold" means no
   cache entry and ptm's per-process memory of checksummed files cleared before every
   repeat (of both sides), so each repeat reads, checksums, unpickles and converts the
   files; the files themselves sit in the operating system's page cache for all sides.
   Check: the notes' list, stacked, equals ptm's tensors exactly
   (`torch.equal`: {prep["same_tensors"]}, largest difference {prep["max_abs_difference"]:.1e}).
2. **Channel statistics** of the {stats["n_images"]:,} training images. The notes' way:
   `torch.stack([img for img, _ in tensor_cifar10], dim=3)` with a `ToTensor` dataset, then
   `.view(3, -1).mean(dim=1)` and `.std(dim=1)`. ptm: `ptm.channel_stats(dataset.data)`.
   Each repeat of each side runs in a fresh process that imports, opens the training set,
   then measures; "peak additional memory" is the process's peak resident memory during
   the statistics minus its resident memory before them (read as {stats["memory_method"]}).
   Check: largest difference between the two results {stats["max_abs_difference"]:.1e}
   (tolerance {stats["tolerance"]:g}).
3. **One training epoch** of the 3072-512-2 model (Tanh, LogSoftmax, `NLLLoss`), batch
   {epoch["batch_size"]}, `SGD(lr={epoch["learning_rate"]:g})`, {epoch["n_images"]:,} images
   ({epoch["n_batches"]} steps). The notes' loop over `DataLoader(cifar2, batch_size=64,
   shuffle=True)` against `ptm.fit(model, loss_fn, optimizer, cifar2.train, n_epochs=1,
   batch_size=64)`, both from the same initial weights. The **limit** is the epoch's
   matrix multiplies alone, timed in the same run with plain `torch.matmul` on the same
   shapes and transposes as `nn.Linear` forward and backward: per step `x @ W1ᵀ`,
   `h @ W2ᵀ`, `gᵀ @ h`, `g @ W2` and `gᵀ @ x` (layer 1's input gradient is not needed,
   since images need no gradient), {epoch["flops"] / 1e9:.2f} GFLOP per epoch. Check:
   one epoch of each loop without shuffling gives the same loss at every step
   ({epoch["n_batches_compared"]} steps, largest difference
   {epoch["max_loss_difference"]:.1e}) and the same weights afterwards.
4. **Per-sample training**, one image per step, timed over {results["per_sample"]["n_steps"]:,}
   steps and reported per 1,000: the notes' `for img, label in cifar2:` loop against
   `ptm.train_per_sample`, which also gathers each image by indexing and adds up the loss
   and the correct answers for its History: a few more small operations per step, which
   show when a step is one image.

Every comparison alternates its sides within each repeat (A B A B ...), after one
untimed warm-up round for the training epoch, with torch's default
{machine["torch_threads"]} threads. All numbers, each repeat's included, are in the JSON
file.
"""


def _spread(summary: dict[str, Any]) -> str:
    """E.g. "the slowest 16% above the fastest"."""
    return f"the slowest {summary['max'] / summary['min'] - 1:.0%} above the fastest"


def _first(values: list[float]) -> str:
    return f"{values[0]:.2f}" if values else "unknown"


def unwrap_paragraphs(text: str) -> str:
    """Join the hard-wrapped lines of each paragraph and list item into one line.

    The template is wrapped to fit the source code; the numbers put into it break
    that wrapping, and Markdown does not need it. Tables, headings, images and
    indented code are left as they are.
    """
    kept_as_is = ("|", "#", "    ", "![")
    lines: list[str] = []
    for line in text.splitlines():
        starts_item = re.match(r"(- |\d+\. )", line) is not None
        continues = (
            lines
            and lines[-1]
            and line
            and not line.startswith(kept_as_is)
            and not lines[-1].startswith(kept_as_is)
            and not starts_item
        )
        if continues:
            lines[-1] += " " + line.strip()
        else:
            lines.append(line)
    return "\n".join(lines) + "\n"


def _format_goal_value(goal: dict[str, Any]) -> str:
    value = goal["measured"]
    if isinstance(value, bool):
        return "all equal" if value else "a difference"
    if goal["key"].endswith("fraction_of_limit"):
        return f"{value:.0%}"
    if goal["key"].endswith("memory_fraction"):
        return f"{value:.3f}"
    return f"{value:.2f}×"


def write_outputs(results: Results, folder: Path, stem: str = "benchmarks") -> dict[str, Path]:
    """Write the text table and the plot into ``folder``; return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    table_path, plot_path = folder / f"{stem}.txt", folder / f"{stem}.png"
    table_path.write_text(text_table(results) + "\n")
    plot_ratios(results).savefig(plot_path, dpi=120)
    return {"table": table_path, "plot": plot_path}


def write_docs(results: Results, docs_folder: Path) -> dict[str, Path]:
    """Rewrite ``docs/benchmarks.md`` and its plot from this run's results."""
    docs_folder.mkdir(parents=True, exist_ok=True)
    plot_path, page_path = docs_folder / "benchmarks.png", docs_folder / "benchmarks.md"
    plot_ratios(results).savefig(plot_path, dpi=120)
    page_path.write_text(unwrap_paragraphs(markdown(results, plot_path.name)))
    return {"page": page_path, "plot": plot_path}
