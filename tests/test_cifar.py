import hashlib
import os
import shutil
import tarfile
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision import transforms

import ptm
from ptm.cifar import BATCHES_FOLDER, STANDIN_MANIFEST, default_data_dir, project_root


@pytest.fixture
def no_network(monkeypatch):
    """Make every download attempt fail as it does offline, and count the attempts."""
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise urllib.error.URLError("[Errno -2] Name or service not known")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    return attempts


@pytest.fixture
def standin_copy(standin_root, tmp_path) -> Path:
    """A private copy of the stand-in that a test may damage."""
    shutil.copytree(standin_root / BATCHES_FOLDER, tmp_path / BATCHES_FOLDER)
    return tmp_path


def folder_bytes(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


# -- where the data lives ---------------------------------------------------------------


def test_data_dir_defaults_to_the_project_root_whatever_the_working_directory(
    monkeypatch, tmp_path
):
    monkeypatch.delenv("PTM_DATA_DIR")
    monkeypatch.chdir(tmp_path)
    assert default_data_dir() == project_root() / "data-unversioned" / "p1ch7"
    assert (project_root() / "pyproject.toml").is_file()


def test_data_dir_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("PTM_DATA_DIR", str(tmp_path / "elsewhere"))
    assert default_data_dir() == tmp_path / "elsewhere"


# -- loading (§7.1.1–§7.1.2) ---------------------------------------------------------------


def test_loader_reads_cifar_format_files(standin_root):
    train = ptm.load_cifar10(train=True, data_dir=standin_root, download=False)
    val = ptm.load_cifar10(train=False, data_dir=standin_root, download=False)
    assert len(train) == 1500 and len(val) == 500
    assert train.classes == list(ptm.CLASS_NAMES)
    assert train.data.shape == (1500, 32, 32, 3) and train.data.dtype == np.uint8
    assert np.bincount(train.targets).tolist() == [150] * 10
    assert train.synthetic and val.synthetic
    image, label = train[7]
    assert isinstance(image, Image.Image) and image.size == (32, 32)
    assert label == train.targets[7]
    assert np.array_equal(np.asarray(image), train.data[7])


def test_loader_applies_the_transform(standin_root):
    dataset = ptm.load_cifar10(True, standin_root, transform=transforms.ToTensor())
    image, _ = dataset[0]
    assert image.shape == (3, 32, 32) and image.dtype == torch.float32
    assert image.min() >= 0.0 and image.max() <= 1.0


def test_loader_uses_the_environment_variable(standin_root, monkeypatch):
    monkeypatch.setenv("PTM_DATA_DIR", str(standin_root))
    assert len(ptm.load_cifar10(train=False)) == 500


def test_offline_without_data_is_one_clear_error(tmp_path, no_network):
    with pytest.raises(ptm.CifarNotFoundError) as caught:
        ptm.load_cifar10(True, tmp_path / "data")
    message = str(caught.value)
    assert str(tmp_path / "data") in message
    assert "cifar-10-python.tar.gz" in message and "cifar-10-batches-py" in message
    assert "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz" in message
    assert "PTM_DATA_DIR" in message and "download failed" in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert no_network, "the real download path was not tried"
    assert isinstance(caught.value, FileNotFoundError)


def test_without_download_nothing_is_fetched(tmp_path, no_network):
    with pytest.raises(ptm.CifarNotFoundError, match="download=False"):
        ptm.load_cifar10(True, tmp_path, download=False)
    assert no_network == []


def test_a_damaged_batch_file_is_named_and_left_alone(standin_copy, no_network):
    damaged = standin_copy / BATCHES_FOLDER / "data_batch_3"
    damaged.write_bytes(damaged.read_bytes()[:1000])  # truncated
    before = folder_bytes(standin_copy / BATCHES_FOLDER)
    with pytest.raises(ptm.CifarCorruptedError, match=r"data_batch_3 is truncated or corrupted"):
        ptm.load_cifar10(True, standin_copy)
    assert folder_bytes(standin_copy / BATCHES_FOLDER) == before
    assert no_network == []


def test_a_missing_batch_file_is_named(standin_copy):
    (standin_copy / BATCHES_FOLDER / "test_batch").unlink()
    with pytest.raises(ptm.CifarNotFoundError, match="test_batch is missing"):
        ptm.load_cifar10(False, standin_copy)


def test_a_damaged_archive_is_named_and_left_alone(tmp_path, no_network):
    archive = tmp_path / "cifar-10-python.tar.gz"
    archive.write_bytes(b"half a download")
    with pytest.raises(ptm.CifarCorruptedError, match=r"cifar-10-python\.tar\.gz is incomplete"):
        ptm.load_cifar10(True, tmp_path)
    assert archive.read_bytes() == b"half a download"
    assert not (tmp_path / BATCHES_FOLDER).exists()
    assert no_network == []


def test_real_downloads_are_still_checked_against_torchvisions_checksums(standin_copy):
    (standin_copy / BATCHES_FOLDER / STANDIN_MANIFEST).unlink()  # no longer a declared stand-in
    with pytest.raises(ptm.CifarCorruptedError, match="data_batch_1"):
        ptm.load_cifar10(True, standin_copy)


@pytest.mark.parametrize("files", [{}, {"data_batch_1": "0" * 32}])
def test_a_manifest_that_misses_files_is_a_clear_error(standin_copy, files):
    import json

    path = standin_copy / BATCHES_FOLDER / STANDIN_MANIFEST
    manifest = json.loads(path.read_text())
    path.write_text(json.dumps({**manifest, "files": files}))
    with pytest.raises(ptm.CifarCorruptedError, match=r"lists no checksum for \['batches.meta'"):
        ptm.load_cifar10(True, standin_copy)


def test_the_manifest_does_not_excuse_a_changed_file(standin_copy):
    path = standin_copy / BATCHES_FOLDER / "test_batch"
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF  # same length, one byte flipped
    path.write_bytes(bytes(data))
    with pytest.raises(ptm.CifarCorruptedError, match="test_batch"):
        ptm.load_cifar10(False, standin_copy)


def test_a_file_changed_after_loading_is_checked_again(standin_copy):
    ptm.load_cifar10(False, standin_copy)
    path = standin_copy / BATCHES_FOLDER / "test_batch"
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(ptm.CifarCorruptedError):
        ptm.load_cifar10(False, standin_copy)


# -- statistics and normalisation (§7.1.4) ----------------------------------------------------


def random_images(n_images=37, seed=0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(n_images, 32, 32, 3), dtype=np.uint8)


def test_channel_stats_equal_the_notes_stacking_method():
    images = random_images()
    tensors = [transforms.ToTensor()(image) for image in images]
    stacked = torch.stack(tensors, dim=3)  # 3×32×32×N, as the notes do
    mean, std = ptm.channel_stats(images, chunk_size=5)
    torch.testing.assert_close(mean.float(), stacked.view(3, -1).mean(dim=1), atol=1e-4, rtol=0)
    torch.testing.assert_close(std.float(), stacked.view(3, -1).std(dim=1), atol=1e-4, rtol=0)


def test_channel_stats_against_numpy_in_float64():
    images = random_images(seed=3)
    values = images.reshape(-1, 3).astype(np.float64) / 255
    mean, std = ptm.channel_stats(images)
    np.testing.assert_allclose(mean.numpy(), values.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(std.numpy(), values.std(axis=0, ddof=1), rtol=1e-12)
    assert mean.dtype == torch.float64


def test_channel_stats_do_not_depend_on_chunk_size():
    images = random_images(seed=4)
    results = [ptm.channel_stats(images, chunk_size=size) for size in (1, 8, 1000)]
    for mean, std in results[1:]:
        assert torch.equal(mean, results[0][0]) and torch.equal(std, results[0][1])


@pytest.mark.parametrize(
    "images",
    [np.zeros((2, 32, 32, 3), dtype=np.float32), np.zeros((32, 32, 3), dtype=np.uint8)],
)
def test_channel_stats_reject_other_inputs(images):
    with pytest.raises(ValueError, match="uint8"):
        ptm.channel_stats(images)


def test_channel_stats_want_channels_last():
    with pytest.raises(ValueError, match="channels last"):
        ptm.channel_stats(np.zeros((2, 3, 32, 32), dtype=np.uint8))


def test_channel_stats_of_nothing():
    with pytest.raises(ValueError, match="empty"):
        ptm.channel_stats(np.zeros((0, 32, 32, 3), dtype=np.uint8))


def test_published_constants_and_pipeline():
    assert ptm.CIFAR10_MEAN == (0.4914, 0.4822, 0.4465)
    assert ptm.CIFAR10_STD == (0.2470, 0.2435, 0.2616)
    pipeline = ptm.cifar10_transform()
    to_tensor, normalize = pipeline.transforms
    assert isinstance(to_tensor, transforms.ToTensor)
    assert isinstance(normalize, transforms.Normalize)
    assert tuple(normalize.mean) == ptm.CIFAR10_MEAN and tuple(normalize.std) == ptm.CIFAR10_STD


def test_vectorised_normalisation_equals_the_per_image_pipeline():
    images = random_images(n_images=6)
    pipeline = ptm.cifar10_transform()
    expected = torch.stack([pipeline(Image.fromarray(image)) for image in images])
    result = ptm.normalize_images(images)
    assert result.shape == (6, 3, 32, 32) and result.dtype == torch.float32
    assert torch.equal(result, expected)
    assert result.is_contiguous()


def test_normalisation_of_a_flipped_view():
    images = random_images(n_images=2)
    flipped = images[:, :, ::-1]
    assert torch.equal(ptm.normalize_images(flipped), ptm.normalize_images(flipped.copy()))


def test_unnormalize_inverts_normalize():
    images = random_images(n_images=2)
    normalised = ptm.normalize_images(images)
    restored = ptm.unnormalize(normalised[0], ptm.CIFAR10_MEAN, ptm.CIFAR10_STD)
    torch.testing.assert_close(restored, torch.from_numpy(images[0]).permute(2, 0, 1) / 255)


def test_normalisation_rejects_bad_statistics():
    images = random_images(n_images=1)
    with pytest.raises(ValueError, match="std must be positive"):
        ptm.normalize_images(images, std=(0.2, 0.0, 0.2))
    with pytest.raises(ValueError, match="3 values"):
        ptm.normalize_images(images, mean=(0.5, 0.5))
    with pytest.raises(ValueError, match="uint8"):
        ptm.normalize_images(images.astype(np.float32))


# -- CIFAR-2 (§7.2.1) -------------------------------------------------------------------------


def test_cifar2_keeps_airplanes_and_birds(standin_root):
    cifar2 = ptm.load_cifar2(standin_root, cache=False)
    train = ptm.load_cifar10(True, standin_root)
    assert cifar2.train_images.shape == (300, 3, 32, 32)
    assert cifar2.val_images.shape == (100, 3, 32, 32)
    assert cifar2.train_labels.dtype == torch.long
    assert cifar2.train_labels.bincount().tolist() == [150, 150]
    keep = np.isin(train.targets, [0, 2])
    expected_labels = [{0: 0, 2: 1}[label] for label in np.asarray(train.targets)[keep]]
    assert cifar2.train_labels.tolist() == expected_labels
    assert cifar2.synthetic
    assert cifar2.class_names == ("airplane", "bird")
    assert cifar2.train[0] is cifar2.train_images


def test_list_form_and_tensor_form_hold_the_same_values(standin_root, cifar2):
    listed = ptm.cifar2_list(
        ptm.load_cifar10(True, standin_root, transform=ptm.cifar10_transform())
    )
    assert len(listed) == 300
    images = torch.stack([image for image, _ in listed])
    labels = torch.tensor([label for _, label in listed])
    torch.testing.assert_close(images, cifar2.train_images, rtol=0, atol=0)
    assert torch.equal(labels, cifar2.train_labels)
    assert all(isinstance(label, int) for _, label in listed[:5])


def test_cifar2_cache_is_used_and_keyed(standin_copy, monkeypatch):
    first = ptm.load_cifar2(standin_copy)
    cache_files = list((standin_copy / "ptm-cache").glob("cifar2-*.pt"))
    assert len(cache_files) == 1

    def fail(*args, **kwargs):
        raise AssertionError("the cache was not used")

    monkeypatch.setattr(ptm.cifar, "_ensure_cifar10", fail)
    cached = ptm.load_cifar2(standin_copy)
    assert torch.equal(cached.train_images, first.train_images)
    assert torch.equal(cached.val_labels, first.val_labels)
    assert cached.synthetic and cached.mean == ptm.CIFAR10_MEAN
    monkeypatch.undo()

    other = ptm.load_cifar2(standin_copy, mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25))
    assert len(list((standin_copy / "ptm-cache").glob("cifar2-*.pt"))) == 2
    assert not torch.allclose(other.train_images, first.train_images)

    batch = standin_copy / BATCHES_FOLDER / "data_batch_1"
    stat = batch.stat()
    os.utime(batch, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # the data changed
    ptm.load_cifar2(standin_copy)
    assert len(list((standin_copy / "ptm-cache").glob("cifar2-*.pt"))) == 3


def test_cifar2_without_cache_writes_nothing(standin_copy):
    before = sorted(p.name for p in standin_copy.iterdir())
    ptm.load_cifar2(standin_copy, cache=False)
    assert sorted(p.name for p in standin_copy.iterdir()) == before


def test_cache_key_changes_with_file_content_size(standin_copy):
    key_before = ptm.cifar._cache_path(standin_copy, ptm.CIFAR10_MEAN, ptm.CIFAR10_STD)
    meta = standin_copy / BATCHES_FOLDER / "batches.meta"
    meta.write_bytes(meta.read_bytes() + b"\0")
    key_after = ptm.cifar._cache_path(standin_copy, ptm.CIFAR10_MEAN, ptm.CIFAR10_STD)
    assert key_before != key_after


def test_md5_of_the_standin_manifest_matches_files(standin_root):
    import json

    manifest = json.loads((standin_root / BATCHES_FOLDER / STANDIN_MANIFEST).read_text())
    for name, md5 in manifest["files"].items():
        data = (standin_root / BATCHES_FOLDER / name).read_bytes()
        assert hashlib.md5(data).hexdigest() == md5


def test_a_damaged_cache_is_reported_and_bypassed(standin_copy):
    first = ptm.load_cifar2(standin_copy)
    (cache_file,) = (standin_copy / "ptm-cache").glob("cifar2-*.pt")
    cache_file.write_bytes(cache_file.read_bytes()[:100])
    with pytest.warns(UserWarning, match=r"cifar2-.*\.pt is unreadable"):
        again = ptm.load_cifar2(standin_copy)
    assert torch.equal(again.train_images, first.train_images)
    assert len(cache_file.read_bytes()) == 100  # left for the user to delete


def test_cifar2_of_a_split_without_birds(standin_root):
    dataset = ptm.load_cifar10(False, standin_root)
    dataset.targets = [0 if label == 2 else label for label in dataset.targets]
    images, labels = ptm.cifar.cifar2_tensors(dataset, dataset).train
    assert labels.tolist() == [0] * 100 and images.shape == (100, 3, 32, 32)
    dataset.targets = [5] * len(dataset.targets)
    empty = ptm.cifar.cifar2_tensors(dataset, dataset)
    assert empty.train_images.shape == (0, 3, 32, 32) and empty.train_labels.shape == (0,)


def test_a_good_archive_is_unpacked(standin_root, tmp_path, monkeypatch):
    archive = tmp_path / "cifar-10-python.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(standin_root / BATCHES_FOLDER, arcname=BATCHES_FOLDER)
    monkeypatch.setattr(  # accept this archive as if it were the published one
        ptm.cifar.datasets.CIFAR10, "tgz_md5", hashlib.md5(archive.read_bytes()).hexdigest()
    )
    dataset = ptm.load_cifar10(False, tmp_path, download=False)
    assert len(dataset) == 500 and dataset.synthetic
    assert archive.is_file()  # kept
