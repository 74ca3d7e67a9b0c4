"""Registries: the one place where a name in a recipe or on the command line meets its code.

Five registries map names to factories: `METHODS` (how a model is trained: plain, a domain-
adaptation transfer loss, adversarial training), `ATTACKS` (FGSM, PGD, one-pixel),
`ARCHITECTURES` (ConvNet, ResNet18, ...), `DATA_KINDS` (the simulated data sets and their
surveys) and `SCORES` (the label-free model-selection scores of `astrokeras.selection`).
Recipe validation, `run_recipe`, the workflows and the CLI read them; nothing else compares
names. Adding a method, an attack, an architecture, a data kind or a score is its own
module plus one `register` call.

Each entry carries its defaults and a schema for the options a recipe may give it, in the
recipe format: `key -> (types, default, check)` where `check` is None, a tuple of allowed
values, or a predicate.

Example:

>>> toy = Registry("architecture")
>>> entry = toy.register("tiny", lambda **options: options, description="a toy",
...                      schema={"width": (int, 4, lambda v: v >= 1)})
>>> toy.get("tiny").defaults
{'width': 4}
>>> toy.names()
('tiny',)
>>> toy.get("huge")
Traceback (most recent call last):
...
astrokeras.errors.ConfigError: Unknown architecture 'huge'. Got: 'huge'. Allowed: tiny.
"""

import copy
import dataclasses
import importlib
import types as _types

from astrokeras.errors import ConfigError, InvalidArgumentError

#: Marks a schema key that has no default.
REQUIRED = object()


@dataclasses.dataclass(frozen=True)
class Entry:
    """One registered name.

    Attributes:
        name: the name used in recipes and on the command line.
        factory: the callable that builds the thing (its signature is the registry's contract).
        schema: the options the entry takes, `key -> (types, default, check)`.
        description: one line for `--help` and error messages.
        metadata: further facts the workflows read (e.g. a data kind's domains), read-only.
    """

    name: str
    factory: object
    schema: dict
    description: str = ""
    metadata: _types.MappingProxyType = dataclasses.field(
        default_factory=lambda: _types.MappingProxyType({}))

    @property
    def defaults(self):
        """The defaults of the schema's keys that have one."""
        return {key: copy.deepcopy(default) for key, (_, default, _check) in self.schema.items()
                if default is not REQUIRED}


class Registry:
    """A name -> `Entry` mapping for one kind of thing (methods, attacks, ...).

    Args:
        kind: what the registry holds, in the singular, for messages ("method").
        registrations: the module that registers the built-in entries, imported on the first
            lookup, so that importing the registry (the CLI does, to list choices) does not
            import TensorFlow and the models.
    """

    def __init__(self, kind, registrations=None):
        self.kind = kind
        self._entries = {}
        self._registrations = registrations

    def _load(self):
        if self._registrations is not None:
            module, self._registrations = self._registrations, None
            before = set(self._entries)
            try:
                importlib.import_module(module)
            except BaseException:
                # a failed import leaves no half-filled registry: the next lookup retries it
                for name in set(self._entries) - before:
                    del self._entries[name]
                self._registrations = module
                raise

    def register(self, name, factory=None, *, schema=None, description="", replace=False,
                 **metadata):
        """Registers `factory` under `name`; usable as a decorator when `factory` is omitted.

        Args:
            name: a non-empty string without spaces.
            factory: the callable.
            schema: `key -> (types, default, check)` options of the entry.
            description: one line.
            replace: allow replacing an existing entry (otherwise a name is registered once).
            **metadata: further facts the workflows read.

        Returns:
            The `Entry` (or, as a decorator, the factory unchanged).
        """
        self._load()
        if factory is None:
            def decorator(function):
                self.register(name, function, schema=schema, description=description,
                              replace=replace, **metadata)
                return function
            return decorator
        if not isinstance(name, str) or not name or any(c.isspace() for c in name):
            raise InvalidArgumentError(f"A {self.kind} name must be a non-empty string without "
                                       "spaces.", name, "e.g. 'mmd'")
        if not callable(factory):
            raise InvalidArgumentError(f"The factory of {self.kind} {name!r} must be callable.",
                                       factory, "a function or class")
        if name in self._entries and not replace:
            raise InvalidArgumentError(f"{self.kind} {name!r} is already registered.", name,
                                       "a new name, or replace=True")
        entry = Entry(name, factory, dict(schema or {}), description,
                      _types.MappingProxyType(dict(metadata)))
        self._entries[name] = entry
        return entry

    def unregister(self, name):
        """Removes `name` (for tests and plugins that register temporarily)."""
        self._load()
        self._entries.pop(name, None)

    def get(self, name):
        """The entry of `name`; `ConfigError` naming the allowed names if there is none."""
        self._load()
        try:
            return self._entries[name]
        except (KeyError, TypeError):
            raise ConfigError(f"Unknown {self.kind} {name!r}.", name,
                              ", ".join(self.names())) from None

    def names(self):
        """The registered names, in registration order."""
        self._load()
        return tuple(self._entries)

    def __contains__(self, name):
        self._load()
        return name in self._entries

    def __iter__(self):
        self._load()
        return iter(list(self._entries.values()))

    def __len__(self):
        self._load()
        return len(self._entries)

    def __repr__(self):
        return f"Registry({self.kind!r}, {list(self._entries)})"


METHODS = Registry("method", "astrokeras.experiments.methods")
ATTACKS = Registry("attack", "astrokeras.experiments.attacks")
ARCHITECTURES = Registry("architecture", "astrokeras.experiments.architectures")
DATA_KINDS = Registry("data kind", "astrokeras.experiments.data_kinds")
SCORES = Registry("score", "astrokeras.experiments.scores")
