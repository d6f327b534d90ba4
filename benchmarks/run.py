"""Benchmarks: how fast ptm prepares chapter 7's data and trains, next to the study notes'
way and next to the machine's own limit (issue 5).

One run measures, alternating the sides and repeating:

1. CIFAR-2 preparation (raw files → normalised tensors): the notes' way, ptm cold, ptm
   from its cache (`prep.py`);
2. channel statistics, time and peak memory, each in its own process (`stats.py`);
3. one training epoch: the notes' DataLoader loop, ``ptm.fit``, and the matrix-multiply
   limit of the machine; plus a profile of ptm's epoch (`training.py`);
4. per-sample training, per 1,000 steps (`training.py`).

It prints a table and writes ``benchmarks.json``, ``benchmarks.txt`` and
``benchmarks.png`` to ``--out``; ``--docs`` also rewrites docs/benchmarks.md. It exits
with 1 when the two sides did not compute the same values, else 0, goals met or not.

Usage (from the repository root)::

    python benchmarks/run.py --docs       # the full run, as `make bench`
    python benchmarks/run.py --quick      # small data, under a minute
    python benchmarks/run.py --docs --from-json build/benchmarks/benchmarks.json
                                          # rewrite the page from the last run's numbers
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

# isort: split
# the benchmark's own modules (benchmarks/ is on sys.path when run.py runs)
import prep
import report
import stats
import training
from data_source import BenchmarkData, find_real_cifar10, real_data, standin_data
from measure import describe_machine, load_average, log

REPOSITORY = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPOSITORY / "build" / "benchmarks"
DOCS_FOLDER = REPOSITORY / "docs"
DOCS_COMMAND = "python benchmarks/run.py --docs"
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Settings:
    """Data size and repeats of a run."""

    mode: str
    n_train_per_class: int  # of the stand-in; CIFAR-10 has 5,000
    n_val_per_class: int  # CIFAR-10 has 1,000
    prep_repeats: int
    stats_repeats: int  # each repeat starts two processes
    epoch_repeats: int
    per_sample_repeats: int
    per_sample_steps: int
    profile_repeats: int  # profiled epochs, the fastest kept


FULL = Settings("full", 5000, 1000, prep_repeats=5, stats_repeats=3, epoch_repeats=7,
                per_sample_repeats=5, per_sample_steps=1000, profile_repeats=3)  # fmt: skip
QUICK = Settings("quick", 300, 60, prep_repeats=3, stats_repeats=1, epoch_repeats=3,
                 per_sample_repeats=2, per_sample_steps=100, profile_repeats=1)  # fmt: skip


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark ptm against the study notes' way and the machine's limit.",
    )
    parser.add_argument(
        "--quick", action="store_true",
        help="small stand-in data and fewer repeats: checks that everything runs (< 1 minute)",
    )  # fmt: skip
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT,
        help="where the JSON, table and plot go (default: build/benchmarks)",
    )  # fmt: skip
    parser.add_argument(
        "--data-dir", type=Path, default=None,
        help="the benchmark's own data folder: the stand-in files and ptm's cache entries "
        "(default: OUT/data)",
    )  # fmt: skip
    parser.add_argument(
        "--cifar-dir", type=Path, default=None,
        help="where to look for real CIFAR-10 (default: ptm's, i.e. $PTM_DATA_DIR or "
        "data-unversioned/p1ch7); it is only read",
    )  # fmt: skip
    parser.add_argument(
        "--data", choices=("auto", "standin", "real"), default="auto",
        help="auto: real CIFAR-10 when present, else the stand-in (default); --quick always "
        "uses a small stand-in",
    )  # fmt: skip
    parser.add_argument(
        "--docs",
        action="store_true",
        help="also rewrite docs/benchmarks.md and docs/benchmarks.png",
    )
    parser.add_argument(
        "--from-json", type=Path, default=None, metavar="JSON",
        help="measure nothing: rewrite the table and plot (and, with --docs, the page) from "
        "an earlier run's benchmarks.json, e.g. after changing how they are written",
    )  # fmt: skip
    arguments = parser.parse_args(argv)
    if arguments.quick and (arguments.docs or arguments.data == "real"):
        parser.error("--quick runs on small stand-in data only: it cannot be used with --docs "
                     "or --data real")  # fmt: skip
    return arguments


def choose_data(arguments: argparse.Namespace, settings: Settings) -> tuple[BenchmarkData, str]:
    """The data for this run, and a sentence saying why it was chosen."""
    data_dir = arguments.data_dir if arguments.data_dir is not None else arguments.out / "data"
    standin_note = (
        "Synthetic images in CIFAR-10's on-disk format, written by "
        "`ptm.write_standin_cifar10`: the same number and size of images and files, so the "
        "same work as real CIFAR-10 on both sides."
    )
    if arguments.quick or arguments.data == "standin":
        data = standin_data(data_dir, settings.n_train_per_class, settings.n_val_per_class)
        why = "small stand-in for --quick" if arguments.quick else "the stand-in, as asked"
        return data, f"{standin_note} ({why}.)"
    cifar_root = find_real_cifar10(arguments.cifar_dir)
    if cifar_root is not None:
        return real_data(data_dir, cifar_root), f"Real CIFAR-10, found in {cifar_root}."
    if arguments.data == "real":
        raise SystemExit("--data real: no intact CIFAR-10 found (see ptm.load_cifar10's message)")
    data = standin_data(data_dir, settings.n_train_per_class, settings.n_val_per_class)
    return data, f"{standin_note} (Real CIFAR-10 is not present, so the stand-in is used.)"


def shown_path(path: Path) -> str:
    """A path relative to the repository when it lies inside it, for the docs."""
    try:
        return str(path.resolve().relative_to(REPOSITORY))
    except ValueError:
        return str(path)


def run(arguments: argparse.Namespace, argv: list[str]) -> dict[str, Any]:
    """Every benchmark, in order; returns the results dictionary."""
    started = time.perf_counter()
    settings = QUICK if arguments.quick else FULL
    machine = describe_machine()
    load_at_start = load_average()
    if load_at_start and load_at_start[0] > 0.5 * machine["usable_cores"]:
        log(
            f"note: the load average is {load_at_start[0]} on {machine['usable_cores']} cores: "
            "other programs are using the CPU, so the times will be noisy"
        )
    data, note = choose_data(arguments, settings)
    log(f"data: {data.description} in {data.path}")

    log("1. CIFAR-2 preparation")
    prep_results, (notes_train, _), cifar2 = prep.run(data, settings.prep_repeats)
    log("2. channel statistics (one process per measurement)")
    stats_results = stats.run(data.path, settings.stats_repeats)
    log("3. training epoch")
    epoch_results = training.run_epoch(notes_train, cifar2, settings.epoch_repeats)
    epoch_results["profile"] = training.profile_ptm_epoch(cifar2, settings.profile_repeats)
    log("4. per-sample training")
    per_sample_results = training.run_per_sample(
        notes_train, cifar2, settings.per_sample_steps, settings.per_sample_repeats
    )
    results: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "command": " ".join(["python", "benchmarks/run.py", *argv]),
        "docs_command": DOCS_COMMAND,
        "mode": settings.mode,
        "settings": asdict(settings),
        "machine": machine,
        "load_average": {"start": load_at_start, "end": load_average()},
        "data": {
            "description": data.description,
            "synthetic": data.synthetic,
            "path": str(data.path),
            "shown_path": shown_path(data.files),
            "note": note,
            "n_train_images": data.n_train_images,
            "n_val_images": data.n_val_images,
        },
        "prep": prep_results,
        "stats": stats_results,
        "epoch": epoch_results,
        "per_sample": per_sample_results,
    }
    results["goals"] = report.evaluate_goals(results)
    results["all_goals_met"] = all(goal["met"] for goal in results["goals"])
    results["same_results"] = report.same_results(results)
    results["total_seconds"] = time.perf_counter() - started
    return results


def main(argv: list[str] | None = None) -> int:
    """Run (or reload) the benchmarks, print the table, write the outputs; 1 on a mismatch."""
    argv = sys.argv[1:] if argv is None else argv
    arguments = parse_arguments(argv)
    if arguments.from_json is not None:
        results = json.loads(arguments.from_json.read_text())
        json_path = arguments.from_json
    else:
        results = run(arguments, argv)
        arguments.out.mkdir(parents=True, exist_ok=True)
        json_path = arguments.out / "benchmarks.json"
        json_path.write_text(json.dumps(results, indent=2) + "\n")
    written = report.write_outputs(results, arguments.out)
    print(report.text_table(results))
    log(f"\nresults in {json_path}; wrote {written['table']}, {written['plot']}")
    if arguments.docs:
        pages = report.write_docs(results, DOCS_FOLDER)
        log(f"wrote {pages['page']} and {pages['plot']}")
    log(f"the measurements took {results['total_seconds']:.0f} s")
    if not results["same_results"]:
        log("FAILED: the two sides did not compute the same values (see 'goals' in the JSON)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
