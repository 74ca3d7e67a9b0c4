import csv

import keras
import numpy as np
import pytest

from astrokeras.errors import InvalidArgumentError
from astrokeras.selection import (DeepEmbeddedValidation, DomainAUC, InformationMaximization,
                                  LatentMMD, PredictionEntropy, Score, SelectionCallback,
                                  SelectionData, SoftNeighborhoodDensity, score_model,
                                  selection_first)
from astrokeras.training import MMD, DomainAdaptationModel
from selection_helpers import classifier, domains

ALL_SCORES = (DeepEmbeddedValidation(), SoftNeighborhoodDensity(), PredictionEntropy(),
              InformationMaximization(), DomainAUC(), LatentMMD())


class Scripted(Score):
    """A score that reads off a fixed sequence, one value per call (to test monitoring)."""

    name, mode = "scripted", "min"

    def __init__(self, values):
        self._values = list(values)

    def compute(self, outputs):
        assert outputs.source_labels is None and outputs.target_latent is None
        return self._values.pop(0)


def test_every_score_is_written_into_the_epoch_logs_and_the_history():
    (xs, ys), (xt, _) = domains()
    model = classifier()
    callback = SelectionCallback(ALL_SCORES, xt, source=(xs, ys))
    history = model.fit(xs, ys, epochs=2, batch_size=32, verbose=0, callbacks=[callback])
    for score in ALL_SCORES:
        values = history.history[score.monitor]
        assert len(values) == 2 and all(np.isfinite(values))
        assert callback.last_scores[score.name] == values[-1]
    # The logged value is the model's score at that epoch end.
    data = SelectionData(xt, source=(xs, ys))
    assert score_model(model, ALL_SCORES, data) == pytest.approx(callback.last_scores)


def test_early_stopping_and_checkpoints_monitor_the_score(tmp_path):
    (xs, ys), (xt, _) = domains()
    score = Scripted([3.0, 2.0, 1.0, 4.0, 5.0, 6.0, 7.0])
    callbacks = selection_first([
        keras.callbacks.ModelCheckpoint(str(tmp_path / "e{epoch}.keras"), monitor=score.monitor,
                                        mode=score.mode, save_best_only=True),
        keras.callbacks.EarlyStopping(monitor=score.monitor, mode=score.mode, patience=2),
        keras.callbacks.CSVLogger(str(tmp_path / "history.csv")),
        SelectionCallback(score, xt),
    ])
    history = classifier().fit(xs, ys, epochs=7, verbose=0, callbacks=callbacks)
    assert history.history["val_scripted"] == [3.0, 2.0, 1.0, 4.0, 5.0]  # stopped at epoch 5
    assert sorted(p.name for p in tmp_path.glob("*.keras")) == [
        "e1.keras", "e2.keras", "e3.keras"]  # saved only while the score improved
    with open(tmp_path / "history.csv") as handle:
        assert [float(row["val_scripted"]) for row in csv.DictReader(handle)] == [
            3.0, 2.0, 1.0, 4.0, 5.0]


def test_a_callback_listed_after_early_stopping_is_not_seen_by_it():
    # The documented ordering requirement: Keras calls callbacks in list order.
    (xs, ys), (xt, _) = domains()
    stop = keras.callbacks.EarlyStopping(monitor="val_entropy", mode="min")
    with pytest.warns(UserWarning, match="val_entropy"):
        classifier().fit(xs, ys, epochs=1, verbose=0,
                         callbacks=[stop, SelectionCallback(PredictionEntropy(), xt)])


def test_a_domain_adaptation_model_is_scored_through_its_classifier():
    (xs, ys), (xt, _) = domains()
    model = DomainAdaptationModel(classifier(), MMD(weight=0.5))
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    pairs = ((xs, xt), ys)
    callback = SelectionCallback([DeepEmbeddedValidation(), LatentMMD()], xt, source=(xs, ys))
    history = model.fit(*pairs, epochs=1, batch_size=32, verbose=0, callbacks=[callback])
    assert set(history.history) >= {"val_dev", "val_latent_mmd"}
    assert callback.last_scores == pytest.approx(score_model(
        model.classifier, callback.scores, callback.data))


def test_target_labels_are_refused():
    (xs, ys), (xt, yt) = domains()
    with pytest.raises(InvalidArgumentError, match="target labels never reach"):
        SelectionCallback(PredictionEntropy(), (xt, yt))


def test_missing_source_data_is_refused_before_training():
    (xs, _), (xt, _) = domains()
    with pytest.raises(InvalidArgumentError, match="'domain_auc' compares domains"):
        SelectionCallback(DomainAUC(), xt)
    with pytest.raises(InvalidArgumentError, match="'dev' needs labelled source"):
        SelectionCallback(DeepEmbeddedValidation(), xt, source=xs)
    with pytest.raises(InvalidArgumentError, match="each name once"):
        SelectionCallback([PredictionEntropy(), PredictionEntropy()], xt)
    with pytest.raises(InvalidArgumentError, match="`scores`"):
        SelectionCallback(["entropy"], xt)
    with pytest.raises(InvalidArgumentError, match="`batch_size`"):
        SelectionCallback(PredictionEntropy(), xt, batch_size=0)


def test_latent_scores_need_a_latent_layer():
    (xs, ys), (xt, _) = domains()
    inputs = keras.Input((2,))
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(inputs))
    data = SelectionData(xt, source=xs)
    assert set(score_model(model, PredictionEntropy(), data)) == {"entropy"}
    with pytest.raises(InvalidArgumentError, match="latent"):
        score_model(model, LatentMMD(), data)


def test_a_model_without_the_latent_layer_stops_fit_before_any_training_step():
    (xs, ys), (xt, _) = domains()
    inputs = keras.Input((2,))
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(inputs))
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    before = [w.copy() for w in model.get_weights()]
    with pytest.raises(InvalidArgumentError, match="no layer named 'latent'"):
        model.fit(xs, ys, epochs=1, verbose=0,
                  callbacks=[SelectionCallback(LatentMMD(), xt, source=xs)])
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
