"""Adversarial attacks on survey-image models: FGSM, PGD (L-inf, L2) and the one-pixel attack.

All attacks are batched and compiled (`tf.function`, gradients by `tf.GradientTape`), accept
classifiers and the photo-z networks (for a model with inputs `{"image", "ebv"}` only the image
is perturbed), and check their arguments before any work.
"""

from astrokeras.attacks.fgsm import fgsm
from astrokeras.attacks.one_pixel import one_pixel
from astrokeras.attacks.one_pixel_result import OnePixelResult
from astrokeras.attacks.pgd import pgd
from astrokeras.attacks.redshift_bins import redshift_bins
from astrokeras.attacks.summarize import summarize

__all__ = ["fgsm", "pgd", "one_pixel", "OnePixelResult", "redshift_bins", "summarize"]
