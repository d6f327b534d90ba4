"""The chapter notebooks in JupyterLab, driven through a real (headless) Chromium.

The kernel-level notebook test (test_notebooks.py) sees outputs as JSON; this one sees what a
student sees. It starts JupyterLab on a free port with a random token, in a throwaway root
holding copies of the chapter notebooks and throwaway Jupyter/IPython/matplotlib settings (so a
user's own settings cannot leak in), with PTM_SMOKE=1 (tiny synthetic data). Playwright opens
each notebook, runs Run → Run All Cells from the menu bar and waits for the kernel to finish,
then checks the page: no tracebacks, exactly one image in every cell that draws a figure and
none elsewhere, every markdown heading rendered as a visible heading of its level, and a
finished progress widget under every cell that trains with a progress bar.

Needs Chromium (``chromium``, ``chromium-browser`` or ``google-chrome`` on PATH, or its path
in PTM_CHROMIUM) and the ``playwright`` package; skipped without either. Playwright's own
browser download is never used. On failure a screenshot of the page (and of each failing cell)
and the page's HTML are saved in the test's tmp_path.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import tokenize
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path
from typing import Any

import nbformat
import pytest
from conftest import PROJECT_ROOT

pytestmark = pytest.mark.browser

# Both chapters in Korean (the Korean glyphs: CI installs fonts-nanum) and chapter 7 in English;
# the twins' code is the same (tests/test_notebooks.py), and every notebook runs in a kernel.
CHAPTERS = [
    "ko/chapter6_neural_networks.ipynb",
    "ko/chapter7_birds_vs_airplanes.ipynb",
    "en/chapter7_birds_vs_airplanes.ipynb",
]
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
PROGRESS_NOTEBOOK = "progress_check.ipynb"
FIGURES_NOTEBOOK = "figures_check.ipynb"
LIVE_NOTEBOOK = "live_check.ipynb"

SERVER_START_TIMEOUT_S = 90
KERNEL_READY_TIMEOUT_S = 120
RUN_ALL_TIMEOUT_S = 240  # per notebook; smoke mode takes well under 30 s here

# A cell that calls one of these shows exactly one figure; every other cell shows none.
FIGURE_CALL = re.compile(r"\b(?:ptm\.plot_\w+|ptm\.show_image|plt\.subplots|plt\.imshow)\s*\(")
# A cell that calls one of these (with its default progress=True) shows a progress bar; with
# live=True it draws its curves instead, as one image.
PROGRESS_CALL = re.compile(r"\b(?:ptm\.train_classifier|tqdm)\s*\(")
LIVE_CALL = re.compile(r"\blive\s*=\s*True\b")
HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
FENCE = re.compile(r"^\s*(```|~~~)")
ERROR_TEXT = re.compile(r"Traceback|\w*Error\b")
FINISHED_BAR_TEXT = re.compile(r"\b(\d+)/\1\b")  # tqdm's "n/total" once n == total

# The notebook panel in view: its cells, kernel name and execution indicator.
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"
CELLS_SELECTOR = f"{PANEL} .jp-Notebook .jp-Cell"
PANEL_JS = f"document.querySelector('{PANEL}')"
KERNEL_READY_JS = f"""(expectedCells) => {{
    const panel = {PANEL_JS};
    if (!panel) return false;
    const name = panel.querySelector('.jp-Toolbar-kernelName');
    const status = panel.querySelector('.jp-Notebook-ExecutionIndicator');
    return panel.querySelectorAll('.jp-Notebook .jp-Cell').length === expectedCells
        && !!name && !['', 'No Kernel'].includes(name.textContent.trim())
        && !!status && status.dataset.status === 'idle';
}}"""
# Finished: kernel idle, no cell queued or running ([*]) and at least one cell executed (a cell
# that raises stops Run All: the cells after it go back to [ ] and the assertions report them).
RUN_FINISHED_JS = f"""() => {{
    const panel = {PANEL_JS};
    const status = panel.querySelector('.jp-Notebook-ExecutionIndicator');
    const prompts = [...panel.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputArea-prompt')]
        .map((prompt) => prompt.textContent);
    return status.dataset.status === 'idle'
        && !prompts.some((prompt) => prompt.includes('*'))
        && prompts.some((prompt) => /\\[\\d+\\]/.test(prompt));
}}"""
# What is on the page while waiting for the kernel: cells, kernel name and status, any dialog.
PAGE_STATE_JS = f"""() => {{
    const panel = {PANEL_JS};
    const text = (selector) => {{
        const el = (panel || document).querySelector(selector);
        return el ? el.textContent.trim() : null;
    }};
    return {{
        cells: panel ? panel.querySelectorAll('.jp-Notebook .jp-Cell').length : null,
        kernel: text('.jp-Toolbar-kernelName'),
        status: text('.jp-Notebook-ExecutionIndicator-tooltip'),
        dialog: (document.querySelector('.jp-Dialog') || {{}}).textContent || null,
    }};
}}"""
PROMPTS_JS = f"""() => [...{PANEL_JS}.querySelectorAll('.jp-Notebook .jp-CodeCell')]
    .map((cell) => cell.querySelector('.jp-InputArea-prompt').textContent.trim())"""
# What each cell shows, in notebook order.
CELLS_JS = f"""() => {{
    const visible = (el) => el.getClientRects().length > 0
        && getComputedStyle(el).visibility !== 'hidden';
    const cells = [...{PANEL_JS}.querySelectorAll('.jp-Notebook .jp-Cell')];
    return cells.map((cell) => {{
        const prompt = cell.querySelector('.jp-InputArea-prompt');
        const outputs = [...cell.querySelectorAll('.jp-OutputArea-output')];
        return {{
            kind: cell.classList.contains('jp-CodeCell') ? 'code'
                : cell.classList.contains('jp-MarkdownCell') ? 'markdown' : 'raw',
            prompt: prompt ? prompt.textContent.trim() : '',
            images: cell.querySelectorAll('.jp-OutputArea-output img').length,
            stderr: outputs
                .filter((out) => out.dataset.mimeType === 'application/vnd.jupyter.stderr')
                .map((out) => out.textContent),
            outputText: outputs.map((out) => out.textContent).join('\\n'),
            headings: cell.classList.contains('jp-MarkdownCell')
                ? [...cell.querySelectorAll('.jp-RenderedMarkdown :is(h1, h2, h3, h4, h5, h6)')]
                    .map((h) => ({{ level: Number(h.tagName[1]), text: h.textContent,
                                   visible: visible(h) }}))
                : [],
            progress: [...cell.querySelectorAll('.jp-OutputArea-output .widget-hprogress')]
                .map((widget) => ({{
                    width: widget.querySelector('.progress-bar').style.width,
                    text: (widget.closest('.widget-hbox') || widget).textContent,
                    visible: visible(widget),
                }})),
        }};
    }});
}}"""


def find_chromium() -> tuple[str | None, str]:
    """The Chromium to drive and, when there is none, why not."""
    configured = os.environ.get("PTM_CHROMIUM")
    if configured:
        found = shutil.which(configured)
        return found, f"PTM_CHROMIUM={configured!r} is not an executable"
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found, ""
    return None, f"no Chromium: none of {', '.join(CHROMIUM_NAMES)} on PATH and no PTM_CHROMIUM"


@pytest.fixture(scope="module")
def chromium_path() -> str:
    path, why_not = find_chromium()
    if path is None:
        pytest.skip(why_not)
    return path


@pytest.fixture(scope="module")
def sync_api(chromium_path) -> Any:
    return pytest.importorskip(
        "playwright.sync_api",
        reason="playwright is not installed (pip install -e '.[dev]')",
    )


@dataclass(frozen=True)
class Lab:
    url: str
    token: str
    root: Path
    log: Path

    def api(self, method: str, path: str) -> Any:
        request = urllib.request.Request(
            f"{self.url}{path}", method=method, headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def log_tail(self, n_chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-n_chars:]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def write_progress_notebook(path: Path) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# Progress check"),
        nbformat.v4.new_code_cell("from tqdm.auto import tqdm\n\n[x for x in tqdm(range(3))]"),
    ]
    nbformat.write(notebook, str(path))


FIGURE_CELLS = {  # a cell a learner writes, and how many images it shows
    "import ptm\nhistory = ptm.History([1, 2], [1.0, 0.5], [1.2, 0.7])": 0,
    "ptm.plot_loss(history)\nptm.plot_history(history)": 2,
    "for log in (False, True):\n    ptm.plot_loss(history, log_scale=log)\nprint('done')": 2,
}

LIVE_SOURCE = """
import time
import torch
import ptm
from ptm.plots import LiveCurves

def slow_nll(outputs, labels):  # a slow epoch, so that the page can watch the curves grow
    time.sleep(0.3)
    return torch.nn.functional.nll_loss(outputs, labels)

generator = torch.Generator().manual_seed(0)
images, labels = torch.randn(64, 3, 32, 32, generator=generator), torch.arange(64) % 2
history = ptm.train_classifier(
    ptm.build_fc_classifier(8, seed=0), (images, labels), (images, labels), n_epochs=16,
    loss_fn=slow_nll, live=LiveCurves(min_seconds=0.5), log_every=None,
)
"""


def write_check_notebooks(root: Path) -> None:
    """Small notebooks of the figure convention and of live curves, beside the chapters."""
    figures = nbformat.v4.new_notebook()
    figures.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    figures.cells = [nbformat.v4.new_markdown_cell("# Figures check")]
    for source, expected in FIGURE_CELLS.items():
        cell = nbformat.v4.new_code_cell(source)
        cell.metadata["expected_images"] = expected
        figures.cells.append(cell)
    nbformat.write(figures, str(root / FIGURES_NOTEBOOK))
    live = nbformat.v4.new_notebook()
    live.metadata["kernelspec"] = figures.metadata["kernelspec"]
    live.cells = [nbformat.v4.new_markdown_cell("# Live curves check"),
                  nbformat.v4.new_code_cell(LIVE_SOURCE)]  # fmt: skip
    nbformat.write(live, str(root / LIVE_NOTEBOOK))


def lab_environment(scratch: Path) -> dict[str, str]:
    """The server's (and so the kernels') environment: smoke mode, nothing of the user's."""
    env = dict(os.environ)
    for name in ("PTM_PROGRESS", "MPLBACKEND", "JUPYTER_PATH", "JUPYTER_CONFIG_PATH"):
        env.pop(name, None)
    for name, folder in {
        "PTM_DATA_DIR": "data",
        "JUPYTER_CONFIG_DIR": "jupyter-config",
        "JUPYTER_DATA_DIR": "jupyter-data",
        "JUPYTER_RUNTIME_DIR": "jupyter-runtime",
        "IPYTHONDIR": "ipython",
        "MPLCONFIGDIR": "matplotlib",
    }.items():
        (scratch / folder).mkdir()
        env[name] = str(scratch / folder)
    env["PTM_SMOKE"] = "1"
    # No "get Jupyter news?" toast over the notebook.
    settings = Path(env["JUPYTER_CONFIG_DIR"], "lab/user-settings/@jupyterlab/apputils-extension")
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    return env


def wait_until_answering(lab: Lab, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"JupyterLab exited with code {server.returncode}:\n{lab.log_tail()}")
        try:
            lab.api("GET", "/api/status")
            return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.5)
    pytest.fail(f"JupyterLab did not answer within {SERVER_START_TIMEOUT_S} s:\n{lab.log_tail()}")


def stop_server(lab: Lab, server: subprocess.Popen) -> None:
    """Shut the server down through its API (kernels included), else terminate, else kill."""
    if server.poll() is None:
        try:
            lab.api("POST", "/api/shutdown")
            server.wait(timeout=20)
            return
        except (urllib.error.URLError, ConnectionError, TimeoutError, subprocess.TimeoutExpired):
            pass
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)


@pytest.fixture(scope="module")
def lab(sync_api, tmp_path_factory) -> Iterator[Lab]:
    """JupyterLab serving copies of the chapter notebooks; stopped at the end, pass or fail."""
    scratch = tmp_path_factory.mktemp("jupyterlab")
    root = scratch / "root"
    root.mkdir()
    for name in CHAPTERS:
        (root / name).parent.mkdir(exist_ok=True)
        shutil.copy(PROJECT_ROOT / "notebooks" / name, root / name)
    write_progress_notebook(root / PROGRESS_NOTEBOOK)
    write_check_notebooks(root)
    port, token = free_port(), secrets.token_hex(24)
    lab = Lab(url=f"http://127.0.0.1:{port}", token=token, root=root, log=scratch / "lab.log")
    command = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        "--no-browser",
        "--allow-root",  # CI runs as root
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root}",
        f"--IdentityProvider.token={token}",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    with lab.log.open("wb") as log:
        server = subprocess.Popen(
            command,
            cwd=scratch,
            env=lab_environment(scratch),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until_answering(lab, server)
        yield lab
    finally:
        stop_server(lab, server)


@pytest.fixture(scope="module")
def browser(sync_api, chromium_path) -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path,
            headless=True,
            args=["--no-sandbox", "--disable-dev-shm-usage"],
        )
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class LabPage:
    """A fresh browser page on the lab, with what it needs to report a failure."""

    page: Any
    sync_api: Any
    lab: Lab
    evidence: Path  # where screenshots go
    console_errors: list[str] = field(default_factory=list)


@pytest.fixture
def lab_page(browser, sync_api, lab, tmp_path) -> Iterator[LabPage]:
    """A page in a new browser context; afterwards every kernel it started is shut down."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    lab_page = LabPage(page, sync_api, lab, tmp_path)
    errors = lab_page.console_errors
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
    try:
        yield lab_page
    finally:
        context.close()
        with contextlib.suppress(urllib.error.URLError, ConnectionError, TimeoutError):
            for session in lab.api("GET", "/api/sessions"):
                lab.api("DELETE", f"/api/sessions/{session['id']}")


def code_without_comments(source: str) -> str:
    try:
        tokens = tokenize.generate_tokens(StringIO(source).readline)
        return tokenize.untokenize(t for t in tokens if t.type != tokenize.COMMENT)
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return source


def markdown_headings(source: str) -> list[tuple[int, str]]:
    """(level, text) of each ATX heading, outside fenced code blocks."""
    headings, fenced = [], False
    for line in source.splitlines():
        if FENCE.match(line):
            fenced = not fenced
        elif not fenced and (match := HEADING.match(line)):
            headings.append((len(match.group(1)), match.group(2)))
    return headings


def plain(text: str) -> str:
    """Heading text without markdown markup or JupyterLab's ¶ anchor, for comparison."""
    return " ".join(re.sub(r"[\\`*_$¶]", "", text).split())


def open_and_run_all(lab_page: LabPage, name: str, n_cells: int) -> list[str]:
    """Open ``name`` in a workspace of its own, wait for its kernel, Run All; problems found."""
    page, lab = lab_page.page, lab_page.lab
    workspace = re.sub(r"\W", "-", Path(name).stem)
    page.goto(f"{lab.url}/lab/workspaces/{workspace}/tree/{name}?token={lab.token}")
    try:
        page.wait_for_function(
            KERNEL_READY_JS, arg=n_cells, timeout=KERNEL_READY_TIMEOUT_S * 1000, polling=250
        )
    except lab_page.sync_api.TimeoutError:
        state = page.evaluate(PAGE_STATE_JS)
        pytest.fail(f"{name}: no idle kernel within {KERNEL_READY_TIMEOUT_S} s: {state}")
    page.locator('.lm-MenuBar-itemLabel:text-is("Run")').click()
    page.locator('.lm-Menu-itemLabel:text-is("Run All Cells")').click()
    try:
        page.wait_for_function(RUN_FINISHED_JS, timeout=RUN_ALL_TIMEOUT_S * 1000, polling=500)
    except lab_page.sync_api.TimeoutError:
        prompts = page.evaluate(PROMPTS_JS)
        return [f"Run All did not finish within {RUN_ALL_TIMEOUT_S} s; prompts: {prompts}"]
    return []


def wait_for_progress_widgets(lab_page: LabPage, cell_numbers: list[int]) -> None:
    """Widget views render just after their output arrives: give them a moment."""
    cells = lab_page.page.locator(CELLS_SELECTOR)
    for number in cell_numbers:
        with contextlib.suppress(lab_page.sync_api.TimeoutError):  # check_progress reports it
            cells.nth(number).locator(".widget-hprogress").first.wait_for(timeout=15_000)


def check_cells(notebook, shown: list[dict[str, Any]], progress_cells: list[int]) -> list[str]:
    """Each difference between what the notebook should show and what the page shows."""
    if len(shown) != len(notebook.cells):
        return [f"the page shows {len(shown)} cells, the notebook has {len(notebook.cells)}"]
    problems = []
    for number, (cell, seen) in enumerate(zip(notebook.cells, shown, strict=True)):
        first_line = (cell.source.strip().splitlines() or [""])[0]
        where = f"cell {number} ({first_line[:60]!r})"
        if seen["kind"] != cell.cell_type:
            problems.append(f"{where}: the page shows a {seen['kind']} cell here")
            continue
        if cell.cell_type == "markdown":
            expected = [(level, plain(text)) for level, text in markdown_headings(cell.source)]
            rendered = [(h["level"], plain(h["text"])) for h in seen["headings"]]
            if rendered != expected:
                problems.append(f"{where}: headings rendered as {rendered}, expected {expected}")
            hidden = [h["text"] for h in seen["headings"] if not h["visible"]]
            if hidden:
                problems.append(f"{where}: headings not visible: {hidden}")
            continue
        if cell.cell_type != "code":
            continue
        if not re.fullmatch(r"\[\d+\]:", seen["prompt"]):
            problems.append(f"{where}: did not run (prompt {seen['prompt']!r})")
            continue
        errors = [text for text in seen["stderr"] if ERROR_TEXT.search(text)]
        if errors:
            problems.append(f"{where}: error output:\n{errors[0][-1500:]}")
        code = code_without_comments(cell.source)
        expected_images = cell.metadata.get(
            "expected_images", 1 if FIGURE_CALL.search(code) or LIVE_CALL.search(code) else 0
        )
        if seen["images"] != expected_images:
            problems.append(f"{where}: shows {seen['images']} images, expected {expected_images}")
        if number in progress_cells:
            problems += check_progress(where, seen)
    return problems


def check_progress(where: str, seen: dict[str, Any]) -> list[str]:
    """One visible ipywidgets progress bar (tqdm.auto in JupyterLab), run to the end."""
    bars = seen["progress"]
    if len(bars) != 1:
        text = seen["outputText"][:300]
        return [f"{where}: shows {len(bars)} progress widgets, expected 1; output: {text!r}"]
    bar = bars[0]
    problems = []
    if not bar["visible"]:
        problems.append(f"{where}: progress widget is not visible")
    if bar["width"] != "100%" or not FINISHED_BAR_TEXT.search(bar["text"]):
        problems.append(f"{where}: progress bar not finished: {bar['width']}, {bar['text']!r}")
    if "IProgress not found" in seen["outputText"]:
        problems.append(f"{where}: tqdm fell back to text: IProgress not found")
    return problems


def save_evidence(lab_page: LabPage, problems: list[str]) -> None:
    """Screenshots of the page and of the first failing cells, and the page's HTML."""
    page, folder = lab_page.page, lab_page.evidence
    try:
        page.screenshot(path=str(folder / "page.png"))
        (folder / "page.html").write_text(page.content())
        numbers = [int(m.group(1)) for p in problems if (m := re.match(r"cell (\d+) ", p))]
        for number in numbers[:5]:
            cell = page.locator(CELLS_SELECTOR).nth(number)
            for _ in range(3):  # off-screen cells take their real size once in view: settle
                cell.scroll_into_view_if_needed(timeout=10_000)
                page.wait_for_timeout(200)
            cell.screenshot(path=str(folder / f"cell-{number}.png"), timeout=10_000)
        print(f"screenshots and page HTML in {folder}")
    except Exception as error:  # evidence is a courtesy: never hide the real failure
        print(f"could not save screenshots in {folder}: {error}")
    if lab_page.console_errors:
        print("browser console errors:", *lab_page.console_errors[:20], sep="\n")


def run_and_check(lab_page: LabPage, name: str) -> list[str]:
    """Run ``name`` in JupyterLab; each way the page differs from what it should show."""
    notebook = nbformat.read(str(lab_page.lab.root / name), as_version=4)
    progress_cells = [
        number
        for number, cell in enumerate(notebook.cells)
        if cell.cell_type == "code"
        and PROGRESS_CALL.search(code := code_without_comments(cell.source))
        and not re.search(r"\bprogress\s*=\s*False\b", code)
        and not LIVE_CALL.search(code)
    ]
    problems: list[str] = []
    try:
        started = time.monotonic()
        problems += open_and_run_all(lab_page, name, len(notebook.cells))
        print(f"{name}: opened and ran in {time.monotonic() - started:.1f} s")
        wait_for_progress_widgets(lab_page, progress_cells)
        problems += check_cells(notebook, lab_page.page.evaluate(CELLS_JS), progress_cells)
    except BaseException:
        save_evidence(lab_page, problems)
        raise
    if problems:
        save_evidence(lab_page, problems)
    return problems


@pytest.mark.slow
@pytest.mark.parametrize("name", CHAPTERS, ids=lambda name: name.removesuffix(".ipynb"))
def test_chapter_notebook_renders_in_jupyterlab(name, lab_page):
    problems = run_and_check(lab_page, name)
    assert not problems, f"{name} in JupyterLab:\n" + "\n".join(problems)


def test_figures_show_once_per_call_where_a_learner_writes_them(lab_page):
    """Two plot calls in one cell, calls in a loop before a print: one image per call."""
    problems = run_and_check(lab_page, FIGURES_NOTEBOOK)
    assert not problems, f"{FIGURES_NOTEBOOK} in JupyterLab:\n" + "\n".join(problems)


LIVE_IMAGE_JS = f"""() => {{
    const image = {PANEL_JS}.querySelector('.jp-CodeCell .jp-OutputArea-output img');
    return image ? image.src : null;
}}"""


@pytest.mark.slow
def test_live_curves_update_in_place_while_training_runs(lab_page):
    """The curves grow in one output: the page sees the same image element change several
    times while the cell runs, and one image when it ends."""
    page = lab_page.page
    notebook = nbformat.read(str(lab_page.lab.root / LIVE_NOTEBOOK), as_version=4)
    workspace = "live"
    page.goto(f"{lab_page.lab.url}/lab/workspaces/{workspace}/tree/{LIVE_NOTEBOOK}"
              f"?token={lab_page.lab.token}")  # fmt: skip
    page.wait_for_function(KERNEL_READY_JS, arg=len(notebook.cells), timeout=120_000)
    page.locator('.lm-MenuBar-itemLabel:text-is("Run")').click()
    page.locator('.lm-Menu-itemLabel:text-is("Run All Cells")').click()
    seen, deadline = [], time.monotonic() + 120
    while time.monotonic() < deadline:
        source = page.evaluate(LIVE_IMAGE_JS)
        if source and (not seen or seen[-1] != source):
            seen.append(source)
        if page.evaluate(RUN_FINISHED_JS):
            break
        page.wait_for_timeout(100)
    shown = page.evaluate(CELLS_JS)
    assert shown[1]["images"] == 1, shown[1]
    assert len(seen) >= 3, f"the curves changed {len(seen) - 1} times while the cell ran"


@pytest.mark.slow
def test_tqdm_progress_bar_renders_as_a_widget(lab_page):
    """tqdm.auto, which ptm.train_classifier uses, draws a finished widget in JupyterLab."""
    problems = run_and_check(lab_page, PROGRESS_NOTEBOOK)
    assert not problems, f"{PROGRESS_NOTEBOOK} in JupyterLab:\n" + "\n".join(problems)
