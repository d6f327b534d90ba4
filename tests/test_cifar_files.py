"""CIFAR-10 on disk: where it lives, download, checks and safe reading (ptm.cifar_files)."""

import hashlib
import json
import pickle
import subprocess
import sys
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
from ptm import cifar_files, data_folder
from ptm.cifar_files import (
    BATCHES_FOLDER,
    STANDIN_MANIFEST,
    forget_checksums,
    read_batch,
)
from ptm.data_folder import DataFolderError, checkout_root, data_dir_rule, default_data_dir


@pytest.fixture
def no_network(monkeypatch):
    """Make every download attempt fail as it does offline, and count the attempts."""
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise urllib.error.URLError("[Errno -2] Name or service not known")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    return attempts


def folder_bytes(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def replace_and_vouch(folder: Path, name: str, data: bytes) -> None:
    """Put ``data`` in ``folder/name`` and update the stand-in manifest to match it, as a
    crafted "CIFAR" download would: the checksums then pass, and only the reading can refuse."""
    (folder / name).write_bytes(data)
    path = folder / STANDIN_MANIFEST
    manifest = json.loads(path.read_text())
    manifest["files"][name] = hashlib.md5(data).hexdigest()
    path.write_text(json.dumps(manifest))
    forget_checksums()


class MakesAFile:
    """Unpickling this creates a file: what a malicious pickle could do."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


# -- where the data lives ---------------------------------------------------------------


def test_checkout_rule_whatever_the_working_directory(monkeypatch, tmp_path):
    monkeypatch.delenv("PTM_DATA_DIR")
    monkeypatch.chdir(tmp_path)
    root = checkout_root()
    assert (root / "pyproject.toml").is_file() and (root / "src" / "ptm").is_dir()
    path, rule = data_dir_rule()
    assert path == root / "data-unversioned" / "p1ch7"
    assert "checkout" in rule


def test_environment_rule(monkeypatch, tmp_path):
    monkeypatch.setenv("PTM_DATA_DIR", str(tmp_path / "elsewhere"))
    assert default_data_dir() == tmp_path / "elsewhere"
    assert data_dir_rule()[1] == "set by PTM_DATA_DIR"


def test_outside_a_checkout_the_per_user_cache_never_the_working_directory(monkeypatch, tmp_path):
    monkeypatch.delenv("PTM_DATA_DIR")
    monkeypatch.setattr(data_folder, "checkout_root", lambda: None)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    path, rule = data_dir_rule()
    if sys.platform.startswith("linux"):
        assert path == tmp_path / "cache" / "ptm" / "p1ch7"
    assert "per-user" in rule
    assert not str(path).startswith(str(Path.cwd() / "data-unversioned"))


def test_data_dir_that_is_a_file_is_named(tmp_path, monkeypatch):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("not a folder")
    monkeypatch.setenv("PTM_DATA_DIR", str(a_file))
    with pytest.raises(DataFolderError, match=r"notes.txt: it is a file, not a folder.*PTM_DATA"):
        ptm.load_cifar10()


def test_unwritable_home_is_a_clear_error(tmp_path, monkeypatch, no_network):
    blocker = tmp_path / "home-is-a-file"
    blocker.write_text("")
    message = r"ptm cannot use the data folder .*home-is-a-file/p1ch7 \(Not a directory\).*PTM_DATA"
    with pytest.raises(DataFolderError, match=message):
        ptm.load_cifar10(True, blocker / "p1ch7")


@pytest.mark.parametrize(
    "command",
    [["train", "--smoke", "--no-progress"], ["train", "--no-progress"], ["env"]],
    ids=["stand-in", "download", "env"],
)
def test_an_unusable_data_folder_is_one_message_whatever_the_command(
    tmp_path, monkeypatch, capsys, no_network, command
):
    from ptm.cli import main

    blocker = tmp_path / "home-is-a-file"
    blocker.write_text("")
    monkeypatch.setenv("PTM_DATA_DIR", str(blocker / "cache" / "p1ch7"))
    code = main(command)
    err = capsys.readouterr().err
    if command == ["env"]:  # env reports where the data would be, and does not fail
        assert code == 0
        return
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert err.startswith(f"ptm: error: ptm cannot use the data folder {blocker}")
    assert "PTM_DATA_DIR" in err and "Traceback" not in err


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
    assert isinstance(train, torch.utils.data.Dataset)
    assert type(train).__mro__[1].__name__ == "CIFAR10"


def test_loader_applies_the_transform(standin_root):
    dataset = ptm.load_cifar10(True, standin_root, transform=transforms.ToTensor())
    image, _ = dataset[0]
    assert image.shape == (3, 32, 32) and image.dtype == torch.float32
    assert image.min() >= 0.0 and image.max() <= 1.0


def test_loader_uses_the_environment_variable(standin_root, monkeypatch):
    monkeypatch.setenv("PTM_DATA_DIR", str(standin_root))
    assert len(ptm.load_cifar10(train=False)) == 500


def test_a_folder_with_spaces_and_korean_letters(standin_copy):
    target = standin_copy.parent / "데이터 폴더" / "p1ch7"
    target.parent.mkdir()
    standin_copy.rename(target)
    assert len(ptm.load_cifar10(False, target)) == 500
    assert len(ptm.load_cifar2(target).val_labels) == 100


def test_an_extra_unknown_file_in_the_batches_folder_is_ignored(standin_copy):
    (standin_copy / BATCHES_FOLDER / "readme.html").write_text("<p>hello</p>")
    assert len(ptm.load_cifar10(False, standin_copy)) == 500


def test_offline_without_data_is_one_clear_error(tmp_path, no_network):
    with pytest.raises(ptm.CifarNotFoundError) as caught:
        ptm.load_cifar10(True, tmp_path / "data")
    message = str(caught.value)
    assert str(tmp_path / "data") in message
    assert "cifar-10-python.tar.gz" in message and "cifar-10-batches-py" in message
    assert "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz" in message
    assert "PTM_DATA_DIR" in message and "download failed" in message
    assert "data-unversioned/README" not in message  # a wheel user has no such file
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert no_network, "the real download path was not tried"
    assert isinstance(caught.value, FileNotFoundError)


def test_a_failed_download_leaves_no_folder_behind(tmp_path, no_network):
    target = tmp_path / "new" / "deeper" / "p1ch7"
    with pytest.raises(ptm.CifarNotFoundError):
        ptm.load_cifar10(True, target)
    assert not (tmp_path / "new").exists()
    assert tmp_path.exists()


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


def test_torchvisions_record_of_the_files_is_ours():
    from torchvision import datasets

    cifar = datasets.CIFAR10
    assert cifar.url == cifar_files.CIFAR10_URL and cifar.tgz_md5 == cifar_files.ARCHIVE_MD5
    assert dict(cifar.train_list) == cifar_files.TRAIN_FILES
    assert dict(cifar.test_list) == cifar_files.TEST_FILES
    assert (cifar.meta["filename"], cifar.meta["md5"]) == cifar_files.META_FILE


@pytest.mark.parametrize("files", [{}, {"data_batch_1": "0" * 32}])
def test_a_manifest_that_misses_files_is_a_clear_error(standin_copy, files):
    path = standin_copy / BATCHES_FOLDER / STANDIN_MANIFEST
    manifest = json.loads(path.read_text())
    path.write_text(json.dumps({**manifest, "files": files}))
    with pytest.raises(ptm.CifarCorruptedError, match=r"lists no checksum for \['batches.meta'"):
        ptm.load_cifar10(True, standin_copy)


def test_a_manifest_that_is_not_json_is_a_clear_error(standin_copy):
    (standin_copy / BATCHES_FOLDER / STANDIN_MANIFEST).write_text("{not json")
    with pytest.raises(ptm.CifarCorruptedError, match=r"manifest .* is not readable"):
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


def test_a_good_archive_is_unpacked(standin_root, tmp_path, monkeypatch):
    archive = tmp_path / "cifar-10-python.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(standin_root / BATCHES_FOLDER, arcname=BATCHES_FOLDER)
    # accept this archive as if it were the published one
    monkeypatch.setattr(cifar_files, "ARCHIVE_MD5", hashlib.md5(archive.read_bytes()).hexdigest())
    dataset = ptm.load_cifar10(False, tmp_path, download=False)
    assert len(dataset) == 500 and dataset.synthetic
    assert archive.is_file()  # kept


# -- no code runs from a data folder ---------------------------------------------------------


@pytest.mark.parametrize("loader", ["load_cifar10", "load_cifar2"])
def test_a_crafted_pickle_with_a_matching_manifest_runs_no_code(standin_copy, tmp_path, loader):
    witness = tmp_path / "created-by-the-pickle"
    folder = standin_copy / BATCHES_FOLDER
    replace_and_vouch(folder, "data_batch_1", pickle.dumps({"data": MakesAFile(witness)}))
    with pytest.raises(
        ptm.CifarCorruptedError,
        match=r"data_batch_1 cannot be read safely: it asks for (io|builtins)\.open",
    ):
        getattr(ptm, loader)(data_dir=standin_copy)
    assert not witness.exists()


def test_the_meta_file_is_read_safely_too(standin_copy, tmp_path):
    witness = tmp_path / "created-by-the-meta-file"
    folder = standin_copy / BATCHES_FOLDER
    replace_and_vouch(folder, "batches.meta", pickle.dumps({"label_names": MakesAFile(witness)}))
    with pytest.raises(ptm.CifarCorruptedError, match=r"batches\.meta cannot be read safely"):
        ptm.load_cifar10(False, standin_copy)
    assert not witness.exists()


def test_object_arrays_are_refused(standin_copy):
    folder = standin_copy / BATCHES_FOLDER
    entry = {"data": np.array([[1, "two"]], dtype=object), "labels": [0]}
    replace_and_vouch(folder, "test_batch", pickle.dumps(entry, protocol=2))
    with pytest.raises(ptm.CifarCorruptedError, match="object dtype"):
        ptm.load_cifar10(False, standin_copy)


@pytest.mark.parametrize("loader", ["load_cifar10", "load_cifar2"])
def test_a_batch_without_labels_names_the_file_and_the_key(standin_copy, loader):
    folder = standin_copy / BATCHES_FOLDER
    entry = read_batch(folder / "test_batch")
    del entry["labels"]
    replace_and_vouch(folder, "test_batch", pickle.dumps(entry, protocol=2))
    with pytest.raises(ptm.CifarCorruptedError, match=r"test_batch has no 'labels' entry"):
        if loader == "load_cifar10":
            ptm.load_cifar10(False, standin_copy)
        else:
            ptm.load_cifar2(standin_copy, cache=False)


def test_a_truncated_pickle_that_passes_the_checks_is_named(standin_copy):
    folder = standin_copy / BATCHES_FOLDER
    replace_and_vouch(folder, "test_batch", (folder / "test_batch").read_bytes()[:5000])
    with pytest.raises(
        ptm.CifarCorruptedError,
        match=r"test_batch cannot be read safely: the pickle data is truncated",
    ):
        ptm.load_cifar10(False, standin_copy)


def test_fine_labels_count_as_labels(tmp_path):
    path = tmp_path / "batch"
    path.write_bytes(pickle.dumps({"data": np.zeros((1, 3072), np.uint8), "fine_labels": [3]}))
    assert read_batch(path)["labels"] == [3]


def test_real_cifar_pickles_of_python_2_read(tmp_path):
    # CIFAR-10's files are Python 2 pickles (protocol 2, byte strings): what the real data holds
    entry = {
        b"batch_label": b"testing batch 1 of 1",
        b"labels": [1, 2],
        b"data": np.zeros((2, 3072), np.uint8),
    }
    path = tmp_path / "batch"
    path.write_bytes(
        pickle.dumps({key.decode(): value for key, value in entry.items()}, protocol=2)
    )
    assert read_batch(path)["labels"] == [1, 2]


def test_the_cli_names_the_damaged_file(standin_copy):
    folder = standin_copy / BATCHES_FOLDER
    entry = read_batch(folder / "data_batch_2")
    del entry["labels"]
    replace_and_vouch(folder, "data_batch_2", pickle.dumps(entry, protocol=2))
    command = ["train", "--data-dir", str(standin_copy), "--epochs", "1", "--no-progress"]
    result = subprocess.run(
        [sys.executable, "-m", "ptm", *command], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert "data_batch_2 has no 'labels' entry" in line and "KeyError" not in line
