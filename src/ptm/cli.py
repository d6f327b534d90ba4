"""The ptm command: train, fit, report, draw and run the notebooks.

    ptm train        train the CIFAR-2 classifier (DLwPT §7.2.6)
    ptm temperature  fit the temperature model (DLwPT §6.2–§6.3)
    ptm env          versions, device and where the data is
    ptm figures      regenerate the chapter 6 figures shown in the README
    ptm notebooks    execute the chapter notebooks (the main job, make run)
    ptm copy-notebooks  copy the notebooks into a folder of your own to work in

Errors end the command with a one-line message and exit status 2, not a traceback
(ptm --traceback ... shows it); ptm notebooks exits 1 when a notebook fails. Commands
import torch and matplotlib only when they run, so ptm --help answers at once.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import sys
import warnings
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = [
    "main",
]

DISTRIBUTION = "ptm-dlwpt"  # the name on the package index; the import name is ptm


class UsageError(Exception):
    """A bad command-line value or a failed run, reported in one line."""


def positive_integer(text: str) -> int:
    """argparse type: an integer of at least 1, with an error in plain words."""
    from ptm.checks import check_positive_integer

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a whole number such as 10, got {text!r}"
        ) from None
    try:
        return check_positive_integer(value, "the value")
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a whole number of at least 1, got {value}"
        ) from None


def number(text: str) -> float:
    """argparse type: a number such as 1e-2, with an error in plain words."""
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number such as 1e-2, got {text!r}") from None


RECIPE_OPTIONS = {
    "n_epochs": "--epochs",
    "batch_size": "--batch-size",
    "lr": "--lr",
    "hidden_sizes": "--hidden-sizes",
    "hidden_size": "--hidden-size",
    "seed": "--seed",
}
"""The recipe settings the commands offer as options, and the option of each."""
METAVARS = {"lr": "LR", "seed": "SEED", "hidden_sizes": "H", "hidden_size": "H"}


def add_recipe_options(
    parser: argparse.ArgumentParser, recipes: dict[str, Any], names: Sequence[str]
) -> None:
    """Options for some settings of a book recipe, with its defaults and help: the recipe
    (`ptm.recipes`) is where they are written, once. ``recipes`` names the recipe (or the
    recipes, for a command that offers several) whose defaults the help shows."""
    import dataclasses

    first = next(iter(recipes.values()))
    fields = {item.name: item for item in dataclasses.fields(first)}
    for name in names:
        defaults = {label: getattr(recipe, name) for label, recipe in recipes.items()}
        shown = {label: " ".join(map(str, v)) if isinstance(v, tuple) else f"{v:g}"
                 if isinstance(v, float) else str(v) for label, v in defaults.items()}  # fmt: skip
        if len(set(shown.values())) == 1:
            default_text = f"default: {next(iter(shown.values()))}"
        else:
            default_text = "default: " + ", ".join(f"{v} ({label})" for label, v in shown.items())
        value = defaults[next(iter(defaults))]
        kind: dict[str, Any] = {"type": number} if isinstance(value, float) else {"type": int}
        if isinstance(value, tuple):
            kind = {"type": positive_integer, "nargs": "+"}
        elif name in ("n_epochs", "batch_size"):
            kind = {"type": positive_integer}
        parser.add_argument(
            RECIPE_OPTIONS[name], dest=name, default=None, metavar=METAVARS.get(name, "N"),
            help=f"{fields[name].metadata['help']} ({default_text})", **kind,
        )  # fmt: skip


def recipe_from(args: argparse.Namespace, recipe: Any) -> Any:
    """The recipe with the settings given on the command line; a bad value is named by its
    option (``--lr 0: ...``)."""
    import dataclasses

    from ptm.recipes import vary

    changes = {}
    for item in dataclasses.fields(recipe):
        value = getattr(args, item.name, None)
        if value is not None:
            changes[item.name] = tuple(value) if isinstance(value, list) else value
    try:
        return vary(recipe, **changes)
    except ValueError as error:
        name = next((name for name in changes if str(error).startswith(name)), None)
        option = RECIPE_OPTIONS.get(name or "", "")
        message = f"{option} {changes.get(name, '')}: {error}" if name else str(error)
        raise UsageError(message) from None


def _train(args: argparse.Namespace) -> int:
    from ptm import classifier
    from ptm.checkpoint import save_checkpoint
    from ptm.cifar_tensors import load_cifar2
    from ptm.recipes import CLASSIFIER
    from ptm.standin import choose_data_source

    if args.smoke and args.n_epochs is None:
        args.n_epochs = 3
    recipe = recipe_from(args, CLASSIFIER)  # every setting checked before any download or epoch
    device = device_option(args.device)
    save_path = _check_save_path(args.save) if args.save else None
    source = choose_data_source(
        args.data_dir,
        use_standin=args.smoke or args.standin,
        standin_size="smoke" if args.smoke else "full",
    )
    print(source.banner)
    cifar2 = load_cifar2(source.data_dir)
    model = classifier.build_fc_classifier(recipe.hidden_sizes, seed=recipe.seed)
    print(
        f"model {classifier.architecture_label(model)} "
        f"({classifier.count_parameters(model):,} parameters) on {device}, "
        f"{len(cifar2.train_labels):,} training and {len(cifar2.val_labels):,} validation images"
    )
    settings = {
        "mean": list(cifar2.mean),
        "std": list(cifar2.std),
        "data": "synthetic stand-in" if source.synthetic else "CIFAR-10",
    }
    try:
        history = classifier.train_classifier(
            model, cifar2.train, cifar2.val, recipe, device=device,
            progress=not args.no_progress, log_every=args.log_every,
        )  # fmt: skip
    except KeyboardInterrupt as interrupt:
        history = getattr(interrupt, "history", None)
        if save_path is not None and history is not None and len(history):
            save_checkpoint(save_path, model, history, settings, recipe=recipe)
            print(
                f"interrupted after {len(history)} epochs: saved {save_path} (the model as it "
                f"was at the end of epoch {len(history)})",
                file=sys.stderr,
            )
        raise
    if history.diverged:
        raise UsageError(history.stop_reason)
    train_accuracy = classifier.accuracy(model, *cifar2.train)
    val_accuracy = classifier.accuracy(model, *cifar2.val)
    if save_path is not None:
        print(f"saved {save_checkpoint(save_path, model, history, settings, recipe=recipe)}")
    print(f"train_accuracy={train_accuracy:.4f} val_accuracy={val_accuracy:.4f}")
    return 0


def device_option(name: str) -> Any:
    """``--device``, resolved, or a one-line error in the command line's own words."""
    from ptm.training import resolve_device

    try:
        return resolve_device(name)
    except ValueError as error:
        reason = str(error).split(":")[0]
        raise UsageError(
            f"--device {name}: {reason}: use --device auto (CUDA, then MPS, then the CPU) or "
            "--device cpu"
        ) from None


def _check_save_path(text: str) -> Path:
    """The --save path, checked before training: its folder must be (or become) writable."""
    path = Path(text).expanduser()
    if path.is_dir():
        raise UsageError(f"--save {text} is a folder: give a file name, e.g. {path / 'model.pt'}")
    folder = next((p for p in (path.parent, *path.parent.parents) if p.exists()), Path("/"))
    if not folder.is_dir():
        raise UsageError(f"--save {text}: {folder} is a file, so no folder can be made there")
    if not os.access(folder, os.W_OK):
        raise UsageError(f"--save {text}: the folder {folder} is not writable")
    return path


def _temperature(args: argparse.Namespace) -> int:
    from ptm.recipes import LINEAR, NETWORK
    from ptm.temperature import fit_temperature

    recipe = recipe_from(args, LINEAR if args.model == "linear" else NETWORK)
    if args.model == "network" and recipe.hidden_size == 0:
        raise UsageError("--hidden-size 0 is the linear model: use --model linear")
    result = fit_temperature(recipe, log_every=args.log_every)
    if result.history.diverged:
        raise UsageError(result.history.stop_reason)
    last = result.history.last()
    for name, parameter in result.model.named_parameters():
        print(f"{name} {tuple(parameter.shape)}")
    print(f"train_loss={last['train_loss']:.4f} val_loss={last['val_loss']:.4f}")
    return 0


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _env(args: argparse.Namespace) -> int:
    import torch

    from ptm.cifar_files import (
        ARCHIVE_NAME,
        BATCHES_FOLDER,
        CIFAR10_URL,
        CifarDataError,
        load_cifar10,
    )
    from ptm.data_folder import data_dir_rule
    from ptm.training import resolve_device

    print(f"python       {platform.python_version()} ({sys.executable})")
    print(f"ptm          {_ptm_version()}")
    for package in ("torch", "torchvision", "numpy", "matplotlib", "tqdm", "ipywidgets"):
        print(f"{package:<12} {_version(package)}")
    print(f"platform     {platform.platform()}")
    print(f"threads      {torch.get_num_threads()}")
    print(f"cuda         {'available' if torch.cuda.is_available() else 'not available'}")
    print(f"device       {resolve_device('auto')} (for device='auto')")
    data_dir, rule = (
        (Path(args.data_dir), "given by --data-dir") if args.data_dir else data_dir_rule()
    )
    if (data_dir / BATCHES_FOLDER).is_dir():
        try:
            dataset = load_cifar10(False, data_dir, download=False)
            found = "synthetic stand-in" if dataset.synthetic else "CIFAR-10, checksums verified"
        except CifarDataError as error:
            found = f"damaged ({str(error).splitlines()[0]})"
    elif (data_dir / ARCHIVE_NAME).is_file():
        found = f"{ARCHIVE_NAME} present, unpacked on first load"
    else:
        found = (
            f"not found: downloaded on first load; offline, copy {CIFAR10_URL.rsplit('/', 1)[1]} "
            f"from {CIFAR10_URL} into the data dir"
        )
    print(f"data dir     {data_dir} ({rule})")
    print(f"data         {found}")
    return 0


def _ptm_version() -> str:
    import ptm

    return ptm.__version__


def chapter6_figures() -> dict[str, Any]:
    """The README's chapter 6 figures, by file name, drawn from the notebook's own code."""
    from ptm import plots, temperature
    from ptm.activations import plot_activations, plot_tanh_composition
    from ptm.recipes import LINEAR, NETWORK, vary

    linear = temperature.fit_temperature(LINEAR)
    network = temperature.fit_temperature(NETWORK)
    calm = temperature.fit_temperature(vary(NETWORK, lr=5e-4, n_epochs=10_000))
    t_c, t_u = temperature.temperature_data()
    losses = plots.new_figure((12, 4))
    left, right = losses.subplots(1, 2, sharey=True)
    plots.plot_loss(network.history, log_scale=True, ax=left)
    left.set_title("lr 1e-3, 5,000 epochs (the book's)")
    plots.plot_loss(calm.history, log_scale=True, ax=right)
    right.set_title("lr 5e-4, 10,000 epochs")
    return {
        "activations.png": plot_activations(),
        "tanh_composition.png": plot_tanh_composition(),
        "temperature_fit.png": temperature.plot_temperature_fit(network.model, t_u, t_c),
        "temperature_loss.png": losses,
        "temperature_linear_loss.png": plots.plot_loss(linear.history, log_scale=True),
    }


FIGURE_DATA = "figure_data.json"


def _figures(args: argparse.Namespace) -> int:
    from ptm.plots import figure_data

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    data = {}
    import matplotlib.pyplot as plt

    for name, figure in chapter6_figures().items():
        figure.savefig(out / name, dpi=90)
        data[name] = figure_data(figure)
        plt.close(figure)
        print(out / name)
    (out / FIGURE_DATA).write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    print(out / FIGURE_DATA)
    return 0


def _require_notebook_extra() -> None:
    try:
        import nbclient  # noqa: F401
        import nbformat  # noqa: F401
    except ModuleNotFoundError as error:
        raise UsageError(
            f"running notebooks needs the notebooks extra ({error.name} is missing): "
            f"pip install '{DISTRIBUTION}[notebooks]'"
        ) from None


def _languages(choice: str) -> tuple[str, ...]:
    from ptm.texts import LANGUAGES

    return LANGUAGES if choice == "all" else (choice,)


def _notebooks(args: argparse.Namespace) -> int:
    _require_notebook_extra()
    from ptm.data_folder import default_data_dir
    from ptm.notebook_runner import (
        execute_notebook,
        find_notebooks,
        notebook_data_need,
        notebook_name,
    )
    from ptm.standin import choose_data_source

    folder = Path(args.folder) if args.folder else default_notebook_folder()
    notebooks = find_notebooks(folder, _languages(args.lang))
    if args.names:
        known = {name for path in notebooks for name in (path.stem, notebook_name(path))}
        unknown = sorted(set(args.names) - known)
        if unknown:
            raise UsageError(
                f"no notebook {unknown[0]!r} in {folder}: choose from "
                f"{', '.join(sorted({path.stem for path in notebooks}))}"
            )
        notebooks = [
            path for path in notebooks if {path.stem, notebook_name(path)} & set(args.names)
        ]
    if not notebooks:
        raise UsageError(f"no notebooks found in {folder}")
    results = []
    for path in notebooks:
        env = {"PTM_PROGRESS": "0"}  # progress widgets would be frozen at 0 % in the saved copy
        if os.environ.get("PTM_DATA_DIR"):  # a relative folder means the one ptm ran from,
            env["PTM_DATA_DIR"] = str(default_data_dir())  # not the notebook's
        if args.smoke:
            env["PTM_SMOKE"] = "1"
        if notebook_data_need(path) != "cifar10":
            data = "built-in measurements"
        elif args.smoke:
            data = "synthetic stand-in (smoke run)"
        else:
            source = choose_data_source(fallback_to_standin=True)
            if source.synthetic and source.data_dir != default_data_dir():
                env["PTM_STANDIN"] = "1"  # CIFAR-10 is missing: the notebook uses the stand-in
            if source.synthetic:
                data = f"synthetic stand-in, not CIFAR-10 ({source.reason.rstrip('.')})"
            else:
                data = f"CIFAR-10 from {source.data_dir}"
        print(f"running {notebook_name(path)} ...", flush=True)
        out = Path(args.out) / Path(notebook_name(path)).parent  # build/notebooks/ko/...
        result = execute_notebook(path, out_dir=out, env=env, data=data, timeout=args.timeout)
        results.append(result)
    print()
    for result in results:
        print(result.summary())
    print(f"executed notebooks and HTML: {Path(args.out).resolve()}")
    return 0 if all(result.ok for result in results) else 1


def default_notebook_folder() -> Path:
    """The checkout's ``notebooks/`` when ptm runs from one, else the installed copies."""
    from ptm.data_folder import checkout_root

    root = checkout_root()
    if root is not None and (root / "notebooks").is_dir():
        return root / "notebooks"
    return Path(__file__).resolve().parent / "notebooks"


def _copy_notebooks(args: argparse.Namespace) -> int:
    from ptm.notebook_runner import find_notebooks

    target = Path(args.folder).expanduser()
    source = default_notebook_folder()
    notebooks = find_notebooks(source, _languages(args.lang))
    if not notebooks:
        raise UsageError(f"no notebooks found in {source}")
    # each language in its own folder, as in ptm: FOLDER/en/..., FOLDER/ko/...
    files = [(path, target / path.relative_to(source)) for path in notebooks]
    glossaries = [source / lang / "glossary.csv" for lang in _languages(args.lang)]
    files += [(path, target / path.relative_to(source)) for path in glossaries if path.is_file()]
    existing = [copy for _, copy in files if copy.exists()]
    if existing and not args.overwrite:
        raise UsageError(
            f"{existing[0]} already exists: ptm does not overwrite your work (use --overwrite)"
        )
    for path, copy in files:
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, copy)
        print(copy)
    return 0


class _Parser(argparse.ArgumentParser):
    """Usage errors in one line, naming the problem and where to read more."""

    def error(self, message: str) -> None:  # type: ignore[override]
        message = message.replace("argument ", "").replace(
            "COMMAND: invalid choice", "unknown command"
        )
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Shows defaults (where there is one) and keeps the description's lines as written."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.default is False or action.help is None:
            return action.help
        return super()._get_help_string(action)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``ptm`` command."""
    parser = _Parser(prog="ptm", description=__doc__, formatter_class=_HelpFormatter)
    parser.add_argument("--version", action="version", version=f"ptm {_ptm_version()}")
    parser.add_argument("--traceback", action="store_true", help="show full tracebacks of errors")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    global_options = argparse.ArgumentParser(add_help=False)  # also after the command
    global_options.add_argument(
        "--traceback", action="store_true", default=argparse.SUPPRESS,
        help="show full tracebacks of errors",
    )  # fmt: skip

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        return commands.add_parser(
            name, help=help_text, description=help_text, formatter_class=_HelpFormatter,
            parents=[global_options],
        )  # fmt: skip

    from ptm.recipes import CLASSIFIER, LINEAR, NETWORK

    train = command("train", "train the CIFAR-2 classifier (§7.2.6), the book's recipe")
    add_recipe_options(
        train, {"": CLASSIFIER}, ["n_epochs", "batch_size", "lr", "hidden_sizes", "seed"]
    )
    train.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    train.add_argument(
        "--data-dir", help="folder holding cifar-10-batches-py/ (default: see ptm env)"
    )
    train.add_argument("--smoke", action="store_true", help="a quick run on the small stand-in")
    train.add_argument("--standin", action="store_true", help="the larger stand-in, not CIFAR-10")
    train.add_argument("--save", metavar="PATH", help="save a checkpoint there")
    train.add_argument(
        "--log-every", type=positive_integer, default=10, help="a line every K epochs"
    )
    train.add_argument("--no-progress", action="store_true", help="no progress bar")
    train.set_defaults(run=_train)

    temp = command("temperature", "fit the temperature model (§6.2–§6.3) on the notes' split")
    temp.add_argument("--model", choices=["linear", "network"], default="network",
                      help="the linear model (§6.2.2) or the 1-8-1 network (§6.3.2)")  # fmt: skip
    add_recipe_options(
        temp, {"linear": LINEAR, "network": NETWORK}, ["n_epochs", "lr", "hidden_size", "seed"]
    )
    temp.add_argument(
        "--log-every", type=positive_integer, default=1000, help="a line every K epochs"
    )
    temp.set_defaults(run=_temperature)

    env = command("env", "versions, device and where the data is")
    env.add_argument("--data-dir", help="folder holding cifar-10-batches-py/")
    env.set_defaults(run=_env)

    figures = command("figures", "regenerate the README's chapter 6 figures")
    figures.add_argument("--out", default="docs/figures", help="folder for the PNG files")
    figures.set_defaults(run=_figures)

    notebooks = command("notebooks", "execute the chapter notebooks")
    notebooks.add_argument("names", nargs="*", help="only these, e.g. chapter6_exercises")
    notebooks.add_argument("--folder", help="default: the checkout's notebooks/, else ptm's copies")
    notebooks.add_argument("--out", default="build/notebooks", help="where executed copies go")
    notebooks.add_argument("--smoke", action="store_true", help="stand-in data, few epochs")
    notebooks.add_argument(
        "--lang", choices=["all", "en", "ko"], default="all",
        help="the notebooks in English (en), in Korean (ko), or both",
    )  # fmt: skip
    notebooks.add_argument(
        "--timeout", type=positive_integer, default=1800, help="seconds per cell"
    )
    notebooks.set_defaults(run=_notebooks)

    copy = command("copy-notebooks", "copy the notebooks into a folder to work in")
    copy.add_argument("folder", help="where to put them, e.g. ~/ptm-notebooks")
    copy.add_argument("--overwrite", action="store_true", help="replace existing copies")
    copy.add_argument(
        "--lang", choices=["all", "en", "ko"], default="all",
        help="the notebooks in English (en), in Korean (ko), or both",
    )  # fmt: skip
    copy.set_defaults(run=_copy_notebooks)
    return parser


PYTHON_TO_OPTIONS = {
    "(or pass data_dir=)": "(or give --data-dir)",
    "or pass the folder as data_dir= (--data-dir on the command line)": "or give --data-dir",
}

_ESCAPES = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``ptm`` command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        from ptm.training import TrainingDivergedWarning

        with warnings.catch_warnings():
            # a diverged run is reported below as a one-line error
            warnings.simplefilter("ignore", TrainingDivergedWarning)
            return args.run(args)
    except KeyboardInterrupt:
        print("ptm: interrupted", file=sys.stderr)
        return 130
    except Exception as error:
        if args.traceback:
            raise
        from ptm.cifar_files import CifarDataError
        from ptm.data_folder import DataFolderError

        expected = (UsageError, CifarDataError, DataFolderError, ValueError, FileNotFoundError)
        kind = "" if isinstance(error, expected) else f"{type(error).__name__}: "
        message = " ".join(_ESCAPES.sub("", str(error)).split()) or type(error).__name__
        for python, option in PYTHON_TO_OPTIONS.items():  # speak of options, not arguments
            message = message.replace(python, option)
        print(f"ptm: error: {kind}{message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
