"""Training methods by name: plain training, domain adaptation, adversarial training, AdaBN.

Every `METHODS` entry builds what `model.fit` trains from the recipe's classifier:

    factory(classifier, options, context) -> TrainingSetup

where `options` holds the entry's schema keys from the recipe's `[method]` table and `context`
is a `MethodContext` (classes, class weights, seed, pixel range). Metadata read by the
workflows:

- `paired` (bool): the method trains on source + target batch pairs (domain adaptation);
  it needs a target domain, and `[data].labeled_target` is allowed with it (with
  `[data].target_labels = "semi-supervised"`).
- `check` (callable `recipe -> message or None`): a check across keys, run by recipe
  validation once every section is read.
- `extra_schema` (callable `options -> schema`): further `[method]` keys that depend on the
  options given (adversarial training takes the keys of the attack it names).

Adversarial training works with every `ATTACKS` entry that has `metadata["training_spec"]`, a
callable `(options, clip, seed) -> spec` returning the in-graph attack (`astrokeras.training.
FGSM` or `PGD`) that `AdversarialTrainingModel` runs. A recipe names it either way:

    [method]                           [method]
    name = "adversarial"               name = "pgd"      # an attack's name: the same
    attack = "pgd"                     eps = 0.01
    eps = 0.01

Adding a domain-adaptation method is a `TransferMethod` subclass and one registration:

    METHODS.register("my_loss", transfer_method(lambda options, context: MyLoss(**options)),
                     schema={"weight": ((int, float), 1.0, lambda v: v >= 0)}, paired=True)

Example:

>>> entry, implied = find_method("mmd")
>>> entry.defaults, entry.metadata["paired"], implied
({'weight': 0.05, 'estimator': 'biased'}, True, {})
"""

import dataclasses

from astrokeras import losses
from astrokeras.errors import ConfigError
from astrokeras.experiments.registry import ATTACKS, METHODS, REQUIRED
from astrokeras.training.adversarial_training_model import AdversarialTrainingModel
from astrokeras.training.domain_adaptation_model import DomainAdaptationModel
from astrokeras.training.methods import CORAL, DANN, MMD, UniversalDA

_NUMBER = (int, float)

#: The name of the adversarial-training method, which an attack's name also selects.
ADVERSARIAL = "adversarial"


@dataclasses.dataclass(frozen=True)
class MethodContext:
    """What a method's factory knows about the run besides its own options.

    Attributes:
        num_classes: classes (or redshift bins) the classifier predicts.
        class_weights: one weight per class, or None (no weighting, or photo-z).
        seed: the recipe's `[experiment].seed`.
        clip: the valid pixel range of the stretched images (the clip + arcsinh stretch maps
            every image into [0, 1]).
    """

    num_classes: int
    class_weights: tuple = None
    seed: int = 0
    clip: tuple = (0.0, 1.0)


@dataclasses.dataclass
class TrainingSetup:
    """What `run_recipe` compiles and fits.

    Attributes:
        model: the Keras model that `fit` trains (the classifier or a wrapper holding it).
        compile_options: `model.compile` arguments besides the optimizer.
        fit_options: further `model.fit` arguments (e.g. `class_weight`).
        monitor: the validation metric early stopping watches unless the recipe names one;
            label-free unless the recipe's `[data].target_labels` is "selection" (the
            validation data hold target labels only then).
        after_fit: None, or a callable `after_fit(target_images)` that `run_recipe` calls once
            `fit` has finished and before it saves the models, with the unlabelled training
            images of the recipe's target domain (a `tf.data.Dataset` of image batches, no
            labels; None without a target). It may change the trained model in place (AdaBN
            sets the batch-norm statistics); what it returns (a JSON-serialisable dict, or
            None) is recorded in run.json as `after_fit`.
    """

    model: object
    compile_options: dict
    fit_options: dict
    monitor: str
    after_fit: object = None


def plain_training(model, context):
    """The `TrainingSetup` of supervised training with cross-entropy (class-weighted).

    Args:
        model: the model to fit (a classifier, or a wrapper with its own `train_step`).
        context: the `MethodContext`.

    Returns:
        A `TrainingSetup` with the cross-entropy loss, accuracy and `class_weight`.
    """
    fit_options = {}
    if context.class_weights is not None:
        fit_options["class_weight"] = {i: float(w) for i, w in enumerate(context.class_weights)}
    return TrainingSetup(model, {"loss": "sparse_categorical_crossentropy",
                                 "metrics": ["accuracy"]}, fit_options, "val_loss")


def transfer_method(build):
    """A `METHODS` factory for a domain-adaptation transfer loss.

    Args:
        build: callable `(options, context) -> TransferMethod`.

    Returns:
        A factory wrapping the classifier in a `DomainAdaptationModel` with that transfer
        loss (register it with `paired=True`). Its monitor is `val_loss`: on source validation
        labels plus the transfer term between the domains' validation images, no target label.
    """

    def factory(classifier, options, context):
        model = DomainAdaptationModel(classifier, build(options, context),
                                      class_weights=context.class_weights)
        return TrainingSetup(model, {}, {}, "val_loss")

    return factory


def trainable_attacks():
    """The names of the `ATTACKS` entries adversarial training can use (with a training_spec)."""
    return tuple(entry.name for entry in ATTACKS if "training_spec" in entry.metadata)


def method_names():
    """Every name `[method].name` may take: the methods, then the trainable attacks."""
    return METHODS.names() + tuple(n for n in trainable_attacks() if n not in METHODS)


def find_method(name):
    """The `METHODS` entry `[method].name` selects, and the options the name implies.

    An attack's name selects adversarial training with that attack (`{"attack": name}`).

    Args:
        name: the recipe's `[method].name`.

    Returns:
        `(entry, implied_options)`.

    Raises:
        ConfigError: the name is neither a method nor an attack with a training_spec.
    """
    if name in METHODS:
        return METHODS.get(name), {}
    if name in trainable_attacks():
        return METHODS.get(ADVERSARIAL), {"attack": name}
    raise ConfigError(f"Unknown method {name!r}.", name, ", ".join(method_names()))


def _attack(name):
    if name not in trainable_attacks():
        raise ConfigError("[method].attack has an unknown value (an attack usable for "
                          "adversarial training).", name, ", ".join(trainable_attacks()))
    return ATTACKS.get(name)


#: Defaults adversarial training gives to attack options the attack itself requires:
#: Campagne 2021's budget, eps = 0.01 on the stretched [0, 1] images.
TRAINING_DEFAULTS = {"eps": 0.01}


def _attack_schema(options):
    if "attack" not in options:
        raise ConfigError("missing required key [method].attack.")
    schema = dict(_attack(options["attack"]).schema)
    for key, (types, default, check) in schema.items():
        if default is REQUIRED and key in TRAINING_DEFAULTS:
            schema[key] = (types, TRAINING_DEFAULTS[key], check)
    return schema


def _adversarial(classifier, options, context):
    attack = _attack(options["attack"])
    # A recipe's clip (where the attack takes one) narrows the stretched images' range.
    clip = context.clip if options.get("clip") is None else tuple(options["clip"])
    spec = attack.metadata["training_spec"]({key: options[key] for key in attack.schema},
                                            clip, context.seed)
    model = AdversarialTrainingModel(classifier, spec, fraction=options["fraction"],
                                     label_source=options["label_source"], seed=context.seed)
    return plain_training(model, context)


def _attack_check(recipe):
    """The named attack's own check across its options (PGD: step <= eps), in recipe terms."""
    options = recipe["method"]
    attack = _attack(options["attack"])
    complete, check = attack.metadata.get("complete"), attack.metadata.get("check")
    attack_options = {key: options[key] for key in attack.schema}
    problem = check(complete(attack_options) if complete else attack_options) if check else None
    if problem is None:
        return None
    message, keys = problem
    for key in keys:
        message = message.replace(f"`{key}`", f"[method].{key}")
    return f"{message} ({', '.join(f'{key} = {attack_options[key]}' for key in keys)})."


def needs_target(recipe):
    """A `METHODS` check: the method adapts to a target domain, so the recipe needs one."""
    if recipe["data"]["target"] is None:
        return (f"[method].name = {recipe['method']['name']!r} needs a target domain "
                "([data].target).")
    return None


def _needs_unknown_class(recipe):
    if recipe["data"].get("unknown_class", -1) < 0:
        return (f"[method].name = {recipe['method']['name']!r} needs [data].unknown_class, the "
                "class held out of the source.")
    return None


def _weight(default):
    return (_NUMBER, default, lambda v: v >= 0)


METHODS.register(
    "none", lambda classifier, options, context: plain_training(classifier, context),
    description="plain supervised training on the source domain", paired=False)
METHODS.register(
    "mmd", transfer_method(lambda options, context: MMD(**options)),
    schema={"weight": _weight(0.05), "estimator": (str, "biased", losses.ESTIMATORS)},
    description="maximum mean discrepancy between the domains' latents (Ciprijanovic 2022)",
    paired=True)
METHODS.register(
    "dann", transfer_method(lambda options, context: DANN(**options)),
    schema={"weight": _weight(1.0),
            "hidden": (list, [1024, 1024], lambda v: len(v) > 0 and all(
                isinstance(h, int) and not isinstance(h, bool) and h > 0 for h in v)),
            "dropout": (_NUMBER, 0.5, lambda v: 0 <= v < 1),
            "schedule": (str, "ganin", ("ganin", "constant"))},
    description="domain-adversarial training with gradient reversal (Ciprijanovic 2020)",
    paired=True)
METHODS.register(
    "coral", transfer_method(lambda options, context: CORAL(**options)),
    schema={"weight": _weight(1.0)},
    description="correlation alignment of the domains' latent covariances", paired=True)
METHODS.register(
    "universal", transfer_method(
        lambda options, context: UniversalDA(num_classes=context.num_classes, **options)),
    schema={"weight": _weight(0.05)},
    description="universal domain adaptation: a class only the target holds (Ciprijanovic 2023)",
    paired=True, check=_needs_unknown_class)
METHODS.register(
    ADVERSARIAL, _adversarial,
    schema={"attack": (str, REQUIRED, None),
            "fraction": (_NUMBER, 0.1, lambda v: 0 <= v <= 1),
            "label_source": (str, "prediction", ("prediction", "label"))},
    description="mixed-batch adversarial training: a fraction of every batch attacked "
                "(Campagne 2021)",
    paired=False, extra_schema=_attack_schema, check=_attack_check)

# Methods in their own modules register themselves; they build on plain_training above.
from astrokeras.experiments import adabn  # noqa: E402,F401  (registers "adabn")
from astrokeras.experiments import domain_normalisation  # noqa: E402,F401  (registers it)
