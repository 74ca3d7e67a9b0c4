"""The attacks in `ATTACKS`: FGSM, PGD and the one-pixel attack, behind one signature.

Every factory in `ATTACKS` is called the same way by the attack and evaluation workflows:

    factory(model, x, y=None, *, target=None, batch_size=None, seed=0, callback=None,
            **options) -> AttackOutcome

where `x` is an image batch or a dict of inputs (a photo-z network's `{"image", "ebv"}`), `y`
the true classes (or None: the model's own predictions), `target` the target class of each
image for a targeted attack (or None), `callback(description, completed, total)` a progress
hook (the argument order of `evaluate_robustness`'s `progress`), and `options` the entry's
schema options, checked and completed by `attack_options`. Metadata read by the workflows:

- `training_spec` (callable `(options, clip, seed) -> spec`): the in-graph
  `astrokeras.training.FGSM` / `PGD` that adversarial training runs; only attacks that have it
  can be trained against.
- `complete` (callable `options -> options`): defaults that depend on other options (PGD's
  step, eps / 4).
- `check` (callable `options -> None or (message, keys)`): a check across options (PGD's
  step <= eps); the message is completed with the flags of `keys`.
- `photoz` (bool): the attack applies to photo-z networks in `run_evaluation` (Campagne 2021
  attacks them with FGSM and PGD).
- `label` (callable `options -> str`): how reports name the attacked data ("FGSM eps=0.01").

Adding an attack is one module defining such a factory plus one `ATTACKS.register` call.

Example:

>>> from astrokeras.experiments import ATTACKS
>>> ATTACKS.names()
('fgsm', 'pgd', 'one-pixel')
>>> attack_options("pgd", {"eps": 0.02})[1]
{'eps': 0.02, 'norm': 'inf', 'clip': None, 'step': 0.005, 'steps': 10, 'random_start': True}
"""

import dataclasses

from astrokeras.errors import InvalidArgumentError
from astrokeras.experiments.registry import ATTACKS, REQUIRED

NUMBER = (int, float)


class Bound:
    """A schema check `value >= low` (or `> low`) that can say what it expects in a message.

    Args:
        low: the bound.
        strict: `value > low` instead of `value >= low`.
    """

    def __init__(self, low, strict=False):
        self.low = low
        self.strict = strict

    def __call__(self, value):
        return value > self.low if self.strict else value >= self.low

    def __str__(self):
        return f"{'>' if self.strict else '>='} {self.low}"


def _clip_pair(value):
    return len(value) == 2 and all(isinstance(v, NUMBER) for v in value) and value[0] < value[1]


GRADIENT_SCHEMA = {
    "eps": (NUMBER, REQUIRED, Bound(0)),
    "norm": (str, "inf", ("inf", "2")),
    "clip": ((tuple, list), None, _clip_pair),
}

PGD_SCHEMA = dict(GRADIENT_SCHEMA, **{
    "step": (NUMBER, None, Bound(0, strict=True)),
    "steps": (int, 10, Bound(1)),
    "random_start": (bool, True, None),
})

ONE_PIXEL_SCHEMA = {
    "pixels": (int, 1, Bound(1)),
    "popsize": (int, 400, Bound(4)),
    "max_iter": (int, 80, Bound(0)),
    "strategy": (str, "rand1", ("rand1", "best1")),
    "init": (str, "normal", ("normal", "uniform")),
    # the range of the new pixel values; None: each band's minimum and maximum over the images
    "bounds": ((tuple, list), None, _clip_pair),
}


@dataclasses.dataclass
class AttackOutcome:
    """What an attack in `ATTACKS` returns.

    Attributes:
        adversarial: the adversarial images, float32 `(n, height, width, bands)` (for a
            photo-z network only the image input; the other inputs are unchanged).
        success: bool `(n,)` whether each attack flipped the decision (or reached the target),
            where the attack decides it itself; None to judge from the model's predictions.
        summary: further summary numbers (e.g. the one-pixel generations), JSON-ready.
        arrays: further per-image arrays saved beside the adversarial images.
        result: the attack's own result object (e.g. a `OnePixelResult`), or None.
    """

    adversarial: object
    success: object = None
    summary: dict = dataclasses.field(default_factory=dict)
    arrays: dict = dataclasses.field(default_factory=dict)
    result: object = None


def attack_options(name, given, flags=None, chosen_by=None):
    """The entry of attack `name` and its complete options: `given`, checked, plus defaults.

    Args:
        name: a name in `ATTACKS`.
        given: `{option: value}` chosen by the user (None values count as not given; text
            values of options that are not text, as typed on a command line, are converted).
        flags: optional `{option: "--flag"}` naming the command-line option of each key, so
            messages name what the user typed.
        chosen_by: the command-line option that chose the attack (e.g. "--method"), for
            messages.

    Returns:
        `(entry, options)`.

    Raises:
        ConfigError: `name` is not registered.
        InvalidArgumentError: an option the attack does not take, of the wrong type, out of
            range, or a required option missing.
    """
    entry = ATTACKS.get(name)
    flags = flags or {}
    given = {key: value for key, value in dict(given or {}).items() if value is not None}
    where = f"{chosen_by} {name}" if chosen_by else f"attack {name!r}"
    unknown = sorted(set(given) - set(entry.schema))
    if unknown:
        shown = [flags.get(key, key) for key in unknown]
        verb = "does" if len(shown) == 1 else "do"
        raise InvalidArgumentError(f"{', '.join(shown)} {verb} not apply to {where}.", shown,
                                   ", ".join(flags.get(k, k) for k in entry.schema) or "none")
    options = {}
    for key, (types, default, check) in entry.schema.items():
        types = types if isinstance(types, tuple) else (types,)
        given_by = f" ({flags[key]})" if key in flags else ""
        if key not in given:
            if default is REQUIRED:
                raise InvalidArgumentError(f"{flags.get(key, f'`{key}`')} is required for "
                                           f"{where}.", None, f"a value for {key}")
            options[key] = entry.defaults.get(key)
            continue
        value = given[key]
        if isinstance(value, str) and str not in types:
            value = _from_text(value, types)
        if not isinstance(value, types) or isinstance(value, bool) and bool not in types:
            expected = " or ".join(t.__name__ for t in types)
            raise InvalidArgumentError(f"`{key}`{given_by} must be of type {expected}.", value,
                                       expected)
        if isinstance(check, tuple) and value not in check:
            raise InvalidArgumentError(f"Unknown `{key}`{given_by}.", value,
                                       ", ".join(map(str, check)))
        if callable(check) and not check(value):
            expected = str(check) if isinstance(check, Bound) else "a valid value"
            raise InvalidArgumentError(f"`{key}` must be {expected}{given_by}.", value, expected)
        options[key] = value
    complete, check = entry.metadata.get("complete"), entry.metadata.get("check")
    options = complete(options) if complete else options
    problem = check(options) if check else None
    if problem:
        names = ", ".join(flags[k] for k in problem[1] if k in flags)
        raise InvalidArgumentError(problem[0] + (f" ({names})." if names else "."),
                                   {k: options[k] for k in problem[1]})
    return entry, options


def _from_text(text, types):
    """`text` (a value typed on the command line) as the first of `types` that reads it."""
    for kind in types:
        if kind is bool and text.lower() in ("true", "false"):
            return text.lower() == "true"
        if kind in (int, float):
            try:
                return kind(text)
            except ValueError:
                continue
    return text


def _norm(norm):
    return 2 if norm in (2, "2") else "inf"


def _image(adversarial):
    return adversarial["image"] if isinstance(adversarial, dict) else adversarial


def _count(x):
    return len(x["image"] if isinstance(x, dict) else x)


def _gradient_attack(function, model, x, y, target, batch_size, callback, **kwargs):
    """Runs `attacks.fgsm` or `attacks.pgd` against `target` (targeted) or `y`."""
    count = _count(x)
    if callback is not None:
        callback("images", 0, count)
    got = function(model, x, y if target is None else target, targeted=target is not None,
                   batch_size=batch_size, **kwargs)
    if callback is not None:
        callback("images", count, count)
    return AttackOutcome(adversarial=_image(got))


def fgsm(model, x, y=None, *, target=None, batch_size=None, seed=0, callback=None, eps,
         norm="inf", clip=None):
    """FGSM (Goodfellow et al. 2015) through `astrokeras.attacks.fgsm`; `seed` is unused."""
    from astrokeras import attacks

    return _gradient_attack(attacks.fgsm, model, x, y, target, batch_size, callback, eps=eps,
                            norm=_norm(norm), clip=None if clip is None else tuple(clip))


def pgd(model, x, y=None, *, target=None, batch_size=None, seed=0, callback=None, eps,
        norm="inf", clip=None, step=None, steps=10, random_start=True):
    """PGD (Madry et al. 2018) through `astrokeras.attacks.pgd`; `step` defaults to eps / 4."""
    from astrokeras import attacks

    return _gradient_attack(attacks.pgd, model, x, y, target, batch_size, callback, eps=eps,
                            norm=_norm(norm), clip=None if clip is None else tuple(clip),
                            step=_step({"eps": eps, "step": step}), steps=steps,
                            random_start=random_start, seed=seed)


def one_pixel(model, x, y=None, *, target=None, batch_size=None, seed=0, callback=None,
              pixels=1, popsize=400, max_iter=80, strategy="rand1", init="normal", bounds=None):
    """The one-pixel attack (Su et al. 2019) through `astrokeras.attacks.one_pixel`."""
    from astrokeras import attacks

    count = _count(x)
    report = None
    if callback is not None:
        def report(generation, succeeded):
            callback(f"generation {generation}/{max_iter}, {succeeded}/{count} succeeded",
                     generation + 1, max_iter + 1)
    result = attacks.one_pixel(model, x, y, target=target, pixels=pixels, popsize=popsize,
                               max_iter=max_iter, seed=seed, batch_size=batch_size,
                               callback=report, strategy=strategy, init=init,
                               bounds=None if bounds is None else tuple(bounds))
    summary = {k: v for k, v in result.summary().items() if k.endswith("generations")}
    return AttackOutcome(
        adversarial=result.adversarial, success=result.success, summary=summary,
        arrays={"success": result.success, "generations": result.generations,
                "pixels": result.pixels, "values": result.values}, result=result)


def _step(options):
    """PGD's step: eps / 4 unless given."""
    return options["eps"] / 4 if options.get("step") is None else options["step"]


def _pgd_complete(options):
    return dict(options, step=_step(options))


def _pgd_check(options):
    if options["step"] > options["eps"]:
        return "`step` must not exceed `eps`", ("step", "eps")
    return None


def fgsm_training_spec(options, clip, seed):
    """The in-graph FGSM of adversarial training for these options."""
    from astrokeras import training

    return training.FGSM(eps=options["eps"], norm=_norm(options.get("norm", "inf")), clip=clip)


def pgd_training_spec(options, clip, seed):
    """The in-graph PGD of adversarial training for these options (step: eps / 4 if None)."""
    from astrokeras import training

    return training.PGD(eps=options["eps"], step=_step(options), steps=options.get("steps", 10),
                        norm=_norm(options.get("norm", "inf")),
                        random_start=options.get("random_start", True), clip=clip, seed=seed)


def _label(name):
    def label(options):
        return f"{name} eps={options['eps']:g}"
    return label


ATTACKS.register("fgsm", fgsm, schema=GRADIENT_SCHEMA,
                 description="fast gradient sign method (Goodfellow et al. 2015)",
                 training_spec=fgsm_training_spec, photoz=True, label=_label("FGSM"))
ATTACKS.register("pgd", pgd, schema=PGD_SCHEMA,
                 description="projected gradient descent (Madry et al. 2018)",
                 training_spec=pgd_training_spec, photoz=True, label=_label("PGD"),
                 complete=_pgd_complete, check=_pgd_check)
ATTACKS.register("one-pixel", one_pixel, schema=ONE_PIXEL_SCHEMA,
                 description="one-pixel differential evolution (Su et al. 2019)")
