"""Shared test set-up: a headless matplotlib backend, closed figures, small stand-in data."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # set here, not via MPLBACKEND, so notebook kernels keep inline figures

import matplotlib.pyplot as plt
import pytest

import ptm

PROJECT_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(autouse=True)
def _isolated_data_dir(monkeypatch, tmp_path_factory):
    """Point PTM_DATA_DIR at an empty folder so no test reads a user's real CIFAR-10."""
    monkeypatch.setenv("PTM_DATA_DIR", str(tmp_path_factory.mktemp("no-cifar")))


@pytest.fixture(scope="session")
def standin_root(tmp_path_factory) -> Path:
    """A small synthetic CIFAR-10 (150 training and 50 validation images per class)."""
    root = tmp_path_factory.mktemp("standin")
    return ptm.write_standin_cifar10(root, n_train_per_class=150, n_val_per_class=50, seed=0)


@pytest.fixture(scope="session")
def cifar2(standin_root) -> ptm.Cifar2:
    """CIFAR-2 tensors from the stand-in: 300 training and 100 validation images."""
    return ptm.load_cifar2(standin_root, cache=False)


@pytest.fixture
def standin_copy(standin_root, tmp_path) -> Path:
    """A private copy of the stand-in that a test may damage."""
    import shutil

    from ptm.cifar_files import BATCHES_FOLDER

    target = tmp_path / "data"
    shutil.copytree(standin_root / BATCHES_FOLDER, target / BATCHES_FOLDER)
    return target
