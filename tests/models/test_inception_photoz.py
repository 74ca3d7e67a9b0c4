import keras
import numpy as np
import pytest

from astrokeras.errors import InvalidArgumentError
from astrokeras.layers import InceptionCell
from astrokeras.models import inception_photoz


def trainable_count(model):
    return int(sum(np.prod(w.shape) for w in model.trainable_weights))


def inputs(batch=2, image_shape=(64, 64, 5), seed=0):
    rng = np.random.default_rng(seed)
    return {"image": rng.normal(size=(batch, *image_shape)).astype("float32"),
            "ebv": rng.uniform(0.0, 0.1, size=(batch, 1)).astype("float32")}


@pytest.fixture(scope="module")
def model():
    return inception_photoz()


def test_default_trainable_count_is_table_a1(model):
    assert trainable_count(model) == 27_596_372


def test_dense_layer_reads_22273_features(model):
    assert tuple(model.get_layer("i4").output.shape) == (None, 8, 8, 348)
    assert tuple(model.get_layer("fc0").kernel.shape) == (22_273, 1096)


def test_cells_follow_pasquet(model):
    cells = [model.get_layer(f"i{k}") for k in range(5)]
    assert all(isinstance(cell, InceptionCell) for cell in cells)
    assert [(c.reduce_filters, c.filters, c.with_5x5) for c in cells] == [
        (48, 64, True), (64, 92, True), (92, 128, True), (92, 128, True), (92, 128, False)]


def test_inputs_are_image_and_ebv(model):
    assert [t.name for t in model.inputs] == ["image", "ebv"]
    assert tuple(model.inputs[0].shape) == (None, 64, 64, 5)
    assert tuple(model.inputs[1].shape) == (None, 1)


def test_latent_layer_has_1096_units(model):
    assert tuple(model.get_layer("latent").output.shape) == (None, 1096)


def test_first_convolution_prelu_has_one_slope_per_channel(model):
    assert tuple(model.get_layer("conv0_prelu").alpha.shape) == (1, 1, 64)


def test_biases_start_at_0_1(model):
    for name in ("conv0", "fc0", "latent", "logits"):
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(model.get_layer(name).bias), 0.1)


def test_output_is_a_distribution_over_180_bins(model):
    x = inputs()
    pdf = keras.ops.convert_to_numpy(model(x))
    assert pdf.shape == (2, 180)
    assert np.all(pdf >= 0)
    np.testing.assert_allclose(pdf.sum(axis=-1), 1.0, rtol=1e-5)
    as_list = keras.ops.convert_to_numpy(model([x["image"], x["ebv"]]))
    np.testing.assert_array_equal(as_list, pdf)


def test_without_ebv_single_image_input():
    model = inception_photoz(image_shape=(16, 16, 3), num_bins=10, with_ebv=False)
    assert [t.name for t in model.inputs] == ["image"]
    assert tuple(model.get_layer("fc0").kernel.shape) == (2 * 2 * 348, 1096)
    pdf = model(np.zeros((2, 16, 16, 3), "float32"))
    assert tuple(pdf.shape) == (2, 10)


def test_save_load_and_config_round_trip_give_identical_outputs(tmp_path):
    model = inception_photoz(image_shape=(32, 32, 5), num_bins=20)
    x = inputs(image_shape=(32, 32, 5))
    expected = model.predict(x, verbose=0)
    path = tmp_path / "inception_photoz.keras"
    model.save(path)
    loaded = keras.models.load_model(path)  # safe mode
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), expected)
    clone = keras.Model.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    np.testing.assert_array_equal(clone.predict(x, verbose=0), expected)


@pytest.mark.parametrize("kwargs, name", [
    ({"image_shape": (64, 64)}, "image_shape"),
    ({"image_shape": (64, 64, 5, 1)}, "image_shape"),
    ({"image_shape": (0, 64, 5)}, "image_shape"),
    ({"image_shape": (64, 64, 0)}, "image_shape"),
    ({"image_shape": (4, 64, 5)}, "image_shape"),
    ({"image_shape": (64, None, 5)}, "image_shape"),
    ({"image_shape": 64}, "image_shape"),
    ({"num_bins": 0}, "num_bins"),
    ({"num_bins": 2.5}, "num_bins"),
    ({"with_ebv": "yes"}, "with_ebv"),
])
def test_bad_arguments_raise_naming_argument_and_value(kwargs, name):
    with pytest.raises(InvalidArgumentError) as info:
        inception_photoz(**kwargs)
    assert isinstance(info.value, ValueError)
    assert f"`{name}`" in str(info.value)
    assert repr(kwargs[name]) in str(info.value)
