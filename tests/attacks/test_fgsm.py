import keras
import numpy as np
import pytest
from attack_helpers import CallCounter, crossentropy, linear_classifier, photoz_model

from astrokeras.attacks import fgsm, redshift_bins
from astrokeras.errors import InvalidArgumentError

RNG = np.random.default_rng(7)
W = RNG.normal(size=(4, 4, 2)).astype(np.float32)
X = RNG.uniform(0.2, 0.8, size=(5, 4, 4, 2)).astype(np.float32)


@pytest.mark.parametrize("activation", ["softmax", None])
def test_linf_step_on_linear_model_is_eps_sign_w(activation):
    model = linear_classifier(W, activation)
    x_adv = fgsm(model, X, np.zeros(5, int), eps=0.03)
    np.testing.assert_allclose(x_adv - X, np.broadcast_to(0.03 * np.sign(W), X.shape), atol=1e-6)


def test_l2_step_on_linear_model_is_eps_w_over_norm():
    model = linear_classifier(W)
    x_adv = fgsm(model, X, np.zeros(5, int), eps=0.5, norm=2)
    expected = 0.5 * W / np.linalg.norm(W)
    np.testing.assert_allclose(x_adv - X, np.broadcast_to(expected, X.shape), atol=1e-6)


def test_targeted_step_descends_towards_the_target():
    model = linear_classifier(W)
    x_adv = fgsm(model, X, np.zeros(5, int), eps=0.03, targeted=True)
    np.testing.assert_allclose(x_adv - X, np.broadcast_to(-0.03 * np.sign(W), X.shape), atol=1e-6)


def test_y_none_attacks_the_predictions():
    model = linear_classifier(W)
    x = np.concatenate([X, -X])  # w . x changes sign: both classes are predicted
    predicted = np.argmax(model.predict(x, verbose=0), axis=1)
    assert set(predicted) == {0, 1}
    np.testing.assert_array_equal(fgsm(model, x, eps=0.03), fgsm(model, x, predicted, eps=0.03))
    # each image moves away from its predicted class: +sign(w) for class 0, -sign(w) for class 1
    direction = np.where(predicted == 0, 1.0, -1.0).reshape(-1, 1, 1, 1)
    np.testing.assert_allclose(fgsm(model, x, eps=0.03) - x, direction * 0.03 * np.sign(W),
                               atol=1e-6)


def test_one_hot_labels_equal_integer_labels():
    model = linear_classifier(W)
    y = np.array([0, 1, 0, 1, 1])
    np.testing.assert_array_equal(fgsm(model, X, y, eps=0.03),
                                  fgsm(model, X, np.eye(2)[y], eps=0.03))


def test_per_sample_eps_and_clip():
    model = linear_classifier(W)
    eps = np.array([0.0, 0.1, 0.2, 0.3, 0.4], np.float32)
    x_adv = fgsm(model, X, np.zeros(5, int), eps=eps, clip=(0.0, 1.0))
    assert x_adv.min() >= 0.0 and x_adv.max() <= 1.0
    np.testing.assert_array_equal(x_adv[0], X[0])
    expected = np.clip(X + eps.reshape(-1, 1, 1, 1) * np.sign(W), 0.0, 1.0)
    np.testing.assert_allclose(x_adv, expected, atol=1e-6)


def test_photoz_attack_leaves_ebv_untouched_and_raises_the_loss():
    model = photoz_model()
    rng = np.random.default_rng(1)
    x = {"image": rng.uniform(size=(6, 8, 8, 5)).astype(np.float32),
         "ebv": rng.uniform(0.0, 0.1, size=(6, 1)).astype(np.float32)}
    y = redshift_bins(rng.uniform(0.0, 0.4, size=6))
    x_adv = fgsm(model, x, y, eps=0.05)
    assert set(x_adv) == {"image", "ebv"}
    np.testing.assert_array_equal(x_adv["ebv"], x["ebv"])
    assert np.abs(x_adv["image"] - x["image"]).max() == pytest.approx(0.05, abs=1e-6)
    assert crossentropy(model, x_adv, y) > crossentropy(model, x, y)


@pytest.mark.parametrize(
    "kwargs, argument",
    [
        ({"eps": -0.1}, "eps"),
        ({"eps": 0.1, "norm": 1}, "norm"),
        ({"eps": 0.1, "y": np.zeros(3, int)}, "batch size"),
        ({"eps": 0.1, "y": np.array([0, 0, 0, 0, 2])}, "class outside"),
        ({"eps": 0.1, "targeted": True}, "targeted"),
        ({"eps": np.full(3, 0.1)}, "eps"),
        ({"eps": 0.1, "clip": (1.0, 0.0)}, "clip"),
    ],
)
def test_bad_arguments_raise_before_any_model_call(kwargs, argument):
    counter = CallCounter()
    model = keras.Sequential([keras.Input((4, 4, 2)), counter, keras.layers.Flatten(),
                              keras.layers.Dense(2, activation="softmax")])
    kwargs = dict(kwargs)
    y = kwargs.pop("y", None)
    with pytest.raises(InvalidArgumentError, match=argument) as info:
        fgsm(model, X, y, **kwargs)
    assert isinstance(info.value, ValueError)
    assert "Got:" in str(info.value) and "Allowed:" in str(info.value)
    assert int(counter.calls.numpy()) == 0


def test_nan_input_is_rejected():
    x = X.copy()
    x[2, 1, 1, 0] = np.nan
    with pytest.raises(InvalidArgumentError, match="NaN"):
        fgsm(linear_classifier(W), x, eps=0.1)


@pytest.mark.parametrize("x, message", [
    (X[0], "`x` must be a batch of channels-last images"),
    (X[:0], "`x` must be a batch of channels-last images"),
    (np.full((1, 4, 4, 2), np.inf, np.float32), "`x` holds NaN or infinite values"),
    ([["a"]], "`x` must be numeric images"),
])
def test_bad_image_batches_are_named_before_any_model_call(x, message):
    counter = CallCounter()
    model = keras.Sequential([keras.Input((4, 4, 2)), counter, keras.layers.Flatten(),
                              keras.layers.Dense(2, activation="softmax")])
    with pytest.raises(InvalidArgumentError, match=message):
        fgsm(model, x, eps=0.1)
    assert int(counter.calls.numpy()) == 0


def test_bad_images_in_a_dict_name_their_key():
    x = {"image": np.full((2, 8, 8, 5), np.nan, np.float32), "ebv": np.zeros((2, 1))}
    with pytest.raises(InvalidArgumentError, match=r"`x\['image'\]` holds NaN"):
        fgsm(photoz_model(), x, eps=0.1)


def test_model_with_several_inputs_needs_one_named_image():
    a, b = keras.Input((4, 4, 2), name="cutout"), keras.Input((1,), name="ebv")
    out = keras.layers.Dense(2)(keras.layers.Concatenate()([keras.layers.Flatten()(a), b]))
    model = keras.Model([a, b], out)
    with pytest.raises(InvalidArgumentError, match="'image'") as info:
        fgsm(model, {"cutout": X, "ebv": np.zeros((5, 1))}, eps=0.1)
    assert info.value.value == ["cutout", "ebv"]


def test_dict_input_must_hold_every_model_input():
    with pytest.raises(InvalidArgumentError, match="lacks"):
        fgsm(photoz_model(), {"image": np.zeros((2, 8, 8, 5), np.float32)}, eps=0.1)


def test_image_shape_must_match_the_model():
    with pytest.raises(InvalidArgumentError, match="image input"):
        fgsm(linear_classifier(W), np.zeros((2, 5, 4, 2), np.float32), eps=0.1)
