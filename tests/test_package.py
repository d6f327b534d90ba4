"""The package as a whole: its front door, its import graph, and what importing it does."""

import ast
import inspect
import re
import subprocess
import sys
from pathlib import Path

from conftest import PROJECT_ROOT

import ptm

PACKAGE = PROJECT_ROOT / "src" / "ptm"
DATA_MODULES = {"cifar_files", "cifar_tensors", "standin", "augment", "wine", "files"}
MODEL_MODULES = {"classifier", "training", "checkpoint", "lessons", "experiments"}


def test_the_front_door_is_small_and_every_name_is_documented():
    assert len(ptm.__all__) <= 55
    for name in ptm.__all__:
        value = getattr(ptm, name)
        if callable(value):
            assert inspect.getdoc(value), f"ptm.{name} has no docstring"


def test_every_public_name_appears_in_the_readme():
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    missing = [name for name in ptm.__all__ if f"`{name}`" not in readme]
    assert missing == [], f"public names missing from the README's map: {missing}"


def test_every_module_of_the_package_appears_in_the_readme_map():
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    modules = sorted(path.name for path in PACKAGE.glob("*.py") if path.name != "__main__.py")
    assert [name for name in modules if f"`{name}`" not in readme] == []


def test_functions_point_back_to_the_book():
    book_functions = [
        "neuron",
        "plot_activations",
        "training_loop",
        "per_sample_loop",
        "minibatch_loop",
        "accuracy_loop",
        "split_train_val",
        "load_cifar10",
        "channel_stats",
        "load_cifar2",
        "build_fc_classifier",
        "train_classifier",
        "accuracy_under_shift",
        "plot_temperature_fit",
    ]
    for name in book_functions:
        assert "§" in inspect.getdoc(getattr(ptm, name)).split("\n\n")[0], name


def imported_modules(path: Path) -> set[str]:
    """The ptm modules that a module imports, at any depth of its code."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("ptm"):
            names.add(node.module.removeprefix("ptm").lstrip(".") or "")
            if node.module == "ptm":
                names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(
                a.name.removeprefix("ptm.") for a in node.names if a.name.startswith("ptm.")
            )
    return names


def test_data_modules_never_import_model_modules():
    for name in DATA_MODULES:
        seen, todo = set(), [name]
        while todo:  # follow the imports, so an indirect path counts too
            module = todo.pop()
            for imported in imported_modules(PACKAGE / f"{module}.py") & {
                path.stem for path in PACKAGE.glob("*.py")
            }:
                if imported not in seen:
                    seen.add(imported)
                    todo.append(imported)
        assert not seen & MODEL_MODULES, f"{name} depends on {sorted(seen & MODEL_MODULES)}"


PRIVATE_USE = re.compile(r"\b(?:ptm(?:\.\w+)*|\w+)\.(_[a-z]\w*)")


def test_no_private_name_is_used_outside_its_module():
    files = [*PACKAGE.glob("*.py"), *(PROJECT_ROOT / "tests").glob("*.py"),
             *(PROJECT_ROOT / "benchmarks").glob("*.py")]  # fmt: skip
    offenders = []
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ptm"):
                offenders += [
                    f"{path.name}: {a.name}" for a in node.names if a.name.startswith("_")
                ]
            if (
                isinstance(node, ast.Attribute)
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
                and isinstance(node.value, ast.Name | ast.Attribute)
                and ast.unparse(node.value).split(".")[0] in {"ptm", *MODULE_NAMES}
            ):
                offenders.append(f"{path.name}: {ast.unparse(node)}")
    assert offenders == []


MODULE_NAMES = {path.stem for path in PACKAGE.glob("*.py")}


def test_import_has_no_side_effects(tmp_path):
    script = """
import os, sys, torch, matplotlib
state = torch.random.get_rng_state()
params = dict(dict.items(matplotlib.rcParams))  # reading rcParams["backend"] would load pyplot
before = set(os.listdir("."))
import ptm
assert torch.equal(state, torch.random.get_rng_state()), "random state changed"
assert dict(dict.items(matplotlib.rcParams)) == params, "matplotlib settings changed"
assert "matplotlib.pyplot" not in sys.modules, "pyplot imported"
assert set(os.listdir(".")) == before, "files written"
print("clean")
"""
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
        check=False,
    )
    assert result.stdout.strip() == "clean", result.stderr


def test_import_loads_neither_torch_nor_matplotlib_until_needed(tmp_path):
    script = (
        "import sys, ptm; print(sorted(m for m in ('torch', 'torchvision', 'matplotlib') "
        "if m in sys.modules)); ptm.CLASS_NAMES; print('torchvision' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, timeout=300
    )
    assert result.stdout.split() == ["[]", "False"], result.stderr


def test_unknown_names_are_an_attribute_error():
    import pytest

    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        ptm.nonexistent  # noqa: B018


def test_each_modules_public_list_is_its_api_for_users():
    """``__all__`` lists what a user imports, each name defined and documented; helpers
    shared between ptm's modules are plain names that their module's ``__all__`` leaves out
    (a private ``_name`` is never used outside its module: the test above)."""
    import importlib

    total = 0
    for path in sorted(PACKAGE.glob("*.py")):
        if path.stem in {"__init__", "__main__"}:
            continue
        module = importlib.import_module(f"ptm.{path.stem}")
        public = getattr(module, "__all__", None)
        assert public is not None, f"ptm.{path.stem} has no __all__"
        total += len(public)
        for name in public:
            value = getattr(module, name)  # defined
            if inspect.isfunction(value) or inspect.isclass(value):
                assert inspect.getdoc(value), f"ptm.{path.stem}.{name} has no docstring"
    assert total <= 120, f"the modules list {total} public names: keep __all__ for users"


MYPY_CONFIG = """
[mypy]
follow_imports = silent
ignore_missing_imports = True
[mypy-torch.*,torchvision.*,matplotlib.*,numpy.*,PIL.*,tqdm.*,IPython.*,nbformat.*,nbclient.*]
follow_imports = skip
"""


def test_type_checkers_see_the_public_names_with_their_signatures(tmp_path):
    """``ptm.plot_loss`` is ptm.plots.plot_loss to mypy (not Any), though ``import ptm`` loads
    it lazily: a wrong call through ``ptm.`` is reported."""
    pytest = __import__("pytest")
    pytest.importorskip("mypy", reason="mypy is in the dev extra")
    (tmp_path / "mypy.ini").write_text(MYPY_CONFIG)
    (tmp_path / "check.py").write_text(
        'import ptm\n\nptm.plot_loss("not a history", axx=1)\nptm.train_classifier()\n'
    )
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", "mypy.ini", "--no-incremental",
         "check.py"],
        capture_output=True, text=True, cwd=tmp_path, timeout=300, check=False,
    )  # fmt: skip
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    assert 'Unexpected keyword argument "axx" for "plot_loss"' in result.stdout
    assert 'Argument 1 to "plot_loss" has incompatible type "str"; expected "History"' in (
        result.stdout
    )
    assert 'Missing positional arguments "model", "train_data"' in result.stdout
    assert len(errors) == 3, result.stdout
