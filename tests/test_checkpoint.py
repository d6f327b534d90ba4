import os

import pytest
import torch

import ptm
import ptm.checkpoint
from ptm.classifier import describe_architecture


@pytest.fixture
def trained(cifar2):
    model = ptm.build_fc_classifier((32,), seed=0)
    history = ptm.train_classifier(
        model, cifar2.train, cifar2.val, n_epochs=2, progress=False, log_every=None
    )
    return model, history


def test_round_trip_keeps_weights_history_and_settings(tmp_path, trained, cifar2):
    model, history = trained
    settings = {"n_epochs": 2, "seed": 0, "mean": list(ptm.CIFAR10_MEAN), "lr": 1e-2}
    path = ptm.save_checkpoint(tmp_path / "model.pt", model, history, settings)
    restored = ptm.load_checkpoint(path)
    assert restored.history == history
    assert restored.settings == settings
    assert restored.architecture == describe_architecture(model)
    for name, tensor in model.state_dict().items():
        assert torch.equal(restored.model.state_dict()[name], tensor)
    assert torch.equal(
        ptm.predict(restored.model, cifar2.val_images), ptm.predict(model, cifar2.val_images)
    )


def test_the_recipe_is_stored_and_given_back(tmp_path, trained):
    model, history = trained
    recipe = ptm.recipes.vary(ptm.recipes.CLASSIFIER, hidden_sizes=(32,), n_epochs=2, lr=5e-3)
    path = ptm.save_checkpoint(tmp_path / "model.pt", model, history, recipe=recipe)
    restored = ptm.load_checkpoint(path)
    assert restored.recipe == recipe and restored.recipe.hidden_sizes == (32,)
    assert "lr 0.005" in repr(restored)


def test_a_checkpoint_of_ptm_0_2_still_loads(tmp_path, trained):
    model, history = trained
    payload = {
        "format": "ptm-checkpoint",
        "version": 1,
        "architecture": describe_architecture(model),
        "state_dict": model.state_dict(),
        "history": history.as_dict(),
        "settings": {"n_epochs": 2, "lr": 0.01},
    }
    torch.save(payload, tmp_path / "old.pt")
    restored = ptm.load_checkpoint(tmp_path / "old.pt")
    assert restored.recipe is None and restored.settings["n_epochs"] == 2
    assert torch.equal(restored.model[1].weight, model[1].weight)
    torch.save({**payload, "version": 3}, tmp_path / "new.pt")
    with pytest.raises(ValueError, match=r"version 3, written by a newer ptm.*pip install -U"):
        ptm.load_checkpoint(tmp_path / "new.pt")


def test_loading_into_a_model_of_the_same_architecture(tmp_path, trained):
    model, _ = trained
    ptm.save_checkpoint(tmp_path / "model.pt", model)
    target = ptm.build_fc_classifier((32,), seed=9)
    restored = ptm.load_checkpoint(tmp_path / "model.pt", target)
    assert restored.model is target and restored.history is None
    assert torch.equal(target[1].weight, model[1].weight)


def test_loading_into_a_different_architecture_is_a_clear_error(tmp_path, trained):
    model, _ = trained
    ptm.save_checkpoint(tmp_path / "model.pt", model)
    with pytest.raises(
        ValueError, match=r"holds a 3072-32-2 classifier .* model given is 3072-512-2"
    ):
        ptm.load_checkpoint(tmp_path / "model.pt", ptm.build_fc_classifier())


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"no checkpoint file at .*absent\.pt"):
        ptm.load_checkpoint(tmp_path / "absent.pt")


@pytest.mark.parametrize(
    "write",
    [
        lambda path: path.write_text("not a checkpoint"),
        lambda path: path.write_bytes(os.urandom(200)),
        lambda path: torch.save({"weights": torch.zeros(3)}, path),
        lambda path: torch.save([1, 2, 3], path),
    ],
)
def test_foreign_files_are_refused(tmp_path, write):
    path = tmp_path / "foreign.pt"
    write(path)
    with pytest.raises(ValueError, match="is not a ptm checkpoint"):
        ptm.load_checkpoint(path)


def test_an_interrupted_save_leaves_the_old_file_intact(tmp_path, trained, monkeypatch):
    model, history = trained
    path = ptm.save_checkpoint(tmp_path / "model.pt", model, history)
    good_bytes = path.read_bytes()

    def crash_half_way(obj, file):
        file.write(b"partial data")
        raise KeyboardInterrupt

    monkeypatch.setattr(ptm.checkpoint.torch, "save", crash_half_way)
    with pytest.raises(KeyboardInterrupt):
        ptm.save_checkpoint(path, ptm.build_fc_classifier((32,), seed=5))
    assert path.read_bytes() == good_bytes
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.pt"]  # no temporary left over


def test_a_crafted_checkpoint_runs_no_code(tmp_path):
    import pickle

    witness = tmp_path / "created-by-the-checkpoint"

    class MakesAFile:
        def __reduce__(self):
            return (open, (str(witness), "w"))

    path = tmp_path / "crafted.pt"
    with path.open("wb") as file:
        pickle.dump({"format": "ptm-checkpoint", "payload": MakesAFile()}, file, protocol=2)
    with pytest.raises(ValueError, match="is not a ptm checkpoint"):
        ptm.load_checkpoint(path)
    torch_zip = tmp_path / "crafted-zip.pt"
    torch.save({"format": "ptm-checkpoint", "payload": MakesAFile()}, torch_zip)
    witness.unlink(missing_ok=True)  # torch.save itself does not run __reduce__'s call
    with pytest.raises(ValueError, match="is not a ptm checkpoint") as caught:
        ptm.load_checkpoint(torch_zip)
    assert not witness.exists()
    assert "\x1b" not in str(caught.value)


def test_settings_must_be_plain_values(tmp_path, trained):
    model, _ = trained
    with pytest.raises(ValueError, match=r"settings\['data_dir'\] is a PosixPath"):
        ptm.save_checkpoint(tmp_path / "model.pt", model, settings={"data_dir": tmp_path})
    with pytest.raises(ValueError, match=r"settings\['mean'\]\[0\] is a Tensor"):
        ptm.save_checkpoint(tmp_path / "model.pt", model, settings={"mean": [torch.tensor(0.5)]})
    assert not (tmp_path / "model.pt").exists()


def test_saved_files_follow_the_umask(tmp_path, trained):
    model, _ = trained
    old_mask = os.umask(0o022)
    try:
        path = ptm.save_checkpoint(tmp_path / "model.pt", model)
    finally:
        os.umask(old_mask)
    assert path.stat().st_mode & 0o777 == 0o644
