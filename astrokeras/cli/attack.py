"""`astrokeras attack`: run FGSM, PGD or the one-pixel attack on a trained model."""

import enum
import json
import os
import tempfile
from pathlib import Path
from typing import Annotated, Optional

import typer

from astrokeras.errors import AstroKerasError, DataError, InvalidArgumentError

SPLITS = ("train", "validation", "test", "all")


class Method(str, enum.Enum):
    fgsm = "fgsm"
    pgd = "pgd"
    one_pixel = "one-pixel"


def attack(
    model_path: Annotated[Path, typer.Argument(metavar="MODEL",
                                               help="Trained model, a .keras file.")],
    data_path: Annotated[Path, typer.Argument(
        metavar="DATA",
        help="A dataset directory made by `astrokeras simulate` (TFRecord shards and "
             "manifest.json), or a .npz file with arrays x (images), y (classes, optional); "
             "for photo-z models ebv and z (spectroscopic redshift) instead of y.")],
    method: Annotated[Method, typer.Option(help="The attack.")],
    out: Annotated[Path, typer.Option(help="Folder for adversarial.npz and summary.json.")],
    eps: Annotated[Optional[float], typer.Option(
        help="FGSM/PGD perturbation size (required for them).")] = None,
    step: Annotated[Optional[float], typer.Option(help="PGD step size; default eps / 4.")] = None,
    steps: Annotated[int, typer.Option(help="PGD iterations.")] = 10,
    norm: Annotated[str, typer.Option(help='FGSM/PGD norm: "inf" or "2".')] = "inf",
    random_start: Annotated[bool, typer.Option(help="PGD random start in the eps-ball.")] = True,
    clip_min: Annotated[Optional[float], typer.Option(help="Lowest valid pixel value.")] = None,
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
    pixels: Annotated[int, typer.Option(help="One-pixel: pixels changed per image.")] = 1,
    popsize: Annotated[int, typer.Option(help="One-pixel: population per image.")] = 400,
    max_iter: Annotated[int, typer.Option(help="One-pixel: maximum generations.")] = 80,
    strategy: Annotated[str, typer.Option(
        help='One-pixel: "rand1" (DE/rand/1, Su et al. 2019) or "best1" (DE/best/1).')] = "rand1",
    init: Annotated[str, typer.Option(
        help='One-pixel: initial values "normal" (Su et al. 2019) or "uniform".')] = "normal",
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
        summary = run_attack(
            model_path=model_path, data_path=data_path, method=Method(method), out=out, eps=eps,
            step=step, steps=steps, norm=norm, random_start=random_start, clip_min=clip_min,
            clip_max=clip_max, n=n, target=target, pixels=pixels, popsize=popsize,
            max_iter=max_iter, z_max=z_max, batch_size=batch_size, seed=seed, domain=domain,
            split=split, strategy=strategy, init=init)
    except (AstroKerasError, FileNotFoundError) as error:
        typer.echo(f"Error: {error}", err=True)
        raise typer.Exit(code=1) from None
    typer.echo(f"{method.value if isinstance(method, Method) else method}: success rate "
               f"{summary['success_rate']:.3f}, accuracy {summary['accuracy_before']:.3f} -> "
               f"{summary['accuracy_after']:.3f}; wrote {out / 'adversarial.npz'} and "
               f"{out / 'summary.json'}")


def run_attack(*, model_path, data_path, method, out, eps, step, steps, norm, random_start,
               clip_min, clip_max, n, target, pixels, popsize, max_iter, z_max, batch_size,
               seed, domain=None, split=None, strategy="rand1", init="normal"):
    """Check the arguments, load model and data, attack, write the results; return the summary."""
    if method in (Method.fgsm, Method.pgd):
        if eps is None:
            raise InvalidArgumentError(f"--eps is required for --method {method.value}.", None,
                                       "a perturbation size >= 0")
        if norm not in ("inf", "2"):
            raise InvalidArgumentError("Unknown --norm.", norm, '"inf" or "2"')
    if n < 1:
        raise InvalidArgumentError("--n must be at least 1.", n, ">= 1")
    if (clip_min is None) != (clip_max is None):
        raise InvalidArgumentError("Give both --clip-min and --clip-max, or neither.",
                                   (clip_min, clip_max), "both or neither")
    if not Path(model_path).is_file():
        raise FileNotFoundError(f"No such file: {model_path}")
    directory = Path(data_path).is_dir()
    if not directory and not Path(data_path).is_file():
        raise FileNotFoundError(f"No such file or directory: {data_path}")
    if not directory:
        for option, value in (("--domain", domain), ("--split", split)):
            if value is not None:
                raise InvalidArgumentError(f"{option} applies to a dataset directory, not to "
                                           "a .npz file.", value, "no " + option)
    elif split is not None and split not in SPLITS:
        raise InvalidArgumentError("Unknown --split.", split, ", ".join(SPLITS))
    if z_max is not None and not z_max > 0:
        raise InvalidArgumentError("--z-max must be positive.", z_max, "> 0")

    import keras
    import numpy as np

    from astrokeras import attacks

    if directory:
        data = _load_directory(Path(data_path), n, domain, split or "test")
    else:
        data = _load_data(data_path, n)
    try:
        model = keras.models.load_model(model_path, compile=False)
    except (ValueError, OSError, TypeError) as error:
        raise DataError(f"Cannot load the model {model_path}: {error}") from None
    photoz = "ebv" in [tensor.name for tensor in getattr(model, "inputs", None) or []]
    if photoz:
        if "ebv" not in data or "z" not in data:
            raise DataError(f"{data_path} must hold arrays ebv and z for a photo-z model.",
                            sorted(data), "x, ebv, z")
        x = {"image": data["x"], "ebv": data["ebv"].reshape(len(data["x"]), -1)}
        labels = _redshift_labels(data, int(model.outputs[0].shape[-1]), z_max)
    else:
        x = data["x"]
        labels = data.get("y")
    count = len(data["x"])
    targets = None if target is None else np.full(count, target)
    clip = None if clip_min is None else (clip_min, clip_max)
    parameters = {"n": count, "seed": seed, "target": target}
    if directory:
        parameters.update(domain=data["dataset"]["domain"], split=data["dataset"]["split"])
    if photoz:
        parameters["z_max"] = data["dataset"]["z_max"] if directory and z_max is None else \
            (0.4 if z_max is None else z_max)
    if method is Method.one_pixel:
        parameters.update(pixels=pixels, popsize=popsize, max_iter=max_iter, strategy=strategy,
                          init=init)
    else:
        parameters.update(eps=eps, norm=norm, clip=clip)
        if method is Method.pgd:
            step = eps / 4 if step is None else step
            parameters.update(step=step, steps=steps, random_start=random_start)

    with _Progress(method, count, max_iter) as progress:
        if method is Method.one_pixel:
            result = attacks.one_pixel(
                model, x, labels, target=targets, pixels=pixels, popsize=popsize,
                max_iter=max_iter, seed=seed, batch_size=batch_size, callback=progress.update,
                strategy=strategy, init=init)
            adversarial = result.adversarial
        else:
            common = dict(eps=eps, norm=2 if norm == "2" else "inf", clip=clip,
                          targeted=targets is not None, batch_size=batch_size)
            y = targets if targets is not None else labels
            if method is Method.pgd:
                got = attacks.pgd(model, x, y, step=step, steps=steps,
                                  random_start=random_start, seed=seed, **common)
            else:
                got = attacks.fgsm(model, x, y, **common)
            adversarial = got["image"] if photoz else got
            progress.advance(count)

    summary = {"method": method.value, "parameters": parameters}
    summary.update(attacks.summarize(model, x, adversarial, labels, targets, batch_size))
    arrays = {"x": adversarial}
    if labels is not None:
        arrays["y"] = np.asarray(labels)
    if photoz:
        arrays["ebv"] = x["ebv"]
        arrays["z"] = data["z"]
    if method is Method.one_pixel:
        summary.update({k: v for k, v in result.summary().items() if k.endswith("generations")})
        arrays.update(success=result.success, generations=result.generations,
                      pixels=result.pixels, values=result.values)
    summary["model"] = str(model_path)
    summary["data"] = str(data_path)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    _write_atomic(out / "adversarial.npz", lambda f: np.savez(f, **arrays))
    _write_atomic(out / "summary.json",
                  lambda f: f.write(json.dumps(summary, indent=2).encode() + b"\n"))
    return summary


def _redshift_labels(data, num_bins, z_max):
    """The redshift bin of each galaxy, the class the photo-z attack works against."""
    from astrokeras import attacks

    dataset = data.get("dataset")
    if dataset is None:
        return attacks.redshift_bins(data["z"], num_bins=num_bins,
                                     z_max=0.4 if z_max is None else z_max)
    if z_max is None and num_bins == dataset["num_bins"]:
        # The labels stored with the galaxies: the very bins the model was trained on.
        return dataset["labels"]
    return attacks.redshift_bins(data["z"], num_bins=num_bins, z_min=dataset["z_min"],
                                 z_max=dataset["z_max"] if z_max is None else z_max)


def _load_directory(path, n, domain, split):
    """The first `n` galaxies of one domain and split of a dataset directory.

    Read with `astrokeras.data.load_pairs` (unshuffled, unaugmented, the manifest's stretch:
    the images the model was trained on). Photo-z datasets also give E(B-V), the stored
    redshift bins and z_spec, read with the images from the same records.
    """
    import numpy as np

    from astrokeras import data as data_lib

    manifest = data_lib.load_manifest(path)
    if domain is None:
        domain = manifest["domains"][0]
    elif domain not in manifest["domains"]:
        raise InvalidArgumentError(f"--domain is not a domain of {path}.", domain,
                                   ", ".join(manifest["domains"]))
    photoz = "ebv" in manifest["value_names"]
    batch = min(n, 256)
    pairs = data_lib.load_pairs(path, [domain], split=split, batch_size=batch, values=photoz)
    images, labels, ebv, z_spec = [], [], [], []
    for element in pairs.unbatch().take(n).batch(batch):
        (x,), y = element[0], element[1]
        images.append(x.numpy())
        labels.append(y.numpy())
        if photoz:
            ebv.append(element[2]["ebv"].numpy())
            z_spec.append(element[2]["redshift"].numpy())
    if not images:
        raise DataError(f"Split {split!r} of {path} holds no galaxies.", split,
                        "a split with galaxies (see --split)")
    data = {"x": np.concatenate(images).astype(np.float32)}
    labels = np.concatenate(labels).astype(np.int64)
    dataset = {"domain": domain, "split": split}
    if photoz:
        data["ebv"] = np.concatenate(ebv).astype(np.float32).reshape(-1, 1)
        data["z"] = np.concatenate(z_spec).astype(np.float32)
        config = manifest["simulation"]
        dataset.update(labels=labels, num_bins=int(config["num_bins"]),
                       z_min=float(config["z_range"][0]), z_max=float(config["z_range"][1]))
    else:
        data["y"] = labels
    data["dataset"] = dataset
    return data


def _load_data(path, n):
    import numpy as np

    try:
        with np.load(path, allow_pickle=False) as archive:
            data = {key: archive[key][:n] for key in archive.files}
    except (ValueError, OSError) as error:
        raise DataError(f"Cannot read {path} as a .npz archive: {error}") from None
    if "x" not in data:
        raise DataError(f"{path} has no array named x (the images).", sorted(data),
                        "arrays x and optionally y, ebv, z")
    data["x"] = data["x"].astype(np.float32)
    return data


def _write_atomic(path, write):
    """Write through a temporary file in the same folder, then rename: never half written."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            write(file)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


class _Progress:
    """A rich progress bar over images (FGSM/PGD) or generations (one-pixel)."""

    def __init__(self, method, count, max_iter):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        self.method = method
        self.bar = Progress("[progress.description]{task.description}", BarColumn(),
                            MofNCompleteColumn(), TimeElapsedColumn(), transient=True)
        total = max_iter + 1 if method is Method.one_pixel else count
        unit = "generations" if method is Method.one_pixel else "images"
        self.task = self.bar.add_task(f"{method.value} ({unit})", total=total)
        self.count = count

    def __enter__(self):
        self.bar.__enter__()
        return self

    def __exit__(self, *exc):
        return self.bar.__exit__(*exc)

    def advance(self, amount):
        self.bar.advance(self.task, amount)

    def update(self, generation, done):
        """One-pixel callback: `generation` finished, `done` images succeeded so far."""
        self.bar.update(self.task, completed=generation + 1,
                        description=f"{self.method.value} ({done}/{self.count} succeeded)")
