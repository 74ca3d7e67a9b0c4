"""The environment TensorFlow reads when it loads, set by the command line before it loads.

TensorFlow reads its logging and device settings from environment variables once, when it is
first imported, so `astrokeras.cli.app` sets them before it imports the command modules (some
of which import TensorFlow). Every value the user set is kept as it is.

- `TF_CPP_MIN_LOG_LEVEL=1`: TensorFlow's C++ information lines (the CPU-instructions notice,
  input-pipeline defaults) are not printed; its warnings and errors still are.
- `TF_ENABLED_DEVICE_TYPES=CPU`, only where no GPU can be used (Linux without the CUDA driver
  library `libcuda.so.1` and without a pluggable-device plugin): TensorFlow then does not
  initialise CUDA, so it does not log the error "failed call to cuInit" on every run.

What these variables cannot reach: TensorFlow's wheels log three lines ("All log messages
before absl::InitializeLog() ...", "oneDNN custom operations are on", "Could not find cuda
drivers") from static initialisers, when the shared library loads and before it reads any
environment variable; `import tensorflow` loads two libraries that each carry a copy of that
code (`libtensorflow_framework.so.2` and, through `tf.profiler.experimental.client`,
`_pywrap_profiler_plugin.so`), so those lines appear twice in every process that imports it.
"""

import ctypes
import os
import site
import sys


def quiet_tensorflow(environ=None):
    """Sets TensorFlow's logging and device variables the user has not set.

    Call it before TensorFlow is imported; afterwards it changes nothing TensorFlow reads.

    Args:
        environ: the environment to update (default `os.environ`, which spawned worker
            processes and subprocesses inherit).

    Returns:
        The names of the variables it set.

    Example:

    >>> environment = {"TF_CPP_MIN_LOG_LEVEL": "0"}
    >>> "TF_CPP_MIN_LOG_LEVEL" in quiet_tensorflow(environment)
    False
    >>> environment["TF_CPP_MIN_LOG_LEVEL"]
    '0'
    """
    environ = os.environ if environ is None else environ
    wanted = {"TF_CPP_MIN_LOG_LEVEL": "1"}
    if not gpu_possible():
        wanted["TF_ENABLED_DEVICE_TYPES"] = "CPU"
    chosen = [name for name in wanted if name not in environ]
    for name in chosen:
        environ[name] = wanted[name]
    return chosen


def gpu_possible():
    """False only where TensorFlow certainly finds no GPU: Linux, no CUDA driver, no plugin."""
    if not sys.platform.startswith("linux"):
        return True  # Metal, DirectML and other plugins: leave TensorFlow to look
    if _device_plugins():
        return True
    try:
        ctypes.CDLL("libcuda.so.1")  # what TensorFlow's CUDA stub opens
    except OSError:
        return False
    return True


def _device_plugins():
    """Whether a `tensorflow-plugins` folder (pluggable devices) exists where TensorFlow looks."""
    folders = list(sys.path)
    try:
        folders += site.getsitepackages() + [site.getusersitepackages()]
    except AttributeError:  # some embedded interpreters lack them
        pass
    return any(os.path.isdir(os.path.join(folder, "tensorflow-plugins")) for folder in folders)
