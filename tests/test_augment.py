"""Random crops two ways: torchvision's per-image transform and ptm's batched crop."""

import numpy as np
import pytest
import torch
from torchvision import transforms
from torchvision.transforms import functional as TF

import ptm
from ptm.augment import CroppedBatches, normalized_black, pad_images, random_crop

SIZE, PADDING = 32, 4


def coordinate_images(n_images: int) -> torch.Tensor:
    """Images whose pixel (row, column) holds row + 100 × column + 1, so a crop's top-left
    pixel tells where it was cut (0 is the padding)."""
    rows = torch.arange(SIZE).view(SIZE, 1)
    columns = torch.arange(SIZE).view(1, SIZE)
    image = (rows + 100 * columns + 1).float()
    return image.expand(n_images, 3, SIZE, SIZE).clone()


def offsets_of(crops: torch.Tensor) -> list[tuple[int, int]]:
    """Recover each crop's (top, left) offset in the padded image from the coordinates."""
    found = []
    for crop in crops[:, 0]:
        inside = torch.nonzero(crop > 0)
        row, column = inside[0].tolist()  # the first non-padding pixel
        value = int(crop[row, column]) - 1
        found.append((PADDING + value % 100 - row, PADDING + value // 100 - column))
    return found


def chi_square_uniform(values: list[int], n_bins: int) -> float:
    counts = np.bincount(values, minlength=n_bins)
    expected = len(values) / n_bins
    return float(((counts - expected) ** 2 / expected).sum())


def test_batched_offsets_are_uniform_over_0_to_8_per_axis():
    padded = pad_images(coordinate_images(4500), PADDING)
    crops = random_crop(padded, SIZE, generator=torch.Generator().manual_seed(0))
    tops, lefts = zip(*offsets_of(crops), strict=True)
    assert set(tops) == set(lefts) == set(range(9))
    # 8 degrees of freedom: 26.1 is the 99.9 % point of the chi-square distribution
    assert chi_square_uniform(list(tops), 9) < 26.1
    assert chi_square_uniform(list(lefts), 9) < 26.1


def test_torchvision_offsets_have_the_same_distribution():
    torch.manual_seed(0)
    crop = transforms.RandomCrop(SIZE, padding=PADDING)
    crops = torch.stack([crop(image) for image in coordinate_images(4500)])
    tops, lefts = zip(*offsets_of(crops), strict=True)
    assert set(tops) == set(lefts) == set(range(9))
    assert chi_square_uniform(list(tops), 9) < 26.1
    assert chi_square_uniform(list(lefts), 9) < 26.1


def test_same_offsets_give_the_same_pixels_as_torchvision_before_normalize():
    raw = torch.rand(5, 3, SIZE, SIZE)
    normalize = transforms.Normalize(ptm.CIFAR10_MEAN, ptm.CIFAR10_STD)
    offsets = torch.tensor([[0, 0], [8, 8], [3, 5], [8, 0], [1, 7]])
    # torchvision: pad with black, crop, then normalise, one image at a time
    expected = torch.stack(
        [
            normalize(TF.crop(TF.pad(image, PADDING, fill=0), top, left, SIZE, SIZE))
            for image, (top, left) in zip(raw, offsets.tolist(), strict=True)
        ]
    )
    # ptm: normalise first, pad with normalised black, crop all at once
    normalised = torch.stack([normalize(image) for image in raw])
    padded = pad_images(normalised, PADDING, normalized_black(ptm.CIFAR10_MEAN, ptm.CIFAR10_STD))
    torch.testing.assert_close(random_crop(padded, SIZE, offsets=offsets), expected)


def test_cropped_batches_are_reproducible_and_new_every_epoch():
    images, labels = coordinate_images(40), torch.arange(40)
    first = CroppedBatches(images, labels, 16, seed=3)
    epoch_one = [(crops.clone(), batch_labels) for crops, batch_labels in first]
    epoch_two = list(first)
    again = list(CroppedBatches(images, labels, 16, seed=3))
    assert len(first) == 3 and [len(b) for _, b in epoch_one] == [16, 16, 8]
    assert all(torch.equal(a[0], b[0]) for a, b in zip(epoch_one, again, strict=True))
    assert not all(torch.equal(a[0], b[0]) for a, b in zip(epoch_one, epoch_two, strict=True))
    assert sorted(torch.cat([b for _, b in epoch_one]).tolist()) == list(range(40))
    assert epoch_one[0][0].shape == (16, 3, SIZE, SIZE)


def test_cropped_batches_train_through_the_lesson_loop(cifar2):
    model = ptm.build_fc_classifier(16, seed=0)
    batches = CroppedBatches(*cifar2.train, 64, seed=0)
    history = ptm.minibatch_loop(
        2, torch.optim.SGD(model.parameters(), lr=1e-2), model, torch.nn.NLLLoss(), batches,
        log_every=None,
    )  # fmt: skip
    assert len(history) == 2 and history.train_loss[1] < history.train_loss[0]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: pad_images(torch.zeros(1, 3, 4, 4), -1),
            "padding must be an integer of at least 0",
        ),
        (lambda: random_crop(torch.zeros(1, 3, 8, 8), 9), "crop size 9 is larger than the padded"),
        (
            lambda: CroppedBatches(torch.zeros(2, 3, 4, 4), torch.zeros(3)),
            "same length, got 2 and 3",
        ),
        (lambda: CroppedBatches(torch.zeros(0, 3, 4, 4), torch.zeros(0)), "empty"),
        (
            lambda: CroppedBatches(torch.zeros(2, 4, 4, 3), torch.zeros(2)),
            r"channels last: move the channels first with images.permute\(0, 3, 1, 2\)",
        ),
        (
            lambda: CroppedBatches(torch.zeros(2, 3, 4, 4, dtype=torch.uint8), torch.zeros(2)),
            r"torch.uint8.*ptm.normalize_images",
        ),
        (
            lambda: CroppedBatches(torch.zeros(2, 3, 32, 24), torch.zeros(2)),
            r"32×24, not square",
        ),
        (lambda: CroppedBatches(torch.zeros(2, 3, 4, 4), torch.zeros(2), padding=-2), "padding"),
        (lambda: CroppedBatches(torch.zeros(2, 3, 4, 4), torch.zeros(2), 0), "batch_size"),
    ],
)
def test_bad_crop_settings_are_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()
