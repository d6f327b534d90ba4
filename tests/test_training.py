import contextlib
from typing import ClassVar

import pytest
import torch
from torch import nn, optim
from torch.utils.data import DataLoader, TensorDataset

from ptm import History, TensorBatches, TrainingDivergedWarning
from ptm.training import fit, resolve_device, seeded


def line_data(n_samples: int = 40, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    x = torch.rand(n_samples, 1, generator=generator) * 4 - 2
    y = 3 * x - 1 + 0.05 * torch.randn(n_samples, 1, generator=generator)
    return x, y


def two_blobs(n_per_class: int = 50, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    left = torch.randn(n_per_class, 2, generator=generator) - 3
    right = torch.randn(n_per_class, 2, generator=generator) + 3
    labels = torch.cat([torch.zeros(n_per_class), torch.ones(n_per_class)]).long()
    return torch.cat([left, right]), labels


def train_line(n_epochs=200, batch_size=None, seed=None, **options):
    x, y = line_data()
    with seeded(0):
        model = nn.Linear(1, 1)
    history = fit(
        model,
        nn.MSELoss(),
        optim.SGD(model.parameters(), lr=0.1),
        TensorBatches(x[:30], y[:30], batch_size, shuffle=batch_size is not None, seed=seed),
        TensorBatches(x[30:], y[30:], None),
        n_epochs=n_epochs,
        **options,
    )
    return model, history


def test_full_batch_fit_finds_the_line():
    model, history = train_line()
    assert len(history) == 200
    assert history.epochs == list(range(1, 201))
    assert model.weight.item() == pytest.approx(3.0, abs=0.05)
    assert model.bias.item() == pytest.approx(-1.0, abs=0.05)
    assert history.train_loss[-1] < history.train_loss[0] / 100
    assert len(history.val_loss) == 200
    assert history.train_accuracy == [] and history.val_accuracy == []


def test_history_train_loss_is_the_loss_before_each_step():
    x, y = line_data()
    with seeded(0):
        model = nn.Linear(1, 1)
    expected = nn.MSELoss()(model(x), y).item()
    history = fit(
        model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1), TensorBatches(x, y), n_epochs=1
    )
    assert history.train_loss[0] == pytest.approx(expected)


def test_validation_loss_is_measured_after_the_epoch():
    model, history = train_line(n_epochs=3)
    x, y = line_data()
    with torch.no_grad():
        assert history.val_loss[-1] == pytest.approx(nn.MSELoss()(model(x[30:]), y[30:]).item())


def test_mini_batches_with_the_same_seed_give_the_same_history():
    first = train_line(n_epochs=5, batch_size=8, seed=3)[1]
    second = train_line(n_epochs=5, batch_size=8, seed=3)[1]
    other = train_line(n_epochs=5, batch_size=8, seed=4)[1]
    assert first.train_loss == second.train_loss
    assert first.val_loss == second.val_loss
    assert first.train_loss != other.train_loss


def test_tensor_pairs_and_dataloader_compute_the_same_for_the_same_order():
    x, y = two_blobs()
    histories = []
    for data in [TensorBatches(x, y, 16), DataLoader(TensorDataset(x, y), batch_size=16)]:
        with seeded(0):
            model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 2))
        histories.append(
            fit(
                model,
                nn.CrossEntropyLoss(),
                optim.SGD(model.parameters(), lr=0.05),
                data,
                TensorBatches(x, y, 1024),
                n_epochs=3,
                track_accuracy=True,
            )
        )
    tensor_history, loader_history = histories
    torch.testing.assert_close(tensor_history.train_loss, loader_history.train_loss)
    torch.testing.assert_close(tensor_history.val_loss, loader_history.val_loss)
    assert tensor_history.train_accuracy == loader_history.train_accuracy


def test_accuracy_is_tracked_for_classification():
    x, y = two_blobs()
    with seeded(0):
        model = nn.Linear(2, 2)
    history = fit(
        model,
        nn.CrossEntropyLoss(),
        optim.SGD(model.parameters(), lr=0.1),
        TensorBatches(x, y, 10, shuffle=True, seed=0),
        TensorBatches(x, y, 1024),
        n_epochs=10,
        track_accuracy=True,
    )
    assert len(history.train_accuracy) == len(history.val_accuracy) == 10
    assert history.val_accuracy[-1] == 1.0
    assert all(0.0 <= value <= 1.0 for value in history.train_accuracy)


def test_log_lines_at_epoch_one_and_every_k(capsys):
    train_line(n_epochs=10, log_every=4)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(",")[0] for line in lines] == ["Epoch 1", "Epoch 4", "Epoch 8"]
    assert "Training loss" in lines[0] and "Validation loss" in lines[0]


class RecordingBar:
    """Stands in for tqdm and records how it was made and used."""

    made: ClassVar[list["RecordingBar"]] = []

    def __init__(self, **options):
        self.options, self.updates = options, 0
        RecordingBar.made.append(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def update(self, n=1):
        self.updates += n


@pytest.fixture
def recording_bar(monkeypatch):
    import tqdm.auto

    RecordingBar.made = []
    monkeypatch.setattr(tqdm.auto, "tqdm", RecordingBar)
    monkeypatch.delenv("PTM_PROGRESS", raising=False)
    return RecordingBar.made


def test_progress_bar_over_epochs(recording_bar):
    train_line(n_epochs=3, progress=True)
    (bar,) = recording_bar
    assert bar.options["total"] == 3 and bar.updates == 3
    assert bar.options["disable"] is None  # tqdm then stays silent when output is no terminal


def test_progress_can_be_turned_off(recording_bar, monkeypatch):
    train_line(n_epochs=3, progress=False)
    monkeypatch.setenv("PTM_PROGRESS", "0")
    train_line(n_epochs=3, progress=True)
    assert recording_bar == []


def test_a_one_shot_iterator_is_refused():
    x, y = line_data()
    model = nn.Linear(1, 1)
    with pytest.raises(ValueError, match="one-shot iterator"):
        fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1), iter([(x, y)]), n_epochs=2)


@pytest.mark.parametrize("n_epochs", [0, -3, 1.5, True])
def test_n_epochs_must_be_a_positive_integer(n_epochs):
    with pytest.raises(ValueError, match=rf"n_epochs .*got {n_epochs!r}"):
        train_line(n_epochs=n_epochs)


@pytest.mark.parametrize("batch_size", [0, -1])
def test_batch_size_must_be_positive(batch_size):
    with pytest.raises(ValueError, match=rf"batch_size .*got {batch_size}"):
        train_line(n_epochs=1, batch_size=batch_size)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ((torch.zeros(5, 1), torch.zeros(4, 1)), r"a pair of tensors: pass ptm.TensorBatches"),
        ([], "the training data is empty"),
    ],
)
def test_bad_training_data(data, message):
    model = nn.Linear(1, 1)
    with pytest.raises(ValueError, match=message):
        fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1), data, n_epochs=1)


def test_divergence_stops_with_a_clear_warning_and_keeps_the_history():
    x, y = line_data()
    with seeded(0):
        model = nn.Linear(1, 1)
    with pytest.warns(TrainingDivergedWarning, match=r"epoch (\d+).*normalis.*learning rate"):
        history = fit(
            model,
            nn.MSELoss(),
            optim.SGD(model.parameters(), lr=50.0),
            TensorBatches(x, y, None),
            n_epochs=500,
        )
    assert history.diverged
    assert 1 < len(history) < 500
    stopped_at = int(history.stop_reason.split("at epoch ")[1].split(",")[0])
    assert stopped_at == len(history) + 1
    assert all(torch.isfinite(torch.tensor(history.train_loss)))


def test_history_round_trip_and_last():
    history = train_line(n_epochs=3)[1]
    copy = History.from_dict(history.as_dict())
    assert copy == history
    last = history.last()
    assert last["epochs"] == 3
    assert last["train_loss"] == history.train_loss[-1]
    assert "train_accuracy" not in last
    with pytest.raises(ValueError, match="empty"):
        History().last()


def test_losses_are_summed_in_the_losss_own_precision():
    x, y = line_data()
    with seeded(0):
        model = nn.Linear(1, 1).double()
    history = fit(
        model,
        lambda out, target: ((out - target) ** 2).mean() * 1e40,
        optim.SGD(model.parameters(), lr=0.0),
        TensorBatches(x.double(), y.double(), None),
        n_epochs=1,
    )
    assert not history.diverged and history.train_loss[0] > 1e40


def test_describe_epoch():
    history = History([1], [0.5], [0.25], [0.75], [0.5], [1.234])
    assert history.describe_epoch() == (
        "Epoch 1, Training loss 0.5000, Validation loss 0.2500, Training accuracy 0.7500, "
        "Validation accuracy 0.5000 (1.23 s)"
    )
    assert History([1], [0.5]).describe_epoch() == "Epoch 1, Training loss 0.5000"


def test_history_repr_is_short_and_informative():
    n_epochs = 500
    history = History(
        list(range(1, n_epochs + 1)),
        [1 / epoch for epoch in range(1, n_epochs + 1)],
        val_accuracy=[0.5 + epoch / 2000 for epoch in range(1, n_epochs + 1)],
        seconds=[0.1] * n_epochs,
    )
    text = repr(history)
    assert len(text) < 300
    assert text == "History(500 epochs, train_loss 1 → 0.002, val_accuracy 0.5005 → 0.75)"
    assert repr(History()) == "History(no epochs)"


def test_ctrl_c_reraises_with_the_history_of_the_completed_epochs():
    x, y = line_data()
    model = nn.Linear(1, 1)
    steps = []

    def loss_interrupted_in_epoch_3(outputs, targets):
        steps.append(1)  # one training and one validation call per epoch
        if len(steps) == 5:
            raise KeyboardInterrupt
        return nn.functional.mse_loss(outputs, targets)

    with pytest.raises(KeyboardInterrupt) as caught:
        fit(model, loss_interrupted_in_epoch_3, optim.SGD(model.parameters(), lr=0.1),
            TensorBatches(x, y, None), TensorBatches(x, y, None), n_epochs=10)  # fmt: skip
    assert caught.value.history.epochs == [1, 2]
    assert len(caught.value.history.val_loss) == 2


def test_after_ctrl_c_the_model_holds_the_weights_of_the_last_completed_epoch():
    """Interrupted inside epoch 3, the model equals a run of 2 epochs from the same start."""
    x, y = line_data()
    steps = []

    def loss_interrupted_inside_epoch_3(outputs, targets):
        steps.append(1)  # 5 training batches and 1 validation call per epoch
        if len(steps) == 2 * 6 + 3:
            raise KeyboardInterrupt
        return nn.functional.mse_loss(outputs, targets)

    runs = []
    for loss_fn, n_epochs in ((loss_interrupted_inside_epoch_3, 10), (nn.MSELoss(), 2)):
        with seeded(0):
            model = nn.Linear(1, 1)
        batches = TensorBatches(x, y, 8, shuffle=True, seed=1)
        with pytest.raises(KeyboardInterrupt) if n_epochs == 10 else contextlib.nullcontext():
            fit(model, loss_fn, optim.SGD(model.parameters(), lr=0.1), batches,
                TensorBatches(x, y, None), n_epochs=n_epochs)  # fmt: skip
        runs.append(model)
    assert torch.equal(runs[0].weight, runs[1].weight) and torch.equal(runs[0].bias, runs[1].bias)


@pytest.mark.parametrize("device", ["gpu", "tpu"])
def test_an_unknown_device_is_named_with_the_choices(device):
    x, y = line_data()
    model = nn.Linear(1, 1)
    with pytest.raises(ValueError, match=rf"unknown device '{device}': expected 'auto', 'cpu'"):
        fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1), TensorBatches(x, y),
            n_epochs=1, device=device)  # fmt: skip


def test_tensor_batches_cover_every_sample_once_per_epoch_and_reshuffle():
    x, y = torch.arange(10.0).unsqueeze(1), torch.arange(10)
    batches = TensorBatches(x, y, batch_size=4, shuffle=True, seed=0)
    assert len(batches) == 3
    first = [labels.tolist() for _, labels in batches]
    second = [labels.tolist() for _, labels in batches]
    assert [len(labels) for labels in first] == [4, 4, 2]
    assert sorted(x for batch in first for x in batch) == list(range(10))
    assert sorted(x for batch in second for x in batch) == list(range(10))
    assert first != second
    again = [labels.tolist() for _, labels in TensorBatches(x, y, 4, shuffle=True, seed=0)]
    assert again == first
    in_order = [labels.tolist() for _, labels in TensorBatches(x, y, 4)]
    assert in_order == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


def test_tensor_batches_match_a_dataloader_in_the_same_order():
    x, y = two_blobs()
    loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=False)
    for (a_x, a_y), (b_x, b_y) in zip(TensorBatches(x, y, 16), loader, strict=True):
        assert torch.equal(a_x, b_x) and torch.equal(a_y, b_y)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ((torch.zeros(3, 1), torch.zeros(2)), "same length, got 3 and 2"),
        ((torch.zeros(3, 1), torch.zeros(3), 0), "batch_size must be an integer of at least 1"),
        (([1, 2], torch.zeros(2)), "inputs must be a tensor"),
        ((torch.zeros(0, 1), torch.zeros(0)), "data is empty"),
    ],
)
def test_tensor_batches_name_bad_arguments(arguments, message):
    with pytest.raises(ValueError, match=message):
        TensorBatches(*arguments)


# -- devices and seeding ------------------------------------------------------------------


def test_resolve_device():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(torch.device("cpu")) == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    if not torch.cuda.is_available() and torch.backends.mps.is_available():
        expected = "mps"
    assert resolve_device("auto").type == expected


@pytest.mark.parametrize("name", ["tpu", "gpu0", "", 3])
def test_unknown_device_is_a_clear_error(name):
    with pytest.raises(ValueError, match="device"):
        resolve_device(name)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_requested_without_cuda():
    with pytest.raises(ValueError, match="CUDA is not available"):
        resolve_device("cuda")


def test_seeded_is_reproducible_and_restores_the_callers_random_state():
    before = torch.random.get_rng_state()
    with seeded(7):
        first = torch.rand(3)
    assert torch.equal(torch.random.get_rng_state(), before)
    with seeded(7):
        second = torch.rand(3)
    assert torch.equal(first, second)
