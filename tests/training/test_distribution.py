"""DomainAdaptationModel under tf.distribute.MirroredStrategy on two logical CPU devices.

Logical devices must be configured before TensorFlow initialises, so the check runs in a fresh
interpreter.
"""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

SCRIPT = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras
    sys.path.insert(0, sys.argv[1])
    from shift_problem import make_classifier, make_domains, paired
    from astrokeras.training import DomainAdaptationModel, MMD

    source, target = make_domains(n=512)
    data = paired(source, target, batch_size=64)
    first_batch = next(iter(data))

    def losses_after_one_step(strategy):
        with strategy.scope():
            model = DomainAdaptationModel(make_classifier(seed=5), MMD(weight=1.0))
            model.compile(optimizer=keras.optimizers.SGD(0.1))
        before = model.evaluate(tf.data.Dataset.from_tensors(first_batch), verbose=0,
                                return_dict=True)
        initial = model.classifier.get_layer("logits").kernel.numpy()
        model.fit(tf.data.Dataset.from_tensors(first_batch), epochs=1, verbose=0, shuffle=False)
        step = model.classifier.get_layer("logits").kernel.numpy() - initial
        return before["classification_loss"], step

    mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    loss_one, kernel_one = losses_after_one_step(tf.distribute.get_strategy())
    loss_two, kernel_two = losses_after_one_step(mirrored)
    print(json.dumps({
        "replicas": mirrored.num_replicas_in_sync,
        "loss_diff": abs(loss_one - loss_two),
        "kernel_diff": float(np.abs(kernel_one - kernel_two).max()),
        "kernel_step": float(np.abs(kernel_one).max()),
        "relative_diff": float(np.linalg.norm(kernel_one - kernel_two)
                               / np.linalg.norm(kernel_one)),
    }))
    """
)


def test_mirrored_strategy_step_equals_single_device_step(tmp_path):
    script = tmp_path / "mirrored.py"
    script.write_text(SCRIPT)
    env = dict(os.environ, KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run(
        [sys.executable, str(script), str(Path(__file__).parent)],
        capture_output=True, text=True, env=env, timeout=240,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["replicas"] == 2
    assert report["loss_diff"] < 1e-5
    # One SGD step on two replicas (32 + 32 samples, MMD per replica) moves the weights like
    # one step on one device: the losses are scaled by the global batch size. (The output
    # layer's step comes from the cross-entropy alone, so it must agree closely.)
    # A missing 1/replicas scaling would double the step (relative difference 1.0).
    assert report["kernel_step"] > 1e-4
    assert report["relative_diff"] < 1e-3, report
