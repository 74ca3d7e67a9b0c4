"""The one-pixel attack: batched differential evolution over pixel positions and values."""

import warnings
import weakref

import keras
import numpy as np
import tensorflow as tf

from astrokeras.attacks import _inputs
from astrokeras.attacks.incremental import IncrementalModel, Unsupported
from astrokeras.attacks.one_pixel_result import OnePixelResult
from astrokeras.errors import AstroKerasWarning, InvalidArgumentError, check_positive_int

# Candidate images (float32 input) per model call when `batch_size` is not given.
DEFAULT_BUDGET_BYTES = 16 * 2**20
# Working memory per call of the incremental evaluation when `batch_size` is not given.
INCREMENTAL_BUDGET_BYTES = 128 * 2**20
# Candidate evaluations (population x images x generations) from which the incremental
# evaluation is compiled with XLA: about twice as fast per candidate on a CPU, but compiling
# takes seconds.
XLA_MIN_CANDIDATES = 200_000
# Largest difference of class probabilities between the incremental and the full evaluation
# that `one_pixel` accepts on its check candidates (float32 rounding is ~1e-7).
INCREMENTAL_TOLERANCE = 1e-4


def one_pixel(model, x, y=None, target=None, *, pixels=1, popsize=400, max_iter=80,
              mutation=0.5, crossover=1.0, bounds=None, seed=None, batch_size=None,
              callback=None, incremental=None, strategy="rand1", init="normal"):
    """Change `pixels` pixels per image to flip the model's decision, by differential evolution.

    The attack of Su et al. 2019 as used by Ciprijanovic et al. 2022 on the morphology
    classifiers: each candidate is `(row, column, one value per band)` for each changed pixel;
    a population of `popsize` candidates per image evolves by DE/rand/1 (mutant
    `a + F (b - c)` from three distinct other members, binomial crossover with rate
    `crossover`, greedy selection; `strategy="best1"` mutates around the best member instead)
    to minimise the probability of the true class (untargeted) or `1 - p(target)` (targeted),
    for at most `max_iter` generations. As in Su et al. 2019, the initial positions are uniform
    over the image and the initial values normal, centred in the value range with half its
    width as standard deviation (their N(128, 127) on 0..255), clipped to it: a third of the
    first values of each band sit at an extreme, the values most likely to flip a decision.

    Vectorised: every generation scores the whole population of every image still under attack
    in one batched model call (split into chunks of `batch_size` candidate images to bound
    memory), never one image or one candidate at a time. An image stops as soon as any candidate
    succeeds (untargeted: the prediction differs from `y`; targeted: `target` wins), and the
    generation at which it did is recorded, the paper's susceptibility measure.

    Incremental evaluation: for a single changed pixel and a classifier whose layers up to a
    `Flatten` are local (convolutions, poolings, batch norm, activations; e.g. the ConvNet),
    a candidate is scored by recomputing only the activations that pixel reaches, from the
    clean image's activations computed once (`astrokeras.attacks.incremental`): the same
    probabilities to float32 rounding (checked on a few candidates against the full model
    before use), for a fraction of the cost. Other models (skip connections, several inputs,
    `pixels > 1`) are scored on whole images.

    Candidate values are drawn within per-band `bounds`, by default the per-band minimum and
    maximum of `x`: arcsinh-stretched survey images span neither [0, 1] nor 0..255. Images the
    model already misclassifies succeed at generation 0; attack correctly classified images to
    measure susceptibility.

    Args:
        model: a Keras classifier with one image input, or several inputs one named `"image"`
            (the others, e.g. `"ebv"`, are passed unchanged); its output is class probabilities
            or logits.
        x: images `(batch, height, width, bands)`, or a dict of arrays keyed by input name.
        y: true classes `(batch,)` or one-hot rows; `None` uses the model's predictions.
        target: target class (an int, or one per image) for a targeted attack; `None` for
            untargeted.
        pixels: number of pixels changed per image.
        popsize: population size per image (400 in Su et al. 2019); `>= 4`.
        max_iter: maximum number of generations after the initial one (80 in the paper).
        mutation: the DE differential weight F, in (0, 2]; or a `(low, high)` pair to draw F
            uniformly in that range once per generation ("dithering", as SciPy's DE).
        crossover: the crossover rate CR, in [0, 1]; `1.0` takes the whole mutant (Su et al.).
        bounds: `(low, high)` range of the new pixel values, scalars or one per band; `None`
            takes the per-band range of `x`.
        seed: seed of the evolution; the same seed gives the same result.
        batch_size: candidates per model call; `None` fits 16 MiB of input images per call
            (128 MiB of working memory per call for the incremental evaluation).
        callback: optional `callback(generation, succeeded)` called after every generation with
            the number of images succeeded so far (for progress bars).
        strategy: `"rand1"`, DE/rand/1 (Su et al. 2019: mutant `a + F (b - c)`), or
            `"best1"`, DE/best/1 (mutant `best + F (b - c)` around the image's best candidate,
            SciPy's default and what IBM ART's PixelAttack uses), which converges faster and
            explores less.
        incremental: `None` uses the incremental evaluation where the model allows it (and
            its check passes), `True` requires it (an error says why a model does not allow
            it), `False` always evaluates whole images.
        init: how the initial values are drawn: `"normal"` (Su et al. 2019, above) or
            `"uniform"` over the bounds (SciPy's DE and IBM ART draw uniformly).

    Returns:
        A `OnePixelResult`: adversarial images, success flags, the generation of success, the
        pixels and values found, final class probabilities, labels, target, evaluations.

    Example:

    >>> import keras, numpy as np
    >>> model = keras.Sequential([keras.Input((6, 6, 1)), keras.layers.Flatten(),
    ...                           keras.layers.Dense(2, activation="softmax")])
    >>> x = np.random.default_rng(0).uniform(size=(3, 6, 6, 1)).astype("float32")
    >>> result = one_pixel(model, x, popsize=20, max_iter=5, bounds=(0.0, 1.0), seed=0)
    >>> result.adversarial.shape, result.pixels.shape
    ((3, 6, 6, 1), (3, 1, 2))
    """
    inputs = _inputs.ModelInputs(model, x)
    n, height, width, bands = inputs.image.shape
    pixels = check_positive_int("pixels", pixels)
    if pixels > height * width:
        raise InvalidArgumentError("`pixels` exceeds the number of pixels in an image.", pixels,
                                   f"1 <= pixels <= {height * width}")
    popsize = check_positive_int("popsize", popsize, minimum=4)
    max_iter = check_positive_int("max_iter", max_iter, minimum=0)
    weights = mutation if isinstance(mutation, (tuple, list)) else (mutation,)
    if len(weights) not in (1, 2) or not all(
            isinstance(w, (int, float, np.floating)) and not isinstance(w, bool) and 0 < w <= 2
            for w in weights) or weights[0] > weights[-1]:
        raise InvalidArgumentError("`mutation` (the DE weight F) is out of range.", mutation,
                                   "0 < F <= 2, or a pair 0 < low <= high <= 2")
    if strategy not in ("rand1", "best1"):
        raise InvalidArgumentError("Unknown `strategy`.", strategy, '"rand1" or "best1"')
    if init not in ("normal", "uniform"):
        raise InvalidArgumentError("Unknown `init`.", init, '"normal" or "uniform"')
    if not isinstance(crossover, (int, float, np.floating)) or not 0 <= crossover <= 1:
        raise InvalidArgumentError("`crossover` (the DE rate CR) is out of range.", crossover,
                                   "0 <= crossover <= 1")
    given_batch_size = batch_size is not None
    if batch_size is None:
        batch_size = max(1, DEFAULT_BUDGET_BYTES // (height * width * bands * 4))
    batch_size = check_positive_int("batch_size", batch_size)
    if callback is not None and not callable(callback):
        raise InvalidArgumentError("`callback` must be callable.", type(callback).__name__,
                                   "callback(generation, succeeded) or None")
    if incremental not in (None, True, False):
        raise InvalidArgumentError("`incremental` must be None, True or False.", incremental,
                                   "None (automatic), True or False")
    fast = None
    if incremental is not False:
        fast = _incremental(model, inputs, pixels, required=incremental is True)
    low, high = _value_bounds(bounds, inputs.image)
    classes = _inputs.num_classes(model)
    labels = None if y is None else _inputs.check_labels("y", y, n, classes)
    targets = None if target is None else _inputs.check_labels("target", target, n, classes)

    clean = _inputs.predict(model, inputs, batch_size)
    from_logits = not _inputs.outputs_are_probabilities(clean)
    classes = clean.shape[-1]
    if labels is None:
        labels = np.argmax(clean, axis=-1)
    for name, values in (("y", labels), ("target", targets)):
        if values is not None and values.max() >= classes:
            raise InvalidArgumentError(f"`{name}` holds a class outside the model output.",
                                       int(values.max()), f"0 <= class < {classes}")
    targeted = targets is not None
    scored = targets if targeted else labels

    evaluate = _compiled(model, inputs, from_logits)
    rng = np.random.default_rng(seed)
    if fast is not None:
        chunk = batch_size if given_batch_size else min(
            n * popsize, max(1, INCREMENTAL_BUDGET_BYTES // fast.bytes_per_candidate))
        fast = _FastScorer(fast, model, inputs, from_logits, low, high, chunk,
                           required=incremental is True,
                           jit=n * popsize * (max_iter + 1) >= XLA_MIN_CANDIDATES)
        if not fast.ok:
            fast = None
    dims = pixels * (2 + bands)
    lower = np.tile(np.concatenate([[0.0, 0.0], low]), pixels).astype(np.float32)
    upper = np.tile(np.concatenate([[height, width], high]), pixels).astype(np.float32)
    shape = (height, width, pixels, bands)

    def score(images, candidates):
        """Fitness (to minimise) and success of `candidates` (m, popsize, dims) of `images`."""
        m = len(images)
        flat = candidates.reshape(m * popsize, dims)
        rows, cols, values = _decode(flat, shape)
        owner = np.repeat(np.arange(m, dtype=np.int32), popsize)
        wanted = scored[images][owner].astype(np.int32)
        if fast is not None:
            prob, predicted = fast.score(images[owner].astype(np.int32), rows[:, 0], cols[:, 0],
                                         values[:, 0], wanted)
        else:
            base = tf.convert_to_tensor(inputs.image[images])
            others = {k: tf.convert_to_tensor(v[images]) for k, v in inputs.others.items()}
            prob, predicted = [], []
            for begin in range(0, m * popsize, batch_size):
                part = slice(begin, begin + batch_size)
                p, c = evaluate(base, others, tf.convert_to_tensor(owner[part]),
                                tf.convert_to_tensor(rows[part]),
                                tf.convert_to_tensor(cols[part]),
                                tf.convert_to_tensor(values[part]),
                                tf.convert_to_tensor(wanted[part]))
                prob.append(p.numpy())
                predicted.append(c.numpy())
            prob, predicted = np.concatenate(prob), np.concatenate(predicted)
        prob = prob.reshape(m, popsize)
        predicted = predicted.reshape(m, popsize)
        if targeted:
            return 1.0 - prob, predicted == wanted.reshape(m, popsize)
        return prob, predicted != wanted.reshape(m, popsize)

    population = _initial_population(rng, (n, popsize), lower, upper, low, high, init)
    everyone = np.arange(n)
    fitness, won = score(everyone, population)
    best = population[everyone, np.argmin(fitness, axis=1)]
    success = np.zeros(n, dtype=bool)
    generations = np.full(n, -1, dtype=np.int64)
    evaluations = np.full(n, popsize, dtype=np.int64)
    _record(everyone, population, fitness, won, 0, best, success, generations)
    if callback is not None:
        callback(0, int(success.sum()))

    for generation in range(1, max_iter + 1):
        active = np.flatnonzero(~success)
        if active.size == 0:
            break
        parents = population[active]
        weight = rng.uniform(*mutation) if isinstance(mutation, (tuple, list)) else mutation
        base = None
        if strategy == "best1":
            base = parents[np.arange(len(active)), np.argmin(fitness[active], axis=1)]
        trial = _mutate(rng, parents, weight, crossover, lower, upper, base)
        trial_fitness, trial_won = score(active, trial)
        evaluations[active] += popsize
        _record(active, trial, trial_fitness, trial_won, generation, best, success, generations)
        better = trial_fitness <= fitness[active]
        population[active] = np.where(better[..., None], trial, parents)
        fitness[active] = np.where(better, trial_fitness, fitness[active])
        failed = active[~success[active]]
        best[failed] = population[failed, np.argmin(fitness[failed], axis=1)]
        if callback is not None:
            callback(generation, int(success.sum()))

    rows, cols, values = _decode(best, shape)
    adversarial = inputs.image.copy()
    for p in range(pixels):
        adversarial[everyone, rows[:, p], cols[:, p]] = values[:, p]
    probabilities = _inputs.predict(model, inputs.with_image(adversarial), batch_size)
    if from_logits:
        probabilities = keras.ops.convert_to_numpy(keras.ops.softmax(probabilities, axis=-1))
    return OnePixelResult(
        adversarial=adversarial,
        success=success,
        generations=generations,
        pixels=np.stack([rows, cols], axis=-1).astype(np.int64),
        values=values,
        probabilities=probabilities.astype(np.float32),
        labels=labels,
        target=targets,
        evaluations=evaluations,
    )


def _value_bounds(bounds, image):
    bands = image.shape[-1]
    if bounds is None:
        return image.min(axis=(0, 1, 2)), image.max(axis=(0, 1, 2))
    try:
        low, high = bounds
        low = np.broadcast_to(np.asarray(low, dtype=np.float32), (bands,)).copy()
        high = np.broadcast_to(np.asarray(high, dtype=np.float32), (bands,)).copy()
    except (TypeError, ValueError):
        raise InvalidArgumentError("`bounds` must be a (low, high) pair, scalars or one per band.",
                                   bounds, f"(low, high) with scalars or {bands} values") from None
    if not (np.all(np.isfinite(low)) and np.all(np.isfinite(high))) or np.any(low > high):
        raise InvalidArgumentError("`bounds` must be finite with low <= high.", bounds,
                                   "finite low <= high")
    return low, high


def _initial_population(rng, size, lower, upper, low, high, init):
    """Candidates `(*size, dims)`: uniform positions; uniform or clipped normal values.

    `lower`, `upper` bound every gene of a candidate; `low`, `high` are the per-band value
    bounds (the value genes' part of them).
    """
    population = lower + rng.uniform(size=(*size, len(lower))).astype(np.float32) * (upper - lower)
    if init == "uniform":
        return population
    genes = population.reshape(*size, -1, 2 + len(low))  # (..., pixels, row/col + bands)
    values = rng.normal((low + high) / 2, (high - low) / 2, size=genes[..., 2:].shape)
    genes = np.concatenate([genes[..., :2], np.clip(values, low, high)], axis=-1)
    return genes.reshape(population.shape).astype(np.float32)


def _decode(candidates, shape):
    """Integer (row, col) and float values of flat candidates `(k, pixels * (2 + bands))`."""
    height, width, pixels, bands = shape
    genes = candidates.reshape(-1, pixels, 2 + bands)
    rows = np.clip(np.floor(genes[..., 0]), 0, height - 1).astype(np.int32)
    cols = np.clip(np.floor(genes[..., 1]), 0, width - 1).astype(np.int32)
    return rows, cols, genes[..., 2:].astype(np.float32)


def _others(rng, popsize, excluded):
    """One index in [0, popsize) per entry, distinct from every index stacked in `excluded`."""
    draw = rng.integers(0, popsize - excluded.shape[0], size=excluded.shape[1:])
    for bar in np.sort(excluded, axis=0):
        draw = draw + (draw >= bar)
    return draw


def _mutate(rng, parents, mutation, crossover, lower, upper, base=None):
    """DE/rand/1 (or DE/best/1 around `base` `(m, dims)`) with binomial crossover.

    For a population `(m, popsize, dims)`.
    """
    m, popsize, dims = parents.shape
    own = np.broadcast_to(np.arange(popsize), (m, popsize))
    r1 = _others(rng, popsize, own[None])
    r2 = _others(rng, popsize, np.stack([own, r1]))

    def pick(index):
        return np.take_along_axis(parents, index[..., None], axis=1)

    if base is None:
        r3 = _others(rng, popsize, np.stack([own, r1, r2]))
        trial = pick(r1) + mutation * (pick(r2) - pick(r3))
    else:
        trial = base[:, None, :] + mutation * (pick(r1) - pick(r2))
    if crossover < 1.0:
        keep = rng.uniform(size=parents.shape) >= crossover
        forced = rng.integers(0, dims, size=(m, popsize))
        keep[np.arange(m)[:, None], np.arange(popsize), forced] = False
        trial = np.where(keep, parents, trial)
    # Closed at the top: a value at the upper bound is valid (initial values are clipped
    # there); a position at `height` or `width` decodes to the last row or column.
    outside = (trial < lower) | (trial > upper)
    if np.any(outside):
        fresh = lower + rng.uniform(size=trial.shape).astype(np.float32) * (upper - lower)
        trial = np.where(outside, fresh, trial)
    return trial.astype(np.float32)


def _record(images, candidates, fitness, won, generation, best, success, generations):
    """Mark images with a winning candidate: keep the winner of lowest fitness."""
    hit = np.flatnonzero(won.any(axis=1))
    if hit.size == 0:
        return
    masked = np.where(won[hit], fitness[hit], np.inf)
    choice = np.argmin(masked, axis=1)
    index = images[hit]
    best[index] = candidates[hit, choice]
    success[index] = True
    generations[index] = generation


def _compiled(model, inputs, from_logits):
    key = (inputs.key if inputs.is_dict else None, from_logits)
    return _inputs.cached(model, ("one_pixel",) + key, lambda: _build(model, *key))


def _build(model, image_key, from_logits):
    feed = _inputs.feeder(image_key)
    model_ref = weakref.ref(model)

    @tf.function(reduce_retracing=True)
    def evaluate(base, others, owner, rows, cols, values, wanted):
        count = tf.shape(owner)[0]
        pixels = tf.shape(rows)[1]
        images = tf.gather(base, owner)
        which = tf.repeat(tf.range(count), pixels)
        index = tf.stack([which, tf.reshape(rows, [-1]), tf.reshape(cols, [-1])], axis=1)
        images = tf.tensor_scatter_nd_update(
            images, index, tf.reshape(values, (-1, tf.shape(values)[-1])))
        gathered = {k: tf.gather(v, owner) for k, v in others.items()}
        outputs = model_ref()(feed(images, gathered), training=False)
        probabilities = tf.nn.softmax(outputs, axis=-1) if from_logits else outputs
        chosen = tf.gather(probabilities, wanted, axis=1, batch_dims=1)
        return chosen, tf.cast(tf.argmax(probabilities, axis=-1), tf.int32)

    return evaluate


def _incremental(model, inputs, pixels, required):
    """The `IncrementalModel` of `model`, or None (an error if `required`) where unsupported."""
    if inputs.others or inputs.is_dict and inputs.names and len(inputs.names) > 1:
        reason = "the model has several inputs"
    elif pixels != 1:
        reason = f"pixels={pixels} (the incremental evaluation handles one changed pixel)"
    else:
        def build():
            try:
                return IncrementalModel(model, inputs.image.shape[1:])
            except Unsupported as error:
                return str(error)

        fast = _inputs.cached(model, ("incremental", inputs.image.shape[1:]), build)
        if isinstance(fast, IncrementalModel):
            return fast
        reason = fast
    if required:
        raise InvalidArgumentError("`incremental=True`, but this model cannot be evaluated "
                                   f"incrementally: {reason}.", True, "None or False")
    return None


class _FastScorer:
    """Scores candidates with an `IncrementalModel`, in chunks of one fixed size.

    Every call has the same number of candidates (the last chunk is padded), so the
    evaluation is traced (and, for `jit`, compiled with XLA) once. Before use, a few
    candidates at the corners, the edges and the centre of the first image are scored both
    incrementally and by the full model; if the probabilities differ by more than
    `INCREMENTAL_TOLERANCE` (or XLA fails) the scorer reports `ok = False` and `one_pixel`
    evaluates whole images (with a warning; an error if `incremental=True`). It keeps the
    clean activations of every attacked image in memory (about 1.2 MB per 100 x 100 x 3
    image for the ConvNet).
    """

    def __init__(self, fast, model, inputs, from_logits, low, high, chunk, required, jit):
        self.chunk = int(chunk)
        self.state = fast.prepare(inputs.image)
        self.ok = False
        height, width, bands = inputs.image.shape[1:]
        rows = np.array([0, 0, height - 1, height - 1, height // 2, 0, height // 2,
                         height - 1], np.int32)
        cols = np.array([0, width - 1, 0, width - 1, width // 2, width // 2, 0, width // 2],
                        np.int32)
        values = np.linspace(low, high, len(rows), dtype=np.float32)[::-1].copy()
        values[::2] = np.linspace(low, high, len(rows), dtype=np.float32)[::2]
        owner = np.zeros(len(rows), np.int32)
        images = np.repeat(inputs.image[:1], len(rows), axis=0)
        images[np.arange(len(rows)), rows, cols] = values
        full = keras.ops.convert_to_numpy(model(images, training=False))
        if from_logits:
            full = keras.ops.convert_to_numpy(keras.ops.softmax(full, axis=-1))
        failure = None
        for jit in (True, False) if jit else (False,):
            self.evaluate = _compiled_incremental(fast, from_logits, jit)
            try:
                got = self._probabilities(owner, rows, cols, values)
            except (tf.errors.OpError, ValueError, TypeError) as error:  # XLA could not compile
                failure = f"{type(error).__name__}: {str(error).splitlines()[0]}"
                continue
            difference = float(np.max(np.abs(got - full)))
            if difference <= INCREMENTAL_TOLERANCE:
                self.ok = True
                return
            failure = (f"its class probabilities differ from the full model's by "
                       f"{difference:.2e} > {INCREMENTAL_TOLERANCE:g}")
            break
        message = f"the incremental evaluation failed its check ({failure})"
        if required:
            raise InvalidArgumentError(f"`incremental=True`, but {message}.", True,
                                       "None or False")
        warnings.warn(f"one_pixel: {message}; evaluating whole images instead.",
                      AstroKerasWarning, stacklevel=3)

    def _probabilities(self, owner, rows, cols, values):
        wanted = np.zeros(len(owner), np.int32)
        return np.concatenate([p for _, _, p in self._chunks(owner, rows, cols, values, wanted)])

    def _chunks(self, owner, rows, cols, values, wanted):
        total = len(owner)
        for begin in range(0, total, self.chunk):
            part = slice(begin, begin + self.chunk)
            arrays = [owner[part], rows[part], cols[part], values[part], wanted[part]]
            size = len(arrays[0])
            if size < self.chunk:  # pad with copies of the first candidate: one shape
                arrays = [np.concatenate([a, np.repeat(a[:1], self.chunk - size, axis=0)])
                          for a in arrays]
            outputs = self.evaluate(self.state, *(tf.convert_to_tensor(a) for a in arrays))
            yield tuple(output.numpy()[:size] for output in outputs)

    def score(self, owner, rows, cols, values, wanted):
        """Probability of class `wanted[k]` and the predicted class, for every candidate."""
        prob, predicted = [], []
        for p, c, _ in self._chunks(owner, rows, cols, values, wanted):
            prob.append(p)
            predicted.append(c)
        return np.concatenate(prob), np.concatenate(predicted)


def _compiled_incremental(fast, from_logits, jit):
    per_model = fast.__dict__.setdefault("_compiled", {})  # lives as long as `fast`
    key = (from_logits, jit)
    if key in per_model:
        return per_model[key]

    @tf.function(jit_compile=jit, autograph=False)
    def evaluate(state, owner, rows, cols, values, wanted):
        outputs = fast.evaluate(state, owner, rows, cols, values)
        probabilities = tf.nn.softmax(outputs, axis=-1) if from_logits else outputs
        chosen = tf.gather(probabilities, wanted, axis=1, batch_dims=1)
        return (chosen, tf.cast(tf.argmax(probabilities, axis=-1), tf.int32),
                probabilities)

    per_model[key] = evaluate
    return evaluate
