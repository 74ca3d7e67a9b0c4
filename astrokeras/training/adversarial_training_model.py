"""Mixed-batch adversarial training (Campagne 2021, algorithm 1) as a drop-in `keras.Model`."""

import keras
import tensorflow as tf
from keras import ops

from astrokeras import losses
from astrokeras.errors import InvalidArgumentError
from astrokeras.training.attack_specs import FGSM, PGD

LABEL_SOURCES = ("prediction", "label")


@keras.saving.register_keras_serializable(package="astrokeras")
class AdversarialTrainingModel(keras.Model):
    """Trains a model on batches in which a fraction of the samples is attacked.

    Campagne 2021, algorithm 1: in every batch, `round(fraction x batch)` samples chosen at
    random are replaced by adversarial examples made against the current weights (FGSM or PGD,
    run inside the compiled train step by the same code as `astrokeras.attacks.fgsm` / `pgd`,
    each image's loss scaled to 1 so that float16 gradients do not underflow), and the
    compiled loss is taken on the mixed batch. For the photo-z networks (inputs "image" and
    "ebv") only the image is perturbed. The attack raises the cross-entropy against the model's
    own predictions (`label_source="prediction"`, no label leaking) or against the true labels
    (`"label"`).
    The logs add `clean_loss` and `adversarial_loss`: the cross-entropy of the untouched and
    of the attacked samples.

    Compile as the wrapped model would be compiled (`optimizer`, `loss`, `metrics`); labels are
    class indices or one-hot rows (redshift bins for the photo-z networks, see
    `astrokeras.attacks.redshift_bins`). The model must output probabilities (softmax).

    Args:
        model: the functional Keras model to train (shared, so it can be saved alone after).
        attack: `FGSM(eps)` or `PGD(eps, step, steps)`.
        fraction: f_a, the fraction of each batch that is attacked, in [0, 1].
        label_source: "prediction" or "label".
        seed: seed of the choice of attacked samples.
        **kwargs: base `keras.Model` arguments (name).

    Example:

    >>> from astrokeras.models import convnet
    >>> adv = AdversarialTrainingModel(convnet(input_shape=(16, 16, 3)), FGSM(eps=0.01),
    ...                                fraction=0.1)
    >>> adv.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    """

    def __init__(self, model, attack, fraction=0.1, label_source="prediction", seed=None,
                 **kwargs):
        super().__init__(**kwargs)
        if not isinstance(attack, PGD):
            raise InvalidArgumentError("`attack` must be FGSM(...) or PGD(...).",
                                       type(attack).__name__, "FGSM | PGD")
        try:
            fraction = float(fraction)
        except (TypeError, ValueError):
            fraction = float("nan")
        if not 0.0 <= fraction <= 1.0:
            raise InvalidArgumentError("`fraction` (f_a) must lie in [0, 1].", fraction, "[0, 1]")
        if label_source not in LABEL_SOURCES:
            raise InvalidArgumentError("`label_source` is unknown.", label_source, LABEL_SOURCES)
        if not isinstance(model, keras.Model):
            raise InvalidArgumentError("`model` must be a keras.Model.", type(model).__name__,
                                       "a functional keras.Model")
        self.model = model
        self.attack = attack
        self.fraction = fraction
        self.label_source = label_source
        self.seed = seed
        self._seed_generator = keras.random.SeedGenerator(seed)
        names = [tensor.name for tensor in model.inputs]
        self._image_key = None
        if len(model.inputs) > 1:
            image_layers = [i for i, layer in enumerate(_input_layer_names(model))
                            if layer == "image"]
            if not image_layers:
                raise InvalidArgumentError(
                    "`model` has several inputs and none is named 'image'.", names,
                    "an input layer named 'image'")
            self._image_key = ("image", image_layers[0])
        self.clean_loss_tracker = keras.metrics.Mean(name="clean_loss")
        self.adversarial_loss_tracker = keras.metrics.Mean(name="adversarial_loss")
        self.built = True

    def call(self, inputs, training=None):
        return self.model(inputs, training=training)

    # -- the mixed batch -------------------------------------------------------------------

    def _get_image(self, x):
        if self._image_key is None:
            return x
        if isinstance(x, dict):
            return x["image"]
        return x[self._image_key[1]]

    def _with_image(self, x, image):
        if self._image_key is None:
            return image
        if isinstance(x, dict):
            return {**x, "image": image}
        parts = list(x)
        parts[self._image_key[1]] = image
        return type(x)(parts) if isinstance(x, tuple) else parts

    def mix_batch(self, x, y):
        """Replaces a random fraction f_a of the batch by adversarial examples.

        Args:
            x: the batch inputs (images, or a dict/list with an "image" input).
            y: the batch labels (class indices or one-hot rows).

        Returns:
            `(mixed_x, attacked)`: the inputs with the attacked images swapped in, and a
            boolean tensor (batch,) marking the attacked samples.
        """
        image = ops.cast(self._get_image(x), "float32")
        batch = ops.shape(image)[0]
        count = ops.cast(ops.round(self.fraction * ops.cast(batch, "float32")), "int32")
        order = keras.random.shuffle(ops.arange(batch), seed=self._seed_generator)
        chosen = order[:count]
        attacked = ops.scatter(chosen[:, None], ops.ones_like(chosen, dtype="bool"), (batch,))
        if self.fraction == 0.0:
            return x, attacked
        sub_x = keras.tree.map_structure(lambda t: ops.take(t, chosen, axis=0), x)
        sub_image = ops.take(image, chosen, axis=0)

        def attack_chosen():
            clean_probabilities = self.model(sub_x, training=False)
            num_classes = clean_probabilities.shape[-1]
            if self.label_source == "prediction":
                labels = ops.argmax(clean_probabilities, axis=-1)
            else:
                labels = losses.sparse_labels(ops.take(y, chosen, axis=0), num_classes)
            labels = ops.stop_gradient(labels)

            def loss_of_image(candidate):
                probabilities = self.model(self._with_image(sub_x, candidate), training=False)
                return _unit_scaled(_cross_entropy(labels, probabilities))

            return self.attack.perturb(loss_of_image, sub_image)

        # A small batch may round to no attacked sample; convolutions reject empty batches.
        adversarial = ops.cond(count > 0, attack_chosen, lambda: sub_image)
        updates = ops.scatter_update(image, chosen[:, None], adversarial)
        return self._with_image(x, ops.cast(updates, self._get_image(x).dtype)), attacked

    # -- training ---------------------------------------------------------------------------

    def train_step(self, data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        mixed, attacked = self.mix_batch(x, y)
        with tf.GradientTape() as tape:
            y_pred = self(mixed, training=True)
            loss = self.compute_loss(x=mixed, y=y, y_pred=y_pred, sample_weight=sample_weight,
                                     training=True)
            scaled = self.optimizer.scale_loss(loss)
        variables = self.trainable_variables
        self.optimizer.apply(tape.gradient(scaled, variables), variables)
        return self._update_metrics(loss, y, y_pred, attacked, sample_weight)

    def test_step(self, data):
        # Validation is measured like training: on mixed batches, with the clean and the
        # attacked parts reported separately (val_clean_loss is the clean figure).
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        mixed, attacked = self.mix_batch(x, y)
        y_pred = self(mixed, training=False)
        loss = self.compute_loss(x=mixed, y=y, y_pred=y_pred, sample_weight=sample_weight,
                                 training=False)
        return self._update_metrics(loss, y, y_pred, attacked, sample_weight)

    def _update_metrics(self, loss, y, y_pred, attacked, sample_weight):
        per_sample = keras.losses.sparse_categorical_crossentropy(
            losses.sparse_labels(y, y_pred.shape[-1]), ops.cast(y_pred, "float32"))
        weights = ops.cast(attacked, "float32")
        self.adversarial_loss_tracker.update_state(per_sample, sample_weight=weights)
        self.clean_loss_tracker.update_state(per_sample, sample_weight=1.0 - weights)
        # Weighted by the batch size, as Keras does: evaluation on a dataset of unknown length
        # may end with an empty batch, which must not count as a zero loss.
        batch = ops.shape(per_sample)[0]
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss, sample_weight=batch)
        # compute_metrics updates the compiled metrics and returns every tracked result.
        return self.compute_metrics(None, y, y_pred, sample_weight)

    # -- serialization ----------------------------------------------------------------------

    def get_config(self):
        return {
            "name": self.name,
            "model": keras.saving.serialize_keras_object(self.model),
            "attack": keras.saving.serialize_keras_object(self.attack),
            "fraction": self.fraction,
            "label_source": self.label_source,
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["model"] = keras.saving.deserialize_keras_object(config["model"])
        config["attack"] = keras.saving.deserialize_keras_object(config["attack"])
        return cls(**config)


def _cross_entropy(labels, probabilities):
    """-log p[label] in float32, written as log(1 + (sum of the other p) / p[label]).

    Keras' cross-entropy clips p to [1e-7, 1 - 1e-7], and the clip has no gradient: an image
    classified with p > 1 - 1e-7 (common for a trained model, more so in float16) would not
    be attacked at all. Even unclipped, -log p[label] rounds to 0 with no gradient once
    p[label] rounds to 1 in float32, while the other probabilities are still representable
    (e.g. 1e-12): the form used here keeps both the value and its gradient non-zero there,
    and the attack's per-image normalisation brings that gradient back to order 1.
    """
    probabilities = ops.cast(probabilities, "float32")
    one_hot = ops.one_hot(ops.cast(labels, "int32"), probabilities.shape[-1], dtype="float32")
    chosen = ops.sum(probabilities * one_hot, axis=1)
    others = ops.sum(probabilities * (1.0 - one_hot), axis=1)
    return ops.log1p(others / ops.maximum(chosen, 1e-30))


def _unit_scaled(per_image):
    """Each image's loss divided by its own value, held constant: the attack's loss.

    The ascent direction of each image is unchanged (sign and L2 steps ignore a positive
    factor per image), but the gradients are of order 1. Under a mixed-precision policy the
    raw gradient of a confidently classified image underflows in the float16 layers and FGSM
    would leave most of its pixels unchanged. The floor 1e-30 only keeps the factor finite
    where a loss is exactly 0 (and so is its gradient); `_cross_entropy` has a gradient at the
    logits of about its own size where it is small, so the factor does not blow it up.
    """
    per_image = ops.cast(per_image, "float32")
    return per_image / ops.stop_gradient(ops.maximum(per_image, 1e-30))


def _input_layer_names(model):
    return [tensor.name.split(":")[0] for tensor in model.inputs]


__all__ = ["AdversarialTrainingModel", "FGSM", "PGD"]
