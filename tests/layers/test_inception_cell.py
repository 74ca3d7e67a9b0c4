import keras
import numpy as np
import pytest
from keras import layers

from astrokeras.errors import InvalidArgumentError
from astrokeras.layers import InceptionCell


def trainable_count(layer):
    return int(sum(np.prod(w.shape) for w in layer.trainable_weights))


def random_images(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def conv_prelu_pairs(cell):
    names = ["branch_1x1", "branch_3x3_reduce", "branch_3x3"]
    if cell.with_5x5:
        names += ["branch_5x5_reduce", "branch_5x5"]
    pairs = [(getattr(cell, n), getattr(cell, n + "_prelu")) for n in names]
    return pairs + [(cell.branch_pool_conv, cell.branch_pool_prelu)]


def built_cell(channels=8, **kwargs):
    kwargs = {"filters": 6, "reduce_filters": 4, **kwargs}
    cell = InceptionCell(**kwargs)
    cell.build((None, 12, 12, channels))
    return cell


@pytest.mark.parametrize("with_5x5, channels", [(True, 3 * 6 + 4), (False, 2 * 6 + 4)])
def test_output_keeps_size_and_concatenates_branches(with_5x5, channels):
    cell = InceptionCell(filters=6, reduce_filters=4, with_5x5=with_5x5)
    out = cell(random_images((2, 12, 10, 8)))
    assert tuple(out.shape) == (2, 12, 10, channels)
    assert cell.compute_output_shape((None, 12, 10, 8)) == (None, 12, 10, channels)


@pytest.mark.parametrize("channels, reduce_filters, filters, with_5x5, expected", [
    (64, 48, 64, True, 118_432),    # i0 of Pasquet et al. 2019
    (240, 64, 92, True, 269_288),   # i1
    (340, 92, 128, True, 539_064),  # i2
    (476, 92, 128, True, 594_008),  # i3
    (476, 92, 128, False, 255_376),  # i4, without the 5x5 branch
])
def test_trainable_count_of_the_pasquet_cells(channels, reduce_filters, filters, with_5x5,
                                              expected):
    cell = InceptionCell(filters=filters, reduce_filters=reduce_filters, with_5x5=with_5x5)
    cell.build((None, 8, 8, channels))
    assert trainable_count(cell) == expected


def test_prelu_has_one_slope_per_channel():
    cell = built_cell()
    pairs = conv_prelu_pairs(cell)
    assert len(pairs) == 6  # a PReLU after each of the six convolutions
    for conv, prelu in pairs:
        assert isinstance(prelu, layers.PReLU)
        assert tuple(prelu.alpha.shape) == (1, 1, conv.filters)


def test_bias_starts_at_0_1_and_kernels_are_xavier_uniform():
    cell = built_cell()
    for conv, _ in conv_prelu_pairs(cell):
        np.testing.assert_allclose(keras.ops.convert_to_numpy(conv.bias), 0.1)
        kernel = keras.ops.convert_to_numpy(conv.kernel)
        k_h, k_w, fan_in, fan_out = kernel.shape
        limit = np.sqrt(6.0 / (k_h * k_w * (fan_in + fan_out)))
        assert np.abs(kernel).max() <= limit
        assert np.abs(kernel).max() > 0.5 * limit


def test_same_shaped_branches_get_different_kernels():
    cell = built_cell()
    kernels = [keras.ops.convert_to_numpy(layer.kernel) for layer in
               (cell.branch_3x3_reduce, cell.branch_5x5_reduce, cell.branch_pool_conv)]
    assert not np.array_equal(kernels[0], kernels[1])
    assert not np.array_equal(kernels[0], kernels[2])


def test_seeded_initializer_is_reproducible_without_repeating_kernels():
    def make():
        return built_cell(kernel_initializer=keras.initializers.GlorotUniform(seed=7))

    first, second = make(), make()
    for a, b in zip(first.get_weights(), second.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(keras.ops.convert_to_numpy(first.branch_3x3_reduce.kernel),
                              keras.ops.convert_to_numpy(first.branch_pool_conv.kernel))


def test_branch_order_and_pool_after_1x1_convolution():
    cell = built_cell()
    x = random_images((2, 12, 12, 8))
    out = keras.ops.convert_to_numpy(cell(x))
    first = cell.branch_1x1_prelu(cell.branch_1x1(x))
    np.testing.assert_allclose(out[..., :6], keras.ops.convert_to_numpy(first), atol=1e-6)
    pooled = layers.AveragePooling2D(2, strides=1, padding="same")(
        cell.branch_pool_prelu(cell.branch_pool_conv(x)))
    np.testing.assert_allclose(out[..., -4:], keras.ops.convert_to_numpy(pooled), atol=1e-6)


def test_config_round_trip():
    cell = InceptionCell(filters=6, reduce_filters=4, with_5x5=False, name="i4")
    config = cell.get_config()
    for key in ("filters", "reduce_filters", "with_5x5", "kernel_initializer",
                "bias_initializer"):
        assert key in config
    clone = InceptionCell.from_config(config)
    assert clone.get_config() == config
    x = random_images((2, 8, 8, 5))
    cell(x)
    clone(x)
    clone.set_weights(cell.get_weights())
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(clone(x)),
                                  keras.ops.convert_to_numpy(cell(x)))


def test_save_and_load_keras_file_gives_identical_outputs(tmp_path):
    inputs = keras.Input((8, 8, 3))
    x = InceptionCell(filters=6, reduce_filters=4, name="i0")(inputs)
    x = InceptionCell(filters=5, reduce_filters=3, with_5x5=False, name="i4")(x)
    model = keras.Model(inputs, x)
    path = tmp_path / "cell.keras"
    model.save(path)
    loaded = keras.models.load_model(path)  # safe mode
    assert isinstance(loaded.get_layer("i4"), InceptionCell)
    assert loaded.get_layer("i4").with_5x5 is False
    x = random_images((2, 8, 8, 3))
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


@pytest.mark.parametrize("kwargs, name", [
    ({"filters": 0, "reduce_filters": 4}, "filters"),
    ({"filters": 2.5, "reduce_filters": 4}, "filters"),
    ({"filters": 6, "reduce_filters": -1}, "reduce_filters"),
    ({"filters": 6, "reduce_filters": 4, "with_5x5": "no"}, "with_5x5"),
])
def test_bad_arguments_raise_naming_argument_and_value(kwargs, name):
    with pytest.raises(InvalidArgumentError) as info:
        InceptionCell(**kwargs)
    assert f"`{name}`" in str(info.value)
    assert repr(kwargs[name]) in str(info.value)
    assert info.value.value == kwargs[name]


def test_rank_3_input_is_rejected():
    with pytest.raises(InvalidArgumentError, match="rank 4"):
        InceptionCell(filters=6, reduce_filters=4).build((None, 8, 3))
