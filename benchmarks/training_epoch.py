"""One training epoch of the 3072-512-2 classifier, and the machine's limit (DLwPT §7.2.6).

One epoch over CIFAR-2's training images, batch 64, SGD with lr 1e-2, NLL loss:

- the notes' loop over ``DataLoader(cifar2, batch_size=64, shuffle=True)``, as the lesson
  runs it (`ptm.minibatch_loop`);
- ptm: ``ptm.training.fit`` over ``ptm.TensorBatches`` of ``cifar2.train`` (batches by indexing);
- the **limit**: the same epoch's matrix multiplies alone, with plain ``torch.matmul`` on
  the same shapes. Almost all of an epoch's arithmetic is in those multiplies, so no loop
  that computes the same model can be much faster.

Both sides start each repeat from the same initial weights. Before timing, one epoch of
each in the same batch order (no shuffling) checks that they compute the same losses and
weights. A profile of ptm's epoch shows where its time goes.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader

import ptm
from ptm.training import fit

# isort: split
# the benchmark's own modules (benchmarks/ is on sys.path when run.py runs)
import notes_way
from measure import alternate, paired_ratios, timed

BATCH_SIZE, LEARNING_RATE = 64, 1e-2
IN, HIDDEN, OUT = 3072, 512, 2  # the model's layer sizes


def matmul_epoch(images: Tensor) -> Callable[[], None]:
    """A function that does an epoch's matrix multiplies alone, with plain ``torch.matmul``.

    The same shapes and transposes as ``nn.Linear`` forward and backward, on the real
    images batch by batch: ``x @ W1ᵀ``, ``h @ W2ᵀ``, ``gᵀ @ h``, ``g @ W2``, ``gᵀ @ x``
    (layer 1's input gradient is not computed, since images need no gradient).
    """
    generator = torch.Generator().manual_seed(0)
    shapes = [(HIDDEN, IN), (OUT, HIDDEN), (BATCH_SIZE, HIDDEN), (BATCH_SIZE, OUT)]
    w1, w2, grad_h, grad_out = (torch.randn(shape, generator=generator) for shape in shapes)
    inputs = images.reshape(len(images), -1)

    def run_epoch() -> None:
        for start in range(0, len(inputs), BATCH_SIZE):
            x = inputs[start : start + BATCH_SIZE]
            g_h, g_out = grad_h[: len(x)], grad_out[: len(x)]
            h = torch.matmul(x, w1.t())  # forward, layer 1
            torch.matmul(h, w2.t())  # forward, layer 2
            torch.matmul(g_out.t(), h)  # weight gradient, layer 2
            torch.matmul(g_out, w2)  # input gradient, layer 2
            torch.matmul(g_h.t(), x)  # weight gradient, layer 1

    return run_epoch


def twin_models(seed: int) -> tuple[nn.Module, nn.Module]:
    """The notes' model and ptm's (``ptm.build_fc_classifier``), with the same weights."""
    ptm_model, notes_model = ptm.build_fc_classifier(seed=seed), notes_way.build_model()
    with torch.no_grad():
        for notes_w, ptm_w in zip(notes_model.parameters(), ptm_model.parameters(), strict=True):
            notes_w.copy_(ptm_w)
    return notes_model, ptm_model


def sgd(model: nn.Module) -> torch.optim.Optimizer:
    return torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)


def notes_epoch(model: nn.Module, loader: DataLoader, optimizer: Any, loss_fn: Any) -> None:
    """One epoch of the notes' loop over the ``DataLoader``, as the lesson runs it."""
    ptm.minibatch_loop(1, optimizer, model, loss_fn, loader, log_every=None)


def ptm_epoch(model: nn.Module, cifar2: ptm.Cifar2, loss_fn: Any, seed: int | None) -> None:
    """One epoch of ``ptm.training.fit`` on the tensors; ``seed`` None: no shuffling."""
    batches = ptm.TensorBatches(*cifar2.train, BATCH_SIZE, shuffle=seed is not None, seed=seed)
    fit(model, loss_fn, sgd(model), batches, n_epochs=1)


def check_same_results(notes_list: list, cifar2: ptm.Cifar2) -> dict[str, Any]:
    """One epoch of each loop in the same batch order from the same weights: the same loss
    at every step, and the same weights afterwards?"""
    notes_model, ptm_model = twin_models(seed=0)
    losses: dict[str, list[float]] = {"notes": [], "ptm": []}

    def recording(side: str) -> Callable[[Tensor, Tensor], Tensor]:
        def loss_fn(outputs: Tensor, targets: Tensor) -> Tensor:
            loss = nn.functional.nll_loss(outputs, targets)
            losses[side].append(loss.item())
            return loss

        return loss_fn

    loader = DataLoader(notes_list, batch_size=BATCH_SIZE, shuffle=False)
    notes_epoch(notes_model, loader, sgd(notes_model), recording("notes"))
    ptm_epoch(ptm_model, cifar2, recording("ptm"), seed=None)
    notes_losses, ptm_losses = torch.tensor(losses["notes"]), torch.tensor(losses["ptm"])
    same_count = notes_losses.shape == ptm_losses.shape
    pairs = zip(notes_model.parameters(), ptm_model.parameters(), strict=True)
    return {
        "same_losses": same_count and torch.allclose(notes_losses, ptm_losses, 1e-5, 1e-6),
        "max_loss_difference": (notes_losses - ptm_losses).abs().max().item() if same_count else -1,
        "same_weights": all(torch.allclose(a, b, rtol=1e-4, atol=1e-6) for a, b in pairs),
        "n_batches_compared": len(ptm_losses),
    }


def run(notes_list: list, cifar2: ptm.Cifar2, repeats: int, profiled: int) -> dict[str, Any]:
    """The notes' epoch, ptm's epoch, the matmul limit and the notes' batching alone."""
    check = check_same_results(notes_list, cifar2)
    loader = DataLoader(notes_list, batch_size=BATCH_SIZE, shuffle=True)
    limit = matmul_epoch(cifar2.train_images)

    def notes(repeat: int) -> float:
        model, _ = twin_models(repeat)
        optimizer = sgd(model)
        return timed(lambda: notes_epoch(model, loader, optimizer, nn.NLLLoss()))[0]

    def fast(repeat: int) -> float:
        _, model = twin_models(repeat)
        return timed(lambda: ptm_epoch(model, cifar2, nn.NLLLoss(), seed=repeat))[0]

    cases = {
        "notes": notes,
        "ptm": fast,
        "limit": lambda repeat: timed(limit)[0],
        "notes_loader_only": lambda repeat: timed(lambda: [None for _ in loader])[0],
    }
    for case in cases.values():  # warm up: thread pools, allocator, caches
        case(0)
    times = alternate(cases, repeats, "training epoch")
    profiles = [profile_epoch(cifar2, seed) for seed in range(profiled)]
    n_images = len(cifar2.train_images)
    gflop = 2 * (2 * IN * HIDDEN + 3 * HIDDEN * OUT) * n_images / 1e9  # multiply-add: 2 FLOP
    notes_median, ptm_median = times["notes"]["median"], times["ptm"]["median"]
    limit_median, loader_median = times["limit"]["median"], times["notes_loader_only"]["median"]
    return {
        **times,
        "speedup": notes_median / ptm_median,
        "paired_speedup": paired_ratios(times["notes"], times["ptm"]),
        "fraction_of_limit": limit_median / ptm_median,
        "paired_fraction_of_limit": paired_ratios(times["limit"], times["ptm"]),
        "notes_fraction_of_limit": limit_median / notes_median,
        "loader_share_of_notes_epoch": loader_median / notes_median,
        "speedup_if_batching_were_free": notes_median / max(notes_median - loader_median, 1e-9),
        "gflop": gflop,
        "limit_gflops_per_second": gflop / limit_median,
        "ptm_gflops_per_second": gflop / ptm_median,
        "n_images": n_images,
        "n_batches": -(-n_images // BATCH_SIZE),
        "batch_size": BATCH_SIZE,
        "learning_rate": LEARNING_RATE,
        **check,
        "profile": min(profiles, key=lambda profile: profile["epoch_seconds"]),
    }


CATEGORIES = {  # profiler event names, by what they do; the rest are "other operators"
    "matrix multiplies": "aten::mm aten::addmm aten::matmul",
    "optimizer step and zero_grad": "aten::add_ aten::_foreach_add_ aten::zero_ "
    "Optimizer.step#SGD.step Optimizer.zero_grad#SGD.zero_grad",
    "batch gathering (indexing)": "aten::index aten::index_select aten::randperm",
}


def profile_epoch(cifar2: ptm.Cifar2, seed: int) -> dict[str, Any]:
    """One ptm epoch under ``torch.profiler``: operator self time summed per category;
    the rest of the epoch is Python and the autograd engine. The profiler adds a little to
    every operator, so the shares matter more than the totals."""
    from torch.profiler import ProfilerActivity, profile

    _, model = twin_models(seed)
    saved_stderr = os.dup(2)  # the profiler's C++ code logs every start and stop there
    with open(os.devnull, "w") as devnull, contextlib.ExitStack() as restore:
        os.dup2(devnull.fileno(), 2)
        restore.callback(os.dup2, saved_stderr, 2)
        with profile(activities=[ProfilerActivity.CPU]) as profiler:
            seconds, _ = timed(lambda: ptm_epoch(model, cifar2, nn.NLLLoss(), seed))
    os.close(saved_stderr)
    categories = dict.fromkeys([*CATEGORIES, "other operators"], 0.0)
    for event in profiler.key_averages():
        category = next((name for name, keys in CATEGORIES.items() if event.key in keys.split()),
                        "other operators")  # fmt: skip
        categories[category] += event.self_cpu_time_total / 1e6
    categories["outside operators (Python, autograd)"] = max(seconds - sum(categories.values()), 0)
    shares = {name: value / seconds for name, value in categories.items()}
    return {"epoch_seconds": seconds, "categories": categories, "shares": shares}
