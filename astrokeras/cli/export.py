"""`astrokeras export`: a trained .keras model to ONNX or a SavedModel, checked for parity."""

import enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from astrokeras.errors import AstroKerasError
from astrokeras.experiments.export import FORMATS

Format = enum.Enum("Format", {name: name for name in FORMATS}, type=str)


def export(
    model_path: Annotated[Path, typer.Argument(metavar="MODEL",
                                               help="Trained model, a .keras file.")],
    format: Annotated[Format, typer.Option(  # noqa: A002 - the option is --format
        "--format", help="onnx (an .onnx file) or saved_model (a folder).")],
    out: Annotated[Path, typer.Option(help="The .onnx file or SavedModel folder to write.")],
    outputs: Annotated[str, typer.Option(
        help="Comma-separated layer names the exported model returns, in order.")] =
        "probabilities,latent",
    opset: Annotated[Optional[int], typer.Option(
        help="ONNX opset (default tf2onnx's preferred one).")] = None,
    dataset: Annotated[Optional[Path], typer.Option(
        help="Dataset folder (manifest.json) the model was trained on: its classes, bands "
             "and clip + arcsinh stretch go into the metadata.")] = None,
    domain: Annotated[Optional[str], typer.Option(
        help="Domain of --dataset whose stretch the model expects (default its first).")] =
        None,
    class_names: Annotated[Optional[str], typer.Option(
        help="Comma-separated class names (overrides --dataset).")] = None,
    bands: Annotated[Optional[str], typer.Option(
        help="Comma-separated band names of the image channels (overrides --dataset).")] =
        None,
    z_min: Annotated[Optional[float], typer.Option(
        help="Photo-z: lower edge of the first redshift bin (default 0).")] = None,
    z_max: Annotated[Optional[float], typer.Option(
        help="Photo-z: upper edge of the last redshift bin (default 0.4).")] = None,
    recipe: Annotated[Optional[Path], typer.Option(
        help="Training recipe (TOML) stored in the metadata with its SHA-256.")] = None,
    run: Annotated[Optional[Path], typer.Option(
        help="Training run directory (run.json from `astrokeras train`): recipe, dataset and "
             "source domain for the metadata. Default: MODEL's folder when it holds run.json; "
             "--dataset, --domain and --recipe override it.")] = None,
    tolerance: Annotated[float, typer.Option(
        help="Largest allowed max |exported - Keras| on the parity batch.")] = 1e-4,
    include_preprocessing: Annotated[bool, typer.Option(
        "--include-preprocessing/--no-include-preprocessing",
        help="Put the clip + arcsinh stretch in the exported graph: the exported model then "
             "takes raw flux images and stretches them itself, with the clip limits and "
             "arcsinh softening recorded in the metadata (needs --dataset, --run or a run.json "
             "beside MODEL). Default: off, the model takes stretched images and the stretch is "
             "only recorded.")] = False,
    serving_guard: Annotated[bool, typer.Option(
        "--serving-guard/--no-serving-guard",
        help="Store a serving guard when the training data is known (--dataset, or the run's "
             "dataset): the fraction of source training pixels outside the clip range, and "
             "the mean, scale and threshold (99th percentile of held-out source images) of a "
             "latent out-of-distribution score; `astrokeras predict` checks its inputs "
             "against them.")] = True,
):
    """Export a trained model to ONNX or a SavedModel with metadata and a parity check.

    The exported model and the Keras model run on a sample batch; the export fails (exit 1,
    nothing written) if any output differs by more than --tolerance. With
    --include-preprocessing the export takes raw flux images (electrons per second) and
    applies the recorded clip + arcsinh stretch in its graph. With its training data known,
    the export also stores a serving guard (see `astrokeras predict --help`).
    """
    from astrokeras import experiments

    if (z_min is None) != (z_max is None):
        typer.echo("Error: Give both --z-min and --z-max, or neither.", err=True)
        raise typer.Exit(code=1)
    try:
        result = experiments.export_model(
            model_path, out, format=format.value, outputs=outputs, opset=opset,
            dataset=dataset, domain=domain, class_names=class_names, bands=bands,
            redshift_range=None if z_min is None else (z_min, z_max), recipe=recipe, run=run,
            tolerance=tolerance, include_preprocessing=include_preprocessing,
            guard=serving_guard)
    except (AstroKerasError, FileNotFoundError) as error:
        typer.echo(f"Error: {error}", err=True)
        raise typer.Exit(code=1) from None
    diffs = ", ".join(f"{name} {value:.2e}" for name, value in result.max_abs_diff.items())
    opset_text = f", opset {result.metadata['opset']}" if result.format == "onnx" else ""
    typer.echo(f"Wrote {result.path} ({result.format}{opset_text}); parity max |diff|: "
               f"{diffs} (tolerance {result.tolerance:g}).")
    typer.echo(_guard_line(result.metadata.get("serving_guard")))


def _guard_line(guard):
    """One line saying what serving guard the export stored."""
    if not guard:
        return ("Serving guard: none stored (the training data is not known: give --dataset, "
                "or export the model from its run directory).")
    clip = guard["outside_clip_reference"]
    limits = guard["warn_above"]
    adapted = clip.get("adapted_to")
    also = (f" and {adapted['fraction']:.2%} of the {adapted['domain']} training pixels the "
            "model was adapted to" if adapted else "")
    text = (f"Serving guard: {clip['fraction']:.2%} of {clip['domain']} training pixels{also} "
            f"outside the clip range (predict warns above {limits['outside_clip']:.2%})")
    latent = guard.get("latent")
    if latent:
        text += (f"; latent out-of-distribution threshold {latent['threshold']:.4g}, the "
                 f"{latent['quantile']:.0%} quantile of {latent['calibration_images']} "
                 f"held-out {guard['fitted_on']['domain']} images (predict warns above "
                 f"{limits['above_latent_threshold']:.0%} of objects beyond it)")
    else:
        text += ("; no latent reference (the model has no 'latent' layer, or the export does "
                 "not return it)")
    return text + "."
