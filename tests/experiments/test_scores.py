"""The SCORES registry: names, directions, options, and a callback built by name."""

import subprocess
import sys

import keras
import numpy as np
import pytest

from astrokeras import selection
from astrokeras.errors import ConfigError, InvalidArgumentError
from astrokeras.experiments import SCORES, build_score, score_monitor, selection_callback

EXPECTED = {"dev": ("min", selection.DeepEmbeddedValidation),
            "snd": ("max", selection.SoftNeighborhoodDensity),
            "entropy": ("min", selection.PredictionEntropy),
            "info_max": ("min", selection.InformationMaximization),
            "domain_auc": ("min", selection.DomainAUC),
            "latent_mmd": ("min", selection.LatentMMD)}


def test_every_score_is_registered_with_its_direction_and_needs():
    assert set(SCORES.names()) == set(EXPECTED)
    for name, (mode, cls) in EXPECTED.items():
        entry = SCORES.get(name)
        score = build_score(name)
        assert isinstance(score, cls) and score.name == name
        assert entry.metadata["mode"] == score.mode == mode
        assert score_monitor(name) == (f"val_{name}", mode)
        assert entry.metadata["needs_source"] == cls.needs_source
        assert entry.metadata["needs_source_labels"] == (name == "dev")


def test_schema_defaults_are_the_constructor_defaults():
    for entry in SCORES:
        assert build_score(entry.name).get_config() == entry.defaults


def test_the_registrations_load_only_on_first_lookup():
    code = ("import sys\n"
            "from astrokeras.experiments import SCORES\n"
            "print('astrokeras.experiments.scores' in sys.modules, 'tensorflow' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["False", "False"]


def test_options_are_passed_and_checked():
    assert build_score("domain_auc", {"folds": 3, "seed": 7}).get_config() == {
        "folds": 3, "regularization": 1.0, "seed": 7}
    with pytest.raises(InvalidArgumentError, match="takes no option temperatur"):
        build_score("snd", {"temperatur": 0.1})
    with pytest.raises(InvalidArgumentError, match="`temperature`"):
        build_score("snd", {"temperature": -1.0})
    with pytest.raises(ConfigError, match="Unknown score 'accuracy'"):
        build_score("accuracy")


def test_a_callback_built_by_name_drives_early_stopping_on_its_monitor():
    rng = np.random.default_rng(0)
    xs, ys = rng.normal(size=(64, 2)).astype("float32"), rng.integers(0, 2, 64)
    xt = (rng.normal(size=(64, 2)) + [0.0, 2.0]).astype("float32")
    inputs = keras.Input((2,))
    latent = keras.layers.Dense(4, name="latent")(keras.layers.Dense(8, "relu")(inputs))
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(latent))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    monitor, mode = score_monitor("dev")
    stop = keras.callbacks.EarlyStopping(monitor=monitor, mode=mode, patience=5)
    callback = selection_callback(["dev", "snd"], xt, source=(xs, ys),
                                  options={"dev": {"folds": 3}})
    history = model.fit(xs, ys, epochs=2, verbose=0, callbacks=[callback, stop])
    assert len(history.history["val_dev"]) == len(history.history["val_snd"]) == 2
    assert stop.best == min(history.history["val_dev"])
    assert callback.scores[0].folds == 3


def test_options_for_a_score_not_selected_are_refused():
    with pytest.raises(InvalidArgumentError, match="not selected"):
        selection_callback("entropy", np.zeros((4, 2)), options={"snd": {"temperature": 0.1}})
