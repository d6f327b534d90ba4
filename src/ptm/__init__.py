"""ptm: companion code for Deep Learning with PyTorch, chapters 6 and 7.

The public names below are what a learner uses; everything else stays importable from its
module (``ptm.training.fit``, ``ptm.classifier.shift_images``, ...). Each name is loaded
from its module when first used, so ``import ptm`` is quick and does nothing else: no
seeding, no downloads, no matplotlib settings. See the README for a map of the modules.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.3.0"

if TYPE_CHECKING:  # type checkers see every public name with its real signature
    from ptm.activations import (
        neuron as neuron,
        plot_activations as plot_activations,
        plot_tanh_composition as plot_tanh_composition,
    )
    from ptm.augment import CroppedBatches as CroppedBatches
    from ptm.batches import TensorBatches as TensorBatches
    from ptm.checkpoint import (
        Checkpoint as Checkpoint,
        load_checkpoint as load_checkpoint,
        save_checkpoint as save_checkpoint,
    )
    from ptm.cifar_files import (
        CLASS_NAMES as CLASS_NAMES,
        CifarCorruptedError as CifarCorruptedError,
        CifarDataError as CifarDataError,
        CifarNotFoundError as CifarNotFoundError,
        load_cifar10 as load_cifar10,
    )
    from ptm.cifar_tensors import (
        CIFAR2_CLASS_NAMES as CIFAR2_CLASS_NAMES,
        CIFAR10_MEAN as CIFAR10_MEAN,
        CIFAR10_STD as CIFAR10_STD,
        Cifar2 as Cifar2,
        channel_stats as channel_stats,
        cifar2_list as cifar2_list,
        load_cifar2 as load_cifar2,
        normalize_images as normalize_images,
    )
    from ptm.classifier import (
        accuracy as accuracy,
        accuracy_under_shift as accuracy_under_shift,
        build_fc_classifier as build_fc_classifier,
        confusion_matrix as confusion_matrix,
        count_parameters as count_parameters,
        predict as predict,
        softmax as softmax,
        train_classifier as train_classifier,
    )
    from ptm.experiments import (
        ExperimentResults as ExperimentResults,
        run_experiments as run_experiments,
    )
    from ptm.lessons import (
        accuracy_loop as accuracy_loop,
        minibatch_loop as minibatch_loop,
        per_sample_loop as per_sample_loop,
        training_loop as training_loop,
    )
    from ptm.plots import (
        plot_confusion_matrix as plot_confusion_matrix,
        plot_history as plot_history,
        plot_images as plot_images,
        plot_loss as plot_loss,
        plot_misclassified as plot_misclassified,
        plot_shift_accuracy as plot_shift_accuracy,
        show_image as show_image,
    )
    from ptm.standin import (
        DataSource as DataSource,
        choose_data_source as choose_data_source,
        write_standin_cifar10 as write_standin_cifar10,
    )
    from ptm.temperature import (
        TemperatureSplit as TemperatureSplit,
        build_linear_model as build_linear_model,
        build_named_seq_model as build_named_seq_model,
        build_seq_model as build_seq_model,
        plot_temperature_fit as plot_temperature_fit,
        split_train_val as split_train_val,
        temperature_data as temperature_data,
    )
    from ptm.training import History as History, TrainingDivergedWarning as TrainingDivergedWarning
    from ptm.wine import load_wine as load_wine

_MODULE_OF = {
    # §6.1 activations
    "neuron": "activations",
    "plot_activations": "activations",
    "plot_tanh_composition": "activations",
    # §6.2–6.3 the temperature problem
    "temperature_data": "temperature",
    "split_train_val": "temperature",
    "TemperatureSplit": "temperature",
    "build_linear_model": "temperature",
    "build_seq_model": "temperature",
    "build_named_seq_model": "temperature",
    "plot_temperature_fit": "temperature",
    # the notes' loops (§6.2.2, §7.2.6)
    "training_loop": "lessons",
    "per_sample_loop": "lessons",
    "minibatch_loop": "lessons",
    "accuracy_loop": "lessons",
    # the engine
    "History": "training",
    "TensorBatches": "batches",
    "TrainingDivergedWarning": "training",
    # §7.1–7.2.1 CIFAR-10 files and CIFAR-2 tensors
    "CLASS_NAMES": "cifar_files",
    "CifarDataError": "cifar_files",
    "CifarNotFoundError": "cifar_files",
    "CifarCorruptedError": "cifar_files",
    "load_cifar10": "cifar_files",
    "CIFAR10_MEAN": "cifar_tensors",
    "CIFAR10_STD": "cifar_tensors",
    "CIFAR2_CLASS_NAMES": "cifar_tensors",
    "Cifar2": "cifar_tensors",
    "channel_stats": "cifar_tensors",
    "normalize_images": "cifar_tensors",
    "cifar2_list": "cifar_tensors",
    "load_cifar2": "cifar_tensors",
    "DataSource": "standin",
    "choose_data_source": "standin",
    "write_standin_cifar10": "standin",
    # §7.2.2–7.2.7 the classifier
    "build_fc_classifier": "classifier",
    "count_parameters": "classifier",
    "softmax": "classifier",
    "train_classifier": "classifier",
    "predict": "classifier",
    "accuracy": "classifier",
    "confusion_matrix": "classifier",
    "accuracy_under_shift": "classifier",
    # figures
    "plot_loss": "plots",
    "plot_history": "plots",
    "show_image": "plots",
    "plot_images": "plots",
    "plot_confusion_matrix": "plots",
    "plot_misclassified": "plots",
    "plot_shift_accuracy": "plots",
    # the exercises
    "run_experiments": "experiments",
    "ExperimentResults": "experiments",
    "CroppedBatches": "augment",
    "load_wine": "wine",
    # saving
    "Checkpoint": "checkpoint",
    "save_checkpoint": "checkpoint",
    "load_checkpoint": "checkpoint",
}

__all__ = sorted(_MODULE_OF)


def __getattr__(name: str) -> Any:
    """Load a public name from its module on first use."""
    module_name = _MODULE_OF.get(name)
    if module_name is None:
        if name in _SUBMODULES:
            return importlib.import_module(f"ptm.{name}")
        raise AttributeError(f"module 'ptm' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"ptm.{module_name}"), name)
    globals()[name] = value  # the next look-up is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__, *_SUBMODULES})


_SUBMODULES = frozenset(
    {
        "activations", "temperature", "lessons", "training", "cifar_files", "cifar_tensors",
        "standin", "classifier", "plots", "checkpoint", "files", "cli", "augment", "wine",
        "experiments", "notebook_runner", "checks", "notes", "tables", "texts", "batches",
        "recipes", "readings",
    }
)  # fmt: skip
