"""The notes' loops (ptm.lessons) against the engine and against the book."""

import pytest
import torch
from torch import nn, optim
from torch.utils.data import DataLoader

import ptm
from ptm.training import fit, seeded


def line_data(n_samples: int = 40, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    x = torch.rand(n_samples, 1, generator=generator) * 4 - 2
    y = 3 * x - 1 + 0.05 * torch.randn(n_samples, 1, generator=generator)
    return x, y


# -- §6.2.2 training_loop ---------------------------------------------------------------


def temperature_like():
    x, y = line_data(12)
    return x[:10], x[10:], y[:10], y[10:]


def test_training_loop_measures_both_losses_before_the_step_as_the_book():
    t_u_train, t_u_val, t_c_train, t_c_val = temperature_like()
    with seeded(0):
        model = nn.Linear(1, 1)
    with torch.no_grad():
        train_before = nn.MSELoss()(model(t_u_train), t_c_train).item()
        val_before = nn.MSELoss()(model(t_u_val), t_c_val).item()
    history = ptm.training_loop(
        3,
        optim.SGD(model.parameters(), lr=1e-2),
        model,
        nn.MSELoss(),
        t_u_train,
        t_u_val,
        t_c_train,
        t_c_val,
        log_every=None,
    )
    assert history.train_loss[0] == pytest.approx(train_before)
    assert history.val_loss[0] == pytest.approx(val_before)


def test_training_loop_prints_the_books_lines_and_returns_history(capsys):
    t_u_train, t_u_val, t_c_train, t_c_val = temperature_like()
    model = nn.Linear(1, 1)
    history = ptm.training_loop(
        2000,
        optim.SGD(model.parameters(), lr=1e-2),
        model,
        nn.MSELoss(),
        t_u_train,
        t_u_val,
        t_c_train,
        t_c_val,
    )
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(",")[0] for line in lines] == ["Epoch 1", "Epoch 1000", "Epoch 2000"]
    assert lines[0].startswith("Epoch 1, Training loss ")
    assert ", Validation loss " in lines[0] and "(" not in lines[0]
    assert len(history) == 2000 and len(history.val_loss) == 2000


@pytest.mark.parametrize("argument", ["t_u_train", "t_u_val", "t_c_train", "t_c_val"])
def test_training_loop_requires_2d_tensors(argument):
    tensors = dict(
        zip(["t_u_train", "t_u_val", "t_c_train", "t_c_val"], temperature_like(), strict=True)
    )
    tensors[argument] = tensors[argument].squeeze(1)
    model = nn.Linear(1, 1)
    with pytest.raises(ValueError, match=rf"{argument} must be 2-D .*got \(\d+,\)"):
        ptm.training_loop(
            10, optim.SGD(model.parameters(), lr=1e-2), model, nn.MSELoss(), **tensors
        )


def test_training_loop_names_mismatched_arguments():
    t_u_train, t_u_val, t_c_train, t_c_val = temperature_like()
    model = nn.Linear(1, 1)
    with pytest.raises(ValueError, match="t_u_train and t_c_train must have the same length"):
        ptm.training_loop(
            10,
            optim.SGD(model.parameters(), lr=1e-2),
            model,
            nn.MSELoss(),
            t_u_train,
            t_u_val,
            t_c_train[:-1],
            t_c_val,
        )


def test_training_loop_rejects_zero_epochs():
    model = nn.Linear(1, 1)
    with pytest.raises(ValueError, match="n_epochs must be an integer of at least 1, got 0"):
        ptm.training_loop(
            0, optim.SGD(model.parameters(), lr=1e-2), model, nn.MSELoss(), *temperature_like()
        )


def test_training_loop_matches_the_engine_step_for_step():
    x, y = line_data(12)
    models = []
    for _ in range(2):
        with seeded(0):
            models.append(nn.Linear(1, 1))
    lesson, engine = models
    lesson_history = ptm.training_loop(
        50, optim.SGD(lesson.parameters(), lr=1e-2), lesson, nn.MSELoss(),
        x[:10], x[10:], y[:10], y[10:], log_every=None,
    )  # fmt: skip
    engine_history = fit(
        engine, nn.MSELoss(), optim.SGD(engine.parameters(), lr=1e-2),
        ptm.TensorBatches(x[:10], y[:10], None), n_epochs=50,
    )  # fmt: skip
    assert lesson_history.train_loss == engine_history.train_loss
    assert torch.equal(lesson.weight, engine.weight) and torch.equal(lesson.bias, engine.bias)


def test_training_loop_does_not_stop_when_the_loss_diverges(capsys):
    x, y = line_data(12)
    model = nn.Linear(1, 1)
    history = ptm.training_loop(
        60, optim.SGD(model.parameters(), lr=50.0), model, nn.MSELoss(),
        x[:10] * 10, x[10:] * 10, y[:10], y[10:], log_every=20,
    )  # fmt: skip
    assert len(history) == 60
    assert history.train_loss[-1] != history.train_loss[-1]  # NaN, as the book shows
    assert "nan" in capsys.readouterr().out.splitlines()[-1]


# -- §7.2.6 the classifier loops -----------------------------------------------------------


def two_class_images(n_images: int = 48, seed: int = 0) -> list[tuple[torch.Tensor, int]]:
    """The notes' list form: (3×4×4 image, label) pairs; class 1 is brighter."""
    generator = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, 2, (n_images,), generator=generator)
    images = torch.randn(n_images, 3, 4, 4, generator=generator) + labels.view(-1, 1, 1, 1)
    return [(image, int(label)) for image, label in zip(images, labels, strict=True)]


def small_classifier(seed: int = 0) -> nn.Sequential:
    return ptm.build_fc_classifier(8, in_features=48, seed=seed)


def as_tensors(items):
    return torch.stack([image for image, _ in items]), torch.tensor([label for _, label in items])


def same_weights(first: nn.Module, second: nn.Module) -> bool:
    pairs = zip(first.parameters(), second.parameters(), strict=True)
    return all(torch.equal(a, b) for a, b in pairs)


def test_per_sample_loop_matches_the_engine_with_batches_of_one(capsys):
    items = two_class_images(20)
    lesson, engine = small_classifier(), small_classifier()
    lesson_history = ptm.per_sample_loop(
        2, optim.SGD(lesson.parameters(), lr=1e-2), lesson, nn.NLLLoss(), items
    )
    engine_history = fit(
        engine, nn.NLLLoss(), optim.SGD(engine.parameters(), lr=1e-2),
        ptm.TensorBatches(*as_tensors(items), 1), n_epochs=2,
    )  # fmt: skip
    assert lesson_history.train_loss == engine_history.train_loss
    assert same_weights(lesson, engine)
    assert capsys.readouterr().out.splitlines()[0].startswith("Epoch 1, Training loss ")


def test_per_sample_loop_takes_one_image_per_step_in_the_datas_order():
    items = two_class_images(10)
    model = small_classifier()
    seen = []
    model.register_forward_pre_hook(lambda module, inputs: seen.append(inputs[0].clone()))
    ptm.per_sample_loop(1, optim.SGD(model.parameters(), lr=1e-2), model, nn.NLLLoss(), items)
    assert [batch.shape for batch in seen] == [torch.Size([1, 48])] * 10
    assert all(
        torch.equal(batch[0], image.view(-1)) for batch, (image, _) in zip(seen, items, strict=True)
    )


def test_minibatch_loop_matches_the_engine_for_the_same_order():
    items = two_class_images(50)
    lesson, engine = small_classifier(), small_classifier()
    lesson_history = ptm.minibatch_loop(
        3, optim.SGD(lesson.parameters(), lr=1e-2), lesson, nn.NLLLoss(),
        DataLoader(items, batch_size=16, shuffle=False), log_every=None,
    )  # fmt: skip
    engine_history = ptm.train_classifier(
        engine, ptm.TensorBatches(*as_tensors(items), 16), n_epochs=3, device="cpu",
        progress=False, log_every=None,
    )  # fmt: skip
    assert lesson_history.train_loss == engine_history.train_loss
    assert same_weights(lesson, engine)


def test_minibatch_loop_gives_the_same_results_with_tensor_batches():
    items = two_class_images(50)
    histories, models = [], []
    for source in (
        DataLoader(items, batch_size=16, shuffle=False),
        ptm.TensorBatches(*as_tensors(items), batch_size=16),
    ):
        model = small_classifier()
        histories.append(
            ptm.minibatch_loop(
                2,
                optim.SGD(model.parameters(), lr=1e-2),
                model,
                nn.NLLLoss(),
                source,
                log_every=None,
            )
        )
        models.append(model)
    assert histories[0].train_loss == histories[1].train_loss
    assert same_weights(*models)


def test_minibatch_loop_prints_every_ten_epochs_by_default(capsys):
    items = two_class_images(16)
    model = small_classifier()
    ptm.minibatch_loop(
        20, optim.SGD(model.parameters(), lr=1e-2), model, nn.NLLLoss(), DataLoader(items, 8)
    )
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(",")[0] for line in lines] == ["Epoch 1", "Epoch 10", "Epoch 20"]


def test_accuracy_loop_agrees_with_accuracy():
    items = two_class_images(40)
    model = small_classifier()
    ptm.minibatch_loop(
        5, optim.SGD(model.parameters(), lr=0.1), model, nn.NLLLoss(), DataLoader(items, 8),
        log_every=None,
    )  # fmt: skip
    expected = ptm.accuracy(model, *as_tensors(items))
    assert ptm.accuracy_loop(model, DataLoader(items, batch_size=7)) == expected
    assert 0.5 < expected <= 1.0


BAD_INPUT = {
    "zero epochs": r"n_epochs must be an integer of at least 1, got 0",
    "empty": r"is empty: it holds no samples",
    "wrong size": r"shape \(3, 8, 8\) \(192 values\), but the model's first layer takes 48",
}


@pytest.mark.parametrize(
    ("loop", "problem"),
    [
        (loop, problem)
        for loop in ("per_sample", "minibatch", "accuracy")
        for problem in BAD_INPUT
        if not (loop == "accuracy" and problem == "zero epochs")  # it has no epochs
    ],
)
def test_classifier_loops_name_bad_input_before_any_step(loop, problem):
    message = BAD_INPUT[problem]
    items = {"empty": [], "wrong size": [(torch.zeros(3, 8, 8), 0)] * 4}.get(
        problem, two_class_images(8)
    )
    n_epochs = 0 if problem == "zero epochs" else 1
    model = small_classifier()
    before = [p.clone() for p in model.parameters()]
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    name = (
        "cifar2"
        if loop == "per_sample"
        else ("val_loader" if loop == "accuracy" else "train_loader")
    )
    data = items if loop == "per_sample" else DataLoader(items, batch_size=4)
    with pytest.raises(ValueError, match=message) as caught:
        if loop == "per_sample":
            ptm.per_sample_loop(n_epochs, optimizer, model, nn.NLLLoss(), data)
        elif loop == "minibatch":
            ptm.minibatch_loop(n_epochs, optimizer, model, nn.NLLLoss(), data)
        else:
            ptm.accuracy_loop(model, data)
    if problem != "zero epochs":
        assert name in str(caught.value)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))


def test_training_loop_names_inputs_the_model_cannot_take():
    x, y = line_data(12)
    model = nn.Linear(2, 1)
    with pytest.raises(ValueError, match=r"t_u_train has 1 feature\(s\).*nn.Linear\(1, ...\)"):
        ptm.training_loop(
            5, optim.SGD(model.parameters(), lr=1e-2), model, nn.MSELoss(),
            x[:10], x[10:], y[:10], y[10:],
        )  # fmt: skip


def test_training_loop_refuses_empty_tensors_like_the_other_loops():
    t_u_train, t_u_val, t_c_train, t_c_val = temperature_like()
    model = nn.Linear(1, 1)
    with pytest.raises(ValueError, match=r"t_u_val is empty: it holds no samples"):
        ptm.training_loop(
            5, optim.SGD(model.parameters(), lr=1e-2), model, nn.MSELoss(), t_u_train,
            t_u_val[:0], t_c_train, t_c_val[:0], log_every=None,
        )  # fmt: skip
