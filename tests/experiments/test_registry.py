"""The registries: lookup errors, lazy built-in registrations, no TensorFlow to list names."""

import subprocess
import sys

import pytest

from astrokeras.errors import ConfigError, InvalidArgumentError
from astrokeras.experiments.registry import REQUIRED, Registry


def test_unknown_name_lists_the_registered_ones():
    registry = Registry("attack")
    registry.register("fgsm", lambda: None)
    registry.register("pgd", lambda: None)
    with pytest.raises(ConfigError, match="Unknown attack 'cw'.*Allowed: fgsm, pgd"):
        registry.get("cw")


def test_a_name_is_registered_once_unless_replaced():
    registry = Registry("method")
    registry.register("mmd", lambda: 1)
    with pytest.raises(InvalidArgumentError, match="already registered"):
        registry.register("mmd", lambda: 2)
    registry.register("mmd", lambda: 2, replace=True)
    assert registry.get("mmd").factory() == 2


def test_defaults_leave_out_required_keys():
    registry = Registry("attack")
    entry = registry.register("a", lambda: None, schema={
        "eps": (float, REQUIRED, None), "steps": (int, 10, None)})
    assert entry.defaults == {"steps": 10}


def test_builtin_registrations_load_on_first_lookup_only():
    code = ("import sys\n"
            "from astrokeras.experiments import ARCHITECTURES, ATTACKS, DATA_KINDS, METHODS\n"
            "assert 'astrokeras.experiments.architectures' not in sys.modules\n"
            "attacks = ATTACKS.names()\n"
            "print('tensorflow' in sys.modules)\n"
            "print(attacks, ARCHITECTURES.names())\n"
            "print(METHODS.names(), DATA_KINDS.names())\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert lines[0] == "False"  # the CLI lists attack names without starting TensorFlow
    assert "'fgsm', 'pgd', 'one-pixel'" in lines[1] and "'convnet'" in lines[1]
    assert "'mmd'" in lines[2] and "'morphology'" in lines[2]


def test_a_failed_registrations_import_leaves_no_half_filled_registry(tmp_path, monkeypatch):
    module = tmp_path / "broken_registrations.py"
    module.write_text("from astrokeras.experiments.registry import Registry\n"
                      "import test_registry_target as target\n"
                      "target.REGISTRY.register('first', lambda: 1)\n"
                      "raise ImportError('a dependency is missing')\n")
    holder = tmp_path / "test_registry_target.py"
    holder.write_text("from astrokeras.experiments.registry import Registry\n"
                      "REGISTRY = Registry('thing', 'broken_registrations')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import test_registry_target

    registry = test_registry_target.REGISTRY
    for _ in range(2):  # the second lookup retries the import instead of seeing 'first' alone
        with pytest.raises(ImportError, match="dependency is missing"):
            registry.names()
    module.write_text(module.read_text().replace("raise ImportError('a dependency is missing')",
                                                 ""))
    import importlib
    importlib.invalidate_caches()
    assert registry.names() == ("first",)
