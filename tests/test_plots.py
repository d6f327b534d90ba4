import logging
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

import ptm
from ptm import History
from ptm.cifar_tensors import unnormalize
from ptm.plots import PtmFigure, figure_data, plot_accuracy

HISTORY = History(
    epochs=[1, 2, 3],
    train_loss=[0.9, 0.5, 0.3],
    val_loss=[1.0, 0.7, 0.6],
    train_accuracy=[0.5, 0.7, 0.9],
    val_accuracy=[0.5, 0.6, 0.65],
    seconds=[0.1, 0.1, 0.1],
)


def test_loss_curves():
    figure = ptm.plot_loss(HISTORY, log_scale=True)
    (ax,) = figure.axes
    train, val = ax.get_lines()
    assert list(train.get_xdata()) == [1, 2, 3] and list(train.get_ydata()) == [0.9, 0.5, 0.3]
    assert list(val.get_ydata()) == [1.0, 0.7, 0.6]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "training loss",
        "validation loss",
    ]
    assert ax.get_yscale() == "log" and ax.get_xlabel() == "epoch"


def test_loss_curves_without_validation_and_into_given_axes():
    history = History(epochs=[1, 2], train_loss=[1.0, 0.5], seconds=[0.1, 0.1])
    _, ax = plt.subplots()
    assert ptm.plot_loss(history, ax=ax) is ax  # the caller owns the figure
    assert len(ax.get_lines()) == 1


def test_accuracy_curves_and_history_figure():
    (ax,) = plot_accuracy(HISTORY).axes
    assert [list(line.get_ydata()) for line in ax.get_lines()] == [
        [0.5, 0.7, 0.9],
        [0.5, 0.6, 0.65],
    ]
    assert len(ptm.plot_history(HISTORY).axes) == 2
    without_accuracy = History(epochs=[1], train_loss=[1.0], val_loss=[1.0], seconds=[0.1])
    assert len(ptm.plot_history(without_accuracy).axes) == 1
    with pytest.raises(ValueError, match="track_accuracy=True"):
        plot_accuracy(without_accuracy)


def normalised_image(seed: int = 0) -> torch.Tensor:
    raw = np.random.default_rng(seed).integers(0, 256, size=(1, 32, 32, 3), dtype=np.uint8)
    return ptm.normalize_images(raw)[0]


def clipping_records(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "Clipping input data" in r.getMessage()]


def test_show_image_unnormalises_so_nothing_is_clipped(caplog):
    image = normalised_image()
    with caplog.at_level(logging.WARNING, logger="matplotlib"):
        # the notes' way: matplotlib warns about clipping
        figure, ax = plt.subplots()
        ax.imshow(image.permute(1, 2, 0).numpy())
        figure.canvas.draw()
    assert clipping_records(caplog), "the control case should trigger the clipping warning"
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="matplotlib"), warnings.catch_warnings():
        warnings.simplefilter("error")
        figure = ptm.show_image(image, ptm.CIFAR10_MEAN, ptm.CIFAR10_STD, title="bird")
        figure.canvas.draw()
    assert clipping_records(caplog) == []
    (ax,) = figure.axes
    shown = ax.get_images()[0].get_array()
    expected = unnormalize(image, ptm.CIFAR10_MEAN, ptm.CIFAR10_STD).permute(1, 2, 0)
    np.testing.assert_allclose(shown, expected.clamp(0, 1).numpy(), atol=1e-6)
    assert ax.get_title() == "bird"


def test_show_image_accepts_raw_bytes_and_pil_images():
    raw = np.random.default_rng(1).integers(0, 256, size=(32, 32, 3), dtype=np.uint8)
    from PIL import Image

    for image in (raw, Image.fromarray(raw)):
        shown = ptm.show_image(image).axes[0].get_images()[0].get_array()
        np.testing.assert_allclose(shown, raw / 255, atol=1e-6)


def test_show_image_of_a_uint8_tensor():
    raw = torch.randint(0, 256, (3, 8, 8), dtype=torch.uint8)
    shown = ptm.show_image(raw).axes[0].get_images()[0].get_array()
    np.testing.assert_allclose(shown, raw.permute(1, 2, 0).numpy() / 255, atol=1e-6)


def test_show_image_rejects_a_batch():
    with pytest.raises(ValueError, match=r"one C×H×W \(or H×W×C\) image.*images\[0\]"):
        ptm.show_image(torch.zeros(2, 3, 32, 32))
    with pytest.raises(ValueError, match="both mean and std"):
        ptm.show_image(torch.zeros(3, 32, 32), mean=ptm.CIFAR10_MEAN)


def test_image_grid():
    images = torch.stack([normalised_image(seed) for seed in range(7)])
    figure = ptm.plot_images(
        images,
        [f"image {i}" for i in range(7)],
        mean=ptm.CIFAR10_MEAN,
        std=ptm.CIFAR10_STD,
        n_columns=4,
    )
    assert len(figure.axes) == 8  # 2 rows of 4, the last one switched off
    assert [ax.get_title() for ax in figure.axes[:7]] == [f"image {i}" for i in range(7)]
    assert not figure.axes[7].axison
    with pytest.raises(ValueError, match="7 images but 2 titles"):
        ptm.plot_images(images, ["a", "b"])
    with pytest.raises(ValueError, match="images is empty"):
        ptm.plot_images([])


def test_misclassified_grid():
    images = torch.stack([normalised_image(seed) for seed in range(6)])
    labels = torch.tensor([0, 1, 0, 1, 0, 1])
    predictions = torch.tensor([0, 0, 0, 1, 1, 0])
    figure = ptm.plot_misclassified(
        images,
        labels,
        predictions,
        ("airplane", "bird"),
        mean=ptm.CIFAR10_MEAN,
        std=ptm.CIFAR10_STD,
        limit=2,
    )
    assert [ax.get_title() for ax in figure.axes] == [
        "true bird\npredicted airplane",
        "true airplane\npredicted bird",
    ]
    with pytest.raises(ValueError, match="no image is misclassified"):
        ptm.plot_misclassified(images, labels, labels, ("airplane", "bird"))
    with pytest.raises(ValueError, match="6, 6 and 5"):
        ptm.plot_misclassified(images, labels, predictions[:5], ("airplane", "bird"))


def test_confusion_matrix_figure():
    figure = ptm.plot_confusion_matrix(torch.tensor([[90, 10], [25, 75]]), ("airplane", "bird"))
    (ax,) = figure.axes
    assert sorted(text.get_text() for text in ax.texts) == ["10", "25", "75", "90"]
    assert [label.get_text() for label in ax.get_xticklabels()] == ["airplane", "bird"]
    assert ax.get_ylabel() == "true class"
    with pytest.raises(ValueError, match="2×2"):
        ptm.plot_confusion_matrix(torch.zeros(3, 3), ("airplane", "bird"))


def test_shift_accuracy_figure():
    figure = ptm.plot_shift_accuracy({4: 0.7, 0: 0.8, 8: 0.6})
    accuracy_line, chance_line = figure.axes[0].get_lines()
    assert list(accuracy_line.get_xdata()) == [0, 4, 8]
    assert list(accuracy_line.get_ydata()) == [0.8, 0.7, 0.6]
    assert list(chance_line.get_ydata()) == [0.5, 0.5]
    with pytest.raises(ValueError, match="no accuracies"):
        ptm.plot_shift_accuracy({})


def test_ptm_figures_are_pyplot_figures_as_every_matplotlib_librarys():
    plt.close("all")
    figures = [ptm.plot_loss(HISTORY), ptm.plot_activations(), ptm.show_image(normalised_image())]
    assert all(isinstance(figure, PtmFigure) for figure in figures)
    assert plt.get_fignums() == [figure.number for figure in figures]  # plt.show() shows them


def test_show_image_accepts_channels_last_as_matplotlib_keeps_them():
    image = torch.rand(32, 32, 3)
    shown = ptm.show_image(image).axes[0].get_images()[0].get_array()
    np.testing.assert_allclose(shown, image.numpy(), atol=1e-6)
    first = ptm.show_image(image.permute(2, 0, 1)).axes[0].get_images()[0].get_array()
    np.testing.assert_allclose(first, shown)


def test_figures_show_themselves_as_png_once():
    figure = ptm.plot_loss(HISTORY)
    assert isinstance(figure, PtmFigure)
    png = figure.png()
    assert png.startswith(b"\x89PNG") and len(png) > 1000


@pytest.mark.parametrize(
    ("draw", "n_axes"),
    [
        (lambda axes: ptm.plot_history(HISTORY, ax=axes), 2),
        (lambda axes: ptm.plot_images([normalised_image(s) for s in range(3)], ax=axes), 4),
        (lambda axes: ptm.plot_activations(ax=axes), 6),
    ],
)
def test_grids_draw_into_given_axes_and_return_them(draw, n_axes):
    figure = Figure()
    axes = figure.subplots(1, n_axes)
    assert draw(axes) is axes
    assert all(ax.has_data() or not ax.axison for ax in axes)


@pytest.mark.parametrize(
    "draw",
    [
        lambda ax: ptm.plot_loss(HISTORY, ax=ax),
        lambda ax: plot_accuracy(HISTORY, ax=ax),
        lambda ax: ptm.show_image(normalised_image(), ax=ax),
        lambda ax: ptm.plot_confusion_matrix(torch.eye(2), ("a", "b"), ax=ax),
        lambda ax: ptm.plot_shift_accuracy({0: 0.9}, ax=ax),
        lambda ax: ptm.plot_tanh_composition(ax=ax),
    ],
)
def test_one_panel_plots_draw_into_given_axes_and_return_them(draw):
    ax = Figure().subplots()
    assert draw(ax) is ax


def test_figure_data_lists_each_lines_values():
    data = figure_data(ptm.plot_loss(HISTORY))
    assert data == [
        {
            "title": "",
            "lines": [
                {"label": "training loss", "y": [0.9, 0.5, 0.3]},
                {"label": "validation loss", "y": [1.0, 0.7, 0.6]},
            ],
        }
    ]
