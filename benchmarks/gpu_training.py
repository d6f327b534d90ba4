"""Training chapter 7's model on a CUDA GPU: the notes' DataLoader against ptm's TensorBatches.

Run it from the repository root on a machine with a CUDA GPU, torch and torchvision (no
internet or CIFAR-10 needed): ``PYTHONPATH=src python benchmarks/gpu_training.py``. It
writes a CIFAR-10-size stand-in into a temporary folder and trains
``ptm.build_fc_classifier(seed=0)`` (SGD lr 1e-2, NLLLoss, batch 64) with
``ptm.minibatch_loop(..., device="cuda")`` over two batch sources, in turn:

- the notes' way: ``DataLoader(ptm.cifar2_list(dataset), batch_size=64, shuffle=True)``,
  a list of transformed images, each batch stacked on the CPU and copied to the GPU;
- ptm's: ``ptm.TensorBatches(images, labels, 64, shuffle=True, device="cuda")``, the
  tensors moved to the GPU once and cut into batches there.

One warm-up epoch each (reported apart), then ``--epochs`` timed epochs each. The JSON
(``docs/gpu_training.json`` unless ``--out``) holds the seconds per epoch, their ratio,
the final losses, the GPU, the torch version and the date; docs/benchmarks.md shows it
on its next ``--docs`` run. Without CUDA it exits with 2 and writes nothing; ``--device
cpu`` makes a dry run that writes only with ``--out``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch
import torchvision
from torch import nn
from torch.utils.data import DataLoader
from torchvision import transforms

import ptm

# isort: split
# the benchmark's own modules (benchmarks/ is on sys.path when this file runs)
from measure import alternate

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "docs" / "gpu_training.json"
BATCH_SIZE, LEARNING_RATE = 64, 1e-2


def batch_sources(root: Path, device: str) -> dict[str, Any]:
    """The two batch sources over the same CIFAR-2 training images."""
    normalize = transforms.Normalize(ptm.CIFAR10_MEAN, ptm.CIFAR10_STD)
    transform = transforms.Compose([transforms.ToTensor(), normalize])
    cifar2_list = ptm.cifar2_list(ptm.load_cifar10(True, root, download=False, transform=transform))
    images, labels = ptm.load_cifar2(root, cache=False).train
    return {
        "dataloader": DataLoader(cifar2_list, batch_size=BATCH_SIZE, shuffle=True),
        "tensor_batches": ptm.TensorBatches(images, labels, BATCH_SIZE, shuffle=True, seed=0,
                                            device=device),
    }  # fmt: skip


def measure(device: str, epochs: int, n_per_class: int) -> dict[str, Any]:
    """Warm-up and timed epochs of both sides, alternating; returns the JSON's contents."""
    torch.manual_seed(0)  # the DataLoader's order
    with tempfile.TemporaryDirectory(prefix="ptm-gpu-training-") as folder:
        root = ptm.write_standin_cifar10(folder, n_per_class, 1)
        sources = batch_sources(root, device)
    losses: dict[str, float] = {}

    def epoch(name: str) -> Callable[[int], float]:
        model = ptm.build_fc_classifier(seed=0).to(device)
        optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)

        def train(repeat: int) -> float:
            started = time.perf_counter()
            history = ptm.minibatch_loop(1, optimizer, model, nn.NLLLoss(), sources[name],
                                         device=device, log_every=None)  # fmt: skip
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            losses[name] = history.train_loss[-1]
            return time.perf_counter() - started

        return train

    cases = {name: epoch(name) for name in sources}
    warmup = {name: case(0) for name, case in cases.items()}
    times = alternate(cases, epochs, "training epoch")
    sides = {name: {"warmup_seconds": warmup[name], "seconds_per_epoch": times[name],
                    "final_loss": losses[name]} for name in sources}  # fmt: skip
    medians = [sides[name]["seconds_per_epoch"]["median"] for name in sources]
    return {
        "measured": True, "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "gpu": torch.cuda.get_device_name(device) if device != "cpu" else "none (dry run)",
        "device": device, "torch": torch.__version__, "torchvision": torchvision.__version__,
        "n_train_images": len(sources["dataloader"].dataset), "batch_size": BATCH_SIZE,
        "learning_rate": LEARNING_RATE, "timed_epochs": epochs, **sides,
        "speedup": medians[0] / medians[1],
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", help="cuda (the default), cuda:N or cpu")
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs (default 3)")
    parser.add_argument("--n-per-class", type=int, default=5000, help="stand-in training images")
    parser.add_argument("--out", type=Path, help="default: docs/gpu_training.json on CUDA")
    arguments = parser.parse_args(argv)
    if arguments.epochs < 1 or arguments.n_per_class < 5:
        parser.error("--epochs must be at least 1 and --n-per-class at least 5")
    if arguments.device.startswith("cuda") and not torch.cuda.is_available():
        print("no CUDA GPU is available here: nothing measured, nothing written")
        return 2
    results = measure(arguments.device, arguments.epochs, arguments.n_per_class)
    results["command"] = " ".join(["PYTHONPATH=src python benchmarks/gpu_training.py", *argv])
    print(json.dumps(results, indent=2))
    out = arguments.out or (DEFAULT_OUT if arguments.device.startswith("cuda") else None)
    if out is not None:
        out.write_text(json.dumps(results, indent=2) + "\n")
        print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
