"""The fully connected CIFAR-2 classifier: models, outputs, training, evaluation (§7.2.2–§7.2.7).

A fully connected network sees a 3×32×32 image as 3,072 numbers in a row. This module
builds such networks, shows how their outputs become probabilities (softmax) and a
loss (NLL), trains them on the one engine of `ptm.training`, and measures them:
accuracy, confusion matrix, mistakes, and what happens when the images move (§7.2.7).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from ptm.batches import TensorBatches, as_batches, is_tensor_pair
from ptm.checks import check_images, check_labels, first_image, model_device
from ptm.plots import LiveCurves, in_notebook
from ptm.recipes import CLASSIFIER, ClassifierRecipe, vary
from ptm.training import (
    EVAL_BATCH_SIZE,
    Batches,
    History,
    LossFunction,
    fit,
    resolve_device,
    seeded,
)

__all__ = [
    "accuracy",
    "accuracy_under_shift",
    "build_fc_classifier",
    "confusion_matrix",
    "count_parameters",
    "predict",
    "probability_mse",
    "shift_images",
    "softmax",
    "train_classifier",
]

ACTIVATION_LAYERS: dict[str, type[nn.Module]] = {
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "sigmoid": nn.Sigmoid,
}
IMAGE_FEATURES = 3 * 32 * 32  # a CIFAR image flattened


# -- models (§7.2.2, §7.2.5) -----------------------------------------------------------


def build_fc_classifier(
    hidden_sizes: int | Sequence[int] = (512,),
    *,
    in_features: int = IMAGE_FEATURES,
    n_classes: int = 2,
    activation: str = "tanh",
    log_softmax: bool = True,
    seed: int | None = None,
) -> nn.Sequential:
    """A fully connected classifier over flattened images (DLwPT §7.2.2, §7.2.5).

    The default is the notes' model: Flatten → Linear(3072, 512) → Tanh → Linear(512, 2)
    → LogSoftmax, to be trained with ``nn.NLLLoss`` (1,574,402 parameters). The leading
    ``nn.Flatten`` lets it take N×3×32×32 images as they come.

    Args:
        hidden_sizes: the width of each hidden layer, e.g. ``(1024, 512, 128)`` for the
            book's deeper network (with ``log_softmax=False``); one int is one layer.
        in_features: inputs per sample; 3,072 for a 3×32×32 image.
        n_classes: outputs; 2 for airplane vs bird.
        activation: ``"tanh"``, ``"relu"`` or ``"sigmoid"``, after each hidden layer.
        log_softmax: end with ``nn.LogSoftmax(dim=1)`` (for ``NLLLoss``); without it the
            model outputs raw scores (for ``CrossEntropyLoss``).
        seed: seeds the initial weights; the caller's random state is left as it was.

    Example:
        >>> count_parameters(build_fc_classifier())
        1574402
    """
    if activation not in ACTIVATION_LAYERS:
        raise ValueError(
            f"unknown activation {activation!r}: expected one of {sorted(ACTIVATION_LAYERS)}"
        )
    if isinstance(hidden_sizes, int) and not isinstance(hidden_sizes, bool):
        hidden_sizes = (hidden_sizes,)
    if not isinstance(hidden_sizes, Sequence) or isinstance(hidden_sizes, str):
        raise ValueError(
            f"hidden_sizes must be an int or a tuple of ints such as (1024, 512, 128), got "
            f"{hidden_sizes!r}"
        )
    sizes = [in_features, *hidden_sizes, n_classes]
    if any(isinstance(size, bool) or not isinstance(size, int) or size < 1 for size in sizes):
        raise ValueError(f"layer sizes must be positive integers, got {sizes}")
    layers: list[nn.Module] = [nn.Flatten()]
    with seeded(seed):
        for index, (size_in, size_out) in enumerate(itertools.pairwise(sizes)):
            layers.append(nn.Linear(size_in, size_out))
            if index < len(sizes) - 2:
                layers.append(ACTIVATION_LAYERS[activation]())
    if log_softmax:
        layers.append(nn.LogSoftmax(dim=1))
    return nn.Sequential(*layers)


def describe_architecture(model: nn.Module) -> dict[str, Any]:
    """The settings that `build_fc_classifier` needs to rebuild ``model`` (DLwPT §7.2.2).

    Raises:
        ValueError: ``model`` is not a fully connected classifier as built here.
    """
    layers = list(model.children()) if isinstance(model, nn.Sequential) else []
    linears = [layer for layer in layers if isinstance(layer, nn.Linear)]
    if not layers or not isinstance(layers[0], nn.Flatten) or not linears:
        raise ValueError(
            f"expected a classifier from build_fc_classifier, got {type(model).__name__}"
        )
    activations = {
        name for layer in layers for name, kind in ACTIVATION_LAYERS.items() if type(layer) is kind
    }
    return {
        "in_features": linears[0].in_features,
        "hidden_sizes": [layer.out_features for layer in linears[:-1]],
        "n_classes": linears[-1].out_features,
        "activation": activations.pop() if activations else "tanh",
        "log_softmax": isinstance(layers[-1], nn.LogSoftmax),
    }


def architecture_label(model_or_architecture: nn.Module | dict[str, Any]) -> str:
    """A short name such as ``"3072-512-2"`` for a model or its description (DLwPT §7.2.6)."""
    architecture = (
        describe_architecture(model_or_architecture)
        if isinstance(model_or_architecture, nn.Module)
        else model_or_architecture
    )
    sizes = [architecture["in_features"], *architecture["hidden_sizes"], architecture["n_classes"]]
    return "-".join(str(size) for size in sizes)


def count_parameters(model: nn.Module, *, per_layer: bool = False) -> int | list[tuple[str, int]]:
    """How many trainable numbers a model has (DLwPT §7.2.6).

    Args:
        model: any module.
        per_layer: list ``(layer, count)`` for each layer that has parameters, instead
            of the total.

    Returns:
        The total, e.g. 1,574,402 for the notes' model, or the per-layer list, e.g.
        ``[("1: Linear", 1573376), ("3: Linear", 1026)]``: ``Linear(3072, 512)`` holds
        3072 × 512 weights and 512 biases.
    """
    if not per_layer:
        return sum(p.numel() for p in model.parameters() if p.requires_grad)
    counts = []
    for name, module in model.named_modules():
        count = sum(p.numel() for p in module.parameters(recurse=False) if p.requires_grad)
        if count:
            counts.append((f"{name}: {type(module).__name__}", count))
    return counts


# -- outputs as probabilities (§7.2.3–§7.2.5) ------------------------------------------


def softmax(x: Tensor, dim: int = -1) -> Tensor:
    """Softmax written out: ``exp(x) / sum(exp(x))`` along ``dim`` (DLwPT §7.2.4).

    For teaching: it overflows for inputs above about 88 in float32. ``nn.Softmax``
    and ``torch.softmax`` subtract the maximum first and do not.
    """
    exponentials = torch.exp(x)
    return exponentials / exponentials.sum(dim=dim, keepdim=True)


# -- evaluation (§7.2.6) ---------------------------------------------------------------


def predict(model: nn.Module, images: Tensor, *, batch_size: int = 1024) -> Tensor:
    """The predicted class of each image: the index of the largest output (DLwPT §7.2.4).

    Runs in evaluation mode without gradients, in batches, on the model's device, and
    returns the labels on the CPU. An ``nn.Sequential`` that starts with ``nn.Linear`` (the
    notes' models) gets each batch flattened, ``imgs.view(batch_size, -1)`` as in their loops.
    """
    check_images(model, images)
    device = model_device(model)
    flatten = isinstance(model, nn.Sequential) and isinstance(model[0], nn.Linear)
    was_training = model.training
    model.eval()
    predictions = []
    with torch.no_grad():
        for start in range(0, len(images), batch_size):
            batch = images[start : start + batch_size].to(device)
            outputs = model(batch.flatten(1) if flatten else batch)
            _, predicted = torch.max(outputs, dim=1)
            predictions.append(predicted.cpu())
    model.train(was_training)
    return torch.cat(predictions) if predictions else torch.zeros(0, dtype=torch.long)


def accuracy(model: nn.Module, images: Tensor, labels: Tensor) -> float:
    """The fraction of images whose predicted class is the label (DLwPT §7.2.6)."""
    check_labels(model, labels)
    if len(images) != len(labels) or len(labels) == 0:
        raise ValueError(
            f"need the same, non-zero number of images and labels, got "
            f"{len(images)} and {len(labels)}"
        )
    n_correct = int((predict(model, images) == labels.cpu()).sum())
    return n_correct / len(labels)


def confusion_matrix(labels: Tensor, predictions: Tensor, n_classes: int = 2) -> Tensor:
    """Counts of (true class, predicted class) pairs: row = true, column = predicted (§7.2.6).

    Example:
        >>> confusion_matrix(torch.tensor([0, 0, 1]), torch.tensor([0, 1, 1])).tolist()
        [[1, 1], [0, 1]]
    """
    if labels.shape != predictions.shape or labels.dim() != 1:
        raise ValueError(
            f"labels and predictions must be 1-D and alike, got shapes "
            f"{tuple(labels.shape)} and {tuple(predictions.shape)}"
        )
    for name, values in (("labels", labels), ("predictions", predictions)):
        if len(values) and (int(values.min()) < 0 or int(values.max()) >= n_classes):
            raise ValueError(
                f"{name} must lie in 0..{n_classes - 1}, got "
                f"{int(values.min())}..{int(values.max())}"
            )
    pairs = labels.long() * n_classes + predictions.long()
    return torch.bincount(pairs, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def shift_images(images: Tensor, pixels: int) -> Tensor:
    """Move N×C×H×W images ``pixels`` to the right, filling the gap with 0 (DLwPT §7.2.7).

    On normalised images 0 is the average colour. A negative ``pixels`` moves left.
    """
    if images.dim() != 4:
        raise ValueError(f"expected N×C×H×W images, got shape {tuple(images.shape)}")
    width = images.shape[-1]
    if abs(pixels) >= width:
        raise ValueError(f"cannot shift {width}-pixel-wide images by {pixels} pixels")
    shifted = torch.zeros_like(images)
    if pixels >= 0:
        shifted[..., pixels:] = images[..., : width - pixels]
    else:
        shifted[..., :pixels] = images[..., -pixels:]
    return shifted


def accuracy_under_shift(
    model: nn.Module, images: Tensor, labels: Tensor, shifts: Iterable[int] = (0, 2, 4, 6, 8)
) -> dict[int, float]:
    """Accuracy on the images moved right by each shift, in pixels (DLwPT §7.2.7).

    A fully connected layer gives every pixel position its own weights, so it has no
    translation invariance: what it learnt at one place does not carry to another.
    """
    return {shift: accuracy(model, shift_images(images, shift), labels) for shift in shifts}


# -- training (§7.2.6) -------------------------------------------------------------------


def probability_mse(outputs: Tensor, labels: Tensor) -> Tensor:
    """Mean squared error of the predicted probabilities against one-hot targets (§7.2.5).

    The loss the chapter 7 exercise compares with NLL. ``outputs`` are log-probabilities
    (a model ending in LogSoftmax), so ``outputs.exp()`` are the probabilities.
    """
    targets = torch.nn.functional.one_hot(labels, outputs.shape[1]).to(outputs.dtype)
    return torch.nn.functional.mse_loss(outputs.exp(), targets)


def default_loss(model: nn.Module) -> nn.Module:
    """``NLLLoss`` for a model that ends in LogSoftmax, else ``CrossEntropyLoss`` (§7.2.5)."""
    children = list(model.children())
    return (
        nn.NLLLoss()
        if children and isinstance(children[-1], nn.LogSoftmax)
        else nn.CrossEntropyLoss()
    )


def train_classifier(
    model: nn.Module,
    train_data: Batches,
    val_data: Batches | None = None,
    recipe: ClassifierRecipe = CLASSIFIER,
    *,
    loss_fn: LossFunction | None = None,
    device: str | torch.device = "auto",
    progress: bool = True,
    log_every: int | None = 10,
    live: bool | LiveCurves = False,
    **changes: Any,
) -> History:
    """Train a classifier with SGD on mini-batches, as the book does (DLwPT §7.2.6).

    The engine (`ptm.training.fit`) under the book's recipe (`ptm.recipes.CLASSIFIER`: batch
    64, shuffled every epoch, SGD with lr 1e-2, NLLLoss, 100 epochs), the same steps as the
    notebook's ``minibatch_loop``, plus accuracy, validation, a progress bar and a line every
    ``log_every`` epochs.

    Args:
        model: e.g. ``build_fc_classifier()``; trained in place.
        train_data: ``(images, labels)`` tensors (the fast path, e.g. ``cifar2.train``): cut
            into shuffled batches of the recipe's size; or a batch source that decides size and
            order itself (`TensorBatches`, `CroppedBatches`, a DataLoader over the notes' list).
        val_data: the same kinds, or None.
        recipe: the settings of the run; ``changes`` vary it, e.g. ``n_epochs=10, seed=1``
            (any field of `ptm.recipes.ClassifierRecipe`).
        loss_fn: overrides the recipe's loss (``"nll"``: NLLLoss for a model that ends in
            LogSoftmax, else CrossEntropyLoss; ``"mse"``: `probability_mse`).
        device: ``"auto"`` (CUDA, then MPS, then CPU), ``"cpu"``, ``"cuda"``, ...
        progress: a progress bar over epochs; False turns it off.
        log_every: a line at epoch 1 and every this many epochs (1: every epoch, as the
            notes print; None: none).
        live: in a notebook, draw the loss and accuracy curves as they grow, in one output
            updated in place at most once a second (instead of the progress bar), ending with
            the final curves; outside a notebook the text bar stays. A `ptm.plots.LiveCurves`
            given here is drawn into (`run_experiments` shares one between its runs).

    Returns:
        The History: per epoch the mean training loss, training accuracy, validation
        loss and accuracy, and seconds.

    Raises:
        ValueError: a bad setting (named), images of the wrong shape or dtype for the model,
            labels outside the model's classes, empty data, an unknown device.
        KeyboardInterrupt: on Ctrl-C, with the History so far as ``error.history``.
    """
    recipe = vary(recipe, **changes)
    device = resolve_device(device)
    train_batches = classifier_batches(model, train_data, "training data", recipe, device)
    val_batches = None
    if val_data is not None:
        val_batches = classifier_batches(model, val_data, "validation data", None, device)
    if loss_fn is None:
        loss_fn = probability_mse if recipe.loss == "mse" else default_loss(model)
    curves = None
    if live and in_notebook():
        curves = live if isinstance(live, LiveCurves) else LiveCurves()
    history = fit(
        model,
        loss_fn,
        torch.optim.SGD(model.parameters(), lr=recipe.lr),
        train_batches,
        val_batches,
        n_epochs=recipe.n_epochs,
        device=device,
        track_accuracy=True,
        log_every=log_every,
        progress=progress and curves is None,
        keep_best=recipe.keep_best,
        on_epoch=None if curves is None else curves.update,
    )
    if curves is not None:
        curves.finish(history)
    return history


def classifier_batches(
    model: nn.Module,
    data: Batches,
    name: str,
    recipe: ClassifierRecipe | None,
    device: torch.device,
) -> Iterable[tuple[Tensor, Tensor]]:
    """The classifier's data as a batch source, checked against the model once: a tensor
    pair becomes `TensorBatches` (shuffled batches of the recipe's size, seeded; for
    validation, unshuffled batches of 1,024), other batch sources are used as they are."""
    if is_tensor_pair(data):
        images, labels = data
        check_images(model, images, f"{name} images")
        check_labels(model, labels, f"{name} labels")
        if recipe is None:
            return TensorBatches(images, labels, EVAL_BATCH_SIZE, device=device, name=name)
        return TensorBatches(
            images, labels, recipe.batch_size, shuffle=True, seed=recipe.seed, device=device,
            name=name,
        )  # fmt: skip
    image = first_image(data)
    if image is not None:
        check_images(model, image.unsqueeze(0), f"{name} images")
    dataset = getattr(data, "dataset", None)
    if isinstance(dataset, list) and dataset:  # the notes' list form: every label is at hand
        check_labels(model, torch.tensor([label for _, label in dataset]), f"{name} labels")
    labels = getattr(data, "labels", None)
    if isinstance(labels, Tensor):  # TensorBatches, CroppedBatches
        check_labels(model, labels, f"{name} labels")
    return as_batches(data, name)
