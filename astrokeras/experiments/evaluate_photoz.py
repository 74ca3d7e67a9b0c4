"""The photo-z part of `run_evaluation`: bias, sigma_MAD and outliers, clean and attacked."""

from pathlib import Path

import numpy as np

from astrokeras.errors import DataError, InvalidArgumentError
from astrokeras.experiments.attack_data import NPZ_Z_MAX, read_npz


def evaluate_photoz_models(models, data, out, domains, split, max_images, z_max, batch_size,
                           paths, entry, options, seed, report, command):
    """Photo-z metrics of each network, clean and (with an attack `entry`) attacked.

    As Campagne 2021, the attack works against the one-hot redshift bin of z_spec; only the
    image input is perturbed. Writes metrics.json, report.md and photoz.png into `out`.

    Args:
        models: `{name: photo-z network}`.
        data: a photo-z dataset directory or an .npz file with x, ebv and z.
        out: the output folder (existing).
        domains, split, max_images, z_max, batch_size, seed: as `run_evaluation`'s.
        paths: the model files, in the order of `models`.
        entry: the `ATTACKS` entry, or None.
        options: the attack's checked options.
        report: `report(description, completed, total)`.
        command: the command line recorded in the report, or None.

    Returns:
        A dict: `metrics`, `report` and `figures` paths.
    """
    from astrokeras import attacks, evaluation, plots

    report("Reading the data", 0, None)
    x, z_spec, (z_min, z_max), label = _photoz_data(data, domains, split, max_images, z_max,
                                                    batch_size)
    attack_label = None
    if entry is not None:
        make_label = entry.metadata.get("label")
        attack_label = make_label(options) if make_label else entry.name
    photoz, estimates, figures = {}, {}, []
    total, done = len(models) * (2 if entry is not None else 1), 0
    for name, model in models.items():
        report("Photo-z", done, total)
        got = evaluation.evaluate_photoz(model, x, z_spec, z_min=z_min, z_max=z_max,
                                         batch_size=batch_size)
        photoz[name] = {label: got["metrics"]}
        estimates[name] = got["z_mean"]
        done += 1
        if entry is not None:
            report(f"Photo-z, {attack_label}", done, total)
            bins = attacks.redshift_bins(z_spec, num_bins=int(model.outputs[0].shape[-1]),
                                         z_min=z_min, z_max=z_max)
            outcome = entry.factory(model, x, bins, batch_size=batch_size, seed=seed,
                                    **options)
            attacked = evaluation.evaluate_photoz(model, dict(x, image=outcome.adversarial),
                                                  z_spec, z_min=z_min, z_max=z_max,
                                                  batch_size=batch_size)
            photoz[name][f"{label}, {attack_label}"] = attacked["metrics"]
            estimates[f"{name}, {attack_label}"] = attacked["z_mean"]
            done += 1
    path = out / "photoz.png"
    plots.plot_photoz(z_spec, estimates, path=path, title="Photometric redshifts")
    figures.append(("dz histogram and z_phot vs z_spec (probability-weighted mean)", path))
    summary = {"models": list(models), "galaxies": int(len(z_spec)), "photoz": photoz,
               "parameters": {"models": {n: str(p) for n, p in zip(models, paths)},
                              "data": str(data), "source": label, "z_min": z_min,
                              "z_max": z_max, "max_images": max_images,
                              "attack": None if entry is None else entry.name,
                              "attack_options": options, "seed": seed},
               "figures": [{"caption": c, "file": Path(f).name} for c, f in figures]}
    metrics = evaluation.write_metrics(out / "metrics.json", summary)
    notes = [f"Command: `{command}`"] if command else []
    written = evaluation.write_report(
        out / "report.md", summary, figures, title="astrokeras photo-z evaluation",
        notes=notes + [f"Data: {label}; redshift bins over [{z_min:g}, {z_max:g})"])
    return {"metrics": metrics, "report": written, "figures": [path]}


def is_photoz_dataset(directory):
    """Whether a dataset directory stores E(B-V) per galaxy (`astrokeras simulate photoz`)."""
    from astrokeras import data as data_lib

    return "ebv" in data_lib.load_manifest(directory).get("value_names", [])


def _photoz_data(data, domains, split, max_images, z_max, batch_size):
    """Photo-z inputs, z_spec, the bins' (z_min, z_max) and a label for the data.

    A dataset directory (`astrokeras simulate photoz`) is read with `load_paired` (the split,
    the manifest's one stretch, z_spec and E(B-V) stored with every galaxy); its bins span the
    simulation's z range unless `z_max` is given. An .npz holds x, ebv and z; its bins span
    [0, z_max or 0.4).
    """
    from astrokeras import evaluation

    if data.is_dir():
        if not is_photoz_dataset(data):
            raise InvalidArgumentError("A photo-z network needs a photo-z dataset (with "
                                       "redshift and E(B-V) per galaxy), from `astrokeras "
                                       "simulate photoz`.", str(data),
                                       "a photo-z dataset directory or an .npz with x, ebv, z")
        if domains is not None and len(domains) > 1:
            raise InvalidArgumentError("Photo-z networks are evaluated on one domain.",
                                       list(domains), "at most one --domain")
        paired = evaluation.load_paired(data, domains, split=split, max_images=max_images,
                                        batch_size=max(batch_size, 32))
        domain = next(iter(paired["images"]))
        low, high = paired["manifest"]["simulation"]["z_range"]
        x = {"image": paired["images"][domain],
             "ebv": paired["values"]["ebv"].astype(np.float32)[:, None]}
        z_range = (float(low), float(high) if z_max is None else float(z_max))
        return x, paired["values"]["redshift"], z_range, f"{paired['source']}, {domain}"
    if data.suffix != ".npz":
        raise InvalidArgumentError("Photo-z models are evaluated from a photo-z dataset "
                                   "directory or an .npz file with arrays x, ebv and z.",
                                   str(data), "a directory or *.npz")
    arrays = read_npz(data, max_images)
    missing = [k for k in ("x", "ebv", "z") if k not in arrays]
    if missing:
        raise DataError(f"{data} lacks arrays {missing}.", sorted(arrays), "x, ebv, z")
    x = {"image": arrays["x"].astype(np.float32),
         "ebv": arrays["ebv"].reshape(len(arrays["x"]), -1).astype(np.float32)}
    z_range = (0.0, NPZ_Z_MAX if z_max is None else float(z_max))
    return x, arrays["z"].astype(np.float64), z_range, data.name
