import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader

import ptm
from ptm.classifier import (
    architecture_label,
    default_loss,
    describe_architecture,
    shift_images,
)

DEEPER = (1024, 512, 128)


def loader(items, batch_size=64, shuffle=False):
    return DataLoader(items, batch_size=batch_size, shuffle=shuffle)


def test_parameter_counts_match_the_book():
    assert ptm.count_parameters(ptm.build_fc_classifier()) == 1_574_402
    assert ptm.count_parameters(ptm.build_fc_classifier(DEEPER, log_softmax=False)) == 3_737_474
    assert ptm.count_parameters(nn.Linear(3072, 512)) == 1_573_376
    assert ptm.count_parameters(ptm.build_fc_classifier(), per_layer=True) == [
        ("1: Linear", 1_573_376),
        ("3: Linear", 1_026),
    ]
    assert ptm.count_parameters(
        ptm.build_fc_classifier(DEEPER, log_softmax=False), per_layer=True
    ) == [
        ("1: Linear", 3_146_752),
        ("3: Linear", 524_800),
        ("5: Linear", 65_664),
        ("7: Linear", 258),
    ]


def test_count_parameters_skips_frozen_ones():
    model = ptm.build_fc_classifier()
    model[1].weight.requires_grad_(False)
    assert ptm.count_parameters(model) == 1_574_402 - 1_572_864


def test_notes_model_layout():
    model = ptm.build_fc_classifier()
    assert [type(layer) for layer in model] == [
        nn.Flatten,
        nn.Linear,
        nn.Tanh,
        nn.Linear,
        nn.LogSoftmax,
    ]
    assert model[1].in_features == 3072 and model[1].out_features == 512
    assert model(torch.zeros(5, 3, 32, 32)).shape == (5, 2)
    assert model(torch.zeros(5, 3072)).shape == (5, 2)
    assert torch.allclose(model(torch.zeros(1, 3072)).exp().sum(), torch.tensor(1.0))


def test_deeper_model_outputs_raw_scores():
    model = ptm.build_fc_classifier(DEEPER, log_softmax=False)
    assert architecture_label(model) == "3072-1024-512-128-2"
    assert not isinstance(list(model)[-1], nn.LogSoftmax)
    assert isinstance(default_loss(model), nn.CrossEntropyLoss)
    assert isinstance(default_loss(ptm.build_fc_classifier()), nn.NLLLoss)


def test_describe_architecture_round_trip():
    model = ptm.build_fc_classifier((64, 32), activation="relu", n_classes=3, log_softmax=False)
    architecture = describe_architecture(model)
    assert architecture == {
        "in_features": 3072,
        "hidden_sizes": [64, 32],
        "n_classes": 3,
        "activation": "relu",
        "log_softmax": False,
    }
    assert architecture_label(architecture) == "3072-64-32-3"
    with pytest.raises(ValueError, match="build_fc_classifier"):
        describe_architecture(nn.Linear(3, 2))


def test_builder_rejects_bad_settings():
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        ptm.build_fc_classifier(activation="swish")
    with pytest.raises(ValueError, match="positive integers"):
        ptm.build_fc_classifier((512, 0))
    with pytest.raises(ValueError, match="an int or a tuple of ints"):
        ptm.build_fc_classifier("512")


def test_one_int_is_one_hidden_layer():
    assert architecture_label(ptm.build_fc_classifier(512)) == "3072-512-2"


def test_seeded_builder_is_reproducible():
    first, second = ptm.build_fc_classifier(seed=1), ptm.build_fc_classifier(seed=1)
    assert torch.equal(first[1].weight, second[1].weight)
    assert not torch.equal(first[1].weight, ptm.build_fc_classifier(seed=2)[1].weight)


# -- softmax and the loss (§7.2.4–§7.2.5) ---------------------------------------------------


def test_softmax_by_hand():
    x = torch.tensor([1.0, 2.0, 3.0])
    torch.testing.assert_close(
        ptm.softmax(x), torch.tensor([0.0900, 0.2447, 0.6652]), atol=1e-4, rtol=0
    )
    torch.testing.assert_close(ptm.softmax(x).sum(), torch.tensor(1.0))


def test_softmax_by_hand_matches_nn_softmax_on_a_batch():
    batch = torch.tensor([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0], [0.0, -1.0, 5.0]])
    torch.testing.assert_close(ptm.softmax(batch, dim=1), nn.Softmax(dim=1)(batch))


# -- evaluation ------------------------------------------------------------------------------


class FixedScores(nn.Module):
    """A 'model' that returns given scores, with one linear layer for the shape checks."""

    def __init__(self, scores: torch.Tensor):
        super().__init__()
        self.scores = scores
        self.layer = nn.Linear(4, scores.shape[1])

    def forward(self, x):
        return self.scores[: len(x)] + 0 * self.layer(x.flatten(1))


def test_predict_and_accuracy_against_a_hand_count():
    scores = torch.tensor([[2.0, 1.0], [0.0, 3.0], [5.0, -1.0], [0.1, 0.2]])
    model = FixedScores(scores)
    images = torch.zeros(4, 4)
    assert ptm.predict(model, images).tolist() == [0, 1, 0, 1]
    assert ptm.accuracy(model, images, torch.tensor([0, 1, 1, 1])) == 0.75
    assert model.training  # restored after evaluation


def test_confusion_matrix_against_a_hand_count():
    labels = torch.tensor([0, 0, 0, 1, 1, 1, 1])
    predictions = torch.tensor([0, 1, 0, 1, 1, 0, 1])
    # true airplane: 2 right, 1 called bird; true bird: 1 called airplane, 3 right
    assert ptm.confusion_matrix(labels, predictions).tolist() == [[2, 1], [1, 3]]
    assert ptm.confusion_matrix(labels, predictions, n_classes=3).sum() == 7
    with pytest.raises(ValueError, match=r"predictions must lie in 0\.\.1"):
        ptm.confusion_matrix(labels, predictions + 1)
    with pytest.raises(ValueError, match="alike"):
        ptm.confusion_matrix(labels, predictions[:3])


def test_shift_images_moves_pixels_and_fills_with_zero():
    images = torch.arange(2 * 3 * 4 * 5, dtype=torch.float32).reshape(2, 3, 4, 5) + 1
    shifted = shift_images(images, 2)
    assert torch.equal(shifted[..., 2:], images[..., :3])
    assert torch.equal(shifted[..., :2], torch.zeros(2, 3, 4, 2))
    left = shift_images(images, -1)
    assert torch.equal(left[..., :4], images[..., 1:]) and left[..., 4].abs().sum() == 0
    assert torch.equal(shift_images(images, 0), images)
    with pytest.raises(ValueError, match="shift 5-pixel-wide images by 5"):
        shift_images(images, 5)
    with pytest.raises(ValueError, match="N×C×H×W"):
        shift_images(images[0], 1)


class LooksAtOnePixel(nn.Module):
    """Says 'bird' when the pixel at row 2, column 2 of channel 0 is bright: a caricature of
    a fully connected layer, whose weights belong to fixed positions."""

    def __init__(self):
        super().__init__()
        self.layer = nn.Linear(3 * 8 * 8, 2)

    def forward(self, images):
        bright = images[:, 0, 2, 2]
        return torch.stack([-bright, bright], dim=1) + 0 * self.layer(images.flatten(1))


def test_accuracy_falls_when_what_was_learnt_moves():
    labels = torch.tensor([0, 1] * 10)
    images = torch.zeros(20, 3, 8, 8)
    images[labels == 1, 0, 2, 2] = 1.0  # birds have one bright pixel
    result = ptm.accuracy_under_shift(LooksAtOnePixel(), images, labels, shifts=[0, 1, 2])
    assert list(result) == [0, 1, 2]
    assert result[0] == 1.0
    assert result[1] == result[2] == 0.5  # moved away: every image looks like an airplane


def test_accuracy_under_shift_evaluates_the_shifted_images(cifar2):
    model = ptm.build_fc_classifier(seed=0)
    result = ptm.accuracy_under_shift(model, *cifar2.val, shifts=[0, 8])
    assert result[0] == ptm.accuracy(model, *cifar2.val)
    assert result[8] == ptm.accuracy(model, shift_images(cifar2.val_images, 8), cifar2.val_labels)


# -- training (§7.2.6) -----------------------------------------------------------------------


def test_training_on_the_standin_learns_well_above_chance(cifar2):
    model = ptm.build_fc_classifier(seed=0)
    history = ptm.train_classifier(
        model, cifar2.train, cifar2.val, n_epochs=25, progress=False, log_every=None
    )
    assert len(history) == 25
    assert history.train_loss[-1] < history.train_loss[0]
    assert ptm.accuracy(model, *cifar2.train) > 0.85
    assert ptm.accuracy(model, *cifar2.val) > 0.65  # chance is 0.5 ± 0.05 on 100 images
    assert len(history.seconds) == 25 and all(s > 0 for s in history.seconds)


def test_the_same_seed_gives_the_same_history(cifar2):
    histories = []
    for _ in range(2):
        model = ptm.build_fc_classifier(seed=3)
        histories.append(
            ptm.train_classifier(
                model, cifar2.train, cifar2.val, n_epochs=2, seed=5, progress=False, log_every=None
            )
        )
    first, second = histories
    assert first.train_loss == second.train_loss
    assert first.val_accuracy == second.val_accuracy


def test_tensor_and_loader_paths_agree_for_the_same_order(standin_root, cifar2):
    listed = ptm.cifar2_list(ptm.load_cifar10(True, standin_root, transform=normalizing()))
    histories = []
    for data in (ptm.TensorBatches(*cifar2.train, 32), loader(listed, batch_size=32)):
        model = ptm.build_fc_classifier(seed=0)
        histories.append(
            ptm.train_classifier(
                model, data, cifar2.val, n_epochs=2, progress=False, log_every=None, device="cpu"
            )
        )
    tensor_history, loader_history = histories
    torch.testing.assert_close(tensor_history.train_loss, loader_history.train_loss)
    torch.testing.assert_close(tensor_history.val_loss, loader_history.val_loss)
    assert tensor_history.train_accuracy == loader_history.train_accuracy


def test_a_nan_loss_stops_training_and_keeps_the_history(cifar2):
    n_batches_per_epoch = 5  # 300 images in batches of 64
    calls = []

    def loss_that_breaks_in_epoch_3(outputs, labels):
        calls.append(1)
        loss = nn.functional.nll_loss(outputs, labels)
        return loss * float("nan") if len(calls) > 2 * n_batches_per_epoch + 1 else loss

    model = ptm.build_fc_classifier(seed=0)
    with pytest.warns(ptm.TrainingDivergedWarning, match=r"at epoch 3, .*learning rate"):
        history = ptm.train_classifier(
            model,
            cifar2.train,
            n_epochs=10,
            progress=False,
            loss_fn=loss_that_breaks_in_epoch_3,
            log_every=None,
        )
    assert history.epochs == [1, 2]
    assert history.diverged and "epoch 3" in history.stop_reason
    assert len(history.train_accuracy) == 2


def test_nan_in_the_first_epoch(cifar2):
    images = cifar2.train_images.clone()
    images[0] = float("nan")
    model = ptm.build_fc_classifier(seed=0)
    with pytest.warns(ptm.TrainingDivergedWarning, match=r"epoch 1\b.*inputs contain NaN"):
        history = ptm.train_classifier(
            model, (images, cifar2.train_labels), n_epochs=3, progress=False, log_every=None
        )
    assert len(history) == 0 and history.diverged


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"lr": 0.0}, r"lr must be a finite number above 0, e.g. 1e-2, got 0.0"),
        ({"lr": -1e-2}, r"lr must be a finite number above 0, e.g. 1e-2, got -0.01"),
        ({"lr": "0.1"}, r"lr must be a finite number above 0, e.g. 1e-2, got '0.1'"),
        ({"lr": float("inf")}, r"lr must be a finite number above 0, e.g. 1e-2, got inf"),
        ({"batch_size": 0}, r"batch_size must be an integer of at least 1, got 0"),
        ({"learning_rate": 0.1}, r"unknown setting\(s\) \['learning_rate'\]: expected some of"),
        ({"device": "tpu"}, r"unknown device 'tpu'"),
        ({"n_epochs": 0}, r"n_epochs must be an integer of at least 1, got 0"),
    ],
)
def test_bad_training_settings(cifar2, change, message):
    options = {"n_epochs": 1, "progress": False, "log_every": None, **change}
    with pytest.raises(ValueError, match=message):
        ptm.train_classifier(ptm.build_fc_classifier(), cifar2.train, **options)


def test_wrong_image_shape_for_the_model(cifar2):
    small = cifar2.train_images[:, :, :16, :16]
    with pytest.raises(ValueError, match=r"768 values per sample.*takes 3072"):
        ptm.train_classifier(ptm.build_fc_classifier(), (small, cifar2.train_labels), n_epochs=1)
    with pytest.raises(ValueError, match="takes 3072"):
        ptm.predict(ptm.build_fc_classifier(), small)


def test_labels_outside_the_classes(cifar2):
    labels = cifar2.train_labels.clone()
    labels[3] = 7
    with pytest.raises(ValueError, match=r"contain 7, outside the model's classes 0..1"):
        ptm.train_classifier(ptm.build_fc_classifier(), (cifar2.train_images, labels), n_epochs=1)
    listed = [(image, 2) for image in cifar2.train_images[:4]]
    with pytest.raises(ValueError, match="contain 2"):
        ptm.train_classifier(ptm.build_fc_classifier(), loader(listed), n_epochs=1)


def test_empty_data(cifar2):
    empty = (cifar2.train_images[:0], cifar2.train_labels[:0])
    with pytest.raises(ValueError, match="empty"):
        ptm.train_classifier(ptm.build_fc_classifier(), empty, n_epochs=1, progress=False)


@pytest.mark.parametrize("function", ["train_classifier", "accuracy", "predict"])
def test_uint8_images_are_refused_with_the_fix(cifar2, function):
    raw = (cifar2.train_images * 40 + 128).clamp(0, 255).to(torch.uint8)
    model = ptm.build_fc_classifier()
    call = {
        "train_classifier": lambda: ptm.train_classifier(model, (raw, cifar2.train_labels)),
        "accuracy": lambda: ptm.accuracy(model, raw, cifar2.train_labels),
        "predict": lambda: ptm.predict(model, raw),
    }[function]
    with pytest.raises(ValueError, match=r"torch.uint8.*ptm.normalize_images"):
        call()


def normalizing():
    from torchvision import transforms

    return transforms.Compose(
        [transforms.ToTensor(), transforms.Normalize(ptm.CIFAR10_MEAN, ptm.CIFAR10_STD)]
    )


def test_live_curves_outside_a_notebook_keep_the_text_and_train_the_same(cifar2):
    histories = []
    for live in (False, True):
        model = ptm.build_fc_classifier(8, seed=0)
        histories.append(
            ptm.train_classifier(
                model, cifar2.train, cifar2.val, n_epochs=2, live=live, progress=False,
                log_every=None,
            )
        )  # fmt: skip
    assert histories[0].train_loss == histories[1].train_loss
