"""Every chapter notebook runs top to bottom in a real Jupyter kernel (smoke mode)."""

import json
import re

import nbformat
import pytest
from conftest import PROJECT_ROOT

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


def test_one_notebook_per_chapter():
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
    assert "Clipping input data" not in texts
    images = [output for output in outputs if "image/png" in output.get("data", {})]
    assert len(images) >= 3, "figures did not render inline"
    if notebook_data_need(path) == "cifar10":
        assert "synthetic stand-in data: accuracy figures are not CIFAR-10's" in texts
        assert "IProgress not found" not in stderr
    assert result.html is not None and result.html.stat().st_size > 10_000
