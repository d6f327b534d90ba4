import math

import pytest
import torch
from matplotlib.figure import Figure
from torch import nn, optim

from ptm import (
    build_linear_model,
    build_named_seq_model,
    build_seq_model,
    plot_temperature_fit,
    split_train_val,
    temperature_data,
    training_loop,
)
from ptm.recipes import LINEAR, NETWORK, vary
from ptm.temperature import (
    CELSIUS,
    NOTES_SPLIT_SEED,
    UNKNOWN_UNITS,
    fit_temperature,
    recover_linear_start,
    scale_readings,
)


def describe_parameters(model):
    return [(name, tuple(param.shape)) for name, param in model.named_parameters()]


def test_measurements_are_n_by_1_tensors():
    t_c, t_u = temperature_data()
    assert t_c.shape == t_u.shape == (11, 1)
    assert t_c.flatten().tolist() == pytest.approx(list(CELSIUS))
    assert t_u.flatten().tolist() == pytest.approx(list(UNKNOWN_UNITS))
    assert t_u[3].item() == pytest.approx(81.9)


def test_scale_readings_scales_by_a_tenth():
    torch.testing.assert_close(scale_readings(torch.tensor([[35.7]])), torch.tensor([[3.57]]))


def test_default_split_holds_out_two_of_eleven():
    t_c, t_u = temperature_data()
    split = split_train_val(t_u, t_c)
    assert len(split.train_indices) == 9 and len(split.val_indices) == 2
    assert split.t_u_train.shape == (9, 1) and split.t_c_val.shape == (2, 1)
    torch.testing.assert_close(split.t_un_train, 0.1 * split.t_u_train)
    torch.testing.assert_close(split.t_c_train, t_c[split.train_indices])


def test_split_is_disjoint_and_covers_every_sample():
    t_c, t_u = temperature_data()
    split = split_train_val(t_u, t_c, val_fraction=0.3, seed=5)
    train, val = set(split.train_indices.tolist()), set(split.val_indices.tolist())
    assert not train & val
    assert train | val == set(range(11))
    assert len(val) == 3


def test_split_is_deterministic_for_a_seed():
    t_c, t_u = temperature_data()
    first, again = split_train_val(t_u, t_c, seed=1), split_train_val(t_u, t_c, seed=1)
    assert torch.equal(first.train_indices, again.train_indices)
    others = {tuple(split_train_val(t_u, t_c, seed=s).val_indices.tolist()) for s in range(10)}
    assert len(others) > 1


def test_split_does_not_touch_the_global_random_state():
    t_c, t_u = temperature_data()
    state = torch.random.get_rng_state()
    split_train_val(t_u, t_c, seed=3)
    assert torch.equal(state, torch.random.get_rng_state())


@pytest.mark.parametrize("val_fraction", [0.05, 0.09])
def test_a_fraction_that_empties_one_side_is_an_error(val_fraction):
    t_c, t_u = temperature_data()
    with pytest.raises(ValueError, match=rf"val_fraction={val_fraction!r}"):
        split_train_val(t_u, t_c, val_fraction=val_fraction)


@pytest.mark.parametrize("val_fraction", [0.0, 1.0, 1.5, float("nan"), "0.2"])
def test_a_fraction_outside_zero_to_one_is_named(val_fraction):
    t_c, t_u = temperature_data()
    with pytest.raises(ValueError, match="val_fraction must be a number between 0 and 1"):
        split_train_val(t_u, t_c, val_fraction=val_fraction)


def test_default_split_is_the_notes_split_which_holds_out_the_hottest_reading():
    t_c, t_u = temperature_data()
    split = split_train_val(t_u, t_c)
    # the notes print the validation answers [[3.], [28.]]: the readings 33.9 and 81.9
    assert split.t_u_val.flatten().tolist() == pytest.approx([33.9, 81.9])
    assert split.t_c_val.flatten().tolist() == [3.0, 28.0]
    assert split.t_u_val.max() > split.t_u_train.max()  # validation extrapolates
    # the notes' randperm, seeded the notebook's way, gives the same split in the same order
    torch.manual_seed(NOTES_SPLIT_SEED)
    shuffled_indices = torch.randperm(11)
    assert torch.equal(shuffled_indices[-2:], split.val_indices)
    assert torch.equal(shuffled_indices[:-2], split.train_indices)


def notes_linear_run(start):
    t_c, t_u = temperature_data()
    split = split_train_val(t_u, t_c)
    model = nn.Linear(1, 1)
    with torch.no_grad():
        model.weight.fill_(start[0])
        model.bias.fill_(start[1])
    history = training_loop(
        3000,
        optim.SGD(model.parameters(), lr=1e-2),
        model,
        nn.MSELoss(),
        split.t_un_train,
        split.t_un_val,
        split.t_c_train,
        split.t_c_val,
        log_every=None,
    )
    return history, model


def test_the_notes_start_is_recovered_from_their_two_epoch_1_losses():
    t_c, t_u = temperature_data()
    split = split_train_val(t_u, t_c)
    starts = recover_linear_start(
        128.5702, 372.3021, split.t_un_train, split.t_c_train, split.t_un_val, split.t_c_val
    )
    # every start found gives both losses; only the first lies in nn.Linear's U(-1, 1)
    for weight, bias in starts:
        predictions = weight * split.t_un_train.double() + bias
        train_loss = ((predictions - split.t_c_train.double()) ** 2).mean().item()
        predictions = weight * split.t_un_val.double() + bias
        val_loss = ((predictions - split.t_c_val.double()) ** 2).mean().item()
        assert (train_loss, val_loss) == pytest.approx((128.5702, 372.3021), abs=1e-6)
    assert [max(abs(w), abs(b)) <= 1 for w, b in starts] == [True, False, False, False]
    assert starts[0] == pytest.approx((0.07020654, 0.25315032), abs=1e-6)
    assert starts[1] == pytest.approx((-2.6285, 26.4126), abs=1e-4)


def test_the_notes_linear_run_reappears_from_their_start_on_their_split():
    """The ten numbers the notes print in §6.2.2, to ±1 in their last printed digit: a
    PyTorch upgrade that moves one of them fails here."""
    t_c, t_u = temperature_data()
    split = split_train_val(t_u, t_c)
    start = recover_linear_start(
        128.5702, 372.3021, split.t_un_train, split.t_c_train, split.t_un_val, split.t_c_val
    )[0]
    history, model = notes_linear_run(start)
    measured = [
        value
        for epoch in (1, 1000, 2000, 3000)
        for value in (history.train_loss[epoch - 1], history.val_loss[epoch - 1])
    ] + [model.weight.item(), model.bias.item()]
    notes = [128.5702, 372.3021, 4.4547, 10.5202, 2.8727, 5.2306, 2.7444, 4.7395, 5.2439, -17.0374]
    for value, printed in zip(measured, notes, strict=True):
        assert abs(value - printed) <= 1.0001e-4, (value, printed)


def test_linear_validation_loss_falls_after_epoch_1000_as_in_the_notes():
    result = fit_temperature(LINEAR)
    losses = [result.history.val_loss[epoch - 1] for epoch in (1000, 2000, 3000)]
    assert losses[0] > losses[1] > losses[2]


def test_split_needs_matching_lengths():
    t_c, t_u = temperature_data()
    with pytest.raises(ValueError, match="same length, got 10 and 11"):
        split_train_val(t_u[:10], t_c)


def test_model_builders():
    assert isinstance(build_linear_model(), nn.Linear)
    assert describe_parameters(build_seq_model()) == [
        ("0.weight", (13, 1)),
        ("0.bias", (13,)),
        ("2.weight", (1, 13)),
        ("2.bias", (1,)),
    ]
    named = build_named_seq_model()
    assert [name for name, _ in describe_parameters(named)] == [
        "hidden_linear.weight",
        "hidden_linear.bias",
        "output_linear.weight",
        "output_linear.bias",
    ]
    assert isinstance(named.hidden_activation, nn.Tanh)
    assert named.output_linear.bias.shape == (1,)
    assert describe_parameters(build_named_seq_model(hidden_size=13))[0] == (
        "hidden_linear.weight",
        (13, 1),
    )


def test_builders_are_reproducible_with_a_seed():
    torch.testing.assert_close(
        build_seq_model(seed=2).state_dict(), build_seq_model(seed=2).state_dict()
    )
    assert not torch.equal(build_seq_model(seed=2)[0].weight, build_seq_model(seed=3)[0].weight)


def least_squares_line(x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    design = torch.cat([x, torch.ones_like(x)], dim=1).double()
    weight, bias = torch.linalg.lstsq(design, y.double()).solution.flatten().tolist()
    return weight, bias


def test_linear_fit_approaches_the_least_squares_line():
    result = fit_temperature(LINEAR)  # 3000 epochs, lr 1e-2, seed 0
    split = result.split
    weight, bias = least_squares_line(split.t_un_train, split.t_c_train)
    fitted = result.model
    assert fitted.weight.item() == pytest.approx(weight, rel=0.1)
    assert fitted.bias.item() == pytest.approx(bias, rel=0.1)
    # over the measured range the two lines are within a degree Celsius of each other
    readings = split.t_un_train
    with torch.no_grad():
        gap = (fitted(readings) - (weight * readings + bias)).abs().max().item()
    assert gap < 1.0
    best_loss = ((weight * readings + bias - split.t_c_train) ** 2).mean().item()
    assert result.history.train_loss[-1] == pytest.approx(best_loss, rel=0.1)


def test_network_reaches_lower_training_loss_than_build_linear_model():
    t_c, t_u = temperature_data()
    split = split_train_val(t_u, t_c)
    final_losses = {}
    for name, model, lr, n_epochs in [
        ("linear", build_linear_model(seed=0), 1e-2, 3000),
        ("network", build_seq_model(13, seed=0), 1e-3, 5000),
    ]:
        history = training_loop(
            n_epochs,
            optim.SGD(model.parameters(), lr=lr),
            model,
            nn.MSELoss(),
            split.t_un_train,
            split.t_un_val,
            split.t_c_train,
            split.t_c_val,
            log_every=None,
        )
        final_losses[name] = history.train_loss[-1]
    assert final_losses["network"] < final_losses["linear"]


def test_fit_temperature_defaults_and_errors():
    result = fit_temperature(vary(NETWORK, n_epochs=10))
    assert len(result.history) == 10 and result.recipe.lr == 1e-3
    assert describe_parameters(result.model)[0] == ("hidden_linear.weight", (8, 1))
    assert result.split.t_u_val.flatten().tolist() == pytest.approx([33.9, 81.9])
    with pytest.raises(ValueError, match="unknown setting"):
        vary(NETWORK, model_kind="quadratic")
    with pytest.raises(ValueError, match="lr must be a finite number above 0"):
        vary(LINEAR, lr=0.0)


def test_the_one_temperature_trainer_measures_as_the_notes_loop():
    """fit_temperature (the CLI's, the figures', the exercises') gives the notebook's numbers:
    the losses before each step, as the notes' training_loop prints them."""
    result = fit_temperature(vary(LINEAR, n_epochs=5))
    t_c, t_u = temperature_data()
    split = split_train_val(t_u, t_c)
    model = build_linear_model(seed=0)
    history = training_loop(
        5, optim.SGD(model.parameters(), lr=1e-2), model, nn.MSELoss(), split.t_un_train,
        split.t_un_val, split.t_c_train, split.t_c_val, log_every=None,
    )  # fmt: skip
    assert result.history.train_loss == history.train_loss
    assert result.history.val_loss == history.val_loss


def test_a_diverging_fit_keeps_the_epochs_before_and_says_why():
    result = fit_temperature(vary(LINEAR, lr=10.0, n_epochs=300))
    assert (
        result.history.diverged and "smaller learning rate (lr is 10)" in result.history.stop_reason
    )
    stopped = int(result.history.stop_reason.split("at epoch ")[1].split(",")[0])
    assert len(result.history) == stopped - 1
    assert all(math.isfinite(loss) for loss in result.history.train_loss)


def test_fit_figure_shows_points_curve_and_crosses():
    t_c, t_u = temperature_data()
    model = build_seq_model(seed=0)
    figure = plot_temperature_fit(model, t_u, t_c)
    assert isinstance(figure, Figure)
    (ax,) = figure.axes
    points, curve, crosses = ax.get_lines()
    assert points.get_marker() == "o" and crosses.get_marker() == "x"
    assert list(points.get_xdata()) == pytest.approx(list(UNKNOWN_UNITS))
    assert curve.get_xdata()[0] == 20 and curve.get_xdata()[-1] == 89
    with torch.no_grad():
        expected = model(0.1 * t_u).flatten().tolist()
    assert list(crosses.get_ydata()) == pytest.approx(expected, rel=1e-5)
    assert ax.get_xlabel() == "Fahrenheit" and ax.get_ylabel() == "Celsius"


def test_fit_figure_names_a_tensor_of_the_wrong_shape():
    t_c, t_u = temperature_data()
    with pytest.raises(ValueError, match=r"t_u must be an N×1 tensor.*unsqueeze\(1\)"):
        plot_temperature_fit(build_seq_model(seed=0), t_u.flatten(), t_c.flatten())


def test_fit_figure_draws_into_given_axes_and_returns_them():
    from matplotlib.figure import Figure as PlainFigure

    t_c, t_u = temperature_data()
    ax = PlainFigure().subplots()
    assert plot_temperature_fit(build_seq_model(seed=0), t_u, t_c, ax=ax) is ax
    assert len(ax.get_lines()) == 3


@pytest.mark.parametrize("hidden_size", [0, 2.5, True])
def test_builders_name_a_bad_hidden_size(hidden_size):
    with pytest.raises(ValueError, match="hidden_size must be an integer"):
        build_seq_model(hidden_size=hidden_size)
