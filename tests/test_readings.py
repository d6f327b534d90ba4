"""The exercises' readings: each sentence true of small result sets of known shape."""

import math

import pytest
import torch
from torch import nn

import ptm
from ptm.experiments import ExperimentResults, Run
from ptm.readings import (
    did_not_learn,
    overfitting_start,
    read_capacity,
    read_crops,
    read_losses,
    read_temperature_sweep,
    read_wine,
)
from ptm.recipes import CLASSIFIER, NETWORK
from ptm.training import History


def history(train_loss, val_loss=None, train_accuracy=None, val_accuracy=None):
    epochs = list(range(1, len(train_loss) + 1))
    return History(epochs, list(train_loss), list(val_loss or []), list(train_accuracy or []),
                   list(val_accuracy or []))  # fmt: skip


def line(weight, bias):
    model = nn.Linear(1, 1)
    with torch.no_grad():
        model.weight.fill_(weight)
        model.bias.fill_(bias)
    return model


def falling(n, start=100.0, end=2.0):
    return [start * (end / start) ** (i / (n - 1)) for i in range(n)]


# -- the rules ----------------------------------------------------------------------------


def test_overfitting_is_a_clear_rise_of_validation_while_training_falls():
    train = falling(20, 1.0, 0.1)
    rising = [0.5] * 10 + [0.5 + 0.05 * i for i in range(1, 11)]
    assert overfitting_start(history(train, rising)) is not None
    assert overfitting_start(history(train, falling(20, 1.0, 0.3))) is None
    # a noisy flat curve: up and down around 0.5, never 3 clear rises in a row
    noisy = [0.5 + (0.05 if i % 2 else -0.05) for i in range(20)]
    assert overfitting_start(history(train, noisy)) is None
    # validation rising while training rises too is not overfitting
    assert overfitting_start(history(list(reversed(train)), rising)) is None


def test_the_flicker_of_a_long_full_batch_run_is_not_overfitting():
    n = 5000
    train = falling(n, 100.0, 2.0)
    val = [value * 6 + (3.0 if i % 2 else -3.0) for i, value in enumerate(falling(n, 100, 3))]
    assert overfitting_start(history(train, val)) is None
    turning = [max(v, 20 + 0.01 * (i - 3000)) for i, v in enumerate(falling(n, 300, 18))]
    assert overfitting_start(history(train, turning)) is not None


def temperature_results(runs):
    return ExperimentResults([Run(name, NETWORK, "ok", h, m) for name, h, m in runs], "temperature")


def test_a_temperature_run_that_predicts_a_constant_did_not_learn():
    results = temperature_results(
        [
            ("good", history(falling(50, 100, 2), falling(50, 300, 5)), line(5.24, -17.0)),
            ("constant", history([77.0] * 50, [200.0] * 50), line(0.0, 9.0)),
        ]
    )
    assert did_not_learn(results["good"], results) is None
    assert did_not_learn(results["constant"], results).startswith("span:0.0:")
    reading = str(read_temperature_sweep(results))
    assert reading.startswith("constant did not learn: its predictions span only 0.0 °C")
    assert "most bent: good" in reading and "constant (bend" not in reading


def test_a_slow_run_still_falling_is_not_called_dead():
    results = temperature_results(
        [
            ("best", history(falling(100, 100, 1.3), falling(100, 300, 5)), line(5.24, -17.0)),
            ("slow", history(falling(100, 160, 27), falling(100, 300, 170)), line(2.0, 0.0)),
            ("stuck", history([40.0] * 100, [150.0] * 100), line(1.0, 0.0)),
        ]
    )
    assert did_not_learn(results["slow"], results) is None
    assert did_not_learn(results["stuck"], results).startswith("loss:40.00:1.30")
    reading = str(read_temperature_sweep(results, lang="en"))
    assert "slow is still learning" in reading and "stuck did not learn" in reading


FITS, VAL = [0.7, 0.8, 0.9, 0.95, 0.99], [0.7, 0.75, 0.8, 0.8, 0.81]  # fits, 0.18 gap
LOW, LOW_VAL = [0.6, 0.65, 0.7, 0.72, 0.74], [0.6, 0.64, 0.69, 0.71, 0.73]  # small gap, low fit


def classifier_results(runs):
    return ExperimentResults(
        [Run(name, CLASSIFIER, "ok", h, nn.Linear(3072, 2)) for name, h in runs], "classifier"
    )


def test_a_classifier_at_chance_did_not_learn_and_is_left_out():
    results = classifier_results(
        [
            ("chance", history([0.69] * 5, [0.69] * 5, [0.51] * 5, [0.5] * 5)),
            ("fits", history(falling(5, 0.6, 0.05), falling(5, 0.6, 0.3), FITS, VAL)),
        ]
    )  # fmt: skip
    reading = str(read_capacity(results))
    assert "chance did not learn: its final training accuracy 0.510 is within 0.05" in reading
    assert "Best validation accuracy: fits" in reading and "gap between" in reading


def test_a_small_gap_with_low_training_accuracy_is_called_underfitting():
    results = classifier_results(
        [
            ("small", history(falling(5, 0.6, 0.4), falling(5, 0.6, 0.45), LOW, LOW_VAL)),
            ("large", history(falling(5, 0.6, 0.05), falling(5, 0.6, 0.3), FITS, VAL)),
        ]
    )  # fmt: skip
    reading = str(read_capacity(results))
    assert "Smallest gap between training and validation accuracy: small (+0.010)" in reading
    assert "underfitting" in reading and "0.740, is well below the best run's 0.990" in reading
    assert "No clear sign of overfitting within the 5 epochs run" in reading


def test_the_crop_reading_compares_every_shift_and_says_when_it_needs_longer_training():
    by_shift = {
        "no crop": {0: 0.806, 2: 0.79, 4: 0.776, 6: 0.70, 8: 0.62},
        "random crop": {0: 0.761, 2: 0.78, 4: 0.755, 6: 0.74, 8: 0.70},
    }
    reading = read_crops(by_shift, 2000, n_epochs=20)
    lines = str(reading).splitlines()
    assert lines[0] == "shifted 0 px: 0.761 with crops, 0.806 without (crops worse by 0.045)"
    assert lines[2] == "shifted 4 px: 0.755 with crops, 0.776 without (about equal)"
    assert "crops better by 0.080" in lines[4]
    assert "Crops help where the images are shifted by 6, 8 px, and cost 0.045 unshifted." in lines
    assert lines[-1].startswith("After 20 epochs the cropped model is not yet better")
    assert reading._repr_markdown_().startswith("- shifted 0 px")
    korean = str(read_crops(by_shift, 2000, n_epochs=20, lang="ko"))
    assert "0 px 이동: 크롭 0.761, 크롭 없음 0.806 (크롭이 0.045 더 나쁨)" in korean


def test_crops_that_help_nowhere_are_said_to_help_nowhere():
    same = {0: 0.8, 2: 0.8, 4: 0.8}
    reading = str(read_crops({"no crop": same, "random crop": same}, 2000))
    assert "Crops help at none of the shifts measured." in reading
    assert "After" not in reading  # no advice without the number of epochs


def test_the_loss_reading_says_who_is_ahead_only_beyond_the_noise():
    results = classifier_results(
        [
            ("NLL", history([0.5, 0.3, 0.2], [0.5, 0.4, 0.3], [0.7, 0.8, 0.9], [0.7, 0.8, 0.85])),
            ("MSE", history([0.2, 0.1, 0.1], [0.2, 0.2, 0.2], [0.6, 0.7, 0.8], [0.6, 0.79, 0.8])),
        ]
    )  # fmt: skip
    reading = str(read_losses(results, 2000))
    assert "after epoch 2, the two are about equal" in reading.lower()
    assert "after epoch 3, NLL is ahead by 0.050" in reading


def test_the_wine_reading_compares_with_predicting_the_mean():
    good = history(falling(50, 30, 0.5), falling(50, 30, 0.6))
    assert "is 25 % below always predicting the mean quality (0.800)" in str(read_wine(good, 0.8))
    bad = history(falling(50, 30, 0.9), falling(50, 30, 0.9))
    assert "has learnt nothing beyond the average yet" in str(read_wine(bad, 0.8))
    assert "은(는)" in str(read_wine(good, 0.8, lang="ko")) or "검증 손실" in str(
        read_wine(good, 0.8, lang="ko")
    )


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_every_sentence_exists_in_both_languages_with_the_same_numbers(lang):
    by_shift = {"no crop": {0: 0.806, 4: 0.776}, "random crop": {0: 0.761, 4: 0.755}}
    english = str(read_crops(by_shift, 2000, n_epochs=20, lang="en"))
    other = str(read_crops(by_shift, 2000, n_epochs=20, lang=lang))
    numbers = lambda text: sorted(x for x in __import__("re").findall(r"\d+\.\d+", text))  # noqa: E731
    assert numbers(english) == numbers(other)
    assert math.isfinite(float(numbers(other)[0]))


def test_a_real_sweep_names_the_dead_run_of_a_saturated_unit():
    """A 1-1-1 network whose unit saturates at once predicts a constant: reported as such."""
    results = ptm.run_experiments(
        {
            "1-8-1": {"hidden_size": 8, "lr": 1e-3, "n_epochs": 300},
            "saturated 1-1-1": {"hidden_size": 1, "lr": 1e-3, "n_epochs": 300, "seed": 0},
        },
        task="temperature",
        progress=False,
    )
    with torch.no_grad():  # saturate the unit: a huge weight makes tanh ±1 at every reading
        model = results["saturated 1-1-1"].model
        model.hidden_linear.weight.fill_(100.0)
        model.hidden_linear.bias.fill_(-1000.0)
    assert did_not_learn(results["saturated 1-1-1"], results).startswith("span:0.0")
