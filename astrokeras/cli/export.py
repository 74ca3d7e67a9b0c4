"""`astrokeras export`: a trained .keras model to ONNX or a SavedModel, checked for parity."""

import enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from astrokeras.errors import AstroKerasError, InvalidArgumentError


class Format(str, enum.Enum):
    onnx = "onnx"
    saved_model = "saved_model"


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
):
    """Export a trained model to ONNX or a SavedModel with metadata and a parity check.

    The exported model and the Keras model run on a sample batch; the export fails (exit 1,
    nothing written) if any output differs by more than --tolerance. With
    --include-preprocessing the export takes raw flux images (electrons per second) and
    applies the recorded clip + arcsinh stretch in its graph.
    """
    try:
        result = run_export(model_path=model_path, format=Format(format), out=out,
                            outputs=outputs, opset=opset, dataset=dataset, domain=domain,
                            class_names=class_names, bands=bands, z_min=z_min, z_max=z_max,
                            recipe=recipe, run=run, tolerance=tolerance,
                            include_preprocessing=include_preprocessing)
    except (AstroKerasError, FileNotFoundError) as error:
        typer.echo(f"Error: {error}", err=True)
        raise typer.Exit(code=1) from None
    diffs = ", ".join(f"{name} {value:.2e}" for name, value in result.max_abs_diff.items())
    opset_text = f", opset {result.metadata['opset']}" if result.format == "onnx" else ""
    typer.echo(f"Wrote {result.path} ({result.format}{opset_text}); parity max |diff|: "
               f"{diffs} (tolerance {result.tolerance:g}).")


def run_export(*, model_path, format, out, outputs, opset, dataset, domain, class_names,
               bands, z_min, z_max, recipe, tolerance, run=None, include_preprocessing=False):
    """Check the arguments, load the model, build the metadata and export."""
    if not Path(model_path).is_file():
        raise FileNotFoundError(f"No such model file: {model_path}")
    if dataset is not None and not (Path(dataset) / "manifest.json").is_file():
        raise FileNotFoundError(f"No manifest.json in --dataset {dataset}")
    if recipe is not None and not Path(recipe).is_file():
        raise FileNotFoundError(f"No such recipe file: {recipe}")
    if run is not None and not (Path(run) / "run.json").is_file():
        raise FileNotFoundError(f"No run.json in --run {run}")
    if run is None and (Path(model_path).parent / "run.json").is_file():
        run = Path(model_path).parent
    if format is Format.saved_model and opset is not None:
        raise InvalidArgumentError("--opset applies to --format onnx only.", opset, "no --opset")
    if (z_min is None) != (z_max is None):
        raise InvalidArgumentError("Give both --z-min and --z-max, or neither.",
                                   (z_min, z_max), "both or neither")
    names = tuple(name.strip() for name in outputs.split(",") if name.strip())

    from astrokeras import export as export_lib, load_model

    model = load_model(model_path)
    metadata = export_lib.model_metadata(
        model, class_names=class_names, bands=bands,
        redshift_range=None if z_min is None else (z_min, z_max), recipe=recipe,
        manifest=None if dataset is None else str(dataset), domain=domain,
        run=None if run is None else str(run))
    if format is Format.onnx:
        return export_lib.to_onnx(model, out, opset=opset, outputs=names, metadata=metadata,
                                  tolerance=tolerance,
                                  include_preprocessing=include_preprocessing)
    return export_lib.to_saved_model(model, out, outputs=names, metadata=metadata,
                                     tolerance=tolerance,
                                     include_preprocessing=include_preprocessing)
