"""Callback that follows the DANN gradient-reversal schedule of Ganin & Lempitsky 2015."""

import math

import keras

from astrokeras.layers.gradient_reversal import GradientReversal


def ganin_schedule(progress, gamma=10.0):
    """The DANN reversal weight `2 / (1 + exp(-gamma p)) - 1` at training progress p in [0, 1]."""
    return 2.0 / (1.0 + math.exp(-gamma * progress)) - 1.0


class GRLSchedule(keras.callbacks.Callback):
    """Sets every `GradientReversal` layer's weight from the training progress, each batch.

    p = (global step) / (epochs x steps per epoch) goes from 0 to 1 over the `fit` call, and the
    weight is `max_weight * (2 / (1 + exp(-gamma p)) - 1)` (Ganin & Lempitsky 2015), so the
    domain classifier's noisy early gradients do not disturb the features. The weight is a
    variable, so nothing is retraced. `DomainAdaptationModel.fit` adds this callback itself for
    `DANN(schedule="ganin")`.

    Args:
        max_weight: weight reached at the end of training.
        gamma: steepness of the schedule (10 in the paper).
        total_steps: number of steps for p = 1; taken from `fit` when None.

    Example:

    >>> round(ganin_schedule(0.0), 6), round(ganin_schedule(1.0), 4)
    (0.0, 0.9999)
    """

    def __init__(self, max_weight=1.0, gamma=10.0, total_steps=None):
        super().__init__()
        self.max_weight = float(max_weight)
        self.gamma = float(gamma)
        self.total_steps = total_steps
        self._layers = []
        self._total = None

    def on_train_begin(self, logs=None):
        # _flatten_layers walks nested layers and models; there is no public equivalent.
        self._layers = [
            layer for layer in self.model._flatten_layers(include_self=False, recursive=True)
            if isinstance(layer, GradientReversal)
        ]
        total = self.total_steps
        if total is None:
            epochs = self.params.get("epochs") or 1
            steps = self.params.get("steps")
            total = epochs * steps if steps else None
        self._total = total

    def weight_at(self, step):
        """The reversal weight at a global step (0-based)."""
        if not self._total:
            return self.max_weight
        progress = min(max(step / self._total, 0.0), 1.0)
        return self.max_weight * ganin_schedule(progress, self.gamma)

    def on_train_batch_begin(self, batch, logs=None):
        step = int(self.model.optimizer.iterations.numpy())
        value = self.weight_at(step)
        for layer in self._layers:
            layer.set_reversal_weight(value)

