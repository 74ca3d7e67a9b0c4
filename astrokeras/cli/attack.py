"""`astrokeras attack`: run an attack from the registry (FGSM, PGD, one-pixel, ...) on a model."""

from pathlib import Path
from typing import Annotated, List, Optional

import typer

from astrokeras.errors import AstroKerasError, InvalidArgumentError
from astrokeras import experiments
from astrokeras.experiments import ATTACKS, REQUIRED


def _attack_name(value):
    """typer parser of --method / --attack: a registered attack (a usage error otherwise)."""
    if value not in ATTACKS:
        raise typer.BadParameter(f"{value!r} is not an attack; one of: "
                                 f"{', '.join(ATTACKS.names())}.")
    return value


def _help(key, text):
    """Help of an attack option: the attacks taking it, what it is and its default."""
    users = [entry for entry in ATTACKS if key in entry.schema]
    default = users[0].schema[key][1] if users else None
    shown = "" if default in (None, REQUIRED) else f" (default {default})"
    return f"{', '.join(e.name for e in users)}: {text}{shown}."


ATTACK_CHOICES = "; ".join(f"{e.name} = {e.description}" for e in ATTACKS)

EPS = Annotated[Optional[float], typer.Option(help=_help("eps", "perturbation size, required"))]
NORM = Annotated[Optional[str], typer.Option(help=_help("norm", 'norm, "inf" or "2"'))]
POPSIZE = Annotated[Optional[int], typer.Option(help=_help("popsize", "population per image"))]
MAX_ITER = Annotated[Optional[int], typer.Option(help=_help("max_iter", "maximum generations"))]
OPTION = Annotated[Optional[List[str]], typer.Option(
    "--option", metavar="KEY=VALUE",
    help="Any option of the attack by its name, repeatable (e.g. --option steps=20): for "
         "attacks with options that have no flag of their own.")]


def attack_options_given(option_texts, **flags):
    """The attack options given on the command line, and the flag that gave each one.

    Args:
        option_texts: the `--option KEY=VALUE` texts (values stay text; the attack's schema
            converts them).
        **flags: the attack options that have a flag of their own, None where not given.

    Returns:
        `({key: value}, {key: "--flag"})`.
    """
    given = {key: value for key, value in flags.items() if value is not None}
    names = {key: "--" + key.replace("_", "-") for key in flags}
    for text in option_texts or ():
        key, separator, value = text.partition("=")
        if not separator or not key:
            raise InvalidArgumentError("--option must be KEY=VALUE.", text, "e.g. steps=20")
        given[key], names[key] = value, f"--option {key}"
    return given, names


def attack(
    model_path: Annotated[Path, typer.Argument(metavar="MODEL",
                                               help="Trained model, a .keras file.")],
    data_path: Annotated[Path, typer.Argument(
        metavar="DATA",
        help="A dataset directory made by `astrokeras simulate` (TFRecord shards and "
             "manifest.json), or a .npz file with arrays x (images), y (classes, optional); "
             "for photo-z models ebv and z (spectroscopic redshift) instead of y.")],
    method: Annotated[str, typer.Option(parser=_attack_name, metavar="ATTACK",
                                        help=f"The attack: {ATTACK_CHOICES}.")],
    out: Annotated[Path, typer.Option(help="Folder for adversarial.npz and summary.json.")],
    eps: EPS = None,
    step: Annotated[Optional[float], typer.Option(
        help=_help("step", "step size; default eps / 4"))] = None,
    steps: Annotated[Optional[int], typer.Option(help=_help("steps", "iterations"))] = None,
    norm: NORM = None,
    random_start: Annotated[Optional[bool], typer.Option(
        "--random-start/--no-random-start",
        help=_help("random_start", "random start in the eps-ball"))] = None,
    clip_min: Annotated[Optional[float], typer.Option(
        help=_help("clip", "lowest valid pixel value (with --clip-max)"))] = None,
    clip_max: Annotated[Optional[float], typer.Option(help="Highest valid pixel value.")] = None,
    n: Annotated[int, typer.Option("--n", help="Attack the first N images.")] = 150,
    domain: Annotated[Optional[str], typer.Option(
        help="Dataset directory: the domain to attack (e.g. y10 or y1); default the "
             "dataset's first domain.")] = None,
    split: Annotated[Optional[str], typer.Option(
        help="Dataset directory: the split to attack (train, validation, test, all); "
             "default test.")] = None,
    target: Annotated[Optional[int], typer.Option(
        help="Target class (targeted attack); default untargeted.")] = None,
    pixels: Annotated[Optional[int], typer.Option(
        help=_help("pixels", "pixels changed per image"))] = None,
    popsize: POPSIZE = None,
    max_iter: MAX_ITER = None,
    strategy: Annotated[Optional[str], typer.Option(help=_help(
        "strategy", '"rand1" (DE/rand/1, Su et al. 2019) or "best1" (DE/best/1)'))] = None,
    init: Annotated[Optional[str], typer.Option(help=_help(
        "init", 'initial values "normal" (Su et al. 2019) or "uniform"'))] = None,
    option: OPTION = None,
    z_max: Annotated[Optional[float], typer.Option(
        help="Photo-z: upper redshift of the output bins; default the dataset's z range for a "
             "dataset directory, 0.4 (Pasquet et al. 2019) for a .npz file.")] = None,
    batch_size: Annotated[Optional[int], typer.Option(
        help="Images per call (FGSM/PGD) or candidate images per call (one-pixel).")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the random start / evolution.")] = 0,
):
    """Attack a trained model and write the adversarial images and a JSON summary.

    The summary holds the success rate (images classified correctly before the attack and not
    after; for a targeted attack, images reaching the target), the accuracy and mean
    cross-entropy before and after, and for the one-pixel attack the mean and median number of
    generations needed (Ciprijanovic et al. 2022's susceptibility measure).
    """
    try:
        if (clip_min is None) != (clip_max is None):
            raise InvalidArgumentError("Give both --clip-min and --clip-max, or neither.",
                                       (clip_min, clip_max), "both or neither")
        clip = None if clip_min is None else (clip_min, clip_max)
        given, flags = attack_options_given(
            option, eps=eps, step=step, steps=steps, norm=norm, random_start=random_start,
            clip=clip, pixels=pixels, popsize=popsize, max_iter=max_iter, strategy=strategy,
            init=init)
        flags.update(clip="--clip-min/--clip-max")
        with ProgressBar(method) as progress:
            summary = experiments.run_attack(
                model_path, data_path, out, attack=method, options=given, n=n, target=target,
                domain=domain, split=split, z_max=z_max, batch_size=batch_size, seed=seed,
                callback=progress, flags=flags)
    except (AstroKerasError, FileNotFoundError) as error:
        typer.echo(f"Error: {error}", err=True)
        raise typer.Exit(code=1) from None
    typer.echo(f"{method}: success rate {summary['success_rate']:.3f}, accuracy "
               f"{summary['accuracy_before']:.3f} -> {summary['accuracy_after']:.3f}; wrote "
               f"{out / 'adversarial.npz'} and {out / 'summary.json'}")


class ProgressBar:
    """A transient rich progress bar fed by the workflows' `progress(description, done, total)`.

    Args:
        label: shown before each description.
    """

    def __init__(self, label=""):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        self.label = label
        self.bar = Progress("[progress.description]{task.description}", BarColumn(),
                            MofNCompleteColumn(), TimeElapsedColumn(), transient=True)
        self.task = self.bar.add_task(label, total=None)

    def __enter__(self):
        self.bar.__enter__()
        return self

    def __exit__(self, *exc):
        return self.bar.__exit__(*exc)

    def __call__(self, description, completed, total):
        text = f"{self.label} ({description})" if self.label else description
        self.bar.update(self.task, description=text, completed=completed, total=total)
