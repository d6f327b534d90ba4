"""Every chapter notebook runs top to bottom in a real Jupyter kernel (smoke mode)."""

import ast
import inspect
import json
import re
import textwrap

import nbformat
import pytest
from conftest import PROJECT_ROOT

from ptm import lessons
from ptm.notebook_runner import execute_notebook, find_notebooks, notebook_data_need

NOTEBOOKS = find_notebooks(PROJECT_ROOT / "notebooks")
SECTIONS = {
    "chapter6_neural_networks.ipynb": [
        "6.1",
        "6.1.1",
        "6.1.2",
        "6.1.3",
        "6.1.4",
        "6.1.5",
        "6.1.6",
        "6.2",
        "6.2.1",
        "6.2.2",
        "6.3",
        "6.3.1",
        "6.3.2",
        "6.3.3",
    ],
    "chapter6_exercises.ipynb": [],
    "chapter7_exercises.ipynb": [],
    "chapter7_birds_vs_airplanes.ipynb": [
        "7.1",
        "7.1.1",
        "7.1.2",
        "7.1.3",
        "7.1.4",
        "7.2",
        "7.2.1",
        "7.2.2",
        "7.2.3",
        "7.2.4",
        "7.2.5",
        "7.2.6",
        "7.2.7",
    ],
}


def test_one_notebook_per_chapter_and_one_of_its_exercises():
    assert [path.name for path in NOTEBOOKS] == sorted(SECTIONS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_is_committed_without_outputs(path):
    notebook = json.loads(path.read_text())
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_follows_the_sections_of_the_notes(path):
    notebook = nbformat.read(str(path), as_version=4)
    headings = [
        line
        for cell in notebook.cells
        if cell.cell_type == "markdown"
        for line in cell.source.splitlines()
        if line.startswith("#")
    ]
    numbers = [re.match(r"#+ (\d+(?:\.\d+)+) ", line) for line in headings]
    assert [match.group(1) for match in numbers if match] == SECTIONS[path.name]
    for line in headings[1:]:
        assert re.search(r"[가-힣]", line) and " — " in line, f"heading without both titles: {line}"


@pytest.mark.notebook
@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_runs_in_a_real_kernel(path, tmp_path):
    result = execute_notebook(path, out_dir=tmp_path, env={"PTM_SMOKE": "1"}, timeout=600)
    assert result.ok, result.error
    executed = nbformat.read(str(result.executed), as_version=4)
    outputs = [
        output for cell in executed.cells if cell.cell_type == "code" for output in cell.outputs
    ]
    assert not [output for output in outputs if output.output_type == "error"]
    texts = "".join(output.get("text", "") for output in outputs)
    stderr = "".join(output.get("text", "") for output in outputs if output.get("name") == "stderr")
    # the one clipped image is drawn on purpose (§7.1.4) and explained beside it
    clipped_on_purpose = 1 if path.name == "chapter7_birds_vs_airplanes.ipynb" else 0
    assert texts.count("Clipping input data") == clipped_on_purpose
    images = [output for output in outputs if "image/png" in output.get("data", {})]
    assert len(images) >= 2, "figures did not render inline"
    if notebook_data_need(path) == "cifar10":
        assert "synthetic stand-in data: accuracy figures are not CIFAR-10's" in texts
        assert "IProgress not found" not in stderr
    assert result.html is not None and result.html.stat().st_size > 10_000


def lesson_code(function) -> str:
    """A function's source without its docstring: what a notebook shows of a lesson loop."""
    source = textwrap.dedent(inspect.getsource(function))
    docstring = ast.parse(source).body[0].body[0]
    lines = source.splitlines()
    del lines[docstring.lineno - 1 : docstring.end_lineno]
    return "\n".join(lines)


def shown_functions(path) -> dict[str, str]:
    """Each ``def name(...)`` shown in a markdown code block of a notebook, by name."""
    notebook = nbformat.read(str(path), as_version=4)
    blocks = {}
    for cell in notebook.cells:
        if cell.cell_type != "markdown":
            continue
        for block in re.findall(r"```python\n(.*?)\n```", cell.source, flags=re.DOTALL):
            match = re.match(r"def (\w+)\(", block)
            if match and hasattr(lessons, match.group(1)):  # not the sketch of __call__
                blocks[match.group(1)] = block
    return blocks


LESSONS_SHOWN = {
    "chapter6_neural_networks.ipynb": ["training_loop"],
    "chapter6_exercises.ipynb": [],
    "chapter7_exercises.ipynb": [],
    "chapter7_birds_vs_airplanes.ipynb": ["per_sample_loop", "minibatch_loop", "accuracy_loop"],
}


@pytest.mark.parametrize("name", sorted(LESSONS_SHOWN))
def test_the_lesson_loops_shown_are_the_code_that_runs(name):
    shown = shown_functions(PROJECT_ROOT / "notebooks" / name)
    assert sorted(shown) == sorted(LESSONS_SHOWN[name])
    for function_name, block in shown.items():
        assert block == lesson_code(getattr(lessons, function_name)), (
            f"{name} shows an old copy of ptm.lessons.{function_name}: paste its current source"
        )
    notebook = nbformat.read(str(PROJECT_ROOT / "notebooks" / name), as_version=4)
    code = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    for function_name in LESSONS_SHOWN[name]:
        assert f"ptm.{function_name}(" in code, f"the notebook never calls {function_name}"


def test_every_lesson_loop_is_short_and_checks_its_input_first():
    for name in lessons.__all__:
        body = lesson_code(getattr(lessons, name)).splitlines()
        signature_end = next(i for i, line in enumerate(body) if line.rstrip().endswith(":"))
        statements = [line for line in body[signature_end + 1 :] if line.strip()]
        assert len(statements) <= 20, f"{name} has {len(statements)} lines"
        assert statements[0].strip().startswith("_check"), name


WINE_ROWS = [
    "7;0.27;0.36;20.7;0.045;45;170;1.001;3;0.45;8.8;6",
    "6.3;0.3;0.34;1.6;0.049;14;132;0.994;3.3;0.49;9.5;6",
    "8.1;0.28;0.4;6.9;0.05;30;97;0.9951;3.26;0.44;10.1;5",
    "7.2;0.23;0.32;8.5;0.058;47;186;0.9956;3.19;0.4;9.9;6",
    "6.2;0.32;0.16;7;0.045;30;136;0.9949;3.18;0.47;9.6;6",
    "8.1;0.22;0.43;1.5;0.044;28;129;0.9938;3.22;0.45;11;6",
    "8.1;0.27;0.41;1.45;0.033;11;63;0.9908;2.99;0.56;12;5",
    "8.6;0.23;0.4;4.2;0.035;17;109;0.9947;3.14;0.53;9.7;5",
    "7.9;0.18;0.37;1.2;0.04;16;75;0.992;3.18;0.63;10.8;5",
    "6.6;0.16;0.4;1.5;0.044;48;143;0.9912;3.54;0.52;12.4;7",
]


@pytest.mark.notebook
@pytest.mark.slow
def test_chapter6_exercises_run_the_wine_exercise_when_the_file_is_there(tmp_path, monkeypatch):
    from ptm.wine import WINE_FILE

    data_dir = tmp_path / "data" / "p1ch7"
    monkeypatch.setenv("PTM_DATA_DIR", str(data_dir))
    (data_dir.parent / "p1ch4").mkdir(parents=True)
    header = ";".join(f'"column {number}"' for number in range(11)) + ';"quality"'
    (data_dir.parent / "p1ch4" / WINE_FILE).write_text("\n".join([header, *WINE_ROWS]) + "\n")
    path = PROJECT_ROOT / "notebooks" / "chapter6_exercises.ipynb"
    result = execute_notebook(path, out_dir=tmp_path, env={"PTM_SMOKE": "1"}, timeout=600)
    assert result.ok, result.error
    executed = nbformat.read(str(result.executed), as_version=4)
    texts = "".join(
        output.get("text", "") + output.get("data", {}).get("text/plain", "")
        for cell in executed.cells
        if cell.cell_type == "code"
        for output in cell.outputs
    )
    assert "Wine(10 wines, 11 features)" in texts
    assert "training loss, epoch 1 → last" in texts and "ms per epoch, wine" in texts
    assert "Skipping the wine exercise" not in texts


def test_exercise_notebooks_have_a_parameters_cell():
    for name in ("chapter6_exercises.ipynb", "chapter7_exercises.ipynb"):
        notebook = nbformat.read(str(PROJECT_ROOT / "notebooks" / name), as_version=4)
        tagged = [cell for cell in notebook.cells if "parameters" in cell.metadata.get("tags", [])]
        assert len(tagged) == 1 and "PTM_SMOKE" in tagged[0].source


DISPLAY_CELLS = {
    "setup": "import ptm\nhistory = ptm.History([1, 2], [1.0, 0.5], [1.2, 0.7])",
    "a returned figure": "ptm.plot_loss(history)",
    "ax= on a pyplot figure": (
        "import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\nptm.plot_loss(history, ax=ax)"
    ),
    "axes= on a pyplot grid": "fig, axes = plt.subplots(2, 3)\nptm.plot_activations(axes=axes)",
    "with the magic": "%matplotlib inline\nptm.plot_loss(history)",
    "a figure not returned": "figure = ptm.plot_loss(history)",
}


@pytest.mark.notebook
def test_figures_show_exactly_once_in_a_fresh_kernel(tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in DISPLAY_CELLS.values()]
    path = tmp_path / "display.ipynb"
    nbformat.write(notebook, str(path))
    result = execute_notebook(path, out_dir=tmp_path / "out", timeout=300)
    assert result.ok, result.error
    executed = nbformat.read(str(result.executed), as_version=4)
    images = {
        name: sum("image/png" in output.get("data", {}) for output in cell.outputs)
        for name, cell in zip(DISPLAY_CELLS, executed.cells, strict=True)
    }
    assert images == {
        "setup": 0,
        "a returned figure": 1,
        "ax= on a pyplot figure": 1,
        "axes= on a pyplot grid": 1,
        "with the magic": 1,
        "a figure not returned": 0,
    }
