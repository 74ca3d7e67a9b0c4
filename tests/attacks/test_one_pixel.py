import keras
import numpy as np
import pytest
from attack_helpers import CallCounter, photoz_model

from astrokeras.attacks import OnePixelResult, one_pixel
from astrokeras.errors import InvalidArgumentError

SHAPE = (6, 6, 1)


def pixel_model(sensitive, shape=SHAPE, bias=0.5, counter=None):
    """Class 0 has logit `bias`; class k >= 1 has logit 2 * (value of pixel `sensitive[k-1]`)."""
    size = int(np.prod(shape))
    layers = [keras.Input(shape)] + ([counter] if counter is not None else [])
    layers += [keras.layers.Flatten(), keras.layers.Dense(1 + len(sensitive), activation="softmax")]
    model = keras.Sequential(layers)
    kernel = np.zeros((size, 1 + len(sensitive)), np.float32)
    for k, (row, col) in enumerate(sensitive, start=1):
        kernel[np.ravel_multi_index((row, col, 0), shape), k] = 2.0
    bias_vector = np.zeros(1 + len(sensitive), np.float32)
    bias_vector[0] = bias
    model.layers[-1].set_weights([kernel, bias_vector])
    return model


def test_flips_a_one_pixel_sensitive_model_by_changing_exactly_that_pixel():
    model = pixel_model([(2, 3)])
    x = np.zeros((4, *SHAPE), np.float32)
    result = one_pixel(model, x, np.zeros(4, int), popsize=40, max_iter=30, bounds=(0.0, 1.0),
                       seed=0)
    assert isinstance(result, OnePixelResult)
    assert result.success.all() and result.success_rate == 1.0
    assert np.all(result.predictions == 1)
    for image, adversarial in zip(x, result.adversarial):
        changed = np.argwhere(np.any(adversarial != image, axis=-1))
        np.testing.assert_array_equal(changed, [[2, 3]])
    np.testing.assert_array_equal(result.pixels, np.tile([[[2, 3]]], (4, 1, 1)))
    assert np.all(result.values[:, 0, 0] > 0.25)  # 2 v > 0.5 flips the decision
    assert np.all((result.generations >= 0) & (result.generations <= 30))


def test_targeted_attack_reaches_the_target():
    model = pixel_model([(0, 0), (5, 4)])
    x = np.zeros((3, *SHAPE), np.float32)
    result = one_pixel(model, x, np.zeros(3, int), target=2, popsize=40, max_iter=30,
                       bounds=(0.0, 1.0), seed=1)
    assert result.success.all()
    np.testing.assert_array_equal(result.predictions, [2, 2, 2])
    np.testing.assert_array_equal(result.target, [2, 2, 2])
    np.testing.assert_array_equal(result.pixels[:, 0], np.tile([5, 4], (3, 1)))


def test_y_none_attacks_the_predictions():
    model = pixel_model([(2, 3)])
    x = np.zeros((2, *SHAPE), np.float32)
    x[1, 2, 3, 0] = 1.0  # predicted class 1
    result = one_pixel(model, x, popsize=20, max_iter=20, bounds=(0.0, 1.0), seed=0)
    np.testing.assert_array_equal(result.labels, [0, 1])
    assert result.success.all()
    np.testing.assert_array_equal(result.predictions, [1, 0])


def test_already_misclassified_images_succeed_at_generation_zero():
    model = pixel_model([(2, 3)])
    x = np.zeros((2, *SHAPE), np.float32)
    result = one_pixel(model, x, np.ones(2, int), popsize=8, max_iter=5, bounds=(0.0, 0.1),
                       seed=0)
    np.testing.assert_array_equal(result.generations, [0, 0])
    np.testing.assert_array_equal(result.evaluations, [8, 8])


def test_each_image_stops_when_it_succeeds_and_failures_use_the_whole_budget():
    model = pixel_model([(2, 3)], bias=1.5)  # needs a value > 0.75 at (2, 3)
    x = np.zeros((2, *SHAPE), np.float32)
    result = one_pixel(model, x, np.zeros(2, int), popsize=30, max_iter=40, bounds=(0.0, 1.0),
                       seed=0)
    assert result.success.all()
    np.testing.assert_array_equal(result.evaluations, 30 * (result.generations + 1))
    # values capped at 0.7 can never flip it: every generation runs, the best try is returned
    hard = one_pixel(model, x, np.zeros(2, int), popsize=30, max_iter=7, bounds=(0.0, 0.7),
                     seed=0)
    assert not hard.success.any()
    np.testing.assert_array_equal(hard.generations, [-1, -1])
    np.testing.assert_array_equal(hard.evaluations, [30 * 8, 30 * 8])
    for image, adversarial, pixel in zip(x, hard.adversarial, hard.pixels):
        changed = np.argwhere(np.any(adversarial != image, axis=-1))
        np.testing.assert_array_equal(changed, pixel)
    np.testing.assert_array_equal(hard.pixels[:, 0], np.tile([2, 3], (2, 1)))


def test_each_generation_scores_every_image_in_one_batched_call():
    counter = CallCounter()
    model = pixel_model([(2, 3)], bias=100.0, counter=counter)  # never flips: runs every generation
    x = np.zeros((5, *SHAPE), np.float32)
    result = one_pixel(model, x, np.zeros(5, int), popsize=16, max_iter=6, bounds=(0.0, 1.0),
                       seed=0)
    assert not result.success.any()
    # one clean prediction, 1 + 6 generations, one final prediction; each generation 5 x 16
    assert int(counter.calls.numpy()) == 1 + 7 + 1
    assert int(counter.largest.numpy()) == 5 * 16


def test_batch_size_chunks_the_population():
    counter = CallCounter()
    model = pixel_model([(2, 3)], bias=100.0, counter=counter)
    x = np.zeros((5, *SHAPE), np.float32)
    one_pixel(model, x, np.zeros(5, int), popsize=16, max_iter=2, bounds=(0.0, 1.0), seed=0,
              batch_size=32)
    # 80 candidates in chunks of 32 -> 3 calls per generation; clean and final in chunks too
    assert int(counter.calls.numpy()) == 1 + 3 * 3 + 1
    assert int(counter.largest.numpy()) == 32


def test_same_seed_same_result():
    model = pixel_model([(2, 3)], bias=1.2)
    x = np.random.default_rng(0).uniform(0, 0.1, size=(3, *SHAPE)).astype(np.float32)
    a = one_pixel(model, x, popsize=12, max_iter=10, bounds=(0.0, 1.0), seed=3)
    b = one_pixel(model, x, popsize=12, max_iter=10, bounds=(0.0, 1.0), seed=3)
    np.testing.assert_array_equal(a.adversarial, b.adversarial)
    np.testing.assert_array_equal(a.generations, b.generations)


def test_default_bounds_come_from_the_data_per_band():
    model = keras.Sequential([keras.Input((4, 4, 2)), keras.layers.Flatten(),
                              keras.layers.Dense(2, activation="softmax")])
    x = np.zeros((3, 4, 4, 2), np.float32)
    x[..., 0] = np.linspace(-2.0, 3.0, 48).reshape(3, 4, 4)
    x[..., 1] = np.linspace(10.0, 11.0, 48).reshape(3, 4, 4)
    result = one_pixel(model, x, popsize=8, max_iter=3, seed=0)
    assert np.all((result.values[..., 0] >= -2.0) & (result.values[..., 0] <= 3.0))
    assert np.all((result.values[..., 1] >= 10.0) & (result.values[..., 1] <= 11.0))


def test_several_pixels_change_at_most_that_many_positions():
    model = pixel_model([(2, 3)], bias=100.0)
    x = np.zeros((2, *SHAPE), np.float32)
    result = one_pixel(model, x, popsize=10, max_iter=2, pixels=3, bounds=(0.5, 1.0), seed=0)
    assert result.pixels.shape == (2, 3, 2) and result.values.shape == (2, 3, 1)
    changed = np.any(result.adversarial != x, axis=-1).reshape(2, -1).sum(axis=1)
    assert np.all((changed >= 1) & (changed <= 3))


def test_photoz_one_pixel_passes_ebv_through():
    model = photoz_model(shape=(6, 6, 5))
    rng = np.random.default_rng(0)
    x = {"image": rng.uniform(size=(2, 6, 6, 5)).astype(np.float32),
         "ebv": rng.uniform(0.0, 0.1, size=(2, 1)).astype(np.float32)}
    result = one_pixel(model, x, popsize=8, max_iter=2, seed=0)
    assert result.adversarial.shape == (2, 6, 6, 5)
    assert result.probabilities.shape == (2, 180)
    changed = np.any(result.adversarial != x["image"], axis=-1).reshape(2, -1).sum(axis=1)
    assert np.all(changed <= 1)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"popsize": 3}, "popsize"),
        ({"max_iter": -1}, "max_iter"),
        ({"pixels": 37}, "pixels"),
        ({"mutation": 0.0}, "mutation"),
        ({"crossover": 1.5}, "crossover"),
        ({"mutation": (1.0, 0.5)}, "mutation"),
        ({"strategy": "best2"}, "strategy"),
        ({"init": "gaussian"}, "init"),
        ({"bounds": (1.0, 0.0)}, "bounds"),
        ({"target": 5}, "target"),
        ({"y": np.zeros(3, int)}, "batch size"),
    ],
)
def test_bad_arguments_raise_before_any_model_call(kwargs, match):
    counter = CallCounter()
    model = pixel_model([(2, 3)], counter=counter)
    kwargs = dict(kwargs)
    y = kwargs.pop("y", None)
    with pytest.raises(InvalidArgumentError, match=match):
        one_pixel(model, np.zeros((2, *SHAPE), np.float32), y, **kwargs)
    assert int(counter.calls.numpy()) == 0


def test_best1_strategy_with_dithering_flips_the_sensitive_pixel():
    model = pixel_model([(2, 3)])
    x = np.zeros((3, *SHAPE), np.float32)
    result = one_pixel(model, x, np.zeros(3, int), popsize=30, max_iter=30, bounds=(0.0, 1.0),
                       seed=2, strategy="best1", mutation=(0.5, 1.0))
    assert result.success.all()
    np.testing.assert_array_equal(result.pixels[:, 0], np.tile([2, 3], (3, 1)))


def test_normal_init_puts_extreme_values_in_the_first_population():
    # Class 1 wins only where some pixel exceeds 0.99 (2 x 0.99 = 1.98 = bias): a uniform
    # value draw reaches that 1 % of the time, Su et al.'s clipped normal 16 % of the time.
    model = keras.Sequential([keras.Input(SHAPE), keras.layers.Flatten(),
                              keras.layers.Dense(2, activation="softmax")])
    kernel = np.zeros((int(np.prod(SHAPE)), 2), np.float32)
    kernel[:, 1] = 2.0
    model.layers[-1].set_weights([kernel, np.array([1.98, 0.0], np.float32)])
    x = np.zeros((20, *SHAPE), np.float32)
    first = {init: one_pixel(model, x, np.zeros(20, int), popsize=40, max_iter=0,
                             bounds=(0.0, 1.0), seed=0, init=init)
             for init in ("normal", "uniform")}
    assert first["normal"].success.all()
    assert first["uniform"].success.sum() < 12  # expected 1 - 0.99^40 = 33 % of 20
    assert np.all(first["normal"].values == 1.0)  # the extreme itself, clipped to the bound


def test_initial_values_stay_within_per_band_bounds():
    model = keras.Sequential([keras.Input((4, 4, 2)), keras.layers.Flatten(),
                              keras.layers.Dense(2, activation="softmax")])
    x = np.zeros((50, 4, 4, 2), np.float32)
    low, high = np.array([-2.0, 10.0]), np.array([3.0, 10.5])
    for init in ("normal", "uniform"):
        result = one_pixel(model, x, popsize=8, max_iter=0, bounds=(low, high), seed=0,
                           init=init)
        values = result.values[:, 0]
        assert np.all((values >= low) & (values <= high))
