"""ptm outside its checkout: a wheel installed elsewhere, run from an empty folder."""

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import PROJECT_ROOT

NOTEBOOKS = sorted(
    str(path.relative_to(PROJECT_ROOT / "notebooks"))
    for path in (PROJECT_ROOT / "notebooks").glob("*/*.ipynb")
)


def files_under(folder: Path) -> set[str]:
    return {
        str(path.relative_to(folder))
        for path in folder.rglob("*")
        if "__pycache__" not in str(path)
    }


@pytest.fixture(scope="module")
def installed_wheel(tmp_path_factory) -> Path:
    """The project built as a wheel and installed into a folder of its own."""
    work = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(work), str(PROJECT_ROOT)],
        check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    (wheel,) = work.glob("ptm_dlwpt-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    assert {f"ptm/notebooks/{name}" for name in NOTEBOOKS} <= names
    assert "ptm/notebooks/ko/glossary.csv" in names
    assert "ptm/py.typed" in names
    assert any(name.endswith("licenses/LICENSE") for name in names)
    target = work / "site"
    install = ["install", "--no-deps", "-q", "--target", str(target), str(wheel)]
    subprocess.run(
        [sys.executable, "-m", "pip", *install], check=True, capture_output=True, timeout=600
    )
    return target


@pytest.fixture
def outside(installed_wheel, tmp_path):
    """Run ``python -m ptm ...`` from an empty folder, importing the installed copy, with a
    private home and cache and no PTM_DATA_DIR."""
    workdir = tmp_path / "empty"
    workdir.mkdir()
    base_env = {
        **os.environ,
        "PYTHONPATH": str(installed_wheel),
        "HOME": str(tmp_path / "home"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "PTM_PROGRESS": "0",
    }
    base_env.pop("PTM_DATA_DIR", None)

    def run(*args: str, timeout: int = 600, env: dict | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, *args], cwd=workdir, env={**base_env, **(env or {})},
            capture_output=True, text=True, timeout=timeout,
        )  # fmt: skip

    return run, workdir, tmp_path / "cache"


@pytest.mark.slow
def test_the_installed_copy_is_the_one_imported(outside, installed_wheel):
    run, _, _ = outside
    result = run("-c", "import ptm; print(ptm.__file__)")
    assert Path(result.stdout.strip()).is_relative_to(installed_wheel), result.stderr


@pytest.mark.slow
def test_env_names_the_per_user_folder_and_its_rule(outside):
    run, workdir, cache = outside
    result = run("-m", "ptm", "env")
    assert result.returncode == 0, result.stderr
    if sys.platform.startswith("linux"):
        assert f"data dir     {cache / 'ptm' / 'p1ch7'} (the per-user cache folder" in result.stdout
    assert "data-unversioned" not in result.stdout
    assert list(workdir.iterdir()) == []


@pytest.mark.slow
def test_train_smoke_writes_nothing_to_the_working_folder_or_the_package(outside, installed_wheel):
    run, workdir, cache = outside
    before = files_under(installed_wheel)
    result = run("-m", "ptm", "train", "--smoke", "--epochs", "1", "--no-progress")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].startswith("train_accuracy=")
    assert list(workdir.iterdir()) == []
    assert files_under(installed_wheel) == before
    assert (cache / "ptm" / "standin").is_dir()


@pytest.mark.slow
def test_copy_and_run_the_installed_notebooks(outside, installed_wheel):
    run, workdir, _ = outside
    result = run("-m", "ptm", "copy-notebooks", "mine")
    assert result.returncode == 0, result.stderr
    copied = sorted(
        str(p.relative_to(workdir / "mine")) for p in (workdir / "mine").rglob("*.ipynb")
    )
    assert copied == NOTEBOOKS and (workdir / "mine" / "ko" / "glossary.csv").is_file()
    again = run("-m", "ptm", "copy-notebooks", "mine")
    assert again.returncode == 2 and "does not overwrite" in again.stderr
    korean = run("-m", "ptm", "copy-notebooks", "korean", "--lang", "ko")
    assert korean.returncode == 0 and not (workdir / "korean" / "en").exists()
    before = files_under(installed_wheel)
    # a relative PTM_DATA_DIR means the folder the command ran from, not the notebook's
    result = run("-m", "ptm", "notebooks", "--smoke", "--lang", "ko", "chapter7_exercises",
                 env={"PTM_DATA_DIR": "data/p1ch7"})  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok     ko/chapter7_exercises.ipynb" in result.stdout
    assert (workdir / "build" / "notebooks" / "ko" / "chapter7_exercises.html").is_file()
    assert (workdir / "data" / "standin").is_dir()
    assert files_under(installed_wheel) == before  # nothing written into the package
