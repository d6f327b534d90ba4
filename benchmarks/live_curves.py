"""The cost of watching training: ptm's live curves against the same epochs without them.

- **Drawing**: one redraw of the two-panel loss and accuracy figure (`ptm.plots.LiveCurves`),
  rendered to PNG as a notebook output gets it, for the History of a 100-epoch run.
- **In training**: the same epochs of ``ptm.train_classifier`` with and without live curves
  (redrawn at most once a second, the wait counted from the end of each drawing; the notebook
  output itself is left out, it costs the kernel nothing more than sending the bytes).
"""

from __future__ import annotations

from typing import Any

import torch

import ptm
from ptm.plots import LiveCurves
from ptm.training import History

# isort: split
# the benchmark's own modules (benchmarks/ is on sys.path when run.py runs)
from measure import alternate, paired_ratios, timed


class Unshown(LiveCurves):
    """Live curves drawn exactly as in a notebook, without a notebook to show them in."""

    def publish(self, png: bytes) -> None:
        self.published = len(png)


def long_history(n_epochs: int = 100) -> History:
    history = History()
    for epoch in range(1, n_epochs + 1):
        history.record(epoch, 1.0, train_loss=1 / epoch, val_loss=1.2 / epoch ** 0.5,
                       train_accuracy=1 - 0.5 / epoch, val_accuracy=0.8 - 0.3 / epoch)  # fmt: skip
    return history


def run(cifar2: ptm.Cifar2, repeats: int, n_epochs: int) -> dict[str, Any]:
    """One redraw's cost, and training with and without live curves, side by side."""
    history, curves = long_history(), Unshown()
    curves.render(history)  # warm-up: fonts, caches
    drawing = alternate(
        {"redraw": lambda repeat: timed(lambda: curves.render(history))[0]}, repeats, "redraw"
    )

    def training(live: bool) -> Any:
        def case(repeat: int) -> float:
            model = ptm.build_fc_classifier(seed=repeat)
            on_epoch = Unshown() if live else None

            def train() -> None:
                torch.manual_seed(repeat)
                ptm.training.fit(
                    model, torch.nn.NLLLoss(), torch.optim.SGD(model.parameters(), lr=1e-2),
                    ptm.TensorBatches(*cifar2.train, 64, shuffle=True, seed=repeat),
                    n_epochs=n_epochs, on_epoch=None if on_epoch is None else on_epoch.update,
                )  # fmt: skip

            return timed(train)[0]

        return case

    times = alternate({"plain": training(False), "live": training(True)}, repeats,
                      "training with live curves")  # fmt: skip
    return {
        **drawing,
        **times,
        "n_epochs": n_epochs,
        "ratio": times["live"]["median"] / times["plain"]["median"],
        "paired_ratio": paired_ratios(times["live"], times["plain"]),
    }
