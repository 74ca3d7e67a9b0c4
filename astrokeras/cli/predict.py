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
    if report.failed:
        raise typer.Exit(code=SOME_FAILED)


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
