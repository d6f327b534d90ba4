"""CIFAR-10 as tensors: statistics, normalisation, CIFAR-2 and its verified cache."""

import dataclasses
import json
import os
import pickle
import struct
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision import transforms

import ptm
from ptm import cifar_tensors
from ptm.cifar_files import BATCHES_FOLDER
from ptm.cifar_tensors import CACHE_FOLDER, cache_path, select_cifar2, unnormalize


def pipeline(mean=ptm.CIFAR10_MEAN, std=ptm.CIFAR10_STD):
    return transforms.Compose([transforms.ToTensor(), transforms.Normalize(mean, std)])


def random_images(n_images=37, seed=0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(n_images, 32, 32, 3), dtype=np.uint8)


def cache_files(data_dir: Path) -> list[Path]:
    return sorted((data_dir / CACHE_FOLDER).glob("cifar2-*.bin"))


# -- statistics and normalisation (§7.1.4) ----------------------------------------------------


def test_channel_stats_equal_the_notes_stacking_method():
    images = random_images()
    stacked = torch.stack([transforms.ToTensor()(image) for image in images], dim=3)
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
    [
        np.zeros((2, 32, 32, 3), dtype=np.float32),
        np.zeros((32, 32, 3), dtype=np.uint8),
        np.zeros((2, 3, 32, 32), dtype=np.uint8),  # channels first
    ],
)
def test_channel_stats_reject_other_inputs(images):
    with pytest.raises(ValueError, match=r"N×H×W×C uint8 .*got dtype"):
        ptm.channel_stats(images)


def test_channel_stats_of_nothing():
    with pytest.raises(ValueError, match="empty"):
        ptm.channel_stats(np.zeros((0, 32, 32, 3), dtype=np.uint8))


def test_published_constants_and_the_notes_constants():
    assert ptm.CIFAR10_MEAN == (0.4914, 0.4822, 0.4465)
    assert ptm.CIFAR10_STD == (0.2470, 0.2435, 0.2616)
    assert cifar_tensors.NOTES_MEAN == (0.4915, 0.4823, 0.4468)
    assert cifar_tensors.NOTES_STD == ptm.CIFAR10_STD


def test_vectorised_normalisation_equals_the_per_image_pipeline():
    images = random_images(n_images=6)
    expected = torch.stack([pipeline()(Image.fromarray(image)) for image in images])
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
    restored = unnormalize(ptm.normalize_images(images)[0], ptm.CIFAR10_MEAN, ptm.CIFAR10_STD)
    torch.testing.assert_close(restored, torch.from_numpy(images[0]).permute(2, 0, 1) / 255)


def test_normalisation_rejects_bad_statistics():
    images = random_images(n_images=1)
    with pytest.raises(ValueError, match="std must be positive"):
        ptm.normalize_images(images, std=(0.2, 0.0, 0.2))
    with pytest.raises(ValueError, match="3 values"):
        ptm.normalize_images(images, mean=(0.5, 0.5))
    with pytest.raises(ValueError, match="finite"):
        ptm.normalize_images(images, mean=(0.5, float("nan"), 0.5))
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
    assert cifar2.train[0] is cifar2.train_images
    assert len(repr(cifar2)) < 300 and "synthetic stand-in" in repr(cifar2)


def test_list_form_and_tensor_form_hold_the_same_values(standin_root, cifar2):
    listed = ptm.cifar2_list(ptm.load_cifar10(True, standin_root, transform=pipeline()))
    assert len(listed) == 300
    images = torch.stack([image for image, _ in listed])
    labels = torch.tensor([label for _, label in listed])
    assert torch.equal(images, cifar2.train_images)
    assert torch.equal(labels, cifar2.train_labels)
    assert all(isinstance(label, int) for _, label in listed[:5])


def test_select_cifar2_maps_labels_and_keeps_order():
    pixels = torch.arange(6).view(6, 1, 1, 1)
    labels = torch.tensor([2, 5, 0, 2, 9, 0])
    kept, new_labels = select_cifar2(pixels, labels)
    assert kept.flatten().tolist() == [0, 2, 3, 5]
    assert new_labels.tolist() == [1, 0, 1, 0]
    empty, no_labels = select_cifar2(pixels, torch.full((6,), 5))
    assert empty.shape == (0, 1, 1, 1) and no_labels.shape == (0,)


# -- the cache --------------------------------------------------------------------------------


def test_cifar2_cache_is_used_and_keyed(standin_copy, monkeypatch):
    first = ptm.load_cifar2(standin_copy)
    assert len(cache_files(standin_copy)) == 1

    def fail(*args, **kwargs):
        raise AssertionError("the cache was not used")

    monkeypatch.setattr(cifar_tensors, "ensure_cifar10", fail)
    cached = ptm.load_cifar2(standin_copy)
    assert torch.equal(cached.train_images, first.train_images)
    assert torch.equal(cached.val_labels, first.val_labels)
    assert cached.synthetic and cached.mean == ptm.CIFAR10_MEAN
    monkeypatch.undo()

    other = ptm.load_cifar2(standin_copy, mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25))
    assert len(cache_files(standin_copy)) == 2
    assert not torch.allclose(other.train_images, first.train_images)

    batch = standin_copy / BATCHES_FOLDER / "data_batch_1"
    stat = batch.stat()
    os.utime(batch, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # the data changed
    ptm.load_cifar2(standin_copy)
    assert len(cache_files(standin_copy)) == 3


def test_cifar2_without_cache_writes_nothing(standin_copy):
    before = sorted(p.name for p in standin_copy.iterdir())
    ptm.load_cifar2(standin_copy, cache=False)
    assert sorted(p.name for p in standin_copy.iterdir()) == before


def test_cache_key_changes_with_file_content_size(standin_copy):
    key_before = cache_path(standin_copy, ptm.CIFAR10_MEAN, ptm.CIFAR10_STD)
    meta = standin_copy / BATCHES_FOLDER / "batches.meta"
    meta.write_bytes(meta.read_bytes() + b"\0")
    assert key_before != cache_path(standin_copy, ptm.CIFAR10_MEAN, ptm.CIFAR10_STD)


def test_flipped_bytes_in_the_cache_warn_once_and_are_rebuilt(standin_copy):
    first = ptm.load_cifar2(standin_copy)
    (path,) = cache_files(standin_copy)
    data = bytearray(path.read_bytes())
    for offset in range(len(data) - 64 * 1000, len(data), 1000):  # 64 bytes, same size
        data[offset] ^= 0x5A
    path.write_bytes(bytes(data))
    with pytest.warns(
        UserWarning, match=r"cifar2-.*\.bin is unusable \(its checksum does not match"
    ):
        again = ptm.load_cifar2(standin_copy)
    assert torch.equal(again.train_images, first.train_images)
    assert torch.equal(again.val_images, first.val_images)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # rebuilt: no second warning
        assert torch.equal(ptm.load_cifar2(standin_copy).val_images, first.val_images)


def test_a_malicious_pickle_at_the_cache_path_runs_no_code(standin_copy, tmp_path):
    ptm.load_cifar2(standin_copy)
    (path,) = cache_files(standin_copy)
    witness = tmp_path / "created-by-the-cache"

    class MakesAFile:
        def __reduce__(self):
            return (open, (str(witness), "w"))

    path.write_bytes(pickle.dumps(MakesAFile()))
    with pytest.warns(UserWarning, match="not a ptm CIFAR-2 cache file"):
        cifar2 = ptm.load_cifar2(standin_copy)
    assert not witness.exists()
    assert cifar2.train_images.shape == (300, 3, 32, 32)


def test_a_truncated_cache_is_rebuilt(standin_copy):
    first = ptm.load_cifar2(standin_copy)
    (path,) = cache_files(standin_copy)
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.warns(UserWarning, match="truncated"):
        assert torch.equal(ptm.load_cifar2(standin_copy).train_images, first.train_images)


def rewrite_header(path, change):
    """Rewrite a cache file's JSON header through ``change`` (keeping its length if asked)."""
    from ptm.cifar_tensors import CACHE_MAGIC

    data = path.read_bytes()
    start = len(CACHE_MAGIC)
    length, crc = struct.unpack("<QI", data[start : start + 12])
    header = json.loads(data[start + 12 : start + 12 + length])
    new = json.dumps(change(header)).encode()
    path.write_bytes(data[:start] + struct.pack("<QI", len(new), crc) + new
                     + data[start + 12 + length :])  # fmt: skip


@pytest.mark.parametrize(
    "change",
    [
        lambda h: {**h, "tensors": [h["tensors"][2], h["tensors"][3], h["tensors"][0],
                                    h["tensors"][1]]},  # train and validation swapped
        lambda h: {**h, "tensors": [[*h["tensors"][0][:2], [150, 6, 32, 32],
                                     h["tensors"][0][3]], *h["tensors"][1:]]},  # same bytes
        lambda h: {**h, "settings": {**h["settings"], "mean": [0.4915, 0.4822, 0.4465]}},
    ],
    ids=["names swapped", "another shape", "mean off by a digit"],
)  # fmt: skip
def test_damage_to_the_cache_header_is_caught_like_damage_to_the_data(standin_copy, change):
    first = ptm.load_cifar2(standin_copy)
    (path,) = cache_files(standin_copy)
    rewrite_header(path, change)
    with pytest.warns(UserWarning, match=r"is unusable \(its header's checksum does not match"):
        again = ptm.load_cifar2(standin_copy)
    assert torch.equal(again.train_images, first.train_images)
    assert torch.equal(again.val_labels, first.val_labels)


def test_a_cache_built_with_other_settings_is_rebuilt_with_one_warning(standin_copy):
    from ptm.cifar_tensors import Cifar2

    first = ptm.load_cifar2(standin_copy)
    (path,) = cache_files(standin_copy)
    with pytest.raises(ValueError, match=r"built with mean \[0\.4914.*not \[0\.4915"):
        Cifar2.read(path, (0.4915, 0.4822, 0.4465), ptm.CIFAR10_STD)
    other = dataclasses.replace(first, mean=(0.4915, 0.4822, 0.4465))
    with path.open("wb") as file:  # an intact cache under the key of other statistics
        other.write(file)
    with pytest.warns(UserWarning, match=r"built with mean \[0\.4915"):
        again = ptm.load_cifar2(standin_copy)
    assert again.mean == ptm.CIFAR10_MEAN


def test_loaded_tensors_own_their_memory_when_the_file_changes_later(standin_copy):
    """Rewriting the cache in place or truncating it after a load changes nothing loaded,
    and crashes nothing (file-backed memory would read the new bytes, or die with SIGBUS)."""
    ptm.load_cifar2(standin_copy)
    loaded = ptm.load_cifar2(standin_copy)  # from the cache
    expected = loaded.train_images.clone(), loaded.val_labels.clone()
    (path,) = cache_files(standin_copy)
    with path.open("r+b") as file:  # rewritten in place, as another program might
        file.seek(-4000, 2)
        file.write(b"\xff" * 4000)
    assert torch.equal(loaded.train_images, expected[0])
    with path.open("r+b") as file:
        file.truncate(100)
    assert float(loaded.train_images.sum()) == float(expected[0].sum())  # touches every page
    assert torch.equal(loaded.val_labels, expected[1])


def test_a_batch_damaged_after_caching_is_reported(standin_copy):
    ptm.load_cifar2(standin_copy)
    batch = standin_copy / BATCHES_FOLDER / "test_batch"
    batch.write_bytes(batch.read_bytes()[:-100])
    with pytest.raises(ptm.CifarCorruptedError, match="test_batch"):
        ptm.load_cifar2(standin_copy)


def test_a_read_only_data_folder_still_loads(standin_copy, monkeypatch):
    def refuse(path, write, sync=True):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(cifar_tensors, "atomic_write", refuse)
    with pytest.warns(UserWarning, match="could not write the CIFAR-2 cache"):
        cifar2 = ptm.load_cifar2(standin_copy)
    assert cifar2.train_images.shape == (300, 3, 32, 32)
    assert cache_files(standin_copy) == []


def test_two_processes_building_the_cache_at_once(standin_copy):
    script = (
        "import sys, ptm; c = ptm.load_cifar2(sys.argv[1]); "
        "print(float(c.train_images.sum()), len(c.val_labels))"
    )
    processes = [
        subprocess.Popen([sys.executable, "-c", script, str(standin_copy)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]  # fmt: skip
    outputs = [process.communicate(timeout=300) for process in processes]
    assert all(process.returncode == 0 for process in processes), outputs
    assert outputs[0][0] == outputs[1][0]
    assert len(cache_files(standin_copy)) == 1
    assert list((standin_copy / CACHE_FOLDER).glob("*.tmp")) == []
    expected = ptm.load_cifar2(standin_copy, cache=False)
    assert outputs[0][0].split()[0] == str(float(expected.train_images.sum()))


@pytest.mark.parametrize(
    "header",
    [
        b'{"format": 3, "settings": {}, "tensors": [["x", "float32", [4], []]]}',  # no checksums
        b'["not", "an", "object"]',
        b'{"format": 3}',
        b"\xff\xfe not utf-8",
    ],
)
def test_a_cache_with_a_malformed_header_is_rebuilt(standin_copy, header):
    import struct

    first = ptm.load_cifar2(standin_copy)
    (path,) = cache_files(standin_copy)
    path.write_bytes(cifar_tensors.CACHE_MAGIC + struct.pack("<Q", len(header)) + header)
    with pytest.warns(UserWarning, match="is unusable"):
        assert torch.equal(ptm.load_cifar2(standin_copy).val_images, first.val_images)
