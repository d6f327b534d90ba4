import re
import subprocess
import sys
import urllib.error
import urllib.request

import nbformat
import pytest
import torch
from conftest import PROJECT_ROOT

import ptm
import ptm.temperature
from ptm.cli import main


def run_ptm(*args: str, env_data_dir=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ptm", *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.mark.slow
def test_train_smoke_ends_with_the_accuracies_and_saves(tmp_path):
    checkpoint = tmp_path / "model.pt"
    result = run_ptm(
        "train",
        "--smoke",
        "--epochs",
        "2",
        "--hidden-sizes",
        "64",
        "--log-every",
        "1",
        "--no-progress",
        "--save",
        str(checkpoint),
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert "synthetic stand-in data" in lines[0]
    assert "3072-64-2" in lines[1]
    assert re.fullmatch(r"train_accuracy=0\.\d{4} val_accuracy=0\.\d{4}", lines[-1])
    assert sum(line.startswith("Epoch ") for line in lines) == 2
    restored = ptm.load_checkpoint(checkpoint)
    assert restored.architecture["hidden_sizes"] == [64]
    assert restored.recipe.n_epochs == 2 and restored.settings["data"] == "synthetic stand-in"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--lr", "-1"], "lr must be a finite number above 0, e.g. 1e-2, got -1.0"),
        (["--lr", "inf"], "lr must be a finite number above 0, e.g. 1e-2, got inf"),
        (["--device", "tpu"], "unknown device 'tpu'"),
    ],
)
def test_train_errors_are_one_line(args, message, capsys):
    assert main(["train", "--smoke", "--epochs", "1", "--no-progress", *args]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and error.startswith("ptm: error: ") and message in error


@pytest.mark.parametrize("args", [["--lr", "0"], ["--device", "tpu"]])
def test_train_checks_settings_before_looking_for_data(args, tmp_path, monkeypatch, capsys):
    def no_download(*args, **kwargs):
        raise AssertionError("tried to download before checking the settings")

    monkeypatch.setattr(urllib.request, "urlopen", no_download)
    assert main(["train", "--data-dir", str(tmp_path), *args]) == 2
    assert list(tmp_path.iterdir()) == []


def test_unexpected_errors_are_one_line_too(monkeypatch, capsys):
    def broken(*args, **kwargs):
        raise RuntimeError("CUDA out of memory.\nTried to allocate 2 GiB")

    monkeypatch.setattr(ptm.temperature, "fit_temperature", broken)
    assert main(["temperature"]) == 2
    assert capsys.readouterr().err == (
        "ptm: error: RuntimeError: CUDA out of memory. Tried to allocate 2 GiB\n"
    )
    with pytest.raises(RuntimeError):
        main(["--traceback", "temperature"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["train", "--batch-size", "0"],
            "--batch-size: expected a whole number of at least 1, got 0",
        ),
        (["train", "--epochs", "abc"], "--epochs: expected a whole number such as 10, got 'abc'"),
        (["train", "--lr", "fast"], "--lr: expected a number such as 1e-2, got 'fast'"),
        (["train", "--seed", "x"], "--seed: invalid int value: 'x'"),
        (["train", "--bogus"], "unrecognized arguments: --bogus"),
        (["frob"], "unknown command: 'frob'"),
        (["temperature", "--model", "cubic"], "--model: invalid choice: 'cubic'"),
        (["copy-notebooks"], "the following arguments are required: folder"),
    ],
)
def test_usage_errors_are_one_line_in_plain_words(args, message, capsys):
    with pytest.raises(SystemExit) as caught:
        main(args)
    assert caught.value.code == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and error.startswith("ptm") and message in error
    assert "_positive" not in error and "Traceback" not in error


def test_train_without_data_offline_is_one_line(tmp_path, monkeypatch, capsys):
    def refuse(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    assert main(["train", "--data-dir", str(tmp_path), "--no-progress"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert "CIFAR-10 is not available" in error and str(tmp_path) in error
    assert "cifar-10-python.tar.gz" in error


def test_temperature_command(capsys):
    assert main(["temperature", "--model", "linear", "--epochs", "1000"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("Epoch 1, Training loss") and out[1].startswith("Epoch 1000,")
    assert out[2:4] == ["weight (1, 1)", "bias (1,)"]
    assert re.fullmatch(r"train_loss=\d+\.\d{4} val_loss=\d+\.\d{4}", out[-1])


def test_temperature_divergence_is_one_line(capsys):
    assert main(["temperature", "--model", "linear", "--lr", "10", "--epochs", "100"]) == 2
    assert "training loss became inf or NaN at epoch" in capsys.readouterr().err


def test_env_report(capsys, standin_root):
    assert main(["env", "--data-dir", str(standin_root)]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^torch\s+\d+\.\d+", out, re.MULTILINE)
    assert "device       cpu" in out or "device       cuda" in out
    assert "synthetic stand-in" in out


def test_env_report_does_not_unpack_an_archive(tmp_path, capsys):
    (tmp_path / "cifar-10-python.tar.gz").write_bytes(b"archive")
    assert main(["env", "--data-dir", str(tmp_path)]) == 0
    assert "cifar-10-python.tar.gz present, unpacked on first load" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cifar-10-python.tar.gz"]


def test_figures_command_writes_the_readme_figures(tmp_path, capsys):
    assert main(["figures", "--out", str(tmp_path)]) == 0
    written = sorted(path.name for path in tmp_path.iterdir())
    assert written == sorted(
        [
            "activations.png",
            "tanh_composition.png",
            "temperature_fit.png",
            "temperature_loss.png",
            "temperature_linear_loss.png",
            "figure_data.json",
        ]
    )
    pictures = [name for name in written if name.endswith(".png")]
    assert all((tmp_path / name).read_bytes().startswith(b"\x89PNG") for name in pictures)


def test_module_entry_point_help():
    result = run_ptm("--help")
    assert result.returncode == 0
    for command in ("train", "temperature", "env", "figures", "notebooks", "copy-notebooks"):
        assert command in result.stdout
    assert "``" not in result.stdout  # plain text, no reStructuredText markup


def test_version_and_bare_command(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["--version"])
    assert caught.value.code == 0
    assert capsys.readouterr().out.strip() == f"ptm {ptm.__version__}"
    assert main([]) == 0
    assert capsys.readouterr().out.startswith("usage: ptm")


def test_help_shows_defaults(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    for default in ("(default: 64)", "(default: 0.01)", "(default: 0)", "(default: 10)"):
        assert default in out


def test_save_is_checked_before_the_first_epoch(tmp_path, capsys):
    a_file = tmp_path / "file"
    a_file.write_text("")
    assert main(["train", "--smoke", "--no-progress", "--save", str(a_file / "model.pt")]) == 2
    captured = capsys.readouterr()
    assert "is a file, so no folder can be made there" in captured.err
    assert "Epoch" not in captured.out
    assert main(["train", "--smoke", "--no-progress", "--save", str(tmp_path)]) == 2
    assert "is a folder: give a file name" in capsys.readouterr().err


def test_ctrl_c_during_training_saves_what_was_trained(tmp_path, monkeypatch, capsys):
    from ptm import classifier

    real_fit = classifier.fit

    def fit_then_interrupt(*args, **kwargs):
        kwargs["n_epochs"] = 2
        history = real_fit(*args, **kwargs)
        interrupt = KeyboardInterrupt()
        interrupt.history = history
        raise interrupt

    monkeypatch.setattr(classifier, "fit", fit_then_interrupt)
    path = tmp_path / "model.pt"
    assert main(["train", "--smoke", "--no-progress", "--save", str(path)]) == 130
    assert "interrupted after 2 epochs: saved" in capsys.readouterr().err
    restored = ptm.load_checkpoint(path)
    assert len(restored.history) == 2 and restored.recipe.n_epochs == 3  # of the 3 asked for


def test_a_checkpoint_saved_on_ctrl_c_equals_a_run_of_that_many_epochs(tmp_path, capsys):
    """Ctrl-C inside epoch 3: the checkpoint holds the weights at the end of epoch 2, equal to
    a run of 2 epochs from the same start, and a history of 2 epochs."""
    from ptm import training

    real = training.train_one_epoch
    calls = []

    def interrupted_inside_epoch_3(model, loss_fn, optimizer, batches, *args):
        calls.append(1)

        def two_steps_then_ctrl_c():
            for index, batch in enumerate(batches):
                if index == 2:
                    raise KeyboardInterrupt
                yield batch

        return real(
            model, loss_fn, optimizer, two_steps_then_ctrl_c() if len(calls) == 3 else batches,
            *args,
        )  # fmt: skip

    training.train_one_epoch = interrupted_inside_epoch_3
    try:
        code = main(["train", "--smoke", "--no-progress", "--save", str(tmp_path / "cut.pt")])
    finally:
        training.train_one_epoch = real
    assert code == 130
    assert main(["train", "--smoke", "--no-progress", "--epochs", "2", "--save",
                 str(tmp_path / "two.pt")]) == 0  # fmt: skip
    cut, two = ptm.load_checkpoint(tmp_path / "cut.pt"), ptm.load_checkpoint(tmp_path / "two.pt")
    assert len(cut.history) == 2 and cut.history.train_loss == two.history.train_loss
    for name, tensor in two.model.state_dict().items():
        assert torch.equal(cut.model.state_dict()[name], tensor), name


def final_lines(seed: str) -> list[str]:
    result = run_ptm(
        "train", "--smoke", "--epochs", "2", "--log-every", "1", "--no-progress", "--seed", seed
    )
    assert result.returncode == 0, result.stderr
    return [re.sub(r" \(\d+\.\d+ s\)$", "", line) for line in result.stdout.splitlines()]


@pytest.mark.slow
def test_training_is_deterministic_across_processes():
    first, second, other = final_lines("0"), final_lines("0"), final_lines("1")
    assert first == second
    assert first[-1].startswith("train_accuracy=")
    assert [line for line in first if line.startswith("Epoch")] != [
        line for line in other if line.startswith("Epoch")
    ]


def write_notebook(path, source, data=None):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source)]
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    if data:
        notebook.metadata["ptm"] = {"data": data}
    nbformat.write(notebook, str(path))


@pytest.mark.slow
def test_main_job_falls_back_to_the_standin_and_reports_each_notebook(
    tmp_path, monkeypatch, capsys
):
    def refuse(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    monkeypatch.setenv("PTM_DATA_DIR", str(tmp_path / "data" / "p1ch7"))
    folder = tmp_path / "notebooks"
    folder.mkdir()
    show_env = 'import os; print({k: os.environ.get(k) for k in ("PTM_STANDIN", "PTM_PROGRESS")})'
    write_notebook(folder / "a_cifar.ipynb", show_env, data="cifar10")
    write_notebook(folder / "b_broken.ipynb", "1 / 0")
    out = tmp_path / "out"
    assert main(["notebooks", "--folder", str(folder), "--out", str(out)]) == 1
    lines = capsys.readouterr().out.splitlines()
    (cifar_line,) = [line for line in lines if "a_cifar.ipynb" in line and "s   data:" in line]
    assert cifar_line.startswith("ok ")
    assert "data: synthetic stand-in, not CIFAR-10 (CIFAR-10 is not available" in cifar_line
    (broken_line,) = [line for line in lines if "b_broken.ipynb" in line and "s   data:" in line]
    assert broken_line.startswith("FAILED") and "data: built-in" in broken_line
    assert any("ZeroDivisionError" in line for line in lines)
    executed = nbformat.read(str(out / "a_cifar.ipynb"), as_version=4)
    assert "'PTM_STANDIN': '1', 'PTM_PROGRESS': '0'" in executed.cells[0].outputs[0]["text"]
    assert (out / "a_cifar.html").is_file() and (out / "b_broken.html").is_file()


def test_committed_readme_figures_match_what_ptm_draws_today():
    import json

    from ptm.cli import chapter6_figures
    from ptm.plots import figure_data

    folder = PROJECT_ROOT / "docs" / "figures"
    committed = json.loads((folder / "figure_data.json").read_text(encoding="utf-8"))
    today = {name: figure_data(figure) for name, figure in chapter6_figures().items()}
    assert sorted(today) == sorted(committed)
    for name, panels in today.items():
        assert (folder / name).is_file()
        for panel, stored in zip(panels, committed[name], strict=True):
            assert panel["title"] == stored["title"], name
            for line, stored_line in zip(panel["lines"], stored["lines"], strict=True):
                assert line["label"] == stored_line["label"], name
                assert line["y"] == pytest.approx(stored_line["y"], rel=1e-4, abs=1e-6), (
                    f"{name}: the figure's data drifted; run `make figures` and commit the result"
                )


def test_notebooks_without_the_notebook_extra_name_the_extra(monkeypatch, capsys):
    import builtins

    real_import = builtins.__import__

    def without_nbclient(name, *args, **kwargs):
        if name in ("nbclient", "nbformat"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_nbclient)
    assert main(["notebooks", "--smoke"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert "pip install 'ptm-dlwpt[notebooks]'" in error and "nbclient" in error


def test_notebooks_can_be_chosen_by_name(capsys):
    assert main(["notebooks", "--smoke", "chapter9"]) == 2
    assert "no notebook 'chapter9'" in capsys.readouterr().err


def test_errors_speak_of_options_not_of_python_arguments(capsys, monkeypatch, tmp_path):
    assert main(["train", "--smoke", "--device", "cuda:7", "--no-progress"]) == 2
    error = capsys.readouterr().err
    assert "--device cuda:7" in error and "use --device auto" in error and "device=" not in error
    assert main(["train", "--lr", "0", "--smoke"]) == 2
    assert capsys.readouterr().err.startswith("ptm: error: --lr 0.0: lr must be a finite number")
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: (_ for _ in ()).throw(
        urllib.error.URLError("no network")))  # fmt: skip
    assert main(["train", "--data-dir", str(tmp_path / "none"), "--no-progress"]) == 2
    error = capsys.readouterr().err
    assert "--data-dir" in error and "data_dir=" not in error


def test_global_options_work_after_the_command(capsys):
    from ptm.cli import UsageError

    with pytest.raises(UsageError, match="lr must be a finite number"):
        main(["train", "--lr", "0", "--traceback"])  # the full error, not the one line
    assert main(["train", "--lr", "0"]) == 2


def test_notebooks_by_language(tmp_path, capsys):
    folder = tmp_path / "notebooks"
    for lang in ("en", "ko"):
        (folder / lang).mkdir(parents=True)
        write_notebook(folder / lang / "a_small.ipynb", f"print({lang!r})")
    out = tmp_path / "out"
    assert main(["notebooks", "--folder", str(folder), "--out", str(out), "--lang", "ko"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[1] for line in lines if line.startswith("ok ")] == ["ko/a_small.ipynb"]
    assert (out / "ko" / "a_small.html").is_file() and not (out / "en").exists()
    assert main(["notebooks", "--folder", str(folder), "--out", str(out), "a_small"]) == 0
    lines = capsys.readouterr().out.splitlines()
    ran = [line.split()[1] for line in lines if line.startswith("ok ")]
    assert ran == ["en/a_small.ipynb", "ko/a_small.ipynb"]  # both languages by default
