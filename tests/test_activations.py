import math

import pytest
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure

from ptm import neuron, plot_activations, plot_tanh_composition
from ptm.activations import ACTIVATIONS, TanhUnit

X = torch.linspace(-5, 5, 41)


def test_neuron_is_activation_of_weighted_input_plus_bias():
    assert float(neuron(2.0, weight=1.5, bias=-0.5)) == pytest.approx(math.tanh(2.5))
    assert float(neuron(2.0, 1.5, -0.5, activation=torch.sigmoid)) == pytest.approx(
        1 / (1 + math.exp(-2.5))
    )


@pytest.mark.parametrize(
    ("score", "expected"),
    [(-2.2, -0.9757431300314515), (0.1, 0.09966799462495582), (2.5, 0.9866142981514303)],
)
def test_tanh_examples_of_the_book(score, expected):
    assert float(neuron(score, weight=1.0, bias=0.0)) == pytest.approx(expected, rel=1e-6)


def test_the_six_activations_in_order():
    assert list(ACTIVATIONS) == ["tanh", "hardtanh", "sigmoid", "softmax", "relu", "leaky_relu"]


@pytest.mark.parametrize(
    ("name", "reference"),
    [
        ("tanh", lambda x: torch.tensor([math.tanh(v) for v in x.tolist()])),
        ("hardtanh", lambda x: x.clamp(-1, 1)),
        ("sigmoid", lambda x: 1 / (1 + torch.exp(-x))),
        ("softmax", lambda x: torch.exp(x) / torch.exp(x).sum()),
        ("relu", lambda x: torch.where(x > 0, x, torch.zeros_like(x))),
        ("leaky_relu", lambda x: torch.where(x > 0, x, 0.1 * x)),
    ],
)
def test_activation_values_against_reference(name, reference):
    torch.testing.assert_close(ACTIVATIONS[name](X), reference(X))


def test_softmax_activation_sums_to_one_per_row():
    batch = torch.randn(4, 5, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(ACTIVATIONS["softmax"](batch).sum(dim=-1), torch.ones(4))
    torch.testing.assert_close(ACTIVATIONS["softmax"](batch), F.softmax(batch, dim=1))


def test_activation_grid_figure():
    figure = plot_activations()
    assert isinstance(figure, Figure)
    assert len(figure.axes) == 6
    assert [ax.get_title() for ax in figure.axes] == list(ACTIVATIONS)
    for ax, activation in zip(figure.axes, ACTIVATIONS.values(), strict=True):
        curve = ax.get_lines()[0]  # then the two grey axis lines
        x, y = curve.get_data()
        torch.testing.assert_close(torch.as_tensor(y), activation(torch.as_tensor(x)))


def test_tanh_unit_labels():
    assert TanhUnit(-2.0, -1.25).label() == "tanh(-2*x - 1.25)"
    assert TanhUnit(4.0, 1.0).label("(A+B)") == "tanh(4*(A+B) + 1)"


def test_tanh_composition_figure_labels_and_curves_agree():
    figure = plot_tanh_composition()
    (ax,) = figure.axes
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert len(lines) == 10
    labels = list(lines)
    assert labels[1] == "A: tanh(-2*x - 1.25)"
    assert labels[2] == "B: tanh(1*x + 0.75)"
    assert labels[3] == "A+B"
    assert labels[4] == "C: tanh(4*x + 1)"
    assert labels[5] == "D: tanh(-3*x - 1.5)"
    assert labels[7] == "C(A+B): tanh(4*(A+B) + 1)"
    assert labels[9] == "C(A+B)+D(A+B)"
    legend_texts = [text.get_text() for text in ax.get_legend().get_texts()]
    assert legend_texts == labels
    x, y = lines["C(A+B)+D(A+B)"].get_data()
    x = torch.as_tensor(x)
    a_plus_b = torch.tanh(-2 * x - 1.25) + torch.tanh(x + 0.75)
    expected = torch.tanh(4 * a_plus_b + 1.0) + torch.tanh(-3 * a_plus_b - 1.5)
    torch.testing.assert_close(torch.as_tensor(y), expected)


def test_tanh_composition_draws_into_given_axes():
    figure = Figure()
    ax = figure.subplots()
    assert plot_tanh_composition(ax=ax) is ax
    assert len(ax.get_lines()) == 10


def test_activation_grid_draws_into_given_axes_and_checks_their_number():
    figure = Figure()
    axes = figure.subplots(3, 2)
    assert plot_activations(ax=axes) is axes
    assert [ax.get_title() for ax in figure.axes] == list(ACTIVATIONS)
    with pytest.raises(ValueError, match="ax must hold 6 axes, got 2"):
        plot_activations(ax=Figure().subplots(1, 2))


def test_one_axes_for_the_grid_is_named_and_leaves_no_empty_figure():
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    plt.close("all")
    with pytest.raises(ValueError, match="ax must hold 6 axes, got 1"):
        plot_activations(ax=Figure().subplots())
    assert plt.get_fignums() == []
