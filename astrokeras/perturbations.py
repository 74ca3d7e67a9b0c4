"""Steps and projections of gradient attacks, shared by `attacks` and adversarial training.

Kept below both (like `losses`) so that `astrokeras.attacks` (evaluation-time attacks on NumPy
batches) and `astrokeras.training` (in-graph attacks inside the train step) use one
implementation without the training layer importing the attack layer.
"""

import tensorflow as tf


def step_direction(grad, norm):
    """The ascent direction of one attack step: sign(g) for "inf", g / ||g||_2 for 2.

    Args:
        grad: gradient of the loss with respect to the images, (batch, h, w, bands).
        norm: "inf" or 2.

    Returns:
        A tensor like `grad` (zero where the gradient is zero).
    """
    if norm == "inf":
        return tf.sign(grad)
    flat = tf.reshape(grad, (tf.shape(grad)[0], -1))
    length = tf.norm(flat, axis=1)
    scale = tf.where(length == 0, tf.zeros_like(length), 1.0 / length)
    return grad * tf.reshape(scale, (-1, 1, 1, 1))


def project_to_ball(delta, eps, norm):
    """Exact projection of perturbations onto the eps-ball (box for "inf", sphere for 2).

    Args:
        delta: perturbations, (batch, h, w, bands).
        eps: one radius per image, (batch,).
        norm: "inf" or 2.

    Returns:
        The projected perturbations.
    """
    eps = tf.reshape(eps, (-1, 1, 1, 1))
    if norm == "inf":
        return tf.clip_by_value(delta, -eps, eps)
    flat = tf.reshape(delta, (tf.shape(delta)[0], -1))
    length = tf.reshape(tf.norm(flat, axis=1), (-1, 1, 1, 1))
    scale = tf.where(length == 0, tf.zeros_like(length), tf.minimum(1.0, eps / length))
    return delta * scale
