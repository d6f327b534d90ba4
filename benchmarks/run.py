"""Benchmarks: how fast ptm prepares chapter 7's data, trains and starts, next to the study
notes' way and next to the machine's own limit.

One run measures, alternating the sides and repeating: CIFAR-2 preparation
(`prep_cifar2.py`), channel statistics (`channel_stats.py`), one training epoch
(`training_epoch.py`), random crops (`crop.py`), live training curves (`live_curves.py`) and
import time (`import_time.py`). It
prints a table, writes ``benchmarks.json``, ``.txt`` and ``.png`` to ``--out``, and with
``--docs`` rewrites docs/benchmarks.md and its plot (`page.py` fills `page_template.md`,
with the GPU numbers of docs/gpu_training.json from `gpu_training.py`). It exits with 1
when the two sides did not compute the same values, else 0, goals met or not. From the
repository root::

    python benchmarks/run.py --docs     # the full run, as `make bench` (a few minutes)
    python benchmarks/run.py --quick    # small data: checks that everything runs (< 1 min)
    python benchmarks/run.py --docs --from-json build/benchmarks/benchmarks.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import ptm
from ptm.cifar_files import BATCHES_FOLDER, read_manifest, verify_folder
from ptm.data_folder import default_data_dir

# isort: split
# the benchmark's own modules (benchmarks/ is on sys.path when run.py runs)
import channel_stats
import crop
import import_time
import live_curves
import page
import prep_cifar2
import training_epoch
from measure import describe_machine, load_average, log, lookup

REPOSITORY = Path(__file__).resolve().parent.parent
QUICK = {"n_train_per_class": 300, "n_val_per_class": 60, "prep_repeats": 2, "stats_repeats": 1,
         "epoch_repeats": 2, "profile_repeats": 1, "import_repeats": 1, "live_repeats": 1,
         "live_epochs": 2}  # fmt: skip
FULL = {"n_train_per_class": 5000, "n_val_per_class": 1000, "prep_repeats": 5, "stats_repeats": 3,
        "epoch_repeats": 7, "profile_repeats": 3, "import_repeats": 5, "live_repeats": 3,
        "live_epochs": 6}  # fmt: skip
GOALS = [  # (goal, target, the ratio measured, the baseline's times, ptm's times)
    ("CIFAR-2 preparation, cold: ptm at least 20× faster than the notes' way", 20,
     "prep.speedup_cold", "prep.notes", "prep.ptm_cold"),
    ("CIFAR-2 from ptm's verified cache vs ptm cold: at least 4× faster than the cold path", 4,
     "prep.cached_vs_cold", "prep.ptm_cold", "prep.ptm_cached"),
    ("CIFAR-2 from ptm's verified cache vs the notes: at least 30× faster than the notes' way",
     30, "prep.speedup_cached", "prep.notes", "prep.ptm_cached"),
    ("Channel statistics, time: ptm at least 20× faster than the notes' way", 20,
     "stats.speedup", "stats.notes", "stats.ptm"),
    ("Channel statistics, peak additional memory: at most a tenth of the notes' way", 0.1,
     "stats.memory_fraction", "stats.notes_mib", "stats.ptm_mib"),
    ("Training epoch, 3072-512-2, batch 64: ptm at least 1.15× faster than the notes' loop",
     1.15, "epoch.speedup", "epoch.notes", "epoch.ptm"),
    ("Training epoch vs matmul limit: ptm at least 70% of the matrix-multiply limit", 0.7,
     "epoch.fraction_of_limit", "epoch.limit", "epoch.ptm"),
    ("Random crops, one epoch: ptm's batched crop at least 5× faster than torchvision's "
     "transform through a DataLoader", 5, "crop.speedup", "crop.torchvision", "crop.ptm"),
    ("Training epoch with ptm's random crops: at most 1.3× as long as a plain epoch", 1.3,
     "crop.epoch_ratio", "crop.plain_epoch", "crop.cropped_epoch"),
    ("Training with live curves: at most 1.1× as long as the same epochs without them", 1.1,
     "live.ratio", "live.plain", "live.live"),
    ("`import ptm` vs `import torch`: at most 1.25× as long", 1.25,
     "imports.ptm_vs_torch", "imports.torch", "imports.ptm"),
    ("`ptm --help` vs `import torch`: at most 0.3× as long", 0.3,
     "imports.help_vs_torch", "imports.torch", "imports.ptm_help"),
]  # fmt: skip
SAME_RESULT_CHECKS = {
    "prep.same_tensors": "CIFAR-2 tensors identical to the notes' list, cold and from the cache",
    "stats.same_values": "channel statistics equal within 1e-4",
    "epoch.same_losses": "same per-batch losses for the same batch order",
    "epoch.same_weights": "same weights after that epoch",
}


def evaluate_goals(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each goal with its target, the measured value and whether it was met; each section's
    ``paired_...`` holds the same ratio within single repeats."""
    goals = []
    for description, target, key, baseline, fast in GOALS:
        value, at_most = float(lookup(results, key)), "at most" in description
        goals.append({
            "key": key, "label": description.split(":")[0], "description": description,
            "target": target, "direction": "at most" if at_most else "at least",
            "measured": value, "met": value <= target if at_most else value >= target,
            "baseline": baseline, "ptm": fast, "paired": key.replace(".", ".paired_"),
        })  # fmt: skip
    same = all(bool(lookup(results, key)) for key in SAME_RESULT_CHECKS)
    description = "Same results on both sides: " + "; ".join(SAME_RESULT_CHECKS.values())
    goals.append({"key": "same_results", "label": description.split(":")[0], "met": same,
                  "description": description, "target": True, "measured": same})  # fmt: skip
    return goals


def is_real_cifar10(root: Path) -> bool:
    """True when ``root`` holds intact real CIFAR-10 (checked only: never unpacked or written)."""
    folder = root / BATCHES_FOLDER
    try:
        if not folder.is_dir() or read_manifest(folder) is not None:
            return False
        verify_folder(folder, None)
    except ptm.CifarDataError:
        return False
    return True


def choose_data(arguments: argparse.Namespace, settings: dict[str, int]) -> dict[str, Any]:
    """Real CIFAR-10 when it is there, through a benchmark-owned folder that links to it (so
    ptm's cache goes there, not into the data), else a stand-in written on first use."""
    if not arguments.quick and is_real_cifar10(arguments.cifar_dir):
        target = (arguments.cifar_dir / BATCHES_FOLDER).resolve()
        link = arguments.out / "data" / "cifar10" / BATCHES_FOLDER
        if link.is_symlink() and link.resolve() != target:
            link.unlink()  # our own link, to an older place
        if not link.is_symlink():
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(target, target_is_directory=True)
        return {"path": str(link.parent), "shown_path": str(target), "synthetic": False,
                "description": "CIFAR-10 (50,000 + 10,000 images)", "note": "Real CIFAR-10.",
                "n_train_images": 50_000, "n_val_images": 10_000}  # fmt: skip
    n_train, n_val = settings["n_train_per_class"], settings["n_val_per_class"]
    root = arguments.out / "data" / f"standin-{n_train}-{n_val}-seed0"
    if not (root / BATCHES_FOLDER).is_dir():
        ptm.write_standin_cifar10(root, n_train, n_val, seed=0)
    files = (root / BATCHES_FOLDER).resolve()
    shown = files.relative_to(REPOSITORY) if files.is_relative_to(REPOSITORY) else files
    why = "small, for --quick" if arguments.quick else "real CIFAR-10 is not present"
    return {
        "path": str(root), "synthetic": True, "shown_path": str(shown),
        "description": f"stand-in (synthetic, {10 * n_train:,} + {10 * n_val:,} images)",
        "note": "Synthetic images in CIFAR-10's on-disk format, written by "
        "`ptm.write_standin_cifar10`, as many and as large as CIFAR-10's in a full run, so "
        f"both sides do the same work as on the real files ({why}).",
        "n_train_images": 10 * n_train, "n_val_images": 10 * n_val,
    }  # fmt: skip


def run(arguments: argparse.Namespace, argv: list[str]) -> dict[str, Any]:
    """Every benchmark, in order; returns the results dictionary."""
    started = time.perf_counter()
    mode, settings = ("quick", QUICK) if arguments.quick else ("full", FULL)
    machine, load_at_start = describe_machine(), load_average()
    if load_at_start and load_at_start[0] > 0.5 * machine["usable_cores"]:
        log(f"note: the load average is {load_at_start[0]}: other programs are using the CPU")
    data = choose_data(arguments, settings)
    log(f"data: {data['description']} in {data['path']}\n1. CIFAR-2 preparation")
    prep, notes_train, cifar2 = prep_cifar2.run(Path(data["path"]), settings["prep_repeats"])
    log("2. channel statistics (one process per measurement)")
    stats = channel_stats.run(Path(data["path"]), settings["stats_repeats"])
    log("3. training epoch")
    repeats, profiled = settings["epoch_repeats"], settings["profile_repeats"]
    epoch = training_epoch.run(notes_train, cifar2, repeats, profiled)
    log("4. random crops")
    crops = crop.run(cifar2, settings["epoch_repeats"])
    log("5. live curves")
    live = live_curves.run(cifar2, settings["live_repeats"], settings["live_epochs"])
    log("6. import time (one process per measurement)")
    imports = import_time.run(settings["import_repeats"])
    results: dict[str, Any] = {
        "schema_version": 2,
        "command": " ".join(["python", "benchmarks/run.py", *argv]),
        "docs_command": "python benchmarks/run.py --docs",
        "mode": mode,
        "settings": settings,
        "machine": machine,
        "load_average": {"start": load_at_start, "end": load_average()},
        "data": data,
        "prep": prep,
        "stats": stats,
        "epoch": epoch,
        "crop": crops,
        "live": live,
        "imports": imports,
    }
    results["goals"] = evaluate_goals(results)
    results["same_results"] = results["goals"][-1]["met"]
    results["all_goals_met"] = all(goal["met"] for goal in results["goals"])
    results["total_seconds"] = time.perf_counter() - started
    return results


def main(argv: list[str] | None = None) -> int:
    """Run (or reload) the benchmarks, print the table, write the outputs; 1 on a mismatch."""
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small data, few repeats (< 1 min)")
    parser.add_argument("--docs", action="store_true", help="also rewrite docs/benchmarks.*")
    parser.add_argument("--out", type=Path, default=REPOSITORY / "build" / "benchmarks")
    parser.add_argument("--cifar-dir", type=Path, default=default_data_dir(), help="read only")
    parser.add_argument("--from-json", type=Path, help="measure nothing: use an earlier JSON")
    arguments = parser.parse_args(argv)
    if arguments.quick and arguments.docs:
        parser.error("--quick numbers are not meaningful: it cannot be used with --docs")
    if arguments.from_json is not None:
        results = json.loads(arguments.from_json.read_text())
    else:
        results = run(arguments, argv)
        arguments.out.mkdir(parents=True, exist_ok=True)
        (arguments.out / "benchmarks.json").write_text(json.dumps(results, indent=2) + "\n")
    print(page.write_outputs(results, arguments.out))
    log(f"\nresults in {arguments.out}: benchmarks.json, .txt and .png")
    if arguments.docs:
        log(f"wrote {', '.join(map(str, page.write_docs(results, REPOSITORY / 'docs')))}")
    log(f"the measurements took {results['total_seconds']:.0f} s")
    if not results["same_results"]:
        log("FAILED: the two sides did not compute the same values (see 'goals' in the JSON)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
