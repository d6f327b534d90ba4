"""Every chapter notebook runs top to bottom in a real Jupyter kernel (smoke mode)."""

import ast
import inspect
import json
import re
import textwrap

import nbformat
import pytest
from conftest import PROJECT_ROOT
from torch import nn

import ptm
from ptm import lessons
from ptm.notebook_runner import (
    execute_notebook,
    find_notebooks,
    notebook_data_need,
    notebook_name,
)

NOTEBOOKS = find_notebooks(PROJECT_ROOT / "notebooks")
ENGLISH = find_notebooks(PROJECT_ROOT / "notebooks", ["en"])
KOREAN = find_notebooks(PROJECT_ROOT / "notebooks", ["ko"])
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


def test_one_notebook_per_chapter_and_one_of_its_exercises_in_each_language():
    assert [path.name for path in ENGLISH] == sorted(SECTIONS)
    assert [path.name for path in KOREAN] == sorted(SECTIONS)
    assert NOTEBOOKS == ENGLISH + KOREAN


@pytest.mark.parametrize("path", NOTEBOOKS, ids=notebook_name)
def test_notebook_is_committed_without_outputs(path):
    notebook = json.loads(path.read_text())
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None


@pytest.mark.parametrize("path", NOTEBOOKS, ids=notebook_name)
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
@pytest.mark.parametrize("path", NOTEBOOKS, ids=notebook_name)
def test_notebook_runs_in_a_real_kernel(path, tmp_path, monkeypatch):
    if path.name == "chapter6_exercises.ipynb":  # with the wine file where the book keeps it
        write_wine_file(tmp_path, monkeypatch)
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
        banner = {"en": "synthetic stand-in data: accuracy figures are not CIFAR-10's",
                  "ko": "합성 대체 데이터(synthetic stand-in)입니다"}[path.parent.name]  # fmt: skip
        assert banner in texts
        assert "IProgress not found" not in stderr
    assert result.html is not None and result.html.stat().st_size > 10_000
    if path.name == "chapter6_exercises.ipynb":
        check_wine_exercise(executed, path.parent.name)


def without_docstring(function: ast.FunctionDef) -> str:
    """A function definition as an AST dump, its docstring left out."""
    body = function.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        function = ast.FunctionDef(**{**function.__dict__, "body": body[1:]})
    return ast.dump(function, annotate_fields=True, include_attributes=False)


def code_cells(path) -> list[str]:
    notebook = nbformat.read(str(path), as_version=4)
    return [cell.source for cell in notebook.cells if cell.cell_type == "code"]


def defined_functions(path) -> dict[str, ast.FunctionDef]:
    """Each function a notebook defines in its code cells, by name."""
    functions = {}
    for source in code_cells(path):
        for node in ast.parse(source).body:
            if isinstance(node, ast.FunctionDef):
                functions[node.name] = node
    return functions


LESSONS_DEFINED = {
    "chapter6_neural_networks.ipynb": ["training_loop"],
    "chapter6_exercises.ipynb": [],
    "chapter7_exercises.ipynb": [],
    "chapter7_birds_vs_airplanes.ipynb": ["per_sample_loop", "minibatch_loop", "accuracy_loop"],
}
NOTES_FUNCTIONS = {"softmax"}  # the notes' own small functions, not in ptm.lessons


@pytest.mark.parametrize("path", NOTEBOOKS, ids=notebook_name)
def test_the_notes_loops_are_code_cells_equal_to_ptm_lessons(path):
    defined = defined_functions(path)
    loops = LESSONS_DEFINED[path.name]
    assert sorted(set(defined) - NOTES_FUNCTIONS) == sorted(loops), "no helpers in notebooks"
    code = "\n".join(code_cells(path))
    for name in loops:
        library = ast.parse(textwrap.dedent(inspect.getsource(getattr(lessons, name)))).body[0]
        assert without_docstring(defined[name]) == without_docstring(library), (
            f"{notebook_name(path)} defines {name} differently from ptm.lessons.{name}: "
            "change both, or neither"
        )
        calls = re.findall(rf"(?<![\w.]){name}\(", code)
        assert len(calls) >= 2, f"{notebook_name(path)} never calls its own {name}"
        assert f"ptm.{name}(" not in code and f"lessons.{name}(" not in code


PRIVATE = re.compile(r"(?:ptm(?:\.\w+)*\._[a-z]\w*|from ptm[\w.]* import [^\n]*\b_[a-z])")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=notebook_name)
def test_notebooks_use_no_private_names(path):
    assert PRIVATE.findall("\n".join(code_cells(path))) == []


HAND_BUILT = {  # what a notebook cell builds by hand, and the ptm builder of the same model
    "seq_model = nn.Sequential(\n    nn.Linear(1, 13)": lambda: ptm.build_seq_model(13),
    "seq_model = nn.Sequential(\n    OrderedDict(": lambda: ptm.build_named_seq_model(8),
    "model = nn.Sequential(\n    nn.Linear(3072, 512),\n    nn.Tanh(),\n    nn.Linear(512, 2),\n"
    "    nn.LogSoftmax": lambda: nn.Sequential(*ptm.build_fc_classifier()[1:]),  # no Flatten
}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=notebook_name)
def test_the_notes_hand_built_models_match_ptms_builders(path):
    from collections import OrderedDict

    from torch import nn

    found = 0
    for source in code_cells(path):
        for start, builder in HAND_BUILT.items():
            if start not in source:
                continue
            statement = source[source.index(start) :]
            statement = statement[: statement.index("\n)") + 2]  # up to the closing bracket
            namespace = {"nn": nn, "OrderedDict": OrderedDict}
            exec(statement, namespace)  # the cell's own model-building statement
            built = namespace["seq_model" if "seq_model" in namespace else "model"]
            assert repr(built) == repr(builder()), f"{notebook_name(path)}: {start!r}"
            found += 1
    expected = {"chapter6_neural_networks.ipynb": 2, "chapter7_birds_vs_airplanes.ipynb": 3}
    assert found == expected.get(path.name, 0)


# -- the Korean twins ------------------------------------------------------------------------


def comparable_code(source: str) -> str:
    """Code without its comments and blank lines, for comparing the twins' cells."""
    import io
    import tokenize

    tokens = [
        token
        for token in tokenize.generate_tokens(io.StringIO(source + "\n").readline)
        if token.type != tokenize.COMMENT
    ]
    lines = tokenize.untokenize(tokens).splitlines()
    return "\n".join(line.rstrip() for line in lines if line.strip())


def cells(path):
    return nbformat.read(str(path), as_version=4).cells


def is_parameters(cell) -> bool:
    return "parameters" in cell.metadata.get("tags", [])


TWINS = [(english, english.parent.parent / "ko" / english.name) for english in ENGLISH]


@pytest.mark.parametrize("english, korean", TWINS, ids=lambda path: path.stem)
def test_the_twins_have_the_same_code(english, korean):
    english_cells, korean_cells = cells(english), cells(korean)
    assert [c.cell_type for c in english_cells] == [c.cell_type for c in korean_cells]
    for index, (ours, theirs) in enumerate(zip(english_cells, korean_cells, strict=True)):
        if ours.cell_type != "code":
            continue
        assert is_parameters(ours) == is_parameters(theirs), f"cell {index}"
        ours_code, theirs_code = comparable_code(ours.source), comparable_code(theirs.source)
        if is_parameters(ours):  # the language may differ, nothing else
            assert 'LANG = "en"' in ours_code and 'LANG = "ko"' in theirs_code
            ours_code = ours_code.replace('LANG = "en"', "")
            theirs_code = theirs_code.replace('LANG = "ko"', "")
        assert ours_code == theirs_code, f"code cell {index} of {english.name} differs"


def visibility(cell) -> tuple:
    return (
        tuple(cell.metadata.get("tags", [])),
        tuple(sorted(cell.metadata.get("jupyter", {}).items())),
    )


@pytest.mark.parametrize("english, korean", TWINS, ids=lambda path: path.stem)
def test_the_twins_hide_and_tag_the_same_cells(english, korean):
    assert [visibility(cell) for cell in cells(english)] == [
        visibility(cell) for cell in cells(korean)
    ]


EXERCISES = [path for path in NOTEBOOKS if path.stem.endswith("_exercises")]


@pytest.mark.parametrize("path", EXERCISES, ids=notebook_name)
def test_each_exercise_asks_first_then_hides_its_worked_answer(path):
    """Question, a cell for the learner's attempt, a visible "Worked answer" heading, then the
    answer's cells collapsed (code and output) until the learner opens them."""
    notebook_cells = cells(path)
    exercises = [i for i, cell in enumerate(notebook_cells) if cell.source.startswith("## ")]
    assert len(exercises) >= 2
    for start, end in zip(exercises, [*exercises[1:], len(notebook_cells)], strict=True):
        part = notebook_cells[start:end]
        assert part[0].cell_type == "markdown" and "*" in part[0].source  # the question
        assert "attempt" in part[1].metadata.get("tags", []) and part[1].cell_type == "code"
        assert part[2].source.startswith("### ") and "Worked answer" in part[2].source
        answer = part[3:]
        assert answer, f"{notebook_name(path)}: an exercise without an answer"
        for cell in answer:
            hidden = cell.metadata.get("jupyter", {})
            assert hidden.get("source_hidden") is True, cell.source[:40]
            if cell.cell_type == "code":
                assert hidden.get("outputs_hidden") is True, cell.source[:40]


def narrative_numbers(source: str) -> set[str]:
    return {number.replace(",", "") for number in re.findall(r"\d+(?:[.,]\d+)*", source)}


@pytest.mark.parametrize("english, korean", TWINS, ids=lambda path: path.stem)
def test_the_twins_quote_the_same_numbers_under_the_same_headings(english, korean):
    for index, (ours, theirs) in enumerate(zip(cells(english), cells(korean), strict=True)):
        if ours.cell_type != "markdown":
            continue
        headings = [
            [re.match(r"(#+) ([\d.]+ )?", line).group(0) for line in cell.source.splitlines()
             if line.startswith("#")]
            for cell in (ours, theirs)
        ]  # fmt: skip
        assert headings[0] == headings[1], f"headings of cell {index} of {english.name}"
        assert narrative_numbers(ours.source) == narrative_numbers(theirs.source), (
            f"markdown cell {index} of {english.name}: numbers differ"
        )


def glossary() -> list[dict[str, str]]:
    import csv

    with open(PROJECT_ROOT / "notebooks" / "ko" / "glossary.csv", encoding="utf-8") as file:
        return list(csv.DictReader(file))


def korean_narrative(path) -> str:
    """The Korean prose of a notebook: markdown without headings, code or code spans."""
    text = "\n".join(cell.source for cell in cells(path) if cell.cell_type == "markdown")
    text = re.sub(r"```.*?```", " ", text, flags=re.DOTALL)
    text = re.sub(r"`[^`]*`", " ", text)
    return "\n".join(line for line in text.splitlines() if not line.startswith("#"))


def test_the_glossary_lists_the_notes_terms_first():
    sources = [entry["source"] for entry in glossary()]
    assert sources == sorted(sources, key=["notes", "ptm"].index)
    assert sources.count("notes") >= 25


@pytest.mark.parametrize("path", KOREAN, ids=notebook_name)
def test_korean_terms_carry_the_english_term_at_first_use(path):
    text = korean_narrative(path)
    terms = glossary()
    for entry in terms:
        term = entry["korean"]
        masked = text
        for longer in (other["korean"] for other in terms):
            if term in longer and longer != term:
                masked = masked.replace(longer, "□" * len(longer))
        first = masked.find(term)
        if first < 0:
            continue
        after = masked[first + len(term) : first + len(term) + len(entry["english"]) + 3]
        assert after.lstrip().lower().startswith(f"({entry['english'].lower()}"), (
            f"{notebook_name(path)}: the first {term!r} should read {term}({entry['english']}), "
            f"found {masked[first : first + 40]!r}"
        )


def test_every_glossary_term_appears_in_the_korean_notebooks():
    text = "\n".join(korean_narrative(path) for path in KOREAN)
    assert [entry["korean"] for entry in glossary() if entry["korean"] not in text] == []


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


def write_wine_file(tmp_path, monkeypatch) -> None:
    """A small wine file in ``p1ch4/tabular-wine/``, where the book's data folder keeps it."""
    from ptm.wine import WINE_FILE

    data_dir = tmp_path / "data" / "p1ch7"
    monkeypatch.setenv("PTM_DATA_DIR", str(data_dir))
    folder = data_dir.parent / "p1ch4" / "tabular-wine"
    folder.mkdir(parents=True)
    header = ";".join(f'"column {number}"' for number in range(11)) + ';"quality"'
    (folder / WINE_FILE).write_text("\n".join([header, *WINE_ROWS]) + "\n")


WINE_READING = {"en": "The training loss fell from", "ko": "에포크 동안"}


def check_wine_exercise(executed, lang: str) -> None:
    """The wine exercise ran: the data, its table and reading, its figure inside an ``if``."""
    outputs = [output for cell in executed.cells if cell.cell_type == "code"
               for output in cell.outputs]  # fmt: skip
    texts = "".join(
        output.get("text", "") + output.get("data", {}).get("text/plain", "") for output in outputs
    )
    assert "Wine(10 wines, 11 features)" in texts
    assert "ms per epoch" in texts and WINE_READING[lang] in texts
    assert "Skipping the wine exercise" not in texts
    wine_cells = [cell for cell in executed.cells if "wine_history, log_scale=True" in cell.source]
    assert [sum("image/png" in o.get("data", {}) for o in cell.outputs) for cell in wine_cells] == [
        1
    ]


def test_every_notebook_has_one_parameters_cell_that_sets_its_language():
    for path in NOTEBOOKS:
        notebook = nbformat.read(str(path), as_version=4)
        tagged = [cell for cell in notebook.cells if "parameters" in cell.metadata.get("tags", [])]
        assert len(tagged) == 1, notebook_name(path)
        assert f'LANG = "{path.parent.name}"' in tagged[0].source
        if path.name != "chapter6_neural_networks.ipynb":  # the others can run in smoke mode
            assert "PTM_SMOKE" in tagged[0].source


DISPLAY_CELLS = {  # a cell's source, and how many images it must show
    "setup": ("import ptm\nhistory = ptm.History([1, 2], [1.0, 0.5], [1.2, 0.7])", 0),
    "the last line": ("ptm.plot_loss(history)", 1),
    "assigned to a name": ("figure = ptm.plot_loss(history)", 1),
    "before other statements": ("ptm.plot_loss(history)\nprint('done')", 1),
    "in a loop, once per call": (
        "for log in (False, True):\n    ptm.plot_loss(history, log_scale=log)",
        2,
    ),
    "in an if": ("if len(history):\n    ptm.plot_loss(history)", 1),
    "followed by plt.show()": (
        "import matplotlib.pyplot as plt\nptm.plot_loss(history)\nplt.show()",
        1,
    ),
    "with the magic": ("%matplotlib inline\nptm.plot_loss(history)", 1),
    "ax= on a pyplot figure": ("fig, ax = plt.subplots()\nptm.plot_loss(history, ax=ax)", 1),
    "ax= on a pyplot grid": ("fig, axes = plt.subplots(2, 3)\nptm.plot_activations(ax=axes)", 1),
    "two calls in one cell": ("ptm.plot_loss(history)\nptm.plot_history(history)", 2),
    "the same figure named twice": ("figure = ptm.plot_loss(history)\nfigure", 1),
    "fig.show()": ("figure = ptm.plot_loss(history)\nfigure.show()", 1),
    "a figure from an earlier cell": ("figure", 1),
    "a bad call leaves no figure": (
        "from matplotlib.figure import Figure\ntry:\n"
        "    ptm.plot_activations(ax=Figure().subplots(1, 2))\nexcept ValueError:\n    pass",
        0,
    ),
}


@pytest.mark.notebook
def test_figures_show_exactly_once_in_a_fresh_kernel(tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    notebook.cells = [nbformat.v4.new_code_cell(source) for source, _ in DISPLAY_CELLS.values()]
    path = tmp_path / "display.ipynb"
    nbformat.write(notebook, str(path))
    result = execute_notebook(path, out_dir=tmp_path / "out", timeout=300)
    assert result.ok, result.error
    executed = nbformat.read(str(result.executed), as_version=4)
    images = {
        name: sum("image/png" in output.get("data", {}) for output in cell.outputs)
        for name, cell in zip(DISPLAY_CELLS, executed.cells, strict=True)
    }
    assert images == {name: expected for name, (_, expected) in DISPLAY_CELLS.items()}


LIVE_CELL = """
import torch
import ptm
from ptm.plots import LiveCurves

generator = torch.Generator().manual_seed(0)
images, labels = torch.randn(64, 3, 32, 32, generator=generator), torch.arange(64) % 2
curves = LiveCurves(min_seconds=0)  # redraw as often as its own cost allows
history = ptm.train_classifier(
    ptm.build_fc_classifier(8, seed=0), (images, labels), (images, labels), n_epochs=5,
    live=curves, log_every=None,
)
print(curves.n_updates, len(history))
"""


@pytest.mark.notebook
def test_live_curves_update_one_output_in_place_and_end_with_the_final_figure(tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    notebook.cells = [nbformat.v4.new_code_cell(LIVE_CELL)]
    path = tmp_path / "live.ipynb"
    nbformat.write(notebook, str(path))
    result = execute_notebook(path, out_dir=tmp_path / "out", timeout=300)
    assert result.ok, result.error
    (cell,) = nbformat.read(str(result.executed), as_version=4).cells
    images = [output for output in cell.outputs if "image/png" in output.get("data", {})]
    assert len(images) == 1 and images[0].get("metadata", {}) is not None
    printed = "".join(output.get("text", "") for output in cell.outputs)
    n_updates, n_epochs = map(int, printed.split())
    assert n_epochs == 5 and n_updates >= 2  # the first epoch, then the final curves
    assert "training" not in printed  # the figure replaces the progress bar
