"""The experiment runner of the exercises: table, figures, failures, reproducibility."""

import pytest
from matplotlib.figure import Figure

import ptm
from ptm.experiments import Run


def small(**settings):
    return {"hidden_sizes": 8, "n_epochs": 2, **settings}


def test_classifier_runs_give_a_table_and_figures(cifar2):
    results = ptm.run_experiments(
        {"nll": small(), "mse": small(loss="mse"), "cropped": small(crop_padding=4)},
        data=cifar2,
        device="cpu",
        progress=False,
    )
    assert [run.name for run in results.runs] == ["nll", "mse", "cropped"]
    assert all(run.ok and len(run.history) == 2 for run in results.runs)
    rows = results.rows()
    assert list(rows[0]) == list(results.columns)
    for row, run in zip(rows, results.runs, strict=True):
        assert row["final val accuracy"] == run.history.val_accuracy[-1]
        assert row["gap"] == pytest.approx(
            run.history.train_accuracy[-1] - run.history.val_accuracy[-1]
        )
        assert row["best epoch"] in (1, 2)
    text = str(results)
    assert text.splitlines()[0].startswith("run") and "cropped" in text.splitlines()[3]
    assert results._repr_html_().count("<tr>") == 4
    assert repr(results) == "ExperimentResults(3 classifier runs: 3 ok)"
    assert isinstance(results.plot("val_accuracy"), Figure)
    assert len(results.plot("train_loss").axes[0].get_lines()) == 3
    assert isinstance(results.plot_gap(), Figure)
    assert results["mse"].recipe.loss == "mse"
    assert results["mse"].recipe == ptm.recipes.vary(ptm.recipes.CLASSIFIER, **small(loss="mse"))


def test_the_same_seed_gives_the_same_results(cifar2):
    runs = [
        ptm.run_experiments({"a": small(seed=4)}, data=cifar2, progress=False)["a"].history
        for _ in range(2)
    ]
    assert runs[0].train_loss == runs[1].train_loss and runs[0].val_accuracy == runs[1].val_accuracy


def test_a_failing_and_a_diverging_run_are_recorded_and_the_others_go_on(cifar2):
    results = ptm.run_experiments(
        {
            "unknown": small(learning_rate=0.1),
            "bad loss": small(loss="hinge"),
            "diverges": small(lr=1e6, activation="relu"),
            "fine": small(),
        },
        data=cifar2,
        device="cpu",
        progress=False,
    )
    statuses = {run.name: run.status for run in results.runs}
    assert statuses["unknown"].startswith(
        "failed: ValueError: unknown setting(s) ['learning_rate']"
    )
    assert (
        statuses["bad loss"] == "failed: ValueError: loss must be one of 'nll', 'mse', got 'hinge'"
    )
    assert statuses["fine"] == "ok"
    assert results.best().name == "fine"
    assert statuses["diverges"] == "diverged at epoch 1"
    assert "diverged at epoch 1" in str(results)


def test_a_nan_loss_is_recorded_as_diverged():
    results = ptm.run_experiments(
        {"steps too long": {"hidden_size": 0, "lr": 10.0, "n_epochs": 200}},
        task="temperature",
        progress=False,
    )
    (run,) = results.runs
    assert run.status.startswith("diverged at epoch") and not run.ok


def test_temperature_sweep_and_its_small_multiples():
    results = ptm.run_experiments(
        {
            "linear": {"hidden_size": 0, "lr": 1e-2, "n_epochs": 300},
            "1-4-1": {"hidden_size": 4, "n_epochs": 300},
        },
        task="temperature",
        progress=False,
    )
    assert "final val accuracy" not in results.columns
    assert results.best("final train loss", lowest=True).name in ("linear", "1-4-1")
    t_c, t_u = ptm.temperature_data()
    figure = results.plot_fits(t_u, t_c)
    assert [ax.get_title() for ax in figure.axes[:2]] == ["linear (ok)", "1-4-1 (ok)"]


@pytest.mark.parametrize(
    ("configurations", "options", "message"),
    [
        ({}, {}, "configurations is empty"),
        ([("a", {}), ("a", {})], {}, r"unique, got \['a'\] more than once"),
        ({"a": {}}, {"task": "poetry"}, "task must be one of"),
        ({"a": {}}, {}, "needs data="),
    ],
)
def test_bad_experiment_lists_are_named(configurations, options, message):
    with pytest.raises(ValueError, match=message):
        ptm.run_experiments(configurations, progress=False, **options)


def test_keep_best_restores_the_best_epoch(cifar2):
    results = ptm.run_experiments(
        {"best": small(n_epochs=4, keep_best=True)}, data=cifar2, progress=False
    )
    run = results["best"]
    expected = run.history.val_accuracy[run.history.epochs.index(run.history.best_epoch())]
    assert ptm.accuracy(run.model, *cifar2.val) == expected


def test_run_is_ok_only_without_problems():
    assert Run("a", None).ok and not Run("a", None, status="failed: x").ok
