import inspect
import subprocess
import sys

import ptm


def test_public_names_exist_and_are_documented():
    for name in ptm.__all__:
        value = getattr(ptm, name)
        if callable(value):
            assert inspect.getdoc(value), f"ptm.{name} has no docstring"


def test_functions_point_back_to_the_book():
    book_functions = [
        "neuron",
        "plot_activations",
        "training_loop",
        "fit",
        "split_train_val",
        "load_cifar10",
        "channel_stats",
        "load_cifar2",
        "build_fc_classifier",
        "train_classifier",
        "accuracy_under_shift",
        "plot_temperature_fit",
    ]
    for name in book_functions:
        assert "§" in inspect.getdoc(getattr(ptm, name)).splitlines()[0], name


def test_import_has_no_side_effects(tmp_path):
    script = """
import os, sys, torch, matplotlib
state = torch.random.get_rng_state()
params = dict(dict.items(matplotlib.rcParams))  # reading rcParams["backend"] would load pyplot
before = set(os.listdir("."))
import ptm
assert torch.equal(state, torch.random.get_rng_state()), "random state changed"
assert dict(dict.items(matplotlib.rcParams)) == params, "matplotlib settings changed"
assert "matplotlib.pyplot" not in sys.modules, "pyplot imported"
assert set(os.listdir(".")) == before, "files written"
print("clean")
"""
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
        check=False,
    )
    assert result.stdout.strip() == "clean", result.stderr
