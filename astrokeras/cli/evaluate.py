"""`astrokeras evaluate`: robustness of trained models, as metrics.json, PNG plots and report.md."""

import shlex
import sys
from pathlib import Path
from typing import Annotated, List, Optional

import typer

from astrokeras.cli.attack import (ATTACK_CHOICES, EPS, MAX_ITER, NORM, OPTION, POPSIZE,
                                   ProgressBar, attack_options_given)
from astrokeras.errors import AstroKerasError
from astrokeras import experiments
from astrokeras.experiments import ATTACKS

NO_ATTACK = "none"


def _attack_or_none(value):
    """typer parser of --attack: "none" or a registered attack (a usage error otherwise)."""
    if value != NO_ATTACK and value not in ATTACKS:
        raise typer.BadParameter(f"{value!r} is not an attack; one of: {NO_ATTACK}, "
                                 f"{', '.join(ATTACKS.names())}.")
    return value


def evaluate(
    model_path: Annotated[Path, typer.Argument(
        metavar="MODEL", help="Trained classifier (or DomainAdaptationModel), a .keras file.")],
    data: Annotated[Path, typer.Option(
        "--data", help="A dataset directory (astrokeras simulate) or an .npz file with one "
                       "image array per domain and the classes in `label`; for photo-z models "
                       "a photo-z dataset directory (astrokeras simulate photoz) or an .npz "
                       "with x, ebv and z.")],
    out: Annotated[Path, typer.Option(
        help="Folder for metrics.json, the PNG plots and report.md.")],
    domain: Annotated[Optional[List[str]], typer.Option(
        "--domain", help="A domain to evaluate, repeatable; the first is the base domain "
                         "(default: every domain of the data, e.g. --domain y10 --domain y1).")
    ] = None,
    compare: Annotated[Optional[Path], typer.Option(
        help="A second model to compare with (e.g. domain adaptation vs regular).")] = None,
    attack: Annotated[str, typer.Option(
        parser=_attack_or_none, metavar="ATTACK",
        help=f"Attack the correctly classified base images with: {NO_ATTACK} = no attack; "
             f"{ATTACK_CHOICES}.")] = NO_ATTACK,
    n: Annotated[int, typer.Option(
        "--n", help="Correctly classified base images attacked per model (the paper: 150).")
    ] = 150,
    popsize: POPSIZE = None,
    max_iter: MAX_ITER = None,
    eps: EPS = None,
    norm: NORM = None,
    option: OPTION = None,
    split: Annotated[str, typer.Option(
        help="Split of a dataset directory: train, validation, test or all.")] = "test",
    max_images: Annotated[Optional[int], typer.Option(
        help="Evaluate at most this many galaxies (the first ones).")] = None,
    bins: Annotated[int, typer.Option(help="Histogram bins of the JS distances.")] = 30,
    resolution: Annotated[int, typer.Option(
        help="Church-window grid points per axis.")] = 51,
    z_max: Annotated[Optional[float], typer.Option(
        help="Photo-z: upper redshift of the output bins (default: the z range of a dataset "
             "directory, the one its networks are trained on; 0.4 for an .npz, as Pasquet "
             "et al. 2019).")] = None,
    batch_size: Annotated[int, typer.Option(help="Images per model call.")] = 64,
    seed: Annotated[int, typer.Option(
        help="Seed of the attack and of the shift diagnostics' halves and folds.")] = 0,
):
    """Evaluate the robustness of a model (and compare it with another) on paired domains.

    Writes metrics.json (Table 2 metrics per model and domain; Table 3 latent distances,
    attack success and one-pixel generations, Jensen-Shannon distances: Ciprijanovic et al.
    2022), the plots (ROC curves, isomaps in 2-D and 3-D, latent-distance histograms, church
    windows) and report.md with the tables and the plots side by side. With two domains or
    more, the first is the source and each other a target: the shift diagnostics that need no
    label (latent MMD, domain-classifier AUC, predicted class proportions against the
    source's, prediction entropy) are given for each model side by side, as a table and
    plots. Images are stretched as the models' training runs stretched them (run.json beside
    the model). Photo-z networks (inputs image and ebv) get bias, sigma_MAD and outlier
    fraction (Campagne 2021) and their photo-z plot.
    """
    try:
        given, flags = attack_options_given(option, popsize=popsize, max_iter=max_iter,
                                            eps=eps, norm=norm)
        with ProgressBar() as progress:
            written = experiments.run_evaluation(
                model_path, data, out, compare=compare, domains=domain,
                attack=None if attack == NO_ATTACK else attack, options=given, n=n,
                split=split, max_images=max_images, bins=bins, resolution=resolution,
                z_max=z_max, batch_size=batch_size, seed=seed, progress=progress,
                command="astrokeras " + shlex.join(sys.argv[1:]), flags=flags)
    except (AstroKerasError, FileNotFoundError) as error:
        typer.echo(f"Error: {error}", err=True)
        raise typer.Exit(code=1) from None
    typer.echo(f"Wrote {written['metrics']}, {written['report']} and "
               f"{len(written['figures'])} plots to {out}")
