"""astrokeras.attacks against IBM ART on the same trained models and the same images, in one run.

What it measures:

1. FGSM and PGD (L-inf and L2, no random start): the largest difference between the images
   astrokeras and ART produce (target: <= 1e-5), and the time ratio (target: PGD >= 5x faster).
2. The one-pixel attack (differential evolution, population 400, the same iteration budget):
   success rate and time ratio against ART's `PixelAttack(th=1, es=1)` (target: >= 50x faster,
   success rate no lower), on 150 ConvNet images with `--pixel-max-iter` generations for both
   (ART needs about 30 s per image at 80 generations here), then at the paper's 80
   generations on a few images. astrokeras scores the ConvNet's candidates incrementally
   (`astrokeras.attacks.incremental`, only the changed pixel's receptive field); its
   whole-image evaluation (`incremental=False`) is timed on a few images for reference.

Two models, both trained here for a few epochs on synthetic galaxy-like images generated inline
(3 classes: round, elongated, two-component "merger"):

- the ConvNet of Ciprijanovic et al. 2022 (`astrokeras.models.convnet`, 100 x 100 x 3);
- a tiny ConvNet on 32 x 32 x 3 images, the setting in which ART's cost was first measured
  (2 images, 10 generations); here on 40 images so that success rates compare.

ART is given the same Keras model through `TensorFlowV2Classifier` with the same loss
(categorical cross-entropy on the softmax output) and `clip_values=(0, 1)`; each attack of ART
runs on the whole batch (`batch_size` = number of images), as astrokeras does. astrokeras is timed
after one warm-up call on other images (tracing of its `tf.function`s); the first-call time is
printed too.

Run:

    python benchmarks/attacks.py                     # everything
    python benchmarks/attacks.py --only pixel        # the one-pixel rows of RESULTS.md
    python benchmarks/attacks.py --quick             # a smoke run in about a minute
    python benchmarks/attacks.py --only pgd-parity   # PGD vs ART, graph optimiser on and off,
                                                     # ART batch_size = all images and 32
    python benchmarks/attacks.py --model M.keras --data DIR   # one-pixel on a trained model
"""

import argparse
import contextlib
import os
import platform
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from astrokeras import load_model  # noqa: E402
from astrokeras.attacks import clear_compiled, fgsm, one_pixel, pgd  # noqa: E402


def galaxies(n, size, rng):
    """Synthetic 3-band galaxy stamps in [0, 1]: 0 round, 1 elongated, 2 two components."""
    labels = rng.integers(0, 3, size=n)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) - (size - 1) / 2
    images = np.empty((n, size, size, 3), np.float32)
    colors = np.array([1.0, 0.8, 0.6], np.float32)
    for i, label in enumerate(labels):
        sigma = size * rng.uniform(0.06, 0.1)
        angle = rng.uniform(0, np.pi)
        u = np.cos(angle) * xx + np.sin(angle) * yy
        v = -np.sin(angle) * xx + np.cos(angle) * yy
        if label == 0:
            img = np.exp(-(u**2 + v**2) / (2 * sigma**2))
        elif label == 1:
            img = np.exp(-(u**2 / (2 * (2.5 * sigma) ** 2) + v**2 / (2 * (0.6 * sigma) ** 2)))
        else:
            shift = size * rng.uniform(0.12, 0.2)
            img = (np.exp(-((u - shift) ** 2 + v**2) / (2 * sigma**2))
                   + 0.7 * np.exp(-((u + shift) ** 2 + v**2) / (2 * (0.8 * sigma) ** 2)))
        band = img[..., None] * colors * rng.uniform(0.6, 1.0)
        images[i] = np.clip(band + rng.normal(0, 0.05, size=band.shape), 0, 1)
    return images, labels


def tiny_convnet(size):
    return keras.Sequential([
        keras.Input((size, size, 3)),
        keras.layers.Conv2D(8, 3, activation="relu"), keras.layers.MaxPooling2D(2),
        keras.layers.Conv2D(16, 3, activation="relu"), keras.layers.MaxPooling2D(2),
        keras.layers.Flatten(), keras.layers.Dense(3, activation="softmax"),
    ])


def paper_convnet(size):
    try:
        from astrokeras.models import convnet
    except ImportError:  # not landed yet: the same three blocks, built inline
        return tiny_convnet(size), "inline ConvNet"
    return convnet(input_shape=(size, size, 3), num_classes=3), "astrokeras.models.convnet"


def trained(model, size, train, epochs, rng):
    x, y = galaxies(train, size, rng)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x, y, epochs=epochs, batch_size=32, verbose=0)
    return model


def correct_images(model, size, n, rng):
    """`n` test images the model classifies correctly (the paper attacks those)."""
    xs, ys = [], []
    while sum(len(x) for x in xs) < n:
        x, y = galaxies(4 * n, size, rng)
        keep = np.argmax(model.predict(x, verbose=0, batch_size=256), axis=1) == y
        xs.append(x[keep])
        ys.append(y[keep])
    return np.concatenate(xs)[:n], np.concatenate(ys)[:n]


def art_classifier(model, size):
    from art.estimators.classification import TensorFlowV2Classifier

    return TensorFlowV2Classifier(model, nb_classes=3, input_shape=(size, size, 3),
                                  loss_object=keras.losses.CategoricalCrossentropy(),
                                  clip_values=(0.0, 1.0))


def timed(function, repeat=1):
    best, result = np.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def gradient_attacks(model, x, y, warm, args):
    from art.attacks.evasion import FastGradientMethod, ProjectedGradientDescent

    clf = art_classifier(model, x.shape[1])
    onehot = np.eye(3, dtype=np.float32)[y]
    n = len(x)
    cases = [
        ("FGSM L-inf", dict(eps=0.01),
         lambda: FastGradientMethod(clf, norm=np.inf, eps=0.01, batch_size=n)),
        ("FGSM L2", dict(eps=1.0, norm=2),
         lambda: FastGradientMethod(clf, norm=2, eps=1.0, batch_size=n)),
        ("PGD L-inf", dict(eps=0.03, step=0.005, steps=args.pgd_steps),
         lambda: ProjectedGradientDescent(clf, norm=np.inf, eps=0.03, eps_step=0.005,
                                          max_iter=args.pgd_steps, num_random_init=0,
                                          batch_size=n, verbose=False)),
        ("PGD L2", dict(eps=1.0, step=0.2, norm=2, steps=args.pgd_steps),
         lambda: ProjectedGradientDescent(clf, norm=2, eps=1.0, eps_step=0.2,
                                          max_iter=args.pgd_steps, num_random_init=0,
                                          batch_size=n, verbose=False)),
    ]
    # ART's loss object averages over the batch; with a confident model some of those averaged
    # gradients fall below float32's normal range and TensorFlow flushes them to zero. The same
    # loss given to astrokeras shows whether the remaining differences come from that alone.
    mean_loss = keras.losses.CategoricalCrossentropy()
    cases += [
        ("PGD L-inf*", dict(eps=0.03, step=0.005, steps=args.pgd_steps, loss=mean_loss),
         cases[2][2]),
        ("PGD L2*", dict(eps=1.0, step=0.2, norm=2, steps=args.pgd_steps, loss=mean_loss),
         cases[3][2]),
    ]
    rows = []
    for name, kwargs, make_art in cases:
        attack = pgd if "steps" in kwargs else fgsm
        if attack is pgd:
            kwargs = dict(kwargs, random_start=False)
        call = (lambda data, labels, kw=kwargs, a=attack: a(model, data, labels, clip=(0.0, 1.0), **kw))
        cold, _ = timed(lambda: call(warm[0], warm[1]))
        ours_t, ours = timed(lambda: call(x, y), repeat=args.repeat)
        art_t, theirs = timed(lambda: make_art().generate(x, onehot), repeat=args.repeat)
        diff = float(np.max(np.abs(ours - theirs)))
        frac = float(np.mean(np.abs(ours - theirs) > 1e-5))
        acc = float(np.mean(np.argmax(model.predict(ours, verbose=0), axis=1) == y))
        rows.append((name, n, ours_t, art_t, art_t / ours_t, diff, frac, acc, cold))
    return rows


def gradient_floor(model, x, y, steps, repeat):
    """Seconds for `steps` forward + input-gradient passes over `x`, no step or projection.

    Compiled: all steps in one `tf.function` (astrokeras' layout), so `ART s / this` is the
    largest speed-up that computing the same gradients can give over ART. Eager: one
    `GradientTape` per step from Python (what ART's `loss_gradient` runs, without its NumPy
    round trips and checks). Each step's input depends on the previous gradient, so no step
    can be skipped or merged.
    """
    import tensorflow as tf

    images = tf.convert_to_tensor(x)
    onehot = tf.one_hot(y, model.output_shape[-1])
    loss_fn = keras.losses.CategoricalCrossentropy(reduction="sum")

    def gradient(image):
        with tf.GradientTape() as tape:
            tape.watch(image)
            loss = loss_fn(onehot, model(image, training=False))
        return tape.gradient(loss, image)

    @tf.function
    def compiled(image):
        for _ in tf.range(steps):
            image = image + 1e-9 * gradient(image)
        return image

    def eager(image):
        for _ in range(steps):
            image = image + 1e-9 * gradient(image)
        return image.numpy()

    compiled(images)  # tracing
    gradient(images)  # eager warm-up
    return (timed(lambda: compiled(images).numpy(), repeat=repeat)[0],
            timed(lambda: eager(images), repeat=repeat)[0])


def pixel_attack(model, x, y, n_art, args, max_iter, n_full=0):
    """astrokeras' one-pixel attack on `x` and ART's PixelAttack on `x[:n_art]`, same budget.

    astrokeras runs once on other images first (same batch size: tracing and XLA compilation,
    timed as its first call). `n_full` images are also attacked by astrokeras with whole-image
    evaluation (`incremental=False`), the cost without the incremental evaluation.
    """
    import warnings

    from art.attacks.evasion import PixelAttack

    from astrokeras.attacks.incremental import supports
    from astrokeras.errors import AstroKerasWarning

    clf = art_classifier(model, x.shape[1])
    incremental, why = supports(model, x.shape[1:])
    options = dict(popsize=args.popsize, max_iter=max_iter, bounds=(0.0, 1.0), seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", AstroKerasWarning)  # a fallback would void the timing
        cold, _ = timed(lambda: one_pixel(model, x[::-1], y[::-1], **options))
        ours_t, ours = timed(lambda: one_pixel(model, x, y, **options))
        same_t, same = timed(lambda: one_pixel(model, x[:n_art], y[:n_art], **options))
    best_t = best = None
    if args.best1:  # DE/best/1 with dithered F, the search ART's SciPy DE runs
        best_options = dict(options, strategy="best1", mutation=(0.5, 1.0))
        one_pixel(model, x[::-1], y[::-1], **best_options)
        best_t, best = timed(lambda: one_pixel(model, x, y, **best_options))
    full_t = full = None
    if n_full:
        one_pixel(model, x[:1], y[:1], incremental=False, **dict(options, max_iter=1))
        full_t, full = timed(lambda: one_pixel(model, x[:n_full], y[:n_full], incremental=False,
                                               **options))
    art = PixelAttack(clf, th=1, es=1, max_iter=max_iter, targeted=False, verbose=False)
    art_t, theirs = timed(lambda: art.generate(x[:n_art], y[:n_art]))
    art_success = np.argmax(model.predict(theirs, verbose=0), axis=1) != y[:n_art]
    # ART maps [0, 1] to 0..255 and back, which moves every pixel by float rounding (< 1e-6)
    changed = np.any(np.abs(theirs - x[:n_art]) > 1e-4, axis=-1).reshape(n_art, -1).sum(axis=1)
    return {
        "incremental": incremental, "why": why, "cold": cold,
        "n_all": len(x), "ours_all_t": ours_t, "ours_all_success": ours.success_rate,
        "ours_all_succeeded": int(ours.success.sum()),
        "ours_all_generations": ours.summary()["median_generations"],
        "n_art": n_art, "ours_t": same_t, "ours_success": same.success_rate,
        "ours_succeeded": int(same.success.sum()),
        "ours_eval": float(np.mean(same.evaluations)),
        "art_t": art_t, "art_success": float(np.mean(art_success)),
        "art_succeeded": int(art_success.sum()),
        "art_max_changed": int(changed.max()) if n_art else 0,
        "ratio": art_t / same_t,
        "ratio_per_image": (art_t / n_art) / (ours_t / len(x)),
        "n_full": n_full, "full_t": full_t,
        "full_eval": float(np.mean(full.evaluations)) if full is not None else None,
        "full_success": full.success_rate if full is not None else None,
        "ours_all_eval": float(np.mean(ours.evaluations)),
        "best_t": best_t, "best_succeeded": int(best.success.sum()) if best else None,
        "best_same": int(best.success[:n_art].sum()) if best else None,
        "best_generations": best.summary()["median_generations"] if best else None,
    }


def pgd_l2_trace(model, x, y, steps, eps=1.0, step=0.2):
    """Where astrokeras' and ART's PGD L2 images part, step by step (same loss object for both).

    For every step k it prints: the largest difference between the two trajectories after k
    steps; the difference one step makes when both start from ART's image after k - 1 steps
    (astrokeras' compiled step against ART's step); the relative difference of the two
    gradients at that image, of the L2-normalised steps, and of the projections; and how many
    images differ by more than 1e-5.
    """
    import tensorflow as tf
    from art.attacks.evasion import ProjectedGradientDescent

    from astrokeras.attacks.projected_gradient import (project_to_ball, projected_gradient,
                                                       step_direction)

    n = len(x)
    clf = art_classifier(model, x.shape[1])
    art = ProjectedGradientDescent(clf, norm=2, eps=eps, eps_step=step, max_iter=1,
                                   num_random_init=0, batch_size=n, verbose=False)._attack
    loss = keras.losses.CategoricalCrossentropy()  # ART's loss object, for both
    onehot = tf.constant(np.eye(3, dtype=np.float32)[y])
    x0 = tf.constant(x)
    eps_t, step_t = tf.fill((n,), eps), tf.fill((n,), step)

    @tf.function
    def ours_step(start):  # one step of astrokeras' PGD iteration, compiled as `pgd` runs it
        return projected_gradient(lambda image: loss(onehot, model(image, training=False)), x0,
                                  start, eps=eps_t, step=step_t, steps=1, norm=2, low=0.0,
                                  high=1.0)

    @tf.function
    def ours_gradient(image):  # astrokeras' gradient, compiled as in its attack loop
        with tf.GradientTape() as tape:
            tape.watch(image)
            value = tf.reduce_sum(loss(onehot, model(image, training=False)))
        return tape.gradient(value, image)

    def rel(a, b):
        a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
        return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-30))

    print(f"\nPGD L2 step by step (eps {eps}, step {step}, {n} images, no random start, loss "
          "CategoricalCrossentropy for both)")
    print(f"{'k':>3} {'trajectory max|d|':>18} {'images >1e-5':>13} {'one step max|d|':>16} "
          f"{'grad rel':>9} {'eager grad rel':>15} {'direction rel':>14} {'projection rel':>15}")
    x_art = x0
    x_ours = x0
    for k in range(1, steps + 1):
        g_art = clf.loss_gradient(x_art, onehot)
        g_ours = ours_gradient(x_art)
        with tf.GradientTape() as tape:  # the same computation run eagerly, as ART runs it
            tape.watch(x_art)
            value = tf.reduce_sum(loss(onehot, model(x_art, training=False)))
        g_eager = tape.gradient(value, x_art)
        d_art = art._compute_perturbation(x_art, onehot, None)
        d_ours = step_direction(g_art, 2)  # astrokeras' normalisation of ART's gradient
        moved = tf.clip_by_value(x_art + step * d_art, 0.0, 1.0)
        p_art = art._projection(moved - x0, eps, 2)
        p_ours = project_to_ball(moved - x0, eps_t, 2)
        one = ours_step(x_art)
        x_art_next = art._compute_tf(x_art, x0, onehot, None, eps, step, None, False)
        x_ours = ours_step(x_ours)
        x_art = x_art_next
        diff = np.abs(np.asarray(x_ours) - np.asarray(x_art))
        per_image = diff.reshape(n, -1).max(axis=1)
        print(f"{k:>3} {diff.max():>18.2e} {int(np.sum(per_image > 1e-5)):>13} "
              f"{np.abs(np.asarray(one) - np.asarray(x_art)).max():>16.2e} "
              f"{rel(g_ours, g_art):>9.1e} {rel(g_eager, g_art):>15.1e} "
              f"{rel(d_ours, d_art):>14.1e} {rel(p_ours, p_art):>15.1e}")
    return x_ours, x_art


@contextlib.contextmanager
def graph_optimizer_off(model):
    """TensorFlow's graph optimiser (Grappler) off for the `with` block, restored afterwards.

    astrokeras' compiled attack functions of `model` are dropped on entry and on exit
    (`clear_compiled`), so they are traced afresh under each setting (the option also applies
    to a function traced before; checked on a small model, but a fresh trace does not rely on
    that).
    """
    import tensorflow as tf

    before = tf.config.optimizer.get_experimental_options().get("disable_meta_optimizer", False)
    clear_compiled(model)
    tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": True})
    try:
        yield tf.config.optimizer.get_experimental_options()
    finally:
        tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": before})
        clear_compiled(model)


def pgd_parity(model, x, y, warm, args):
    """PGD L-inf and L2 (20 steps, no random start) against ART, graph optimiser on and off.

    Parity: astrokeras with ART's loss object (`CategoricalCrossentropy`, batch mean) and
    TensorFlow's graph optimiser off, against ART with `batch_size` = all images (one batch, as
    astrokeras; ART's loss is a batch mean, so its batch size changes its gradients' scale).
    Speed: astrokeras with its default loss and the optimiser on (what a user gets) and off,
    against ART given `batch_size` = all images (tuned) and ART's default `batch_size=32`.
    """
    import tensorflow as tf
    from art.attacks.evasion import ProjectedGradientDescent

    tf.get_logger().setLevel("ERROR")  # each setting retraces on purpose: no retracing warning
    clf = art_classifier(model, x.shape[1])
    onehot = np.eye(3, dtype=np.float32)[y]
    n = len(x)
    mean_loss = keras.losses.CategoricalCrossentropy()  # ART's loss object
    settings = {"L-inf": dict(norm="inf", eps=0.03, step=0.005),
                "L2": dict(norm=2, eps=1.0, step=0.2)}
    rows = []
    for name, setting in settings.items():
        def art_run(batch_size, s=setting):
            return ProjectedGradientDescent(
                clf, norm=np.inf if s["norm"] == "inf" else 2, eps=s["eps"], eps_step=s["step"],
                max_iter=args.pgd_steps, num_random_init=0, batch_size=batch_size,
                verbose=False).generate(x, onehot)

        art_tuned_t, art_tuned = timed(lambda: art_run(n), repeat=args.repeat)
        art_default_t, art_default = timed(lambda: art_run(32), repeat=args.repeat)

        def ours_run(data, labels, loss, s=setting):
            return pgd(model, data, labels, steps=args.pgd_steps, random_start=False,
                       clip=(0.0, 1.0), loss=loss, **s)

        results = {}
        for optimizer in ("on", "off"):
            guard = graph_optimizer_off(model) if optimizer == "off" else contextlib.nullcontext()
            with guard as options:
                if options is not None:
                    assert options["disable_meta_optimizer"], options
                for loss_name, loss in (("default", None), ("ART's", mean_loss)):
                    ours_run(warm[0], warm[1], loss)  # traces under this setting
                    t, images = timed(lambda: ours_run(x, y, loss), repeat=args.repeat)
                    results[optimizer, loss_name] = (t, images)
        assert not tf.config.optimizer.get_experimental_options().get("disable_meta_optimizer")
        for (optimizer, loss_name), (t, images) in results.items():
            diff = np.abs(images - art_tuned)
            per_image = diff.reshape(n, -1).max(axis=1)
            rows.append(dict(
                attack=f"PGD {name}", optimizer=optimizer, loss=loss_name, ours_t=t,
                art_tuned_t=art_tuned_t, art_default_t=art_default_t, max_diff=float(diff.max()),
                images_over=int(np.sum(per_image > 1e-5)),
                max_diff_default=float(np.abs(images - art_default).max()),
                acc=float(np.mean(np.argmax(model.predict(images, verbose=0), axis=1) == y))))
        rows.append(dict(attack=f"PGD {name}", art_batches=float(np.abs(art_tuned
                                                                         - art_default).max())))
    return rows


def report_parity(rows, n, steps):
    print(f"\nPGD parity and speed on the ConvNet ({n} images, {steps} steps, no random start)")
    print("ART tuned: batch_size=%d (one batch, as astrokeras); ART default: batch_size=32" % n)
    print(f"{'attack':<10} {'graph opt':>9} {'ak loss':>8} {'ak s':>7} {'ART tuned s':>12} "
          f"{'tuned/ak':>9} {'ART default s':>14} {'default/ak':>11} {'max|d| tuned':>13} "
          f"{'imgs >1e-5':>11} {'max|d| dflt':>12} {'adv acc':>8}")
    for r in rows:
        if "art_batches" in r:
            print(f"{r['attack']:<10} ART batch_size {n} vs 32: max |diff| {r['art_batches']:.2e}")
            continue
        print(f"{r['attack']:<10} {r['optimizer']:>9} {r['loss']:>8} {r['ours_t']:>7.3f} "
              f"{r['art_tuned_t']:>12.3f} {r['art_tuned_t'] / r['ours_t']:>8.1f}x "
              f"{r['art_default_t']:>14.3f} {r['art_default_t'] / r['ours_t']:>10.1f}x "
              f"{r['max_diff']:>13.2e} {r['images_over']:>11} {r['max_diff_default']:>12.2e} "
              f"{r['acc']:>8.3f}")


def load_correct(model_path, data, n, batch_size=256):
    """`model_path`, and its first `2 n` correctly classified Y10 test images (the first `n` are
    attacked, the next `n` warm astrokeras up)."""
    from astrokeras.data import load_pairs

    model = load_model(model_path)
    xs, ys = [], []
    for (y10,), labels in load_pairs(data, domains=["y10"], split="test", batch_size=batch_size):
        xs.append(np.asarray(y10, np.float32))
        ys.append(np.asarray(labels))
    x, y = np.concatenate(xs), np.concatenate(ys).astype(np.int64)
    predicted = np.argmax(model.predict(x, verbose=0, batch_size=batch_size), axis=1)
    keep = np.flatnonzero(predicted == y)
    print(f"{model_path}: {len(x)} Y10 test images, {len(keep)} classified correctly "
          f"(accuracy {len(keep) / len(x):.3f}); value range of all {len(x)}: "
          f"[{x.min():.3f}, {x.max():.3f}], per band low {x.min(axis=(0, 1, 2)).round(3)}, "
          f"high {x.max(axis=(0, 1, 2)).round(3)}")
    if len(keep) < 2 * n:
        raise SystemExit(f"only {len(keep)} correctly classified test images; need {2 * n}")
    chosen = keep[:2 * n]
    return model, x[chosen], y[chosen], (float(x.min()), float(x.max()))


def art_pixel_counted(model, x, y, value_range, max_iter, seed, strategy=None, mutation=None):
    """ART's PixelAttack (th=1, DE) one image at a time, as its own loop does, counting generations.

    ART does not report the generation of success; it is read from the model calls: per image
    one population call (400 candidates) for the initial population, then per generation one
    population call and one single-image call (the callback testing the best member).
    `strategy` / `mutation` replace the defaults of ART's vendored SciPy DE (`"best1bin"`,
    `(0.5, 1)`) for this call only, everything else of ART unchanged.
    """
    import functools

    from art.attacks.evasion import PixelAttack, pixel_threshold
    from art.estimators.classification import TensorFlowV2Classifier

    classes = model.output_shape[-1]
    clf = TensorFlowV2Classifier(model, nb_classes=classes, input_shape=x.shape[1:],
                                 loss_object=keras.losses.CategoricalCrossentropy(),
                                 clip_values=value_range)
    calls = []
    predict = clf.predict

    def counting_predict(data, *a, **kw):
        calls.append(len(data))
        return predict(data, *a, **kw)

    clf.predict = counting_predict
    attack = PixelAttack(clf, th=1, es=1, max_iter=max_iter, targeted=False, verbose=False)
    np.random.seed(seed)  # ART's vendored DE draws from NumPy's global generator
    shipped = pixel_threshold.differential_evolution
    changes = {k: v for k, v in (("strategy", strategy), ("mutation", mutation)) if v is not None}
    if changes:
        pixel_threshold.differential_evolution = functools.partial(shipped, **changes)
    adversarial, generations, seconds = [], [], 0.0
    try:
        for i in range(len(x)):
            calls.clear()
            start = time.perf_counter()
            adversarial.append(attack.generate(x[i:i + 1], y[i:i + 1])[0])
            seconds += time.perf_counter() - start
            generations.append(sum(1 for c in calls if c > 1) - 1)
    finally:
        pixel_threshold.differential_evolution = shipped
    adversarial = np.stack(adversarial)
    after = np.argmax(model.predict(adversarial, verbose=0), axis=1)
    success = after != y
    generations = np.asarray(generations)
    return seconds, success, generations, adversarial


def real_pixel(args):
    """One-pixel attack on a trained model and a dataset: astrokeras against ART PixelAttack."""
    import warnings

    from astrokeras.errors import AstroKerasWarning

    n, generations = args.real_images, args.real_max_iter
    model, x_all, y_all, value_range = load_correct(args.model, args.data, n)
    x, y, wx, wy = x_all[:n], y_all[:n], x_all[n:], y_all[n:]
    print(f"load average at start: {open('/proc/loadavg').read().strip()}")
    print(f"\nOne-pixel attack, {n} correctly classified Y10 test images, population "
          f"{args.popsize}, {generations} generations; pixel values in the range of the test "
          f"images [{value_range[0]:.3f}, {value_range[1]:.3f}] for both (ART: clip_values, "
          f"256 levels; astrokeras: bounds)")
    searches = [("rand1", dict(strategy="rand1", mutation=0.5)),
                ("rand1 uniform init", dict(strategy="rand1", mutation=0.5, init="uniform")),
                ("best1", dict(strategy="best1", mutation=(0.5, 1.0)))]
    if args.variants:  # which of ART's two DE choices (base vector, dithered F) matters
        searches += [("rand1 F~U(0.5,1)", dict(strategy="rand1", mutation=(0.5, 1.0))),
                     ("best1 F=0.5", dict(strategy="best1", mutation=0.5))]
    print(f"{'':<46} {'success':>8} {'mean gen':>9} {'median gen':>11} {'seconds':>8} "
          f"{'ART / this':>11} {'at start':>9}")
    print("(at start: succeeded in the initial population, generation 0; for ART by generation 1, "
          "its first check)")
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("error", AstroKerasWarning)  # a fallback would void the timing
        for name, options in searches:
            options = dict(options, popsize=args.popsize, max_iter=generations,
                           bounds=value_range)
            one_pixel(model, wx, wy, seed=0, **options)  # tracing, XLA compilation
            for seed in range(args.seeds or 1):
                t, r = timed(lambda: one_pixel(model, x, y, seed=seed, **options))
                rows.append((f"astrokeras {name}, seed {seed}", r.success,
                             r.generations[r.success], t))
        # what a user gets without `bounds`: the per-band range of the attacked images
        t, r = timed(lambda: one_pixel(model, x, y, seed=0, popsize=args.popsize,
                                       max_iter=generations))
        rows.append(("astrokeras rand1, default bounds, seed 0", r.success,
                     r.generations[r.success], t))
    for seed in range(0 if args.skip_art else args.art_seeds):
        t, success, art_generations, _ = art_pixel_counted(model, x, y, value_range,
                                                           generations, seed)
        rows.append((f"ART PixelAttack (th=1, es=1), seed {seed}", success,
                     art_generations[success], t))
    if args.art_rand1:  # ART's own DE with DE/rand/1, F = 0.5: a reference for astrokeras' default
        t, success, art_generations, _ = art_pixel_counted(model, x, y, value_range, generations,
                                                           0, strategy="rand1bin", mutation=0.5)
        rows.append(("ART* DE rand1bin F=0.5 (reference), seed 0", success,
                     art_generations[success], t))
    art_times = [t for name, _, _, t in rows if name.startswith("ART ")]
    art_t = np.mean(art_times) if art_times else None
    art_success = next((success for name, success, _, _ in rows if name.startswith("ART ")),
                       None)
    for name, success, gens, t in rows:
        mean = f"{gens.mean():.2f}" if gens.size else "-"
        median = f"{np.median(gens):.1f}" if gens.size else "-"
        ratio = f"{art_t / t:.1f}x" if art_t else "-"
        versus = ""
        if art_success is not None and not name.startswith("ART"):
            versus = (f"  (ART seed 0 only: {int(np.sum(art_success & ~success))}, "
                      f"this only: {int(np.sum(success & ~art_success))})")
        at_start = f"{int(np.sum(gens <= (1 if name.startswith('ART') else 0))):>4}"
        print(f"{name:<46} {int(success.sum()):>4}/{n:<3} {mean:>9} {median:>11} {t:>8.1f} "
              f"{ratio:>11} {at_start:>9}{versus}")
    print("ART's DE can stop at generation 1 at the earliest (its callback runs after each "
          "generation, on the best member only); astrokeras records generation 0 when the "
          "initial population already holds a winner.")
    print(f"load average at end: {open('/proc/loadavg').read().strip()}")


def report_gradient(title, rows):
    print(f"\n{title}")
    print("(* astrokeras given ART's batch-mean loss object instead of its per-image sum)")
    print(f"{'attack':<11} {'images':>6} {'astrokeras s':>13} {'ART s':>8} {'ART/ak':>7} "
          f"{'max |diff|':>11} {'px >1e-5':>9} {'adv acc':>8} {'ak 1st call s':>14}")
    for name, n, ours_t, art_t, ratio, diff, frac, acc, cold in rows:
        print(f"{name:<11} {n:>6} {ours_t:>13.3f} {art_t:>8.3f} {ratio:>6.1f}x {diff:>11.2e} "
              f"{frac:>9.2e} {acc:>8.3f} {cold:>14.3f}")


def report_pixel(title, r, max_iter, popsize):
    print(f"\n{title} (population {popsize}, max_iter {max_iter})")
    print(f"  astrokeras candidate scoring: "
          f"{'incremental' if r['incremental'] else 'whole images (' + str(r['why']) + ')'}; "
          f"first call (tracing, compilation) {r['cold']:.1f} s")
    print(f"  astrokeras, {r['n_all']} images: {r['ours_all_t']:.1f} s, success "
          f"{r['ours_all_succeeded']}/{r['n_all']}, median generations "
          f"{r['ours_all_generations']}, {r['ours_all_eval']:.0f} model evaluations per image")
    print(f"  same {r['n_art']} images: astrokeras {r['ours_t']:.1f} s (success "
          f"{r['ours_succeeded']}/{r['n_art']}, {r['ours_eval']:.0f} model evaluations per "
          f"image), ART {r['art_t']:.1f} s (success {r['art_succeeded']}/{r['n_art']}; at most "
          f"{r['art_max_changed']} pixel changed)")
    print(f"  ART/astrokeras time: {r['ratio']:.1f}x on the same images; "
          f"{r['ratio_per_image']:.1f}x per image against the {r['n_all']}-image batch")
    if r["best_t"] is not None:
        print(f"  astrokeras strategy='best1', mutation=(0.5, 1), {r['n_all']} images: "
              f"{r['best_t']:.1f} s, success {r['best_succeeded']}/{r['n_all']} "
              f"({r['best_same']}/{r['n_art']} on ART's images), median generations "
              f"{r['best_generations']}")
    if r["n_full"]:
        per_image = r["full_t"] / r["n_full"]
        print(f"  astrokeras whole-image evaluation (incremental=False), {r['n_full']} images: "
              f"{r['full_t']:.1f} s (success {r['full_success']:.3f}, {r['full_eval']:.0f} "
              f"evaluations per image): {per_image / (r['ours_all_t'] / r['n_all']):.1f}x the "
              f"incremental time per image; ART/whole-image "
              f"{(r['art_t'] / r['n_art']) / per_image:.1f}x per image")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=150, help="images for FGSM / PGD")
    parser.add_argument("--pixel-images", type=int, default=150,
                        help="ConvNet images for the one-pixel attacks (both libraries)")
    parser.add_argument("--art-pixel-images", type=int, default=150,
                        help="of those, images also attacked by ART's PixelAttack")
    parser.add_argument("--pixel-max-iter", type=int, default=10,
                        help="generations of that comparison (both libraries)")
    parser.add_argument("--paper-images", type=int, default=4,
                        help="ConvNet images for the comparison at --max-iter generations")
    parser.add_argument("--full-pixel-images", type=int, default=4,
                        help="images for astrokeras' whole-image evaluation (reference)")
    parser.add_argument("--popsize", type=int, default=400)
    parser.add_argument("--max-iter", type=int, default=80, help="the paper's generations")
    parser.add_argument("--only", choices=("all", "gradient", "pixel", "tiny", "pgd-trace", "pgd-parity"),
                        default="all")
    parser.add_argument("--best1", action="store_true",
                        help="also run astrokeras' one-pixel attack with strategy='best1'")
    parser.add_argument("--seeds", type=int, default=0,
                        help="tiny model / --model: astrokeras' success over this many seeds")
    parser.add_argument("--skip-art", action="store_true",
                        help="with --seeds: stop after the seeds (no ART run); --model: no ART run")
    parser.add_argument("--tiny-art-images", type=int, default=150,
                        help="tiny-ConvNet images also attacked by ART's PixelAttack")
    parser.add_argument("--pgd-steps", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=2, help="timing repeats (best kept)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    parser.add_argument("--model", help="a trained classifier (.keras): one-pixel attack on it "
                        "and --data's Y10 test images instead of the synthetic models")
    parser.add_argument("--data", help="dataset directory for --model")
    parser.add_argument("--real-images", type=int, default=30,
                        help="--model: correctly classified test images attacked")
    parser.add_argument("--real-max-iter", type=int, default=20,
                        help="--model: generations (both libraries)")
    parser.add_argument("--variants", action="store_true",
                        help="--model: also astrokeras rand1 with dithered F and best1 with F=0.5")
    parser.add_argument("--art-rand1", action="store_true",
                        help="--model: also ART's PixelAttack with its DE switched to "
                        "strategy='rand1bin', mutation=0.5 (astrokeras' default search)")
    parser.add_argument("--art-seeds", type=int, default=1,
                        help="--model: ART runs (seeds of NumPy's global generator)")
    args = parser.parse_args()
    if args.quick:
        args.images, args.pixel_images, args.paper_images, args.full_pixel_images = 16, 4, 1, 1
        args.art_pixel_images = 2
        args.max_iter, args.pixel_max_iter, args.pgd_steps = 3, 2, 5
        args.repeat, args.epochs = 1, 1

    import art
    import tensorflow as tf

    print(f"machine: {platform.platform()}, {os.cpu_count()} CPU cores (shared), "
          f"TensorFlow {tf.__version__}, Keras {keras.__version__}, ART {art.__version__}")
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)

    if args.model:
        if not args.data:
            parser.error("--model needs --data")
        real_pixel(args)
        return

    if args.only == "tiny":
        print(f"load average at start: {open('/proc/loadavg').read().strip()}")
        tiny_models(args, rng)
        return
    model, which = paper_convnet(100)
    start = time.perf_counter()
    trained(model, 100, 1200 if not args.quick else 200, args.epochs, rng)
    n_needed = max(args.images, args.pixel_images, args.paper_images)
    x_all, y_all = correct_images(model, 100, n_needed, rng)
    print(f"ConvNet: {which}, 100x100x3, trained {args.epochs} epochs on synthetic images in "
          f"{time.perf_counter() - start:.0f} s")
    print(f"load average at start: {open('/proc/loadavg').read().strip()}")
    x, y = x_all[:args.images], y_all[:args.images]
    if args.only == "pgd-trace":
        pgd_l2_trace(model, x, y, args.pgd_steps)
        return
    if args.only == "pgd-parity":
        report_parity(pgd_parity(model, x, y, (x[::-1], y[::-1]), args), len(x), args.pgd_steps)
        print(f"load average at end: {open('/proc/loadavg').read().strip()}")
        return
    if args.only in ("all", "gradient"):
        warm = (x[::-1], y[::-1])  # same batch size, other order: traces the tf.functions
        rows = gradient_attacks(model, x, y, warm, args)
        report_gradient("FGSM / PGD on the ConvNet (same images, no random start)", rows)
        compiled_t, eager_t = gradient_floor(model, x, y, args.pgd_steps, args.repeat)
        print(f"\n{args.pgd_steps} forward + input-gradient passes over the {len(x)} images "
              f"alone: compiled {compiled_t:.3f} s, eager {eager_t:.3f} s")
        for name, _, ours_t, art_t, *_ in rows:
            if name.startswith("PGD"):
                print(f"  {name:<11} ART / compiled gradients {art_t / compiled_t:.1f}x (the "
                      f"most the same computation allows), astrokeras / compiled gradients "
                      f"{ours_t / compiled_t:.2f}x, ART / eager gradients {art_t / eager_t:.2f}x")
    if args.only in ("all", "pixel"):
        px, py = x_all[:args.pixel_images], y_all[:args.pixel_images]
        pixel = pixel_attack(model, px, py, min(args.art_pixel_images, len(px)), args,
                             args.pixel_max_iter, n_full=args.full_pixel_images)
        report_pixel(f"One-pixel attack on the ConvNet, {len(px)} images", pixel,
                     args.pixel_max_iter, args.popsize)
        print(f"  load average: {open('/proc/loadavg').read().strip()}")
        if args.paper_images:
            paper = pixel_attack(model, px[:args.paper_images], py[:args.paper_images],
                                 args.paper_images, args, args.max_iter)
            report_pixel("One-pixel attack on the ConvNet at the paper's budget", paper,
                         args.max_iter, args.popsize)
            print(f"  load average: {open('/proc/loadavg').read().strip()}")
    if args.only == "all":
        tiny_models(args, rng)


def tiny_models(args, rng):
    """The one-pixel attack on the tiny 32 x 32 ConvNet, which one pixel can flip."""
    tiny = trained(tiny_convnet(32), 32, 1200 if not args.quick else 200, args.epochs, rng)
    tx, ty = correct_images(tiny, 32, 150 if not args.quick else 8, rng)
    if args.seeds:
        # Success of astrokeras' search over several seeds (ART's, seeded by NumPy's global
        # state, is not repeated: 5 minutes per run here).
        print(f"\nOne-pixel attack on the tiny 32x32 ConvNet, {len(tx)} images, 10 generations, "
              f"astrokeras seeds 0..{args.seeds - 1}")
        for strategy, mutation in (("rand1", 0.5), ("best1", (0.5, 1.0))):
            counts = [int(one_pixel(tiny, tx, ty, popsize=args.popsize, max_iter=10,
                                    bounds=(0.0, 1.0), seed=seed, strategy=strategy,
                                    mutation=mutation).success.sum())
                      for seed in range(args.seeds)]
            print(f"  strategy={strategy!r}, mutation={mutation}: successes {counts} "
                  f"(mean {np.mean(counts):.1f} of {len(tx)})")
        if args.skip_art:
            return
    tiny_pixel = pixel_attack(tiny, tx, ty, 2 if args.quick else min(args.tiny_art_images, 150),
                              args, 10, n_full=args.full_pixel_images)
    report_pixel("One-pixel attack on the tiny 32x32 ConvNet (ART's reference setting)",
                 tiny_pixel, 10, args.popsize)
    print(f"  load average: {open('/proc/loadavg').read().strip()}")
    if not args.quick:
        from art.attacks.evasion import PixelAttack

        minimal = PixelAttack(art_classifier(tiny, 32), th=None, es=1, max_iter=10)
        seconds, _ = timed(lambda: minimal.generate(tx[:2], ty[:2]))
        print(f"  for reference, ART PixelAttack with th=None (searches the minimal number of "
              f"pixels, 1..127) on the same 2 images: {seconds:.1f} s")


if __name__ == "__main__":
    main()
