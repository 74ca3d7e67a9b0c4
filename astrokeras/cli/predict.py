"""`astrokeras predict`: run an exported ONNX model on FITS cutouts, arrays or shards."""

from pathlib import Path
from typing import Annotated, List, Optional

import typer

from astrokeras.errors import AstroKerasError

# Exit status when some inputs were skipped (the others are in the CSV).
SOME_FAILED = 3


def predict(
    model_path: Annotated[Path, typer.Argument(
        metavar="MODEL", help="An .onnx file written by `astrokeras export`.")],
    inputs: Annotated[List[Path], typer.Argument(
        metavar="INPUTS...",
        help="FITS cutouts, .npy/.npz arrays, TFRecord shards of an astrokeras dataset, or "
             "folders of them.")],
    out: Annotated[Path, typer.Option(help="The CSV to write, one row per object.")] =
        Path("predictions.csv"),
    batch_size: Annotated[int, typer.Option(help="Images per ONNX Runtime call.")] = 256,
    preprocess: Annotated[Optional[bool], typer.Option(
        "--preprocess/--no-preprocess",
        help="Apply the export's clip + arcsinh stretch (raw inputs); default: when the "
             "export recorded one. An export made with --include-preprocessing stretches in "
             "its graph and refuses --no-preprocess.")] = None,
    domain: Annotated[Optional[str], typer.Option(
        help="Domain of TFRecord datasets to read (default the first).")] = None,
    threads: Annotated[Optional[int], typer.Option(
        help="ONNX Runtime intra-op threads (default one per core; idle threads do not "
             "spin-wait; --threads 1 is the steadiest on a shared machine).")] = None,
    provider: Annotated[Optional[List[str]], typer.Option(
        help="ONNX Runtime execution provider (repeat for a preference order); default "
             "CUDA when available, else CPU.")] = None,
):
    """Predict classes or photo-z with an exported ONNX model; write one CSV row per object.

    A corrupt or mis-shaped input file is reported by name and skipped; the rest are
    predicted. Exit status: 0 all inputs predicted, 1 nothing done (bad model or arguments),
    3 some inputs skipped.

    Serving guard: for an export that stored one (exported with its training data), every
    object is compared with the source training data, and a table gives per file and in
    total the fraction of raw pixels outside the training clip range, the fraction of
    objects above the latent out-of-distribution threshold (the 99th percentile of held-out
    training images) and the mean score; the CSV gains the columns outside_clip and
    ood_score. A WARNING line (on stderr) names each file, and the total, with more than
    max(1 %, 5 x the training fraction) of its pixels outside the clip range, or more than
    5 % of its objects above the latent threshold (5 x the 1 % expected); files of fewer
    than 20 objects are shown, not judged. Warnings do not change the exit status.
    """
    from astrokeras.export import OnnxPredictor, predict_files

    try:
        predictor = OnnxPredictor(model_path, providers=provider or None, threads=threads)
        with _Progress() as progress:
            report = predict_files(predictor, inputs, out, batch_size=batch_size,
                                   preprocess=preprocess, domain=domain,
                                   progress=progress.update)
    except (AstroKerasError, FileNotFoundError) as error:
        typer.echo(f"Error: {error}", err=True)
        raise typer.Exit(code=1) from None
    for path, reason in report.failed:
        typer.echo(f"Skipped {reason}" if reason.startswith(str(path)) else
                   f"Skipped {path}: {reason}", err=True)
    typer.echo(f"Wrote {report.rows} predictions from {report.files} files to {report.out}"
               + (f"; {len(report.failed)} inputs skipped." if report.failed else "."))
    _print_guard(report.guard)
    if report.failed:
        raise typer.Exit(code=SOME_FAILED)


def _print_guard(guard):
    """The serving guard's table on stdout, its warnings on stderr."""
    for note in guard.notes:
        typer.echo(note)
    if guard.total is None:
        return
    limits = guard.warn_above
    rows = [(str(path), stats) for path, stats in guard.files]
    if len(rows) != 1:
        rows.append(("total", guard.total))
    width = max([len(name) for name, _ in rows] + [4])
    typer.echo(f"Serving guard (warns above {limits['outside_clip']:.2%} of pixels outside "
               f"the clip range or {limits['above_latent_threshold']:.0%} of objects above "
               f"the latent threshold, for {limits['min_objects']} objects or more):")
    typer.echo(f"  {'file':<{width}}  {'objects':>8}  {'outside clip':>12}  "
               f"{'above latent':>12}  {'mean OOD':>9}")
    for name, stats in rows:
        typer.echo(f"  {name:<{width}}  {stats.objects:>8}  "
                   f"{_number(stats.outside_clip, '{:.2%}'):>12}  "
                   f"{_number(stats.above_latent_threshold, '{:.1%}'):>12}  "
                   f"{_number(stats.mean_ood_score, '{:.3g}'):>9}")
    for warning in guard.warnings:
        typer.echo(f"WARNING: {warning}", err=True)


def _number(value, form):
    return "-" if value is None else form.format(value)


class _Progress:
    """A rich progress bar over input files, showing the objects predicted."""

    def __init__(self):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        self.bar = Progress("[progress.description]{task.description}", BarColumn(),
                            MofNCompleteColumn(), TimeElapsedColumn(), transient=True)
        self.task = self.bar.add_task("predict (files)", total=None)

    def __enter__(self):
        self.bar.__enter__()
        return self

    def __exit__(self, *exc):
        return self.bar.__exit__(*exc)

    def update(self, done, total, rows):
        self.bar.update(self.task, completed=done, total=total,
                        description=f"predict ({rows} objects)")
