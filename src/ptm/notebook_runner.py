"""Execute the chapter notebooks headless in a real Jupyter kernel (the main job).

Each notebook runs top to bottom in a fresh kernel, started in the notebook's folder
with the environment given; the executed copy and an HTML rendering are written to
an output folder. Used by ``ptm notebooks`` (``make run``) and by the test suite.
Needs the ``notebooks`` extra (nbclient, nbconvert, ipykernel).
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ptm.texts import LANGUAGES, check_language

__all__ = ["execute_notebook", "find_notebooks"]


@dataclass(frozen=True)
class NotebookResult:
    """How one notebook run went."""

    notebook: Path
    ok: bool
    seconds: float
    data: str
    error: str | None = None
    executed: Path | None = None
    html: Path | None = None

    def summary(self) -> str:
        """One line: status, name, seconds and the data used (and the error, if any)."""
        status = "ok    " if self.ok else "FAILED"
        name = notebook_name(self.notebook) + ".ipynb"
        line = f"{status} {name:<36} {self.seconds:7.1f} s   data: {self.data}"
        return line if self.ok else f"{line}\n       {self.error}"


def find_notebooks(folder: str | Path, languages: Sequence[str] = LANGUAGES) -> list[Path]:
    """The notebooks in ``folder``: those of its language folders (``en/``, ``ko/``), in
    the order of ``languages`` and by name within each; a folder without language folders
    (a copy of one language, say) gives its own notebooks by name. Checkpoints are skipped.
    """
    folder = Path(folder)
    by_language = [folder / check_language(lang) for lang in languages]
    if not any((folder / lang).is_dir() for lang in LANGUAGES):
        return sorted(folder.glob("[!.]*.ipynb"))
    return [path for sub in by_language for path in sorted(sub.glob("[!.]*.ipynb"))]


def notebook_name(path: str | Path) -> str:
    """A notebook's name with its language folder, e.g. ``ko/chapter6_exercises``."""
    path = Path(path)
    return f"{path.parent.name}/{path.stem}" if path.parent.name in LANGUAGES else path.stem


def notebook_data_need(path: str | Path) -> str | None:
    """The dataset a notebook declares in its metadata (``{"ptm": {"data": "cifar10"}}``)."""
    import nbformat

    notebook = nbformat.read(str(path), as_version=4)
    return notebook.metadata.get("ptm", {}).get("data")


def _error_summary(error: Exception) -> str:
    """The last meaningful line of an execution error (the exception name and message)."""
    lines = [line for line in str(error).strip().splitlines() if line.strip()]
    exception_lines = [line for line in lines if "Error" in line or "Exception" in line]
    return (exception_lines or lines or [type(error).__name__])[-1].strip()


def execute_notebook(
    path: str | Path,
    *,
    out_dir: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    data: str = "",
    timeout: int = 1200,
) -> NotebookResult:
    """Run one notebook in a fresh kernel and save the executed copy (and HTML).

    Args:
        path: the notebook file.
        out_dir: where ``<name>.ipynb`` and ``<name>.html`` go; nothing is saved if None.
        env: variables added to this process's environment for the kernel, e.g.
            ``{"PTM_SMOKE": "1"}``.
        data: a description of the data used, for the summary line.
        timeout: seconds allowed per cell.

    Returns:
        A NotebookResult; a failing cell gives ``ok=False`` and the error's last line.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    path = Path(path)
    notebook = nbformat.read(str(path), as_version=4)
    kernel_env = {**os.environ, **(env or {})}
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        extra_arguments=["--log-level=ERROR"],  # the kernel's own start-up chatter
        resources={"metadata": {"path": str(path.parent.resolve())}},
    )
    started = time.perf_counter()
    error = None
    try:
        client.execute(env=kernel_env)
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as failure:
        error = _error_summary(failure)
    seconds = time.perf_counter() - started
    executed_path = html_path = None
    if out_dir is not None:
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        executed_path = out_dir / path.name
        nbformat.write(notebook, str(executed_path))
        from nbconvert import HTMLExporter

        body, _ = HTMLExporter().from_notebook_node(notebook)
        html_path = executed_path.with_suffix(".html")
        html_path.write_text(body, encoding="utf-8")
    return NotebookResult(path, error is None, seconds, data, error, executed_path, html_path)
