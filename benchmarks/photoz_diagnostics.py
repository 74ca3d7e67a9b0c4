"""Photo-z diagnostics: why FGSM multiplies sigma_MAD less than the paper on the CPU-scale net.

Three measurements behind the photo-z finding of benchmarks/RESULTS.md ("Reproduction of the
papers", experiment 3), on the dataset and models written by
`python benchmarks/reproduce.py --out runs/reproduce photoz ...`:

- `information`: how much redshift the images hold, independently of the network.
  scikit-learn regressors fitted on the training split and scored on the test split, on the
  summed central 8x8 pixels of each band plus E(B-V): HistGradientBoostingRegressor and a
  10-nearest-neighbour regressor, each on the stretched and on the raw (unstretched) images,
  each with the band sums as they are and as ratios arcsinh(sum_b / |sum_r|) (what separates
  the stretch's loss of information from the difficulty of learning colours). Prints bias,
  sigma_MAD and eta of each of the eight.
- `collapse`: how FGSM (eps 0.01, the true bin as label, as reproduce.py) changes a trained
  network's redshifts: mean z_phot clean and attacked per z_spec quarter, the share of pixel
  values below 0.05, and the perturbation's summed value relative to the image's own.
- `rescale`: whether an L-inf perturbation of size eps of the stretched image can change the
  galaxy's photometry itself. Scaling a band's raw flux by k = exp(+-eps * arcsinh(1 / c))
  stays inside the eps-ball of the clip + arcsinh stretch (checked on every test pixel and
  printed), and shifts that band by 2.5 log10(k) mag. The 10-nearest-neighbour and
  gradient-boosting regressors of `information` (raw central flux ratios, fitted on clean
  training galaxies) then predict every test galaxy under the 2^5 choices of sign per band;
  the worst choice per galaxy, a random one and the clean figures are printed: when an
  estimator that reads only the photometry loses its accuracy under such a rescaling, the
  eps-ball holds images with the colours of galaxies at other redshifts (a bound on the
  attack's physical size, not a proof about every estimator).
- `optimizers`: training loss and test sigma_MAD / eta of the Inception network after a few
  epochs (cosine decay to 1 %) for Adam with the morphology recipe's betas (0.7, 0.8) against
  Keras' defaults (0.9, 0.999), and for learning rates 1e-3 and 3e-3. One config per call
  (about 1 minute per epoch on 2 shared cores).

Usage:

    python benchmarks/photoz_diagnostics.py information [--data DIR]
    python benchmarks/photoz_diagnostics.py collapse [--data DIR] [--model PATH]
    python benchmarks/photoz_diagnostics.py rescale [--data DIR] [--eps 0.01]
    python benchmarks/photoz_diagnostics.py optimizers --config recipe|keras|fast [--epochs 9]

The figures of RESULTS.md came from `information`, `collapse` (the 20-epoch regular model)
and `optimizers` with `--epochs 9` for `recipe` and `keras`, and `--config fast` read after
3 epochs.
"""

import argparse
import os
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402

DATA = "runs/reproduce/data/photoz_n2000_s32_c0.001"  # reproduce.py photoz, default softening
MODEL = "runs/reproduce/photoz/seed0/regular/classifier.keras"
CONFIGS = {"recipe": (1e-3, 0.7, 0.8), "keras": (1e-3, 0.9, 0.999), "fast": (3e-3, 0.7, 0.8)}


def split(directory, name, preprocess=True):
    """Images, E(B-V), redshift bins and z_spec of one split, in memory."""
    from astrokeras.data import load_pairs

    images, ebv, bins, z_spec = [], [], [], []
    for (image,), labels, values in load_pairs(directory, split=name, batch_size=256,
                                               values=True, preprocess=preprocess):
        images.append(image.numpy())
        ebv.append(values["ebv"].numpy())
        bins.append(labels.numpy())
        z_spec.append(values["redshift"].numpy())
    return (np.concatenate(images), np.concatenate(ebv), np.concatenate(bins),
            np.concatenate(z_spec))


def scores(z_phot, z_spec):
    """bias, sigma_MAD and eta (|dz| > 0.05) of dz = (z_phot - z_spec) / (1 + z_spec)."""
    from astrokeras.evaluation import photoz_metrics

    metrics = photoz_metrics(np.asarray(z_phot, np.float64), np.asarray(z_spec, np.float64))
    return {k: round(float(metrics[k]), 4) for k in ("bias", "sigma_mad", "eta")}


def _central_sums(images, half=4):
    c = images.shape[1] // 2
    return images[:, c - half:c + half, c - half:c + half, :].sum(axis=(1, 2))


def _features(images, ebv, ratios):
    sums = _central_sums(images)
    if ratios:
        sums = np.arcsinh(sums / (np.abs(sums[:, 2:3]) + 1e-3))
    return np.concatenate([sums, ebv[:, None]], axis=1)


def information(args):
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.neighbors import KNeighborsRegressor

    regressors = (("gradient boosting", lambda: HistGradientBoostingRegressor(max_iter=300)),
                  ("10-NN", lambda: KNeighborsRegressor(10)))
    for preprocess in (True, False):
        parts = {part: split(args.data, part, preprocess=preprocess)
                 for part in ("train", "test")}
        for ratios in (False, True):
            (x, ebv, _, z), (x_test, ebv_test, _, z_test) = parts["train"], parts["test"]
            train, test = _features(x, ebv, ratios), _features(x_test, ebv_test, ratios)
            for name, make in regressors:
                predicted = make().fit(train, z).predict(test)
                print(f"{name}, {'stretched' if preprocess else 'raw'} central "
                      f"{'flux ratios' if ratios else 'sums'}: {scores(predicted, z_test)} "
                      f"({len(z)} train, {len(z_test)} test galaxies)")


def rescale(args):
    import itertools
    import math

    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.neighbors import KNeighborsRegressor

    from astrokeras.data import ClipArcsinh, load_manifest

    stretch = ClipArcsinh.from_config(load_manifest(args.data)["preprocessing"])
    x, ebv, _, z = split(args.data, "train", preprocess=False)
    x_test, ebv_test, _, z_test = split(args.data, "test", preprocess=False)
    # Scaling a raw value by k changes arcsinh(x' / c) by less than |ln k| (x' is shifted by
    # the clip's low limit, which only shrinks the change), so k = exp(+-a) keeps every
    # stretched pixel within eps; the check below confirms it on the test images.
    a = args.eps * math.asinh(1.0 / stretch.c)
    factors = (math.exp(-a), math.exp(a))
    clean_stretched = stretch(x_test)
    largest = max(float(np.max(np.abs(stretch(x_test * k) - clean_stretched))) for k in factors)
    print(f"c = {stretch.c:g}, eps = {args.eps}: band fluxes scaled by {factors[0]:.4f} or "
          f"{factors[1]:.4f} ({2.5 * math.log10(factors[1]):.3f} mag); largest change of a "
          f"stretched test pixel {largest:.6f} (inside the eps-ball, to float32 rounding: "
          f"{largest <= args.eps + 1e-6})")
    bands = x_test.shape[-1]
    patterns = np.array(list(itertools.product(factors, repeat=bands)))  # (2^bands, bands)
    rng = np.random.default_rng(0)
    chosen = rng.integers(len(patterns), size=len(z_test))
    regressors = (("10-NN", lambda: KNeighborsRegressor(10)),
                  ("gradient boosting", lambda: HistGradientBoostingRegressor(max_iter=300)))
    for name, make in regressors:
        regressor = make().fit(_features(x, ebv, ratios=True), z)
        clean = regressor.predict(_features(x_test, ebv_test, ratios=True))
        # the central sums scale with the band fluxes, so rescale the sums directly
        predicted = np.stack([regressor.predict(_features(x_test * k, ebv_test, ratios=True))
                              for k in patterns], axis=1)  # (galaxies, patterns)
        dz = np.abs(predicted - z_test[:, None]) / (1.0 + z_test[:, None])
        worst = predicted[np.arange(len(z_test)), np.argmax(dz, axis=1)]
        random = predicted[np.arange(len(z_test)), chosen]
        print(f"{name}, raw central flux ratios: clean {scores(clean, z_test)}; one random "
              f"rescaling per galaxy {scores(random, z_test)}; the worst of the "
              f"{len(patterns)} per galaxy {scores(worst, z_test)}")


def _z_phot(model, x, ebv, z_spec, directory):
    """The PDF-mean redshifts of a binned photo-z network over the dataset's redshift range."""
    from astrokeras.data import load_manifest
    from astrokeras.evaluation import evaluate_photoz

    z_min, z_max = load_manifest(directory)["simulation"]["z_range"]
    return evaluate_photoz(model, {"image": x, "ebv": ebv[:, None]}, z_spec, z_min=z_min,
                           z_max=z_max, batch_size=256)["z_mean"]


def collapse(args):
    from astrokeras import attacks, load_model

    x, ebv, bins, z = split(args.data, "test")
    model = load_model(args.model)
    adversarial = attacks.fgsm(model, {"image": x, "ebv": ebv[:, None]}, bins, eps=args.eps,
                               clip=(0.0, 1.0), batch_size=256)["image"]
    clean = _z_phot(model, x, ebv, z, args.data)
    attacked = _z_phot(model, adversarial, ebv, z, args.data)
    print(f"clean {scores(clean, z)}; FGSM eps {args.eps} {scores(attacked, z)}")
    for low in (0.0, 0.25, 0.5, 0.75):
        inside = (z >= low) & (z < low + 0.25)
        print(f"z_spec [{low:.2f}, {low + 0.25:.2f}): {inside.sum()} galaxies, mean z_phot "
              f"clean {clean[inside].mean():.3f}, FGSM {attacked[inside].mean():.3f}")
    delta = adversarial - x
    print(f"pixel values below 0.05: {np.mean(x < 0.05):.3f}; summed perturbation / summed "
          f"image, mean over images: {np.mean(delta.sum((1, 2, 3)) / x.sum((1, 2, 3))):.2f}")


def optimizers(args):
    import keras

    from astrokeras.data import load_manifest
    from astrokeras.models import inception_photoz

    x, ebv, bins, _ = split(args.data, "train")
    x_test, ebv_test, _, z_test = split(args.data, "test")
    learning_rate, beta_1, beta_2 = CONFIGS[args.config]
    keras.utils.set_random_seed(0)
    num_bins = int(load_manifest(args.data)["simulation"]["num_bins"])  # the labels' bins
    model = inception_photoz(image_shape=x.shape[1:], num_bins=num_bins)
    steps = args.epochs * int(np.ceil(len(x) / args.batch_size))
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, steps, alpha=0.01)
    model.compile(keras.optimizers.Adam(schedule, beta_1=beta_1, beta_2=beta_2),
                  "sparse_categorical_crossentropy")
    started = time.time()
    for epoch in range(args.epochs):
        history = model.fit({"image": x, "ebv": ebv[:, None]}, bins, batch_size=args.batch_size,
                            epochs=1, verbose=0, shuffle=True)
        test = scores(_z_phot(model, x_test, ebv_test, z_test, args.data), z_test)
        print(f"{args.config} lr {learning_rate} betas ({beta_1}, {beta_2}) epoch {epoch + 1}: "
              f"loss {history.history['loss'][0]:.3f}, test {test}, "
              f"{time.time() - started:.0f} s", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=DATA, help="photo-z dataset directory")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("information")
    attack = commands.add_parser("collapse")
    attack.add_argument("--model", default=MODEL)
    attack.add_argument("--eps", type=float, default=0.01)
    rescaling = commands.add_parser("rescale")
    rescaling.add_argument("--eps", type=float, default=0.01)
    train = commands.add_parser("optimizers")
    train.add_argument("--config", choices=sorted(CONFIGS), default="recipe")
    train.add_argument("--epochs", type=int, default=9)
    train.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args(argv)
    run = {"information": information, "collapse": collapse, "rescale": rescale,
           "optimizers": optimizers}
    run[args.command](args)


if __name__ == "__main__":
    main()
