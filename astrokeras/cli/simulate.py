"""`astrokeras simulate`: simulate survey images into sharded TFRecord datasets, and show them.

    astrokeras simulate morphology --n 25000 --out data/y10y1 --workers 0
    astrokeras simulate deepmerge --n 10000 --out data/deepmerge
    astrokeras simulate photoz --n 20000 --out data/photoz --shard-index 3 --num-shards 8
    astrokeras simulate show data/y10y1

The commands only parse options, show progress and call `astrokeras.data` (and
`astrokeras.plots` for `show`).
"""

import functools
import inspect
import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from astrokeras.errors import AstroKerasError

simulate_app = typer.Typer(
    help="Simulate survey images (GalSim) into sharded TFRecord datasets, and show them.",
    no_args_is_help=True,
)

N = Annotated[int, typer.Option("--n", help="Number of galaxies in the whole dataset.")]
OUT = Annotated[Path, typer.Option("--out", help="Output directory (created; resumable).")]
SEED = Annotated[int, typer.Option("--seed", help="Dataset seed: same seed, same bytes.")]
WORKERS = Annotated[int, typer.Option("--workers", help="Worker processes; 0 = every core.")]
SHARD_INDEX = Annotated[int, typer.Option(
    "--shard-index", help="Write only shard files j with j % num-shards == shard-index.")]
NUM_SHARDS = Annotated[int, typer.Option(
    "--num-shards", help="Number of parts (e.g. machines) the shard files are split into.")]
SHARD_SIZE = Annotated[int, typer.Option("--shard-size", help="Galaxies per shard file.")]
SOFTENING = Annotated[Optional[float], typer.Option(
    "--softening", help="Arcsinh softening c of the stored clip + arcsinh stretch, in units of "
    "the clipped range. Default: 0.85 (the morphology papers' stretch) for morphology and "
    "deepmerge, 0.001 (about 10x the sky noise: colours become differences) for photoz.")]


def _fail(error):
    typer.echo(f"Error: {error}", err=True)
    raise typer.Exit(code=1) from None


def _floats(name, text, count=None):
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        values = ()
    if not values or (count is not None and len(values) != count):
        what = f"{count} comma-separated numbers" if count else "comma-separated numbers"
        _fail(f"--{name} must be {what}, got {text!r}.")
    return values


def _names(text):
    return tuple(v.strip() for v in text.split(",") if v.strip())


# The options of every dataset command: (parameter, annotation, default); --out defaults to
# data/KIND.
_SHARED = (("n", N, 1000), ("out", OUT, None), ("seed", SEED, 0), ("workers", WORKERS, 0),
           ("shard_index", SHARD_INDEX, 0), ("num_shards", NUM_SHARDS, 1),
           ("shard_size", SHARD_SIZE, 256), ("softening", SOFTENING, None))


def _dataset_command(kind):
    """Registers `build(**options) -> Simulation` as the command `astrokeras simulate KIND`.

    The command takes the options every dataset shares (`_SHARED`), then `build`'s own; it
    builds the simulation, writes the dataset with a progress bar and reports, turning library
    errors into one line and exit status 1.
    """
    def register(build):
        keyword = inspect.Parameter.KEYWORD_ONLY
        parameters = [inspect.Parameter(name, keyword, annotation=annotation,
                                        default=Path(f"data/{kind}") if name == "out" else
                                        default)
                      for name, annotation, default in _SHARED]
        parameters += [p.replace(kind=keyword)
                       for p in inspect.signature(build).parameters.values()]

        @functools.wraps(build)
        def command(**options):
            shared = {name: options.pop(name) for name, _, _ in _SHARED}
            try:
                _run(build(**options), **shared)
            except (AstroKerasError, FileNotFoundError) as error:
                _fail(error)

        command.__signature__ = inspect.Signature(parameters)
        command.__annotations__ = {p.name: p.annotation for p in parameters}
        simulate_app.command(kind)(command)
        return build

    return register


def _run(simulation, n, out, seed, workers, shard_index, num_shards, shard_size, softening):
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                               TimeRemainingColumn)

    from astrokeras.data import write_dataset

    start = time.perf_counter()
    state = {"first": None}
    with Progress(TextColumn("[bold]simulate {task.description}"), BarColumn(),
                  MofNCompleteColumn(), TextColumn("{task.fields[rate]}"),
                  TimeRemainingColumn(), transient=False) as progress:
        task = progress.add_task(simulation.kind, total=None, rate="")

        def report(done, total):
            if state["first"] is None:
                state["first"] = (done, time.perf_counter())
            first_done, first_time = state["first"]
            elapsed = time.perf_counter() - first_time
            rate = (done - first_done) / elapsed if elapsed > 0 else 0.0
            images = rate * len(simulation.domains)
            progress.update(task, completed=done, total=total, rate=f"{images:.1f} images/s")

        manifest = write_dataset(simulation, n, out, seed=seed, shard_size=shard_size,
                                 workers=workers, shard_index=shard_index,
                                 num_shards=num_shards, c=softening, progress=report)
    seconds = time.perf_counter() - start
    if manifest is None:
        typer.echo(f"Wrote shard part {shard_index} of {num_shards} to {out} in {seconds:.1f} s; "
                   "the manifest is written by the run that completes the last shard.")
    else:
        counts = ", ".join(f"{k} {v}" for k, v in manifest["counts"]["per_class"].items())
        counts = f" ({counts})" if counts else ""
        typer.echo(f"Dataset complete in {out}: {manifest['n']} galaxies x "
                   f"{len(manifest['domains'])} domains{counts}; {seconds:.1f} s.")


@_dataset_command("morphology")
def morphology(
    size: Annotated[int, typer.Option("--size", help="Image side in pixels (paper: 100).")] = 100,
    bands: Annotated[str, typer.Option("--bands", help="LSST bands, comma-separated.")] = "g,r,i",
    depths: Annotated[str, typer.Option("--depths", help="Domains: y10 and/or y1.")] = "y10,y1",
    class_fractions: Annotated[str, typer.Option(
        "--class-fractions", help="Relative spiral,elliptical,merger numbers.")
    ] = "14312,8151,2542",
    magnitude_range: Annotated[str, typer.Option(
        "--magnitude-range", help="Uniform r-band magnitude range min,max.")] = "19,22",
    morphometry: Annotated[bool, typer.Option(
        "--morphometry/--no-morphometry", help="Record Gini and M20 of each galaxy.")] = False,
):
    """LSST-like spiral / elliptical / merger images, paired at the Y10 and Y1 depths."""
    from astrokeras.data import MorphologySimulation

    return MorphologySimulation(
        size=size, bands=_names(bands), depths=_names(depths),
        class_fractions=_floats("class-fractions", class_fractions, 3),
        magnitude_range=_floats("magnitude-range", magnitude_range, 2), morphometry=morphometry)


@_dataset_command("deepmerge")
def deepmerge(
    size: Annotated[int, typer.Option("--size", help="Image side in pixels (paper: 75).")] = 75,
    class_fractions: Annotated[str, typer.Option(
        "--class-fractions", help="Relative non-merger,merger numbers.")] = "1,1",
    magnitude_range: Annotated[str, typer.Option(
        "--magnitude-range", help="Uniform F814W magnitude range min,max.")] = "22,24.5",
    exposure: Annotated[float, typer.Option(
        "--exposure", help="Seconds of exposure of the noisy domain.")] = 2000.0,
):
    """HST-like merger / non-merger images: PSF only ("psf") and PSF + sky noise ("noisy")."""
    from astrokeras.data import DeepMergeSimulation

    return DeepMergeSimulation(
        size=size, class_fractions=_floats("class-fractions", class_fractions, 2),
        magnitude_range=_floats("magnitude-range", magnitude_range, 2), exposure=exposure)


@_dataset_command("photoz")
def photoz(
    size: Annotated[int, typer.Option("--size", help="Cutout side in pixels (paper: 64).")] = 64,
    depth: Annotated[str, typer.Option("--depth", help="LSST depth: y10 or y1.")] = "y10",
    z_range: Annotated[str, typer.Option("--z-range", help="Redshift range min,max.")] = "0,1",
    num_bins: Annotated[int, typer.Option("--num-bins", help="Redshift bins (labels).")] = 180,
    ebv_max: Annotated[float, typer.Option("--ebv-max", help="E(B-V) ~ U(0, max).")] = 0.1,
):
    """Five-band LSST cutouts with z_spec and E(B-V), labelled by redshift bin."""
    from astrokeras.data import PhotoZSimulation

    return PhotoZSimulation(size=size, depth=depth, z_range=_floats("z-range", z_range, 2),
                            num_bins=num_bins, ebv_max=ebv_max)


@simulate_app.command("show")
def show(
    directory: Annotated[Path, typer.Argument(help="A dataset directory.")],
    out: Annotated[Optional[Path], typer.Option(
        "--out", help="PNG path (default: DIRECTORY/examples.png); a Gini-M20 diagram, when "
        "the dataset records them, goes beside it as NAME_gm20.png.")] = None,
    per_class: Annotated[int, typer.Option("--per-class", help="Examples per class.")] = 4,
):
    """Write a PNG grid of examples per class and domain (the paper's figure 2)."""
    from astrokeras.plots import plot_dataset_examples

    out = Path(directory) / "examples.png" if out is None else out
    gini_m20 = out.with_name(f"{out.stem}_gm20.png")
    try:
        figures = plot_dataset_examples(directory, out, per_class=per_class,
                                        gini_m20_path=gini_m20)
    except (AstroKerasError, FileNotFoundError) as error:
        _fail(error)
    typer.echo(f"Wrote {out}")
    if "gini_m20" in figures:
        typer.echo(f"Wrote {gini_m20}")
