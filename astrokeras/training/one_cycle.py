"""One-cycle learning-rate schedule (Smith & Topin 2019), as in Ciprijanovic et al. 2020."""

import math

import keras
from keras import ops

from astrokeras.errors import InvalidArgumentError, check_positive_int


@keras.saving.register_keras_serializable(package="astrokeras")
class OneCycle(keras.optimizers.schedules.LearningRateSchedule):
    """Cosine warm-up from `max_lr / div_factor` to `max_lr`, then cosine annealing to
    `max_lr / final_div_factor` (PyTorch's OneCycleLR defaults), over `total_steps`.

    Args:
        max_lr: the peak learning rate.
        total_steps: number of optimizer steps in the whole training.
        pct_start: fraction of the steps spent warming up.
        div_factor: initial learning rate = max_lr / div_factor.
        final_div_factor: final learning rate = initial / final_div_factor.

    Example:

    >>> schedule = OneCycle(max_lr=1e-3, total_steps=100)
    >>> round(float(schedule(30)), 6)
    0.001
    """

    def __init__(self, max_lr, total_steps, pct_start=0.3, div_factor=25.0,
                 final_div_factor=1e4):
        if not float(max_lr) > 0:
            raise InvalidArgumentError("`max_lr` must be positive.", max_lr, "> 0")
        if not 0.0 < float(pct_start) < 1.0:
            raise InvalidArgumentError("`pct_start` must lie in (0, 1).", pct_start, "(0, 1)")
        self.max_lr = float(max_lr)
        self.total_steps = check_positive_int("total_steps", total_steps)
        self.pct_start = float(pct_start)
        self.div_factor = float(div_factor)
        self.final_div_factor = float(final_div_factor)

    def __call__(self, step):
        step = ops.cast(step, "float32")
        initial = self.max_lr / self.div_factor
        final = initial / self.final_div_factor
        warm = max(self.pct_start * self.total_steps, 1.0)
        cool = max(self.total_steps - warm, 1.0)
        up = ops.clip(step / warm, 0.0, 1.0)
        down = ops.clip((step - warm) / cool, 0.0, 1.0)
        rising = initial + (self.max_lr - initial) * (1 - ops.cos(math.pi * up)) / 2
        falling = final + (self.max_lr - final) * (1 + ops.cos(math.pi * down)) / 2
        return ops.where(step < warm, rising, falling)

    def get_config(self):
        return {"max_lr": self.max_lr, "total_steps": self.total_steps,
                "pct_start": self.pct_start, "div_factor": self.div_factor,
                "final_div_factor": self.final_div_factor}
