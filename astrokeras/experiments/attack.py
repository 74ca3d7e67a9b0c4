"""The attack workflow: attack a saved model on saved data, write the images and a summary.

`run_attack` is what `astrokeras attack` runs and what scripts and benchmarks call: it checks
every argument, loads the model (`astrokeras.load_model`) and the images (a dataset directory
or an .npz file), runs an attack from `ATTACKS` by name, and writes `adversarial.npz` and
`summary.json` atomically.
"""

from pathlib import Path

import numpy as np

from astrokeras.errors import DataError, InvalidArgumentError
from astrokeras.experiments.attack_data import NPZ_Z_MAX, load_attack_data, redshift_labels
from astrokeras.experiments.attacks import attack_options

#: The splits of a dataset directory.
SPLITS = ("train", "validation", "test", "all")


def run_attack(model, data, out, *, attack, options=None, n=150, target=None, domain=None,
               split=None, z_max=None, batch_size=None, seed=0, callback=None, flags=None):
    """Attack a saved model on saved images; write `adversarial.npz` and `summary.json`.

    The summary holds the success rate (images classified correctly before the attack and not
    after; for a targeted attack, images reaching the target), the accuracy and mean
    cross-entropy before and after, the attack's own numbers (for the one-pixel attack the
    mean and median generations needed, Ciprijanovic et al. 2022's susceptibility measure) and
    every parameter. Photo-z networks (inputs `image` and `ebv`) are attacked against the
    redshift bin of z_spec (Campagne 2021); only the image is perturbed.

    Args:
        model: a `.keras` file (a classifier, a photo-z network or a `DomainAdaptationModel`,
            whose classifier is attacked).
        data: a dataset directory (`astrokeras simulate`), or an .npz file with arrays `x`
            (images), `y` (classes, optional); for photo-z networks `ebv` and `z` instead of
            `y`.
        out: the folder to write into.
        attack: a name in `ATTACKS` ("fgsm", "pgd", "one-pixel").
        options: the attack's options (its schema keys, e.g. `{"eps": 0.01}`); None values
            count as not given, missing ones take the schema's defaults.
        n: attack the first `n` images.
        target: a target class (targeted attack), or None.
        domain: a dataset directory's domain (default its first).
        split: a dataset directory's split (default "test").
        z_max: photo-z: upper redshift of the output bins (default the dataset's z range, or
            0.4 for an .npz file).
        batch_size: images (or one-pixel candidates) per model call; None: the attack's own.
        seed: seed of the attack's randomness.
        callback: optional `callback(description, completed, total)` for a progress bar.
        flags: optional `{option: "--flag"}` naming each option on the command line, for
            messages.

    Returns:
        The summary (also written to `out/summary.json`).

    Raises:
        InvalidArgumentError, ConfigError: a bad argument or option, before any work.
        FileNotFoundError: no model or data at the path given.
        DataError: the model or data cannot be read.

    Example:

    >>> import pathlib, tempfile, keras, numpy as np
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten(),
    ...                   keras.layers.Dense(2, activation="softmax")]).save(folder / "m.keras")
    >>> np.savez(folder / "d.npz", x=np.zeros((3, 4, 4, 1), "float32"))
    >>> summary = run_attack(folder / "m.keras", folder / "d.npz", folder / "out",
    ...                      attack="fgsm", options={"eps": 0.1})
    >>> summary["images"], sorted(p.name for p in (folder / "out").iterdir())
    (3, ['adversarial.npz', 'summary.json'])
    """
    entry, options = attack_options(attack, options, flags,
                                    chosen_by="--method" if flags else None)
    directory = _check_arguments(model, data, n, domain, split, z_max)
    from astrokeras.experiments.run import trained_stretch

    # a dataset's images stretched as the model's training run stretched them
    loaded = load_attack_data(data, n, directory, domain, split or "test",
                              preprocess=trained_stretch([model]))

    from astrokeras import attacks, files, load_model
    from astrokeras.models import unwrap_classifier

    model_path, model = model, unwrap_classifier(load_model(model))
    photoz = "ebv" in [tensor.name for tensor in getattr(model, "inputs", None) or []]
    if photoz:
        if "ebv" not in loaded or "z" not in loaded:
            raise DataError(f"{data} must hold arrays ebv and z for a photo-z model.",
                            sorted(loaded), "x, ebv, z")
        x = {"image": loaded["x"], "ebv": loaded["ebv"].reshape(len(loaded["x"]), -1)}
        labels = redshift_labels(loaded, int(model.outputs[0].shape[-1]), z_max, NPZ_Z_MAX)
    else:
        x, labels = loaded["x"], loaded.get("y")
    count = len(loaded["x"])
    targets = None if target is None else np.full(count, target)

    outcome = entry.factory(model, x, labels, target=targets, batch_size=batch_size, seed=seed,
                            callback=callback, **options)

    parameters = {"n": count, "seed": seed, "target": target}
    if directory:
        parameters.update(domain=loaded["dataset"]["domain"], split=loaded["dataset"]["split"])
    if photoz:
        parameters["z_max"] = loaded["dataset"]["z_max"] if directory and z_max is None else \
            (NPZ_Z_MAX if z_max is None else z_max)
    parameters.update(options)
    summary = {"method": entry.name, "parameters": parameters}
    summary.update(attacks.summarize(model, x, outcome.adversarial, labels, targets,
                                     batch_size))
    summary.update(outcome.summary)
    summary["model"], summary["data"] = str(model_path), str(data)
    arrays = {"x": outcome.adversarial}
    if labels is not None:
        arrays["y"] = np.asarray(labels)
    if photoz:
        arrays.update(ebv=x["ebv"], z=loaded["z"])
    arrays.update(outcome.arrays)
    out = Path(out)
    with files.atomic_path(out / "adversarial.npz") as temporary:
        np.savez(temporary, **arrays)
    files.write_json_atomic(out / "summary.json", summary)
    return summary


def _check_arguments(model, data, n, domain, split, z_max):
    """Checks the workflow's own arguments; returns whether `data` is a dataset directory."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise InvalidArgumentError("--n must be at least 1.", n, ">= 1")
    if not Path(model).is_file():
        raise FileNotFoundError(f"No such file: {model}")
    directory = Path(data).is_dir()
    if not directory and not Path(data).is_file():
        raise FileNotFoundError(f"No such file or directory: {data}")
    if not directory:
        for option, value in (("--domain", domain), ("--split", split)):
            if value is not None:
                raise InvalidArgumentError(f"{option} applies to a dataset directory, not to "
                                           "a .npz file.", value, "no " + option)
    elif split is not None and split not in SPLITS:
        raise InvalidArgumentError("Unknown --split.", split, ", ".join(SPLITS))
    if z_max is not None and not z_max > 0:
        raise InvalidArgumentError("--z-max must be positive.", z_max, "> 0")
    return directory
