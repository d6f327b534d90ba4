import re
import subprocess
import sys
import urllib.error
import urllib.request

import nbformat
import pytest

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
        "--hidden",
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
    assert restored.settings["n_epochs"] == 2 and restored.settings["data"] == "synthetic stand-in"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--lr", "-1"], "lr must be a number above 0, got -1.0"),
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


def test_bad_option_values_are_refused_by_the_parser(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["train", "--batch-size", "0"])
    assert caught.value.code == 2
    assert "must be at least 1, got 0" in capsys.readouterr().err


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
    assert "became inf or NaN at epoch" in capsys.readouterr().err


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
        ]
    )
    assert all((tmp_path / name).read_bytes().startswith(b"\x89PNG") for name in written)


def test_module_entry_point_help():
    result = run_ptm("--help")
    assert result.returncode == 0
    for command in ("train", "temperature", "env", "figures", "notebooks"):
        assert command in result.stdout


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
