import numpy as np
import pytest
import keras

from astrokeras.errors import InvalidArgumentError
from astrokeras.models import convnet, deepmerge, resnet18, split_at_latent, unwrap_classifier


@pytest.mark.parametrize("factory, shape", [
    (convnet, (24, 24, 3)), (resnet18, (32, 32, 3)), (deepmerge, (75, 75, 3))])
def test_encoder_then_head_reproduces_the_model(factory, shape):
    model = factory(input_shape=shape)
    encoder, head = split_at_latent(model)
    x = np.random.default_rng(0).random((2,) + shape).astype("float32")
    latent = encoder(x, training=False)
    assert latent.shape[-1] == model.get_layer("latent").output.shape[-1]
    np.testing.assert_allclose(head(latent, training=False), model(x, training=False), atol=1e-6)


def test_parts_share_weights_with_the_model():
    model = convnet(input_shape=(16, 16, 3))
    encoder, head = split_at_latent(model)
    model.get_layer("logits").kernel.assign(np.zeros((256, 3), "float32"))
    assert np.all(head.get_layer("logits").kernel.numpy() == 0.0)
    model_ids = {id(w) for w in model.weights}
    assert {id(w) for w in encoder.weights + head.weights} <= model_ids


def test_split_at_a_layer_named_by_the_caller():
    inputs = keras.Input((6,))
    features = keras.layers.Dense(5, activation="relu", name="features")(inputs)
    outputs = keras.layers.Dense(2, activation="softmax", name="out")(features)
    model = keras.Model(inputs, outputs)
    encoder, head = split_at_latent(model, layer="features")
    x = np.random.default_rng(1).random((4, 6)).astype("float32")
    np.testing.assert_allclose(head(encoder(x)), model(x), atol=1e-6)


def test_multi_input_model_splits_with_its_inputs():
    image = keras.Input((8, 8, 1), name="image")
    ebv = keras.Input((1,), name="ebv")
    x = keras.layers.Concatenate()([keras.layers.Flatten()(image), ebv])
    latent = keras.layers.Dense(4, name="latent")(x)
    model = keras.Model({"image": image, "ebv": ebv}, keras.layers.Dense(3, name="out")(latent))
    encoder, head = split_at_latent(model)
    data = {"image": np.ones((2, 8, 8, 1), "float32"), "ebv": np.full((2, 1), 0.1, "float32")}
    np.testing.assert_allclose(head(encoder(data)), model(data), atol=1e-6)


def test_missing_layer_is_named_in_the_error():
    model = convnet(input_shape=(16, 16, 3))
    with pytest.raises(InvalidArgumentError, match="no layer named 'bottleneck'"):
        split_at_latent(model, layer="bottleneck")


def test_head_that_needs_other_inputs_is_refused():
    image = keras.Input((4,), name="image")
    ebv = keras.Input((1,), name="ebv")
    latent = keras.layers.Dense(3, name="latent")(image)
    out = keras.layers.Dense(2)(keras.layers.Concatenate()([latent, ebv]))
    model = keras.Model([image, ebv], out)
    with pytest.raises(InvalidArgumentError, match="also use other inputs"):
        split_at_latent(model)


def test_unwrap_classifier_finds_the_classifier_of_every_training_model():
    from astrokeras.training import FGSM, AdversarialTrainingModel, DomainAdaptationModel

    classifier = convnet(input_shape=(16, 16, 3))
    assert unwrap_classifier(classifier) is classifier
    assert unwrap_classifier(DomainAdaptationModel(classifier)) is classifier
    assert unwrap_classifier(AdversarialTrainingModel(classifier, FGSM(0.01))) is classifier


def test_unwrap_classifier_is_duck_typed_on_the_classifier_attribute():
    class Wrapper(keras.Model):
        def __init__(self, classifier):
            super().__init__()
            self.classifier = classifier

    classifier = convnet(input_shape=(16, 16, 3))
    assert unwrap_classifier(Wrapper(classifier)) is classifier


def test_unwrap_classifier_refuses_what_is_not_a_model():
    with pytest.raises(InvalidArgumentError, match="`model` must be a keras.Model") as info:
        unwrap_classifier("model.keras")
    assert info.value.value == "str"
