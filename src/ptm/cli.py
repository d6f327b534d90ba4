"""The ``ptm`` command: train, fit, report, draw and run the notebooks.

    ptm train        train the CIFAR-2 classifier (DLwPT §7.2.6)
    ptm temperature  fit the temperature model (DLwPT §6.2–§6.3)
    ptm env          versions, device and data found
    ptm figures      regenerate the chapter 6 figures shown in the README
    ptm notebooks    execute the chapter notebooks (the main job, ``make run``)

Errors end the command with a one-line message and exit status 2, not a traceback
(``ptm --traceback ...`` shows it); ``ptm notebooks`` exits 1 when a notebook fails.
"""

from __future__ import annotations

import argparse
import platform
import sys
import warnings
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

from ptm import classifier, plots, temperature
from ptm.activations import plot_activations, plot_tanh_composition
from ptm.checkpoint import save_checkpoint
from ptm.cifar import (
    ARCHIVE_NAME,
    BATCHES_FOLDER,
    CifarDataError,
    default_data_dir,
    load_cifar2,
    load_cifar10,
    project_root,
)
from ptm.standin import choose_data_source
from ptm.training import TrainingDivergedWarning, resolve_device

__all__ = ["main"]


class UsageError(Exception):
    """A bad command-line value, reported in one line."""


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _train(args: argparse.Namespace) -> int:
    device = resolve_device(args.device)  # check the settings before any download
    classifier.check_learning_rate(args.lr)
    source = choose_data_source(
        args.data_dir,
        use_standin=args.smoke or args.standin,
        standin_size="smoke" if args.smoke else "full",
    )
    print(source.banner)
    n_epochs = args.epochs if args.epochs is not None else (3 if args.smoke else 100)
    cifar2 = load_cifar2(source.data_dir)
    model = classifier.build_fc_classifier(args.hidden, seed=args.seed)
    print(
        f"model {classifier.architecture_label(model)} "
        f"({classifier.count_parameters(model):,} parameters) on {device}, "
        f"{len(cifar2.train_labels):,} training and {len(cifar2.val_labels):,} validation images"
    )
    history = classifier.train_classifier(
        model,
        cifar2.train,
        cifar2.val,
        n_epochs=n_epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        seed=args.seed,
        device=device,
        progress=not args.no_progress,
        log_every=args.log_every,
    )
    if history.diverged:
        raise UsageError(history.stop_reason)
    train_accuracy = classifier.accuracy(model, *cifar2.train)
    val_accuracy = classifier.accuracy(model, *cifar2.val)
    if args.save:
        settings = {
            "n_epochs": n_epochs,
            "batch_size": args.batch_size,
            "lr": args.lr,
            "seed": args.seed,
            "mean": list(cifar2.mean),
            "std": list(cifar2.std),
            "data": "synthetic stand-in" if source.synthetic else "CIFAR-10",
        }
        path = save_checkpoint(args.save, model, history, settings)
        print(f"saved {path}")
    print(f"train_accuracy={train_accuracy:.4f} val_accuracy={val_accuracy:.4f}")
    return 0


def _temperature(args: argparse.Namespace) -> int:
    result = temperature.fit_temperature(
        args.model,
        n_epochs=args.epochs,
        lr=args.lr,
        n_hidden=args.hidden,
        seed=args.seed,
        log_every=args.log_every,
    )
    if result.history.diverged:
        raise UsageError(result.history.stop_reason)
    for name, shape in temperature.describe_parameters(result.model):
        print(f"{name} {shape}")
    last = result.history.last()
    print(f"train_loss={last['train_loss']:.4f} val_loss={last['val_loss']:.4f}")
    return 0


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _env(args: argparse.Namespace) -> int:
    import torch

    print(f"python       {platform.python_version()} ({sys.executable})")
    for package in ("ptm", "torch", "torchvision", "numpy", "matplotlib", "tqdm", "ipywidgets"):
        print(f"{package:<12} {_version(package)}")
    print(f"platform     {platform.platform()}")
    print(f"threads      {torch.get_num_threads()}")
    print(f"cuda         {'available' if torch.cuda.is_available() else 'not available'}")
    print(f"device       {resolve_device('auto')} (for device='auto')")
    data_dir = Path(args.data_dir) if args.data_dir else default_data_dir()
    if (data_dir / BATCHES_FOLDER).is_dir():
        try:
            dataset = load_cifar10(False, data_dir, download=False)
            found = "synthetic stand-in" if dataset.synthetic else "CIFAR-10, checksums verified"
        except CifarDataError as error:
            found = f"damaged ({str(error).splitlines()[0]})"
    elif (data_dir / ARCHIVE_NAME).is_file():
        found = f"{ARCHIVE_NAME} present, unpacked on first load"
    else:
        found = "not found (downloaded on first load, or see data-unversioned/README.md)"
    print(f"data dir     {data_dir}")
    print(f"data         {found}")
    return 0


def _figures(args: argparse.Namespace) -> int:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    linear = temperature.fit_temperature("linear", seed=0, log_every=None)
    network = temperature.fit_temperature("network", seed=0, log_every=None)
    t_c, t_u = temperature.temperature_data()
    figures = {
        "activations.png": plot_activations(),
        "tanh_composition.png": plot_tanh_composition(),
        "temperature_fit.png": temperature.plot_temperature_fit(network.model, t_u, t_c),
        "temperature_loss.png": plots.plot_loss(network.history, log_scale=True),
        "temperature_linear_loss.png": plots.plot_loss(linear.history, log_scale=True),
    }
    for name, figure in figures.items():
        figure.savefig(out / name, dpi=90)
        print(out / name)
    return 0


def _notebooks(args: argparse.Namespace) -> int:
    from ptm.notebook_runner import execute_notebook, find_notebooks, notebook_data_need

    notebooks = find_notebooks(args.folder)
    if not notebooks:
        raise UsageError(f"no notebooks found in {args.folder}")
    results = []
    for path in notebooks:
        env = {"PTM_PROGRESS": "0"}  # progress widgets would be frozen at 0 % in the saved copy
        if args.smoke:
            env["PTM_SMOKE"] = "1"
        if notebook_data_need(path) != "cifar10":
            data = "built-in measurements"
        elif args.smoke:
            data = "synthetic stand-in (smoke run)"
        else:
            source = choose_data_source(fallback_to_standin=True)
            if source.synthetic:
                env["PTM_STANDIN"] = "1"
                data = f"synthetic stand-in, not CIFAR-10 ({source.reason.rstrip('.')})"
            else:
                data = f"CIFAR-10 from {source.data_dir}"
        print(f"running {path.name} ...", flush=True)
        result = execute_notebook(path, out_dir=args.out, env=env, data=data, timeout=args.timeout)
        results.append(result)
    print()
    for result in results:
        print(result.summary())
    print(f"executed notebooks and HTML: {args.out}")
    return 0 if all(result.ok for result in results) else 1


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``ptm`` command."""
    root = project_root() or Path.cwd()
    parser = argparse.ArgumentParser(prog="ptm", description=__doc__.splitlines()[0])
    parser.add_argument("--traceback", action="store_true", help="show full tracebacks of errors")
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train the CIFAR-2 classifier (§7.2.6)")
    train.add_argument("--epochs", type=_positive_int, help="default 100 (3 with --smoke)")
    train.add_argument("--batch-size", type=_positive_int, default=64)
    train.add_argument("--lr", type=float, default=1e-2)
    train.add_argument(
        "--hidden",
        type=_positive_int,
        nargs="+",
        default=[512],
        help="hidden layer sizes, e.g. --hidden 1024 512 128",
    )
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    train.add_argument("--data-dir", help="folder holding cifar-10-batches-py/")
    train.add_argument(
        "--smoke",
        action="store_true",
        help="a quick run on the small synthetic stand-in (3 epochs)",
    )
    train.add_argument(
        "--standin",
        action="store_true",
        help="use the larger synthetic stand-in instead of CIFAR-10",
    )
    train.add_argument("--save", metavar="PATH", help="save a checkpoint there")
    train.add_argument("--log-every", type=_positive_int, default=10)
    train.add_argument("--no-progress", action="store_true", help="no progress bar")
    train.set_defaults(run=_train)

    temp = commands.add_parser("temperature", help="fit the temperature model (§6.2–§6.3)")
    temp.add_argument("--model", choices=sorted(temperature.MODEL_BUILDERS), default="network")
    temp.add_argument("--epochs", type=_positive_int, help="default 3000 (linear), 5000 (network)")
    temp.add_argument("--lr", type=float, help="default 1e-2 (linear), 1e-3 (network)")
    temp.add_argument("--hidden", type=_positive_int, default=13)
    temp.add_argument("--seed", type=int, default=0)
    temp.add_argument("--log-every", type=_positive_int, default=1000)
    temp.set_defaults(run=_temperature)

    env = commands.add_parser("env", help="versions, device and data found")
    env.add_argument("--data-dir", help="folder holding cifar-10-batches-py/")
    env.set_defaults(run=_env)

    figures = commands.add_parser("figures", help="regenerate the README's chapter 6 figures")
    figures.add_argument("--out", default=str(root / "docs" / "figures"))
    figures.set_defaults(run=_figures)

    notebooks = commands.add_parser("notebooks", help="execute the chapter notebooks")
    notebooks.add_argument("--folder", default=str(root / "notebooks"))
    notebooks.add_argument("--out", default=str(root / "build" / "notebooks"))
    notebooks.add_argument("--smoke", action="store_true", help="stand-in data, few epochs")
    notebooks.add_argument("--timeout", type=_positive_int, default=1800, help="seconds per cell")
    notebooks.set_defaults(run=_notebooks)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``ptm`` command; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
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
        expected = (UsageError, CifarDataError, ValueError, FileNotFoundError)
        kind = "" if isinstance(error, expected) else f"{type(error).__name__}: "
        message = " ".join(str(error).split()) or type(error).__name__
        print(f"ptm: error: {kind}{message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
