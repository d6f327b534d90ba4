import pickle

import numpy as np
import pytest

import ptm
from ptm.cifar_files import BATCHES_FOLDER, STANDIN_MANIFEST
from ptm.standin import STANDIN_BANNER, standin_data_dir


def test_standin_has_cifar10s_layout(standin_root):
    folder = standin_root / BATCHES_FOLDER
    names = sorted(path.name for path in folder.iterdir())
    assert names == sorted(
        [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch", "batches.meta", STANDIN_MANIFEST]
    )
    with (folder / "data_batch_2").open("rb") as file:
        entry = pickle.load(file, encoding="latin1")
    assert entry["data"].shape == (300, 3072) and entry["data"].dtype == np.uint8
    assert len(entry["labels"]) == 300
    with (folder / "batches.meta").open("rb") as file:
        assert pickle.load(file, encoding="latin1")["label_names"] == list(ptm.CLASS_NAMES)


def test_same_arguments_write_the_same_bytes(tmp_path):
    first = ptm.write_standin_cifar10(tmp_path / "a", 10, 2, seed=1) / BATCHES_FOLDER
    second = ptm.write_standin_cifar10(tmp_path / "b", 10, 2, seed=1) / BATCHES_FOLDER
    other = ptm.write_standin_cifar10(tmp_path / "c", 10, 2, seed=2) / BATCHES_FOLDER
    for name in ["data_batch_1", "test_batch", "batches.meta"]:
        assert (first / name).read_bytes() == (second / name).read_bytes()
    assert (first / "test_batch").read_bytes() != (other / "test_batch").read_bytes()


def test_existing_data_is_never_overwritten(tmp_path):
    ptm.write_standin_cifar10(tmp_path, 10, 2)
    before = (tmp_path / BATCHES_FOLDER / "test_batch").read_bytes()
    with pytest.raises(FileExistsError, match="does not overwrite"):
        ptm.write_standin_cifar10(tmp_path, 10, 2, seed=5)
    assert (tmp_path / BATCHES_FOLDER / "test_batch").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [BATCHES_FOLDER]  # no work folder left


def test_too_few_images_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="at least 5 training"):
        ptm.write_standin_cifar10(tmp_path, 2, 2)


def test_classes_differ_in_structure(standin_root):
    dataset = ptm.load_cifar10(True, standin_root)
    images = dataset.data.astype(np.float64)
    labels = np.asarray(dataset.targets)
    mean_airplane = images[labels == 0].mean(axis=0)
    mean_bird = images[labels == 2].mean(axis=0)
    # the average airplane and the average bird differ far more than two halves of the airplanes
    airplanes = images[labels == 0]
    half_gap = np.abs(airplanes[::2].mean(axis=0) - airplanes[1::2].mean(axis=0)).mean()
    assert np.abs(mean_airplane - mean_bird).mean() > 2 * half_gap


def test_choose_the_standin_on_request(monkeypatch, tmp_path):
    monkeypatch.setenv("PTM_DATA_DIR", str(tmp_path / "cifar"))
    source = ptm.choose_data_source(use_standin=True, standin_size="smoke")
    assert source.synthetic
    assert source.data_dir == tmp_path / "standin" / "smoke-200-50-seed0"  # beside the real data
    assert STANDIN_BANNER in source.banner
    assert len(ptm.load_cifar10(False, source.data_dir)) == 500
    again = ptm.choose_data_source(use_standin=True, standin_size="smoke")
    assert again.data_dir == source.data_dir  # written once, reused
    with pytest.raises(ValueError, match="unknown stand-in size 'huge'"):
        standin_data_dir("huge")


def test_missing_real_data_falls_back_only_when_allowed(monkeypatch, tmp_path):
    monkeypatch.setenv("PTM_DATA_DIR", str(tmp_path / "cifar"))
    with pytest.raises(ptm.CifarNotFoundError):
        ptm.choose_data_source(tmp_path / "empty", download=False)
    source = ptm.choose_data_source(
        tmp_path / "empty", download=False, fallback_to_standin=True, standin_size="smoke"
    )
    assert source.synthetic and "CIFAR-10 is not available" in source.reason
    assert "not CIFAR-10's" in source.banner
    assert source.data_dir.parent == tmp_path / "standin"


def test_real_looking_folder_is_reported_as_what_it_is(standin_root):
    source = ptm.choose_data_source(standin_root, download=False)
    assert source.synthetic and "stand-in" in source.reason


def test_the_banner_says_why_the_standin_is_used_in_the_notebooks_language(monkeypatch, tmp_path):
    monkeypatch.setenv("PTM_DATA_DIR", str(tmp_path / "cifar"))
    source = ptm.choose_data_source(use_standin=True, standin_size="smoke")
    # make run asks for the stand-in when CIFAR-10 is missing: the banner says both
    assert source.banner.endswith(
        f"(the stand-in was asked for; CIFAR-10 is not in {tmp_path / 'cifar'})."
    )
    korean = ptm.choose_data_source(use_standin=True, standin_size="smoke", lang="ko")
    assert korean.banner.startswith("참고: 합성 대체 데이터(synthetic stand-in)입니다.")
    assert f"{tmp_path / 'cifar'}에 CIFAR-10이 없음" in korean.banner
    (tmp_path / "cifar" / "cifar-10-batches-py").mkdir(parents=True)
    asked = ptm.choose_data_source(use_standin=True, standin_size="smoke")
    assert asked.banner.endswith("(the stand-in was asked for).")
    with pytest.raises(ValueError, match="lang must be one of 'en', 'ko', got 'fr'"):
        ptm.choose_data_source(use_standin=True, lang="fr")
