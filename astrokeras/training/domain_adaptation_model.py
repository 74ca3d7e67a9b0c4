"""Domain adaptation as a drop-in `keras.Model`: MMD, DANN or CORAL on the latent space."""

import keras
import tensorflow as tf
from keras import ops

from astrokeras import losses
from astrokeras.errors import InvalidArgumentError
from astrokeras.models.split import LATENT_LAYER, latent_output
from astrokeras.training.grl_schedule import GRLSchedule
from astrokeras.training.methods.base import TransferMethod
from astrokeras.training.methods.dann import DANN


UNKNOWN = -1
#: Target label of an unlabeled target image in semi-supervised training pairs.
UNLABELED = -1


@keras.saving.register_keras_serializable(package="astrokeras")
class DomainAdaptationModel(keras.Model):
    """Trains a classifier on labeled source and unlabeled target images at once.

    Wraps any functional classifier with a latent layer (every astrokeras architecture, or your
    own, naming its latent layer) and shares its weights: after `fit`, `model.classifier` is the
    adapted classifier, ready to save or export on its own. Each training step runs the source
    and target batches through the classifier together (one forward pass, as in the papers'
    code), and minimises

        loss = class-weighted cross-entropy on the source + method.weight x transfer loss

    where the transfer loss compares the source and target latent embeddings (`MMD`, `DANN`,
    `CORAL`; Ciprijanovic et al. 2020, 2022). Semi-supervised adaptation (a few labeled target
    images, as DeepAstroUDA, Ciprijanovic et al. 2023, allows): training pairs may carry
    `(source_labels, target_labels)`, with `UNLABELED` (-1) for the unlabeled target images;
    the labeled ones join the cross-entropy (a mean over source and labeled target images)
    and every target image still enters the transfer loss. Losses are scaled by the global
    batch size under `tf.distribute` strategies, and mixed-precision loss scaling is applied
    when the optimizer uses it, so `fit`, callbacks, checkpoints, `jit_compile` and strategies
    all work as usual.

    Data: `fit` takes elements `((source_images, target_images), source_labels)` (optionally
    with source sample weights), or `(source_labels, target_labels)` for semi-supervised
    adaptation. Validation data may be the same pairs, pairs with
    `(source_labels, target_labels)`, or plain `(images, labels)` which are taken as labeled
    *target* images; target accuracy is then reported as `val_target_accuracy`.

    Args:
        classifier: a functional `keras.Model` from images to class probabilities (softmax).
        method: a `TransferMethod` (`MMD()`, `DANN()`, `CORAL()`, `UniversalDA()`), or None for
            plain training on
            the source (the baseline the papers compare against; target data is then ignored).
        latent: name of the classifier's latent layer.
        class_weights: None or one weight per class (see `class_weights`), applied to the source
            cross-entropy.
        **kwargs: base `keras.Model` arguments (name).

    Example:

    >>> from astrokeras.models import convnet
    >>> from astrokeras.training.methods import MMD
    >>> da = DomainAdaptationModel(convnet(input_shape=(16, 16, 3)), MMD(weight=0.05))
    >>> da.compile(optimizer="adam")
    >>> sorted(m.name for m in da.metrics)[:2]
    ['classification_loss', 'loss']
    """

    def __init__(self, classifier, method=None, latent=LATENT_LAYER, class_weights=None,
                 **kwargs):
        super().__init__(**kwargs)
        if method is not None and not isinstance(method, TransferMethod):
            raise InvalidArgumentError(
                "`method` must be a transfer method such as MMD(), DANN() or CORAL(), or None.",
                type(method).__name__, "MMD | DANN | CORAL | None",
            )
        latent_tensor = latent_output(classifier, latent)
        num_classes = classifier.output.shape[-1] if not isinstance(
            classifier.output, (list, tuple, dict)) else None
        if num_classes is None:
            raise InvalidArgumentError(
                "`classifier` must have a single probability output.",
                classifier.name, "a model with one (batch, classes) softmax output",
            )
        if class_weights is not None:
            class_weights = [float(w) for w in class_weights]
            if len(class_weights) != num_classes or any(not w >= 0 for w in class_weights):
                raise InvalidArgumentError(
                    "`class_weights` must hold one non-negative weight per class.",
                    class_weights, f"{num_classes} floats >= 0",
                )
        self.classifier = classifier
        self.method = method
        self.latent = latent
        self.class_weights = class_weights
        self.num_classes = int(num_classes)
        # One graph returning (latent, probabilities), sharing the classifier's layers.
        self.features = keras.Model(classifier.input, [latent_tensor, classifier.output],
                                    name=f"{classifier.name}_features")
        if method is not None and not method.built:
            method.build(tuple(latent_tensor.shape))
        self._multi_input = len(classifier.inputs) > 1
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.classification_tracker = keras.metrics.Mean(name="classification_loss")
        self.transfer_tracker = keras.metrics.Mean(name="transfer_loss")
        self.source_accuracy = keras.metrics.SparseCategoricalAccuracy(name="source_accuracy")
        self.target_accuracy = keras.metrics.SparseCategoricalAccuracy(name="target_accuracy")
        self.built = True

    @property
    def metrics(self):
        return [self.loss_tracker, self.classification_tracker, self.transfer_tracker,
                self.source_accuracy, self.target_accuracy]

    def call(self, inputs, training=None):
        return self.classifier(inputs, training=training)

    # -- training -------------------------------------------------------------------------

    def _is_pair(self, x):
        if not isinstance(x, (tuple, list)) or len(x) != 2:
            return False
        if self._multi_input:
            return isinstance(x[0], (dict, tuple, list))
        return True

    def _split_labels(self, y):
        if isinstance(y, (tuple, list)) and len(y) == 2:
            return y[0], y[1]
        return y, None

    def _forward_pair(self, source, target, training):
        n_source = ops.shape(keras.tree.flatten(source)[0])[0]
        joint = keras.tree.map_structure(
            lambda s, t: ops.concatenate([s, t], axis=0), source, target)
        latent, probabilities = self.features(joint, training=training)
        return (latent[:n_source], latent[n_source:], probabilities[:n_source],
                probabilities[n_source:])

    def _domain_losses(self, source_probabilities, source_labels, source_latent, target_latent,
                       sample_weight, training, target_probabilities=None,
                       target_labels=None):
        per_sample = losses.class_weighted_crossentropy(
            source_labels, source_probabilities, self.class_weights, sample_weight)
        if target_labels is None:
            classification = _safe_mean(per_sample)
        else:
            classification = self._semi_supervised_crossentropy(
                per_sample, target_probabilities, target_labels)
        if self.method is None:
            transfer = ops.zeros((), "float32")
            total = classification
        else:
            if self.method.uses_predictions:
                transfer = self.method(source_latent, target_latent,
                                       target_probabilities=target_probabilities,
                                       source_labels=source_labels, training=training)
            else:
                transfer = self.method(source_latent, target_latent, training=training)
            transfer = ops.cast(transfer, "float32")
            total = classification + self.method.weight * transfer
        return total, classification, transfer

    def _semi_supervised_crossentropy(self, source_losses, target_probabilities,
                                      target_labels):
        """Mean cross-entropy over the source and the labeled target images of a batch."""
        target_labels = ops.reshape(ops.cast(target_labels, "int32"), (-1,))
        labeled = target_labels != UNLABELED
        # Unlabeled images get a stand-in class 0; their losses are masked out below.
        target_losses = losses.class_weighted_crossentropy(
            ops.where(labeled, target_labels, 0), target_probabilities, self.class_weights)
        mask = ops.cast(labeled, "float32")
        total = ops.sum(source_losses) + ops.sum(target_losses * mask)
        count = ops.cast(ops.shape(source_losses)[0], "float32") + ops.sum(mask)
        return total / ops.maximum(count, 1.0)

    def train_step(self, data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        if not self._is_pair(x):
            raise InvalidArgumentError(
                "DomainAdaptationModel.fit expects elements ((source_images, target_images), "
                "source_labels); see astrokeras.data for a helper that pairs two datasets.",
                type(x).__name__, "a (source, target) pair",
            )
        source_labels, target_labels = self._split_labels(y)
        with tf.GradientTape() as tape:
            z_s, z_t, p_s, p_t = self._forward_pair(x[0], x[1], training=True)
            total, classification, transfer = self._domain_losses(
                p_s, source_labels, z_s, z_t, sample_weight, training=True,
                target_probabilities=p_t, target_labels=target_labels)
            regularization = self.losses
            if regularization:
                total = total + ops.cast(ops.sum(regularization), "float32")
            scaled = _scale_for_replicas(total)
            scaled = self.optimizer.scale_loss(scaled)
        variables = self.trainable_variables
        gradients = tape.gradient(scaled, variables)
        self.optimizer.apply(gradients, variables)
        return self._update_metrics(total, classification, transfer, p_s, source_labels)

    def test_step(self, data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        if not self._is_pair(x):
            # Plain (images, labels): labeled target data, the number users watch.
            probabilities = self.classifier(x, training=False)
            per_sample = losses.class_weighted_crossentropy(
                y, probabilities, self.class_weights, sample_weight)
            batch = ops.shape(per_sample)[0]
            classification = _safe_mean(per_sample)
            self.loss_tracker.update_state(classification, sample_weight=batch)
            self.classification_tracker.update_state(classification, sample_weight=batch)
            self.target_accuracy.update_state(
                losses.sparse_labels(y, self.num_classes), probabilities)
            return {"loss": self.loss_tracker.result(),
                    "classification_loss": self.classification_tracker.result(),
                    "target_accuracy": self.target_accuracy.result()}
        source_labels, target_labels = self._split_labels(y)
        z_s, z_t, p_s, p_t = self._forward_pair(x[0], x[1], training=False)
        total, classification, transfer = self._domain_losses(
            p_s, source_labels, z_s, z_t, sample_weight, training=False,
            target_probabilities=p_t)
        logs = self._update_metrics(total, classification, transfer, p_s, source_labels)
        if target_labels is not None:
            self.target_accuracy.update_state(
                losses.sparse_labels(target_labels, self.num_classes), p_t)
            logs["target_accuracy"] = self.target_accuracy.result()
        return logs

    def _update_metrics(self, total, classification, transfer, source_probabilities,
                        source_labels):
        # Weighted by the batch size, as Keras does: a dataset of unknown length may end with an
        # empty batch, which must not count as a zero (or NaN) loss.
        batch = ops.shape(source_probabilities)[0]
        total, classification, transfer = (ops.where(batch > 0, value, 0.0) for value in (
            total, classification, transfer))
        self.loss_tracker.update_state(total, sample_weight=batch)
        self.classification_tracker.update_state(classification, sample_weight=batch)
        self.transfer_tracker.update_state(transfer, sample_weight=batch)
        self.source_accuracy.update_state(
            losses.sparse_labels(source_labels, self.num_classes), source_probabilities)
        return {
            "loss": self.loss_tracker.result(),
            "classification_loss": self.classification_tracker.result(),
            "transfer_loss": self.transfer_tracker.result(),
            "source_accuracy": self.source_accuracy.result(),
        }

    def predict_open_set(self, x, threshold=None, batch_size=None, verbose=0):
        """Predicts known classes, or `UNKNOWN` (-1) where the prediction entropy is too high.

        The universal domain adaptation rule (Ciprijanovic 2023, after DANCE): a sample whose
        predicted class distribution has entropy above `rho` belongs to none of the source
        classes.

        Args:
            x: images (or whatever the classifier takes).
            threshold: entropy threshold in nats; by default the `UniversalDA` method's `rho`,
                or log(K) / 2 for other methods.
            batch_size: passed to `predict`.
            verbose: passed to `predict`.

        Returns:
            An int NumPy array of class indices, with -1 for unknown samples.
        """
        import numpy as np

        if threshold is None:
            threshold = getattr(self.method, "threshold", None)
            if threshold is None:
                threshold = float(np.log(self.num_classes) / 2.0)
        probabilities, entropy = self._predicted_entropy(x, batch_size, verbose)
        labels = probabilities.argmax(axis=-1).astype(np.int64)
        labels[entropy > threshold] = UNKNOWN
        return labels

    def _predicted_entropy(self, x, batch_size, verbose=0):
        """The predicted class probabilities of `x` and their entropies (NumPy arrays)."""
        import numpy as np

        probabilities = self.predict(x, batch_size=batch_size, verbose=verbose)
        return probabilities, np.asarray(losses.entropy(probabilities))

    def open_set_threshold(self, known_images, rejected=0.05, batch_size=None):
        """An entropy threshold that rejects a chosen share of known-class images.

        log(K) / 2, the default rule, rejects almost nothing when the network's predictions
        saturate (as with K = 2 classes); calibrating on labeled target images of the known
        classes (e.g. the target's validation split, or the labeled target images of
        semi-supervised training) fixes the share of known galaxies called unknown instead.

        Args:
            known_images: target-domain images of the known classes only.
            rejected: share of them whose entropy exceeds the threshold, in (0, 1).
            batch_size: passed to `predict`.

        Returns:
            A float entropy threshold (nats) for `predict_open_set(threshold=...)`.

        Example:

        >>> import numpy as np
        >>> inputs = keras.Input((4,))
        >>> latent = keras.layers.Dense(8, name="latent")(inputs)
        >>> outputs = keras.layers.Dense(2, activation="softmax")(latent)
        >>> model = DomainAdaptationModel(keras.Model(inputs, outputs))
        >>> known = np.random.default_rng(0).normal(size=(200, 4)).astype("float32")
        >>> threshold = model.open_set_threshold(known, rejected=0.1)
        >>> float(np.mean(model.predict_open_set(known, threshold=threshold) == UNKNOWN))
        0.1
        """
        import numpy as np

        if isinstance(rejected, bool) or not isinstance(rejected, (int, float, np.number)) \
                or not 0.0 < float(rejected) < 1.0:
            raise InvalidArgumentError("`rejected` must lie in (0, 1).", rejected, "(0, 1)")
        _, entropy = self._predicted_entropy(known_images, batch_size)
        return float(np.quantile(entropy.astype(np.float64), 1.0 - float(rejected)))

    def fit(self, *args, callbacks=None, **kwargs):
        """`keras.Model.fit`, adding a `GRLSchedule` for `DANN(schedule="ganin")` if missing."""
        callbacks = list(callbacks or [])
        if (isinstance(self.method, DANN) and self.method.schedule == "ganin"
                and not any(isinstance(c, GRLSchedule) for c in callbacks)):
            callbacks.append(GRLSchedule())
        return super().fit(*args, callbacks=callbacks, **kwargs)

    # -- serialization ----------------------------------------------------------------------

    def get_config(self):
        return {
            "name": self.name,
            "classifier": keras.saving.serialize_keras_object(self.classifier),
            "method": None if self.method is None else keras.saving.serialize_keras_object(
                self.method),
            "latent": self.latent,
            "class_weights": self.class_weights,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["classifier"] = keras.saving.deserialize_keras_object(config["classifier"])
        if config.get("method") is not None:
            config["method"] = keras.saving.deserialize_keras_object(config["method"])
        return cls(**config)


def _safe_mean(values):
    count = ops.cast(ops.shape(values)[0], "float32")
    return ops.sum(values) / ops.maximum(count, 1.0)


def _scale_for_replicas(loss):
    # Each replica sees 1/n of the global batch and the optimizer sums the replicas'
    # gradients, so the per-replica mean is divided by n (scaling by the global batch size).
    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    if replicas > 1:
        loss = loss / float(replicas)
    return loss
