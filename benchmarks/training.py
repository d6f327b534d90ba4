"""Benchmarks 3 and 4: training the 3072-512-2 classifier, and the machine's limit (DLwPT §7.2.6).

3. One epoch over CIFAR-2's training images, batch 64, SGD with lr 1e-2, NLL loss: the
   notes' loop over ``DataLoader(cifar2, batch_size=64, shuffle=True)`` against
   ``ptm.fit`` on the tensors, and against the **limit**: the same epoch's matrix
   multiplies alone, done with plain ``torch.matmul`` on the same shapes, in the same
   run. Almost all of an epoch's arithmetic is in those multiplies, so no loop that
   computes the same model can be much faster than that.
4. Per-sample training (one image per step): the notes' loop against
   ``ptm.train_per_sample``, reported per 1,000 steps.

Both sides start each repeat from the same initial weights. Before timing, one epoch of
each in the same batch order (no shuffling) checks that they compute the same losses.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any

import torch
from torch import Tensor, nn

import ptm

# isort: split
# the benchmark's own modules (benchmarks/ is on sys.path when run.py runs)
import notes_way
from measure import alternate, paired_ratios, timed

BATCH_SIZE = 64
LEARNING_RATE = 1e-2
IN_FEATURES, HIDDEN_FEATURES, N_CLASSES = 3072, 512, 2


def batch_sizes(n_samples: int, batch_size: int = BATCH_SIZE) -> list[int]:
    """The size of each batch of an epoch: full batches, then the rest (e.g. 156 × 64 + 16)."""
    n_full, rest = divmod(n_samples, batch_size)
    return [batch_size] * n_full + ([rest] if rest else [])


def step_matmuls(batch: int) -> list[tuple[str, int, int, int]]:
    """The matrix multiplies of one training step as ``(what, m, k, n)``: an (m×k) @ (k×n).

    Forward: ``x @ W1ᵀ`` and ``h @ W2ᵀ``. Backward: both weight gradients (``gᵀ @ input``)
    and the input gradient of layer 2 (``g @ W2``). Layer 1's input gradient is not
    computed, because the images do not need gradients.
    """
    return [
        ("forward, layer 1", batch, IN_FEATURES, HIDDEN_FEATURES),
        ("forward, layer 2", batch, HIDDEN_FEATURES, N_CLASSES),
        ("weight gradient, layer 2", N_CLASSES, batch, HIDDEN_FEATURES),
        ("input gradient, layer 2", batch, N_CLASSES, HIDDEN_FEATURES),
        ("weight gradient, layer 1", HIDDEN_FEATURES, batch, IN_FEATURES),
    ]


def epoch_flops(sizes: list[int]) -> int:
    """Floating-point operations (a multiply and an add each count) of an epoch's matmuls."""
    return sum(2 * m * k * n for batch in sizes for _, m, k, n in step_matmuls(batch))


class MatmulLimit:
    """An epoch's matrix multiplies with plain ``torch.matmul``, and nothing else.

    The same shapes and transposes as ``nn.Linear`` uses forward and backward, on the
    real training images taken batch by batch, so memory traffic is alike too.
    """

    def __init__(self, images: Tensor) -> None:
        generator = torch.Generator().manual_seed(0)
        self.inputs = images.reshape(len(images), -1)
        self.sizes = batch_sizes(len(images))
        self.weight1 = torch.randn(HIDDEN_FEATURES, IN_FEATURES, generator=generator)
        self.weight2 = torch.randn(N_CLASSES, HIDDEN_FEATURES, generator=generator)
        self.gradients = {  # of the hidden layer and the output, per batch size
            size: (
                torch.randn(size, HIDDEN_FEATURES, generator=generator),
                torch.randn(size, N_CLASSES, generator=generator),
            )
            for size in set(self.sizes)
        }

    def run_epoch(self) -> None:
        """Do one epoch's multiplies."""
        start = 0
        for size in self.sizes:
            x = self.inputs[start : start + size]
            start += size
            grad_hidden, grad_output = self.gradients[size]
            hidden = torch.matmul(x, self.weight1.t())  # forward, layer 1
            torch.matmul(hidden, self.weight2.t())  # forward, layer 2
            torch.matmul(grad_output.t(), hidden)  # weight gradient, layer 2
            torch.matmul(grad_output, self.weight2)  # input gradient, layer 2
            torch.matmul(grad_hidden.t(), x)  # weight gradient, layer 1


def copy_weights(source: nn.Module, target: nn.Module) -> None:
    """Give ``target`` the parameters of ``source``, in order (the notes' model has no
    Flatten layer, so the names differ by one index)."""
    source_parameters, target_parameters = list(source.parameters()), list(target.parameters())
    if [p.shape for p in source_parameters] != [p.shape for p in target_parameters]:
        raise ValueError("the two models do not have parameters of the same shapes")
    with torch.no_grad():
        for source_parameter, target_parameter in zip(
            source_parameters, target_parameters, strict=True
        ):
            target_parameter.copy_(source_parameter)


def twin_models(seed: int) -> tuple[nn.Module, nn.Module]:
    """The notes' model and ptm's, with the same initial weights."""
    torch.manual_seed(seed)
    notes_model = notes_way.build_model()
    ptm_model = ptm.build_fc_classifier()
    copy_weights(notes_model, ptm_model)
    return notes_model, ptm_model


def sgd(model: nn.Module) -> torch.optim.Optimizer:
    """``optim.SGD(model.parameters(), lr=1e-2)``, as both the notes and ptm use."""
    return torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)


class RecordingLoss(nn.Module):
    """``nn.NLLLoss`` that also keeps every batch's loss, for comparing two loops."""

    def __init__(self) -> None:
        super().__init__()
        self.loss_fn = nn.NLLLoss()
        self.values: list[float] = []

    def forward(self, outputs: Tensor, targets: Tensor) -> Tensor:
        loss = self.loss_fn(outputs, targets)
        self.values.append(loss.item())
        return loss


def check_same_losses(notes_list: notes_way.ImageList, cifar2: ptm.Cifar2) -> dict[str, Any]:
    """One epoch of each loop in the same batch order from the same weights: same losses?"""
    notes_model, ptm_model = twin_models(seed=0)
    notes_loss, ptm_loss = RecordingLoss(), RecordingLoss()
    loader = notes_way.make_train_loader(notes_list, shuffle=False)
    notes_way.train_epoch(notes_model, loader, sgd(notes_model), notes_loss)
    ptm.fit(
        ptm_model,
        ptm_loss,
        sgd(ptm_model),
        cifar2.train,
        n_epochs=1,
        batch_size=BATCH_SIZE,
        shuffle=False,
    )
    notes_values, ptm_values = torch.tensor(notes_loss.values), torch.tensor(ptm_loss.values)
    if notes_values.shape != ptm_values.shape:
        return {"same_losses": False, "max_loss_difference": float("inf"), "same_weights": False}
    same_weights = all(
        torch.allclose(a, b, rtol=1e-4, atol=1e-6)
        for a, b in zip(notes_model.parameters(), ptm_model.parameters(), strict=True)
    )
    return {
        "same_losses": torch.allclose(notes_values, ptm_values, rtol=1e-5, atol=1e-6),
        "max_loss_difference": (notes_values - ptm_values).abs().max().item(),
        "same_weights": same_weights,
        "n_batches_compared": len(notes_values),
    }


def time_ptm_epoch(model: nn.Module, cifar2: ptm.Cifar2, seed: int) -> float:
    """Seconds of one ``ptm.fit`` epoch over CIFAR-2's training tensors, shuffled by ``seed``."""
    optimizer = sgd(model)
    seconds, _ = timed(
        lambda: ptm.fit(
            model,
            nn.NLLLoss(),
            optimizer,
            cifar2.train,
            n_epochs=1,
            batch_size=BATCH_SIZE,
            seed=seed,
        )
    )
    return seconds


def run_epoch(notes_list: notes_way.ImageList, cifar2: ptm.Cifar2, repeats: int) -> dict[str, Any]:
    """Benchmark 3: the notes' epoch, ptm's epoch, the matmul limit and the notes' batching."""
    check = check_same_losses(notes_list, cifar2)
    limit = MatmulLimit(cifar2.train_images)
    loader = notes_way.make_train_loader(notes_list)

    def notes(repeat: int) -> float:
        model, _ = twin_models(repeat)
        optimizer = sgd(model)
        seconds, _ = timed(lambda: notes_way.train_epoch(model, loader, optimizer, nn.NLLLoss()))
        return seconds

    def fast(repeat: int) -> float:
        _, model = twin_models(repeat)
        return time_ptm_epoch(model, cifar2, seed=repeat)

    def matmul_limit(repeat: int) -> float:
        seconds, _ = timed(limit.run_epoch)
        return seconds

    def notes_loader_only(repeat: int) -> float:
        seconds, _ = timed(lambda: [None for _ in loader])
        return seconds

    cases = {
        "notes": notes,
        "ptm": fast,
        "limit": matmul_limit,
        "notes_loader_only": notes_loader_only,
    }
    for case in cases.values():  # warm up: thread pools, allocator, caches
        case(0)
    times = alternate(cases, repeats, "training epoch")
    flops = epoch_flops(limit.sizes)
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
        "flops": flops,
        "limit_gflops_per_second": flops / limit_median / 1e9,
        "ptm_gflops_per_second": flops / ptm_median / 1e9,
        "n_images": len(cifar2.train_images),
        "n_batches": len(limit.sizes),
        "batch_size": BATCH_SIZE,
        "learning_rate": LEARNING_RATE,
        **check,
    }


def run_per_sample(
    notes_list: notes_way.ImageList, cifar2: ptm.Cifar2, n_steps: int, repeats: int
) -> dict[str, Any]:
    """Benchmark 4: one image per optimizer step, the notes' loop against ptm's, per 1,000 steps."""
    n_steps = min(n_steps, len(notes_list))
    items = notes_list[:n_steps]
    images, labels = cifar2.train_images[:n_steps], cifar2.train_labels[:n_steps]
    per_thousand = 1000 / n_steps

    def notes(repeat: int) -> float:
        model, _ = twin_models(repeat)
        optimizer = sgd(model)
        seconds, _ = timed(
            lambda: notes_way.train_per_sample(model, items, optimizer, nn.NLLLoss())
        )
        return seconds * per_thousand

    def fast(repeat: int) -> float:
        _, model = twin_models(repeat)
        seconds, _ = timed(
            lambda: ptm.train_per_sample(
                model,
                (images, labels),
                n_epochs=1,
                lr=LEARNING_RATE,
                device="cpu",
                progress=False,
                log_every=None,
                seed=repeat,
            )
        )
        return seconds * per_thousand

    times = alternate(
        {"notes": notes, "ptm": fast}, repeats, "per-sample training (per 1,000 steps)"
    )
    return {
        **times,
        "speedup": times["notes"]["median"] / times["ptm"]["median"],
        "paired_speedup": paired_ratios(times["notes"], times["ptm"]),
        "n_steps": n_steps,
    }


# -- where ptm's epoch time goes ----------------------------------------------------------

PROFILE_CATEGORIES = {
    "matrix multiplies": {"aten::mm", "aten::addmm", "aten::matmul", "aten::bmm"},
    "optimizer step and zero_grad": {
        "aten::add_", "aten::_foreach_add_", "aten::_fused_sgd_", "aten::zero_",
        "Optimizer.step#SGD.step", "Optimizer.zero_grad#SGD.zero_grad",
    },
    "batch gathering (indexing)": {"aten::index", "aten::index_select", "aten::randperm"},
    "activation, loss, bias gradients": {
        "aten::tanh", "aten::tanh_backward", "aten::_log_softmax",
        "aten::_log_softmax_backward_data", "aten::nll_loss_forward", "aten::nll_loss_backward",
        "aten::sum",
    },
}  # fmt: skip
OTHER_OPERATORS = "other operators (views, copies, allocation)"
OUTSIDE_OPERATORS = "outside operators (Python, autograd engine)"


@contextlib.contextmanager
def native_stderr_silenced() -> Iterator[None]:
    """Hide what C++ code writes to stderr (the profiler logs each start and stop there)."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def profile_one_epoch(cifar2: ptm.Cifar2, seed: int) -> dict[str, Any]:
    """One ptm epoch under ``torch.profiler``: seconds per category of operator.

    Self times of the operators are summed per category; what the profiled epoch took
    beyond all operators is Python and the autograd engine. The profiler itself adds a
    little to every operator, so the shares matter more than the totals.
    """
    from torch.profiler import ProfilerActivity, profile

    _, model = twin_models(seed)
    with native_stderr_silenced(), profile(activities=[ProfilerActivity.CPU]) as profiler:
        seconds = time_ptm_epoch(model, cifar2, seed)
    category_seconds = {name: 0.0 for name in PROFILE_CATEGORIES} | {OTHER_OPERATORS: 0.0}
    operator_seconds: dict[str, float] = {}
    for event in profiler.key_averages():
        event_seconds = event.self_cpu_time_total / 1e6
        operator_seconds[event.key] = event_seconds
        category = next(
            (name for name, keys in PROFILE_CATEGORIES.items() if event.key in keys),
            OTHER_OPERATORS,
        )
        category_seconds[category] += event_seconds
    category_seconds[OUTSIDE_OPERATORS] = max(seconds - sum(category_seconds.values()), 0.0)
    top_operators = sorted(operator_seconds.items(), key=lambda item: item[1], reverse=True)[:12]
    return {
        "epoch_seconds": seconds,
        "categories": category_seconds,
        "shares": {name: value / seconds for name, value in category_seconds.items()},
        "top_operators": dict(top_operators),
    }


def profile_ptm_epoch(cifar2: ptm.Cifar2, repeats: int) -> dict[str, Any]:
    """Profile ``repeats`` ptm epochs and keep the fastest, the one least disturbed by
    whatever else the machine was doing meanwhile (see `profile_one_epoch`)."""
    profiles = [profile_one_epoch(cifar2, seed) for seed in range(repeats)]
    fastest = min(profiles, key=lambda profile: profile["epoch_seconds"])
    return {**fastest, "n_epochs_profiled": repeats}
