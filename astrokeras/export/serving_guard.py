"""Serving guard: is what a deployed model is asked to predict like what it was trained on?

A model exported with its training data known (a run directory, or a dataset) carries, under
the metadata key `"serving_guard"`, two small references computed from the labelled source
domain at export time (`fit_serving_guard`), and `predict_files` compares every input with
them:

- **Pixels outside the clip range.** The clip + arcsinh stretch clips each band to
  `[low, high]`, the 0.1 and 99.9 percentiles of the source training pixels, so about 0.2 %
  of training pixels fall outside it. The reference is that fraction, measured on the raw
  training images of the domain the stretch was fitted on. A larger fraction at serving time
  means brighter, noisier or differently calibrated images: the stretch saturates them and the
  model sees inputs it never saw. Measured on raw pixels (electrons per second), before the
  stretch.
- **Latent out-of-distribution score.** The score of an object is the root-mean-square of its
  standardised latent coordinates, `sqrt(mean_d ((z_d - mean_d) / scale_d) ** 2)`, with the
  per-dimension mean and standard deviation of the model's "latent" layer on source training
  images (`scale_d` floored at 1 % of the mean standard deviation, so that a unit that never
  varied in training does not divide by zero). It is a diagonal Mahalanobis distance: cheap,
  and the export stores only two vectors of the latent width. Its threshold is the 99th
  percentile of the scores of held-out source images, so about 1 % of in-distribution objects
  exceed it. The mean and scale are fitted on every other training image and the threshold
  calibrated on the remaining training images together with the validation split: every
  calibration score comes from an image the statistics never saw, and a small validation
  split (whose 99th percentile would be its maximum) does not decide the threshold alone.
  At most `MAX_IMAGES` images of each split are used.

Warnings (the thresholds are stored with the export under `warn_above`):

- a file (or all inputs together) has more than `max(MIN_OUTSIDE_CLIP, OUTSIDE_CLIP_FACTOR x
  the training reference)` of its pixels outside the clip range: more than 1 %, or five times
  the training fraction where that is larger. For a model adapted to an unlabelled target
  (`adapted_to`), also `ADAPTED_TARGET_FACTOR` (1.5) x that target's training fraction where
  that is larger: the noisier target lies outside the source's clip range more often (12 %
  of LSST Y1 pixels against 0.2 % of Y10's, measured at 64x64), and it is what the model was
  made for; an input beyond both still warns;
- a file (or all inputs together) has more than `ABOVE_THRESHOLD_FACTOR x (1 -
  LATENT_QUANTILE)` = 5 % of its objects above the latent threshold: five times the 1 %
  expected in distribution.

Both are judged only for a file (or a total) of at least `MIN_OBJECTS` objects: the pixel
fraction of a single galaxy ranges from 0 to over 10 % in distribution (a bright core is
clipped), and one object of a few is above the latent threshold by chance more often than the
rule allows. Smaller files still get their numbers, and count in the total.
"""

import dataclasses
import os

import numpy as np

from astrokeras.errors import InvalidArgumentError, check_positive_int

KEY = "serving_guard"
LATENT_LAYER = "latent"
#: Images of each split read at export time (training, validation), at most.
MAX_IMAGES = 2000
#: Quantile of the held-out source scores used as the latent threshold.
LATENT_QUANTILE = 0.99
#: Warn when the fraction of objects above the latent threshold exceeds this many times the
#: in-distribution rate, 1 - LATENT_QUANTILE.
ABOVE_THRESHOLD_FACTOR = 5.0
#: Warn when the fraction of pixels outside the clip range exceeds this many times the
#: training fraction ...
OUTSIDE_CLIP_FACTOR = 5.0
#: ... or this fraction, whichever is larger.
MIN_OUTSIDE_CLIP = 0.01
#: Margin over the adapted target's own outside-clip fraction (a large, well-measured
#: fraction needs no five-fold margin: 1.5 x 12 % keeps 56 % of clipped pixels a warning).
ADAPTED_TARGET_FACTOR = 1.5
#: Files and totals with fewer objects are reported, not judged.
MIN_OBJECTS = 20
#: Floor of a latent scale, as a fraction of the mean scale.
SCALE_FLOOR = 0.01


def fit_serving_guard(model, directory, domain=None, preprocessing=None, clip=None,
                      latent=True, max_images=MAX_IMAGES, batch_size=256, adapted_to=None):
    """The serving-guard references of a model, from the dataset it was trained on.

    Reads the source domain's raw training and validation images of `directory` (in galaxy
    order, without augmentation, at most `max_images` of each), counts the pixels outside
    the clip range, and runs the model's "latent" layer on the images stretched as in
    training. See the module docstring for what is measured and why.

    Args:
        model: the Keras model to be exported (a training model gives its classifier).
        directory: the dataset directory (written by `astrokeras.data.write_dataset`).
        domain: the labelled source domain the model was trained on; default the domain the
            dataset's preprocessing was fitted on (its first).
        preprocessing: the stretch the source images got in training (a `ClipArcsinh` or
            its config); default the manifest's one preprocessing.
        clip: the stretch served with the export, whose `[low, high]` the outside-clip
            fractions refer to; default `preprocessing`. Its reference is measured on the
            training split of the domain it was fitted on (its `fitted_on`), else of `domain`.
        latent: fit the latent reference (False when the export does not return "latent").
        max_images: images of each split used, at most.
        batch_size: images per model call.
        adapted_to: the target domain the model was adapted to with its unlabelled images
            (domain adaptation, AdaBN, normalisation-based adaptation), or None. Its raw
            training pixels were training data too: their fraction outside the clip range is
            measured as well (`outside_clip_reference["adapted_to"]`), and the pixel limit is
            at least `ADAPTED_TARGET_FACTOR` x that fraction, so the target the model was
            made for does not warn for being that target.

    Returns:
        A JSON-serialisable dict, to store as `metadata["serving_guard"]`: `fitted_on`
        {dataset, domain, split, images}, `outside_clip_reference` {fraction, per_band,
        domain, split, images}, `latent` {layer, score, mean, scale, threshold, quantile,
        fit_images, calibration_images, calibrated_on} (None when `latent` is False or the
        model has no "latent" layer) and `warn_above` {outside_clip, above_latent_threshold,
        min_objects}.

    Raises:
        InvalidArgumentError: a bad argument, or a dataset whose images do not fit the model.

    Example:

    >>> import tempfile
    >>> from astrokeras.data import MorphologySimulation, write_dataset
    >>> from astrokeras.models import convnet
    >>> folder = tempfile.mkdtemp()
    >>> _ = write_dataset(MorphologySimulation(size=16), 20, folder, seed=1)
    >>> guard = fit_serving_guard(convnet((16, 16, 3)), folder)
    >>> guard["warn_above"]["above_latent_threshold"], len(guard["latent"]["mean"])
    (0.05, 256)
    """
    from astrokeras import data as data_lib
    from astrokeras.export._common import classifier

    max_images = check_positive_int("max_images", max_images)
    batch_size = check_positive_int("batch_size", batch_size)
    model = classifier(model)
    directory = os.fspath(directory)
    manifest = data_lib.load_manifest(directory)
    if domain is None:
        domain = _fitted_domain(manifest["preprocessing"], manifest) or manifest["domains"][0]
    elif domain not in manifest["domains"]:
        raise InvalidArgumentError("`domain` is not a domain of the dataset.", domain,
                                   manifest["domains"])
    shape = tuple(int(d) for d in model.inputs[0].shape[1:])
    if tuple(manifest["image_shape"]) != shape:
        raise InvalidArgumentError(f"The images of {directory} do not fit the model.",
                                   tuple(manifest["image_shape"]), shape)
    preprocessing = manifest["preprocessing"] if preprocessing is None else preprocessing
    clip = preprocessing if clip is None else clip
    stretch = data_lib.stretch(manifest, domain, preprocessing)
    limits = data_lib.stretch(manifest, domain, clip)
    clip_domain = _fitted_domain(clip, manifest) or domain
    encoder = _encoder(model) if latent else None

    def latents(split, count=None):
        out, images = [], 0
        for image, ebv in _raw_batches(directory, domain, split, max_images, batch_size):
            images += len(image)
            if count is not None:
                count(image)
            if encoder is not None:
                out.append(_latent(encoder, model, stretch(image), ebv))
        return (np.concatenate(out) if out else np.zeros((0, 0))), images

    outside = _OutsideCount(limits)
    if clip_domain != domain:
        for image, _ in _raw_batches(directory, clip_domain, "train", max_images, batch_size):
            outside(image)
    train, images = latents("train", outside if clip_domain == domain else None)
    fraction = outside.fraction()
    limit = max(MIN_OUTSIDE_CLIP, OUTSIDE_CLIP_FACTOR * fraction)
    adapted = None
    if adapted_to is not None and adapted_to != clip_domain:
        if adapted_to not in manifest["domains"]:
            raise InvalidArgumentError("`adapted_to` is not a domain of the dataset.",
                                       adapted_to, manifest["domains"])
        target = _OutsideCount(limits)
        for image, _ in _raw_batches(directory, adapted_to, "train", max_images, batch_size):
            target(image)
        adapted = {"domain": adapted_to, "split": "train", "images": target.images,
                   "fraction": _rounded(target.fraction())}
        limit = max(limit, ADAPTED_TARGET_FACTOR * target.fraction())
    guard = {
        "fitted_on": {"domain": domain, "split": "train", "images": images},
        "outside_clip_reference": {"fraction": _rounded(fraction),
                                   "per_band": _rounded(outside.per_band()),
                                   "domain": clip_domain, "split": "train",
                                   "images": outside.images, "adapted_to": adapted},
        "latent": None,
        "warn_above": {"outside_clip": _rounded(limit),
                       "above_latent_threshold": _rounded(
                           ABOVE_THRESHOLD_FACTOR * (1.0 - LATENT_QUANTILE)),
                       "min_objects": MIN_OBJECTS},
    }
    if encoder is not None and len(train):
        guard["latent"] = _latent_reference(train, latents("validation")[0], stretch)
    return guard


def _fitted_domain(stretch, manifest):
    """The domain a stretch config says it was fitted on, if it is one of the dataset's."""
    fitted = stretch.get("fitted_on") if isinstance(stretch, dict) else None
    domain = fitted.get("domain") if isinstance(fitted, dict) else None
    return domain if domain in manifest["domains"] else None


def _encoder(model):
    """Inputs -> the "latent" layer's output, or None when the model has no such layer."""
    import keras

    if LATENT_LAYER not in [layer.name for layer in model.layers]:
        return None
    return keras.Model(model.inputs, model.get_layer(LATENT_LAYER).output)


def _latent(encoder, model, image, ebv):
    """Latent vectors (float64) of stretched images (and E(B-V) for photo-z models)."""
    feeds = [ebv if tensor.name == "ebv" else image for tensor in model.inputs]
    return np.asarray(encoder(feeds, training=False), np.float64).reshape(len(image), -1)


def _raw_batches(directory, domain, split, max_images, batch_size):
    """(raw images, E(B-V) or None) of a split in galaxy order, at most `max_images` images."""
    from astrokeras.data import load

    taken = 0
    for inputs, _ in load(directory, domain, split, batch_size=batch_size, shuffle=False,
                          augment_images=False, preprocess=False):
        image, ebv = (inputs["image"], inputs["ebv"]) if isinstance(inputs, dict) else \
            (inputs, None)
        k = min(len(image), max_images - taken)
        yield np.asarray(image)[:k], None if ebv is None else np.asarray(ebv)[:k]
        taken += k
        if taken >= max_images:
            return


class _OutsideCount:
    """Counts of raw pixels outside a stretch's clip range, per band."""

    def __init__(self, clip):
        self.low, self.high = np.asarray(clip.low), np.asarray(clip.high)
        self.outside = np.zeros(len(self.low), np.int64)
        self.pixels = 0
        self.images = 0

    def __call__(self, image):
        flags = (image < self.low) | (image > self.high)
        self.outside += flags.reshape(-1, len(self.low)).sum(axis=0)
        self.pixels += flags.size // len(self.low)
        self.images += len(image)

    def per_band(self):
        return self.outside / max(self.pixels, 1)

    def fraction(self):
        return float(self.per_band().mean())


def _latent_reference(train, validation, stretch):
    """Mean, scale and threshold of the latent score (see the module docstring)."""
    fit, held = train[0::2], train[1::2]
    calibrated_on = ["train (the other half)", "validation"]
    if not len(held):  # a single training image
        fit = train
        calibrated_on = ["validation"]
    calibration = np.concatenate([held, validation]) if len(validation) else held
    if not len(calibration):
        calibration, calibrated_on = fit, ["train (the fitted images)"]
    elif not len(validation):
        calibrated_on = calibrated_on[:1]
    mean = np.asarray(_rounded(fit.mean(axis=0)))
    std = fit.std(axis=0)
    scale = np.asarray(_rounded(np.maximum(std, max(SCALE_FLOOR * std.mean(), 1e-12))))
    scores = ood_scores(calibration, mean, scale)
    return {"layer": LATENT_LAYER, "score": "rms_standardised", "mean": mean.tolist(),
            "scale": scale.tolist(),
            "threshold": _rounded(np.quantile(scores, LATENT_QUANTILE)),
            "quantile": LATENT_QUANTILE, "fit_images": len(fit),
            "calibration_images": len(calibration), "calibrated_on": calibrated_on,
            "preprocessing": stretch.get_config()}


def ood_scores(latent, mean, scale):
    """Latent out-of-distribution scores: RMS of the standardised latent coordinates.

    Args:
        latent: (objects, dimensions) latent vectors.
        mean: (dimensions,) training mean.
        scale: (dimensions,) training standard deviation (floored, non-zero).

    Returns:
        (objects,) float64 scores; about 1 for a typical training object.

    Example:

    >>> ood_scores(np.array([[1.0, 2.0], [3.0, 2.0]]), np.array([1.0, 2.0]),
    ...            np.array([1.0, 1.0])).tolist()
    [0.0, 1.4142135623730951]
    """
    z = (np.asarray(latent, np.float64) - mean) / scale
    return np.sqrt(np.mean(z * z, axis=1))


def _rounded(values):
    """Six significant digits: enough for a threshold, and a small JSON document."""
    if np.ndim(values) == 0:
        return float(f"{float(values):.6g}")
    return [float(f"{float(v):.6g}") for v in np.ravel(values)]


@dataclasses.dataclass(frozen=True)
class GuardStats:
    """Serving-guard numbers of one input file, or of all of them.

    Args:
        objects: objects predicted.
        outside_clip: fraction of their raw pixels outside the clip range, or None when not
            measured (inputs given already stretched).
        above_latent_threshold: fraction of the objects whose latent score exceeds the
            threshold, or None when not measured (no latent reference or output).
        mean_ood_score: their mean latent score, or None.
    """

    objects: int
    outside_clip: object = None
    above_latent_threshold: object = None
    mean_ood_score: object = None


@dataclasses.dataclass(frozen=True)
class GuardReport:
    """What the serving guard found over a `predict_files` call.

    Args:
        files: [(file, GuardStats)] of the files with predicted objects, in input order.
        total: GuardStats of all inputs together; None when the export has no guard.
        warnings: one message per file (or total) and limit exceeded, naming both.
        notes: why the guard, or a part of it, was not applied.
        warn_above: the export's limits ({outside_clip, above_latent_threshold,
            min_objects}), or None.
    """

    files: list
    total: object
    warnings: list
    notes: list
    warn_above: object = None


class ServingGuard:
    """The serving guard of an export, applied batch by batch to the objects predicted.

    Args:
        metadata: the export's metadata (`OnnxPredictor.metadata`).
        output_names: the outputs the export returns; the latent score needs "latent".
        raw_inputs: whether the inputs are raw images (False: already stretched, so the
            pixels outside the clip range cannot be counted).

    Example:

    >>> meta = {"preprocessing": {"method": "clip_arcsinh", "low": [0.0], "high": [1.0]},
    ...         "serving_guard": {"outside_clip_reference": {"fraction": 0.002},
    ...                           "latent": None, "warn_above": {"outside_clip": 0.01,
    ...                           "above_latent_threshold": 0.05, "min_objects": 20}}}
    >>> guard = ServingGuard(meta)
    >>> guard.observe(["a.npy"] * 2, np.array([[[[0.5]]], [[[2.0]]]]))["outside_clip"]
    [0.0, 1.0]
    >>> guard.report().files[0][1].outside_clip
    0.5
    """

    def __init__(self, metadata, output_names=None, raw_inputs=True):
        guard = metadata.get(KEY)
        self.notes = []
        self.warn_above = None
        self._clip = self._latent = None
        self._tallies = {}
        if not guard:
            self.notes.append(
                "The export has no serving guard (it was exported without its training data: "
                "export with --dataset, or from a run directory, to store one); the inputs "
                "were not compared with the training data.")
            return
        self.warn_above = dict(guard["warn_above"])
        self.reference = guard["outside_clip_reference"]["fraction"]
        if not raw_inputs:
            self.notes.append("The inputs were given already stretched: the fraction of raw "
                              "pixels outside the clip range was not measured.")
        elif metadata.get("preprocessing"):
            stretch = metadata["preprocessing"]
            self._clip = np.asarray(stretch["low"]), np.asarray(stretch["high"])
        latent = guard.get("latent")
        if latent and output_names is not None and LATENT_LAYER not in output_names:
            self.notes.append(f"The export does not return the {LATENT_LAYER!r} output: no "
                              "latent out-of-distribution score.")
        elif latent:
            self._latent = (np.asarray(latent["mean"]), np.asarray(latent["scale"]),
                            float(latent["threshold"]))
            self._quantile = float(latent.get("quantile", LATENT_QUANTILE))
        else:
            self.notes.append("The serving guard holds no latent reference: no latent "
                              "out-of-distribution score.")

    @property
    def available(self):
        """Whether the export has a serving guard."""
        return self.warn_above is not None

    @property
    def needs_latent(self):
        """Whether `observe` needs the latent vectors."""
        return self._latent is not None

    @property
    def columns(self):
        """The per-object CSV columns the guard adds: "outside_clip", "ood_score"."""
        return [name for name, part in (("outside_clip", self._clip),
                                        ("ood_score", self._latent)) if part is not None]

    def observe(self, sources, images, latent=None):
        """Measure a batch of objects and count them for their files.

        Args:
            sources: the input file of each object.
            images: (objects, height, width, bands) raw images.
            latent: (objects, dimensions) latent vectors, when `needs_latent`.

        Returns:
            {column: list of per-object floats} for `columns`.
        """
        out = {}
        count = len(sources)
        outside = above = scores = np.zeros(count)
        if self._clip is not None:
            low, high = self._clip
            flags = (images < low) | (images > high)
            outside = flags.reshape(count, -1).mean(axis=1)
            out["outside_clip"] = outside.tolist()
        if self._latent is not None:
            mean, scale, threshold = self._latent
            scores = ood_scores(latent, mean, scale)
            above = scores > threshold
            out["ood_score"] = scores.tolist()
        for source in dict.fromkeys(sources):
            mask = np.asarray([s == source for s in sources])
            self._tallies.setdefault(source, np.zeros(4))
            self._tallies[source] += (mask.sum(), outside[mask].sum(), above[mask].sum(),
                                      scores[mask].sum())
        return out

    def report(self):
        """The `GuardReport` of everything observed so far."""
        if not self.available:
            return GuardReport([], None, [], list(self.notes))
        files = [(path, self._stats(tally)) for path, tally in self._tallies.items()]
        total = self._stats(sum(self._tallies.values(), np.zeros(4)))
        judged = files + ([("all inputs", total)] if len(files) > 1 else [])
        warnings = [message for name, stats in judged for message in self._judge(name, stats)]
        return GuardReport(files, total, warnings, list(self.notes), dict(self.warn_above))

    def _stats(self, tally):
        objects, outside, above, scores = tally
        objects = int(objects)

        def fraction(value, part):
            return None if part is None or not objects else float(value / objects)

        return GuardStats(objects, fraction(outside, self._clip), fraction(above, self._latent),
                          fraction(scores, self._latent))

    def _judge(self, name, stats):
        if stats.objects < self.warn_above.get("min_objects", MIN_OBJECTS):
            return []
        messages = []
        limit = self.warn_above["outside_clip"]
        if stats.outside_clip is not None and stats.outside_clip > limit:
            messages.append(
                f"{name}: {stats.outside_clip:.2%} of the pixels are outside the training "
                f"clip range (limit {limit:.2%}; {self.reference:.2%} in training).")
        limit = self.warn_above["above_latent_threshold"]
        if stats.above_latent_threshold is not None and stats.above_latent_threshold > limit:
            messages.append(
                f"{name}: {stats.above_latent_threshold:.1%} of the objects are above the "
                f"latent out-of-distribution threshold {self._latent[2]:.4g} (limit "
                f"{limit:.1%}; about {1 - self._quantile:.0%} in distribution).")
        return messages
