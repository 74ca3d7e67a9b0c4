"""Domain-adversarial transfer loss, DANN (Ganin & Lempitsky 2015; Ciprijanovic et al. 2020)."""

import keras
from keras import layers, ops

from astrokeras.errors import InvalidArgumentError, check_positive_int
from astrokeras.layers.gradient_reversal import GradientReversal
from astrokeras.training.methods.base import TransferMethod

SCHEDULES = ("ganin", "constant")


@keras.saving.register_keras_serializable(package="astrokeras")
class DANN(TransferMethod):
    """A domain classifier behind a gradient-reversal layer on the latent embeddings.

    The domain classifier (dense ReLU layers with dropout, then one logit) learns to tell
    source (label 1) from target (label 0) embeddings by binary cross-entropy; the
    `GradientReversal` layer in front of it sends the opposite gradient into the encoder, which
    therefore learns domain-invariant features. Layer sizes and initialisation follow the
    DeepMerge domain-adaptation code (two hidden layers of 1024, dropout 0.5, N(0, 0.01)
    hidden and N(0, 0.3) output weights). With `schedule="ganin"` the reversal weight rises as
    `2 / (1 + exp(-10 p)) - 1` over training (the `GRLSchedule` callback, which
    `DomainAdaptationModel.fit` adds itself); `"constant"` keeps it at 1.

    Args:
        weight: factor of the domain loss in the total loss.
        hidden: widths of the hidden layers of the domain classifier.
        dropout: dropout rate after each hidden layer.
        schedule: "ganin" or "constant".
        **kwargs: base layer arguments.

    Example:

    >>> method = DANN(weight=1.0, hidden=(64, 64))
    >>> method.schedule
    'ganin'
    """

    def __init__(self, weight=1.0, hidden=(1024, 1024), dropout=0.5, schedule="ganin", **kwargs):
        super().__init__(weight=weight, **kwargs)
        hidden = tuple(check_positive_int(f"hidden[{i}]", h) for i, h in enumerate(hidden))
        if not hidden:
            raise InvalidArgumentError("`hidden` of DANN must be positive layer widths.", hidden,
                                       "a non-empty sequence of ints >= 1")
        if not 0.0 <= float(dropout) < 1.0:
            raise InvalidArgumentError("`dropout` of DANN must lie in [0, 1).", dropout, "[0, 1)")
        if schedule not in SCHEDULES:
            raise InvalidArgumentError("`schedule` of DANN is unknown.", schedule, SCHEDULES)
        self.hidden = hidden
        self.dropout = float(dropout)
        self.schedule = schedule
        # The domain classifier computes in the method's dtype (float32 by default, also under
        # a mixed-precision policy; see TransferMethod).
        policy = self.dtype_policy
        self.reversal = GradientReversal(1.0 if schedule == "constant" else 0.0, name="reversal",
                                         dtype=policy)
        self.classifier_layers = []
        for index, width in enumerate(hidden):
            self.classifier_layers.append(layers.Dense(
                width, activation="relu", name=f"domain_dense{index + 1}", dtype=policy,
                kernel_initializer=keras.initializers.RandomNormal(stddev=0.01)))
            self.classifier_layers.append(layers.Dropout(
                self.dropout, name=f"domain_dropout{index + 1}", dtype=policy))
        self.domain_logit = layers.Dense(
            1, name="domain_logit", dtype=policy,
            kernel_initializer=keras.initializers.RandomNormal(stddev=0.3))

    def build(self, latent_shape):
        shape = tuple(latent_shape)
        self.reversal.build(shape)
        for layer in self.classifier_layers:
            layer.build(shape)
            shape = layer.compute_output_shape(shape)
        self.domain_logit.build(shape)
        self.built = True

    def domain_logits(self, latent, training=None):
        """Domain logits (source > 0) of latent embeddings, through the reversal layer."""
        x = self.reversal(ops.cast(latent, self.compute_dtype))
        for layer in self.classifier_layers:
            x = layer(x, training=training)
        return ops.squeeze(self.domain_logit(x), axis=-1)

    def call(self, source_latent, target_latent, training=None):
        joint = ops.concatenate([ops.cast(source_latent, self.compute_dtype),
                                 ops.cast(target_latent, self.compute_dtype)], axis=0)
        logits = ops.cast(self.domain_logits(joint, training=training), "float32")
        labels = ops.concatenate([
            ops.ones((ops.shape(source_latent)[0],), "float32"),
            ops.zeros((ops.shape(target_latent)[0],), "float32"),
        ])
        return ops.mean(keras.losses.binary_crossentropy(
            labels[:, None], logits[:, None], from_logits=True))

    def get_config(self):
        config = super().get_config()
        config.update({"hidden": list(self.hidden), "dropout": self.dropout,
                       "schedule": self.schedule})
        return config
