import numpy as np
import pytest
import keras

from astrokeras.errors import InvalidArgumentError
from astrokeras.training import (CORAL, DANN, MMD, UNLABELED, DomainAdaptationModel,
                                 GRLSchedule)
from shift_problem import make_classifier, make_domains, paired


@pytest.fixture(scope="module")
def domains():
    return make_domains()


def _fit(method, domains, epochs=10, classifier_seed=0, learning_rate=1e-2, data_seed=0,
         **fit_kwargs):
    source, target = domains
    classifier = make_classifier(classifier_seed)
    if callable(method) and not isinstance(method, keras.layers.Layer):
        # A factory, called after make_classifier seeded Keras: the method's unseeded
        # initialisers then draw the same weights whatever ran before.
        method = method()
    model = DomainAdaptationModel(classifier, method)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate))
    fit_kwargs.setdefault("validation_data", target)
    history = model.fit(paired(source, target, seed=data_seed), epochs=epochs, verbose=0,
                        shuffle=False, **fit_kwargs)
    accuracy = float((classifier.predict(target[0], verbose=0).argmax(1) == target[1]).mean())
    return model, history, accuracy


@pytest.fixture(scope="module")
def plain_result(domains):
    return _fit(None, domains)


def test_plain_training_fails_on_the_shifted_target(plain_result):
    _, history, accuracy = plain_result
    assert history.history["source_accuracy"][-1] > 0.95
    assert accuracy < 0.65


def test_mmd_raises_target_accuracy(domains, plain_result):
    _, history, accuracy = _fit(MMD(weight=1.0), domains)
    _, _, plain_accuracy = plain_result
    assert accuracy > plain_accuracy + 0.3, (accuracy, plain_accuracy)
    assert history.history["val_target_accuracy"][-1] == pytest.approx(accuracy, abs=1e-6)
    assert history.history["source_accuracy"][-1] > 0.9


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dann_raises_target_accuracy(domains, plain_result, seed):
    # Every seeded run must succeed: a different classifier initialisation and data order each.
    # Domain classifier sized for the 16-dimensional toy latent (the 1024 x 1024 default is
    # made for the 256-dimensional latent of the image networks).
    _, history, accuracy = _fit(lambda: DANN(weight=3.0, hidden=(32,), dropout=0.0), domains,
                                classifier_seed=seed, learning_rate=3e-3, data_seed=seed,
                                validation_data=None)
    _, _, plain_accuracy = plain_result
    assert accuracy > plain_accuracy + 0.3, (seed, accuracy, plain_accuracy)
    assert history.history["source_accuracy"][-1] > 0.9


def test_history_reports_each_loss_and_accuracy(domains):
    _, history, _ = _fit(MMD(weight=0.05), domains, epochs=1)
    for key in ("loss", "classification_loss", "transfer_loss", "source_accuracy",
                "val_loss", "val_target_accuracy"):
        assert key in history.history, key
    total = history.history["loss"][0]
    parts = history.history["classification_loss"][0] + 0.05 * history.history[
        "transfer_loss"][0]
    assert total == pytest.approx(parts, rel=1e-4)


def test_paired_validation_with_target_labels(domains):
    source, target = domains
    model = DomainAdaptationModel(make_classifier(), CORAL(weight=1.0))
    model.compile(optimizer="adam")
    import tensorflow as tf

    val = tf.data.Dataset.from_tensor_slices(
        ((source[0], target[0]), (source[1], target[1]))).batch(128)
    logs = model.evaluate(val, return_dict=True, verbose=0)
    assert set(logs) >= {"loss", "transfer_loss", "source_accuracy", "target_accuracy"}
    expected = (make_classifier_predictions(model.classifier, target[0]) == target[1]).mean()
    assert logs["target_accuracy"] == pytest.approx(expected, abs=1e-6)


def make_classifier_predictions(classifier, x):
    return classifier.predict(x, verbose=0).argmax(1)


def test_class_weights_scale_the_source_loss(domains):
    source, target = domains
    import tensorflow as tf

    data = tf.data.Dataset.from_tensors(((source[0][:256], target[0][:256]), source[1][:256]))
    weights = [2.0, 2.0]
    logs = {}
    for name, cw in (("plain", None), ("weighted", weights)):
        model = DomainAdaptationModel(make_classifier(seed=3), None, class_weights=cw)
        model.compile(optimizer="adam")
        logs[name] = model.evaluate(data, return_dict=True, verbose=0)
    assert logs["weighted"]["classification_loss"] == pytest.approx(
        2.0 * logs["plain"]["classification_loss"], rel=1e-5)


def test_fit_adds_the_grl_schedule_for_dann(domains):
    model, _, _ = _fit(DANN(weight=1.0, hidden=(8,)), domains, epochs=1)
    # After one full epoch of 16 steps, p = 15/16 at the last batch.
    expected = 2.0 / (1.0 + np.exp(-10.0 * 15 / 16)) - 1.0
    assert float(model.method.reversal.reversal_weight) == pytest.approx(expected, rel=1e-5)


def test_saved_model_reloads_with_identical_predictions(domains, keras_round_trip, tmp_path):
    model, _, _ = _fit(DANN(weight=1.0, hidden=(8,)), domains, epochs=1)
    loaded = keras_round_trip(model)
    assert isinstance(loaded, DomainAdaptationModel)
    assert isinstance(loaded.method, DANN)
    x = domains[1][0][:64]
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               atol=1e-6)
    # The adapted classifier exports on its own.
    path = tmp_path / "classifier.keras"
    model.classifier.save(path)
    alone = keras.models.load_model(path)
    np.testing.assert_allclose(alone.predict(x, verbose=0), model.predict(x, verbose=0),
                               atol=1e-6)


def test_jit_compiled_training_runs(domains):
    source, target = domains
    model = DomainAdaptationModel(make_classifier(), MMD(weight=1.0))
    model.compile(optimizer="adam", jit_compile=True)
    history = model.fit(paired(source, target).take(4), epochs=1, verbose=0, shuffle=False)
    assert np.isfinite(history.history["loss"][0])


def test_checkpoint_and_early_stopping_callbacks(domains, tmp_path):
    source, target = domains
    model = DomainAdaptationModel(make_classifier(), MMD(weight=1.0))
    model.compile(optimizer="adam")
    checkpoint = tmp_path / "best.keras"
    callbacks = [
        keras.callbacks.ModelCheckpoint(checkpoint, monitor="val_target_accuracy", mode="max",
                                        save_best_only=True),
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=1),
    ]
    model.fit(paired(source, target).take(4), epochs=2, validation_data=target, verbose=0,
              shuffle=False, callbacks=callbacks)
    assert isinstance(keras.models.load_model(checkpoint), DomainAdaptationModel)


def test_fit_on_unpaired_data_is_refused(domains):
    source, _ = domains
    model = DomainAdaptationModel(make_classifier(), MMD())
    model.compile(optimizer="adam")
    with pytest.raises(InvalidArgumentError, match=r"\(source_images, target_images\)"):
        model.fit(source[0], source[1], epochs=1, verbose=0)


@pytest.mark.parametrize("kwargs, message", [
    ({"method": "mmd"}, "`method` must be a transfer method"),
    ({"method": MMD(), "latent": "bottleneck"}, "no layer named 'bottleneck'"),
    ({"method": MMD(), "class_weights": [1.0]}, "`class_weights` must hold one"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(InvalidArgumentError, match=message):
        DomainAdaptationModel(make_classifier(), **kwargs)


def test_grl_schedule_formula_at_given_steps():
    schedule = GRLSchedule(max_weight=2.0, total_steps=100)
    schedule._total = 100
    for step in (0, 10, 50, 100, 150):
        p = min(step / 100, 1.0)
        expected = 2.0 * (2.0 / (1.0 + np.exp(-10.0 * p)) - 1.0)
        assert schedule.weight_at(step) == pytest.approx(expected)


def test_evaluate_on_a_dataset_of_unknown_length_is_exact(domains):
    # Keras may end such a dataset with an empty batch; it must not count as a zero loss.
    import tensorflow as tf

    _, target = domains
    model = DomainAdaptationModel(make_classifier(), MMD())
    model.compile(optimizer="adam")
    unknown_length = tf.data.Dataset.from_tensor_slices(target).filter(
        lambda x, y: True).batch(1000)
    logs = model.evaluate(unknown_length, return_dict=True, verbose=0)
    probabilities = model.classifier.predict(target[0], verbose=0)
    expected = keras.losses.sparse_categorical_crossentropy(target[1], probabilities)
    assert logs["loss"] == pytest.approx(float(np.mean(expected)), rel=1e-5)


def _one_step_classification_loss(model, source, target, target_labels):
    import tensorflow as tf

    data = tf.data.Dataset.from_tensors(((source[0], target[0]), (source[1], target_labels)))
    model.compile(optimizer=keras.optimizers.SGD(0.0))
    return model.fit(data, epochs=1, verbose=0, shuffle=False).history["classification_loss"][0]


def test_labeled_target_images_join_the_cross_entropy(domains):
    source, target = domains
    source, target = (source[0][:32], source[1][:32]), (target[0][:32], target[1][:32])
    weights = [1.0, 3.0]
    model = DomainAdaptationModel(make_classifier(seed=4), MMD(weight=0.05),
                                  class_weights=weights)
    p_s = model.classifier.predict(source[0], verbose=0)
    p_t = model.classifier.predict(target[0], verbose=0)
    w = np.asarray(weights)

    def crossentropy(p, y):
        return w[y] * -np.log(p[np.arange(len(y)), y])

    unlabeled = np.full(32, UNLABELED, "int32")
    assert _one_step_classification_loss(model, source, target, unlabeled) == pytest.approx(
        crossentropy(p_s, source[1]).mean(), rel=1e-5)
    labels = unlabeled.copy()
    labels[:5] = target[1][:5]
    expected = np.concatenate([crossentropy(p_s, source[1]),
                               crossentropy(p_t[:5], target[1][:5])]).mean()
    assert _one_step_classification_loss(model, source, target, labels) == pytest.approx(
        expected, rel=1e-5)


def test_a_few_labeled_target_images_raise_target_accuracy(domains, plain_result):
    import tensorflow as tf

    source, target = domains
    labels = np.full(len(target[1]), UNLABELED, "int32")
    for c in (0, 1):  # 8 labeled target images per class
        labels[np.flatnonzero(target[1] == c)[:8]] = c
    keep = labels != UNLABELED
    # Labeled images make up a quarter of each target batch, the rest are unlabeled.
    labeled = tf.data.Dataset.from_tensor_slices((target[0][keep], labels[keep])).repeat()
    unlabeled = tf.data.Dataset.from_tensor_slices(
        (target[0], np.full(len(labels), UNLABELED, "int32"))).repeat()
    mixed = tf.data.Dataset.sample_from_datasets([unlabeled, labeled], [0.75, 0.25], seed=0)
    s = tf.data.Dataset.from_tensor_slices(source).shuffle(len(source[1]), seed=0)
    data = tf.data.Dataset.zip((s.batch(64, drop_remainder=True), mixed.batch(64))).map(
        lambda a, b: ((a[0], b[0]), (a[1], b[1])))
    classifier = make_classifier(0)
    model = DomainAdaptationModel(classifier, None)
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    model.fit(data, epochs=10, verbose=0, shuffle=False)
    accuracy = float((classifier.predict(target[0], verbose=0).argmax(1) == target[1]).mean())
    _, _, plain_accuracy = plain_result
    assert accuracy > plain_accuracy + 0.2, (accuracy, plain_accuracy)
