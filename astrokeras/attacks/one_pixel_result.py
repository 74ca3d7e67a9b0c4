"""What a one-pixel attack found, image by image."""

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class OnePixelResult:
    """The outcome of `one_pixel` for every image of the batch.

    Ciprijanovic et al. 2022 measure a classifier's susceptibility by the number of differential
    evolution generations a one-pixel attack needs; `generations` holds it (generation 0 is the
    random initial population), and `-1` where the attack failed within `max_iter`.

    Args:
        adversarial: float32 `(batch, height, width, bands)`, each image with the best pixels
            found written in (the successful candidate where the attack succeeded).
        success: bool `(batch,)`, whether the prediction changed (or reached the target).
        generations: int `(batch,)`, the generation at which each image succeeded, `-1` if never.
        pixels: int `(batch, pixels, 2)`, the (row, column) of every changed pixel.
        values: float32 `(batch, pixels, bands)`, the values written there.
        probabilities: float32 `(batch, classes)`, the model's class probabilities on
            `adversarial`.
        labels: int `(batch,)`, the classes attacked (given `y`, or the clean predictions).
        target: int `(batch,)` target classes of a targeted attack, or `None`.
        evaluations: int `(batch,)`, model evaluations spent on each image.
    """

    adversarial: np.ndarray
    success: np.ndarray
    generations: np.ndarray
    pixels: np.ndarray
    values: np.ndarray
    probabilities: np.ndarray
    labels: np.ndarray
    target: np.ndarray | None
    evaluations: np.ndarray

    @property
    def success_rate(self):
        """Fraction of the images attacked successfully."""
        return float(np.mean(self.success)) if self.success.size else 0.0

    @property
    def predictions(self):
        """Classes predicted on the adversarial images."""
        return np.argmax(self.probabilities, axis=-1)

    def summary(self):
        """Plain-Python summary: counts, success rate and generation statistics of successes."""
        succeeded = self.generations[self.success]
        return {
            "images": int(self.success.size),
            "succeeded": int(np.sum(self.success)),
            "success_rate": self.success_rate,
            "mean_generations": float(np.mean(succeeded)) if succeeded.size else None,
            "median_generations": float(np.median(succeeded)) if succeeded.size else None,
            "mean_evaluations": float(np.mean(self.evaluations)) if self.evaluations.size else 0.0,
        }
