"""The `defaults:` and `train:` blocks: settings lines checked by name."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, TypeVar, get_args

from pydantic import BaseModel, ValidationError

from netspec.diagnostics import Diagnostic
from netspec.ir import (
    AugmentConfig,
    DatasetConfig,
    OptimizerConfig,
    ScheduleConfig,
    TrainConfig,
)
from netspec.ir.training import FILE_DATASETS, DatasetName
from netspec.lowering.layers import Defaults, read_options, with_attributes
from netspec.lowering.values import (
    LARGEST_SIZE,
    Invalid,
    Resolver,
    span_of,
    unknown_option,
    with_suggestion,
)
from netspec.lowering.words import defaults_options
from netspec.syntax import ast

DATASETS = get_args(DatasetName)
ConfigModel = TypeVar("ConfigModel", bound=BaseModel)
SCHEDULES = ("constant", "step", "cosine", "poly")
AUGMENTS = ("crop", "flip", "inception_crop", "distort")
DEFAULTS_KEYS = ("conv", "pool", "bn", "dense", "lrn")
TRAIN_KEYS = (
    "dataset", "epochs", "batch", "optimizer", "schedule", "weight_decay", "augment",
    "label_smoothing", "resize", "eval_crop", "seed",
)  # fmt: skip


def apply_defaults(line: ast.SettingLine, defaults: Defaults, resolver: Resolver) -> Defaults:
    """One `defaults:` line: its options are those of the layer words it sets."""
    if line.key not in DEFAULTS_KEYS:
        raise resolver.fail(
            "unknown-setting",
            f"no defaults for '{line.key}'",
            line.pos,
            hint=with_suggestion(
                line.key, DEFAULTS_KEYS, "defaults can be set for conv, pool, bn, dense and lrn"
            ),
        )
    options = _options_only(line, resolver)
    values = read_options(options, defaults_options(line.key), resolver, line.key)
    if line.key == "conv":
        return replace(defaults, conv=with_attributes(defaults.conv, values))
    if line.key == "pool":
        return replace(defaults, pool_padding=values.get("padding", defaults.pool_padding))
    if line.key == "bn":
        return replace(defaults, batch_norm=defaults.batch_norm.model_copy(update=values))
    if line.key == "dense":
        return replace(defaults, dense=with_attributes(defaults.dense, values))
    return replace(defaults, lrn={**defaults.lrn, **values})


def _options_only(line: ast.SettingLine, resolver: Resolver) -> tuple[ast.Option, ...]:
    for word in line.words:
        if not isinstance(word, ast.Option):
            raise resolver.fail(
                "invalid-value", f"'{line.key}' takes options, not values", word.pos
            )
    return tuple(word for word in line.words if isinstance(word, ast.Option))


def _single_number(line: ast.SettingLine, resolver: Resolver) -> int | float:
    if len(line.words) != 1 or not isinstance(line.words[0], ast.Number):
        raise resolver.fail(
            "invalid-value",
            f"'{line.key}' takes one number, like `{line.key} {_EXAMPLES.get(line.key, '1')}`",
            line.pos,
        )
    return resolver.number(line.words[0])


_EXAMPLES = {
    "epochs": "200",
    "batch": "128",
    "weight_decay": "5e-4",
    "label_smoothing": "0.1",
    "resize": "224",
    "eval_crop": "0.875",
    "seed": "0",
}


def _named_options(
    line: ast.SettingLine, resolver: Resolver, allowed: dict[str, str]
) -> tuple[str, dict[str, Any], ast.Option]:
    """`optimizer sgd lr=0.1 nesterov`: the first flag picks the kind, the rest are its options.

    `allowed` maps option names to how they are read: number, flag, or list.
    """
    options = _options_only(line, resolver)
    if not options or options[0].values:
        raise resolver.fail(
            "invalid-value",
            f"'{line.key}' needs a kind first, like `{line.key} {_KIND_EXAMPLES[line.key]}`",
            line.pos,
        )
    kind, *rest = options
    values: dict[str, Any] = {}
    for option in rest:
        reader = allowed.get(option.name)
        if reader == "flag" and not option.values:
            values[option.name] = True
        elif reader == "number":
            values[option.name] = resolver.number(resolver.single(option))
        elif reader == "list" and option.values:
            values[option.name] = tuple(resolver.number(v) for v in option.values)
        else:
            raise unknown_option(resolver, option, line.key, list(allowed))
    return kind.name, values, kind


_KIND_EXAMPLES = {
    "optimizer": "sgd lr=0.1",
    "schedule": "step at=60,120 gamma=0.2",
    "dataset": "cifar100",
}


def train_config(
    block: ast.SettingsBlock, resolver: Resolver
) -> tuple[TrainConfig, list[Diagnostic]]:
    """Build the training recipe; each bad line is reported at its own position."""
    settings: dict[str, Any] = {}
    problems: list[Diagnostic] = []
    for line in block.lines:
        try:
            settings[line.key] = _train_setting(line, resolver)
        except Invalid as problem:
            problems.append(problem.diagnostic)
    augment = settings.get("augment", AugmentConfig())
    if augment.inception_crop and "eval_crop" not in settings:
        settings["eval_crop"] = INCEPTION_EVAL_CROP
    return TrainConfig(**settings), problems


# Evaluate a random-resized-crop network on the centre 87.5% (224 of 256 pixels), as
# the Inception and ResNet reproductions do, unless the spec says otherwise.
INCEPTION_EVAL_CROP = 0.875


def _validated(
    model: type[ConfigModel], line: ast.SettingLine, resolver: Resolver, **values: Any
) -> ConfigModel:
    try:
        return model(**values)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or line.key
        raise resolver.fail(
            "invalid-value", f"{line.key}: {field} {first['msg'].lower()}", line.pos
        ) from None


def _train_setting(line: ast.SettingLine, resolver: Resolver) -> Any:
    key = line.key
    if key == "dataset":
        return _dataset(line, resolver)
    if key == "optimizer":
        name, values, kind = _named_options(
            line, resolver, {"lr": "number", "momentum": "number", "nesterov": "flag"}
        )
        if name not in ("sgd", "adam", "adamw", "rmsprop"):
            raise unknown_option(resolver, kind, "optimizer", ["sgd", "adam", "adamw", "rmsprop"])
        return _validated(OptimizerConfig, line, resolver, name=name, **values)
    if key == "schedule":
        name, values, kind = _named_options(
            line,
            resolver,
            {"at": "list", "gamma": "number", "warmup": "number", "power": "number"},
        )
        if name not in SCHEDULES:
            raise unknown_option(resolver, kind, "schedule", list(SCHEDULES))
        return _validated(ScheduleConfig, line, resolver, name=name, **values)
    if key == "augment":
        return _augment(line, resolver)
    if key in ("epochs", "batch", "weight_decay", "label_smoothing", "seed", "eval_crop"):
        value = _single_number(line, resolver)
        return getattr(_validated(TrainConfig, line, resolver, **{key: value}), key)
    if key == "resize":
        size = _single_number(line, resolver)
        if (isinstance(size, float) and not size.is_integer()) or not 1 <= size <= LARGEST_SIZE:
            raise resolver.fail(
                "invalid-value", "resize takes a size in pixels, like `resize 224`", line.pos
            )
        return (int(size), int(size))
    raise resolver.fail(
        "unknown-setting",
        f"unknown training setting '{key}'",
        line.pos,
        hint=with_suggestion(key, TRAIN_KEYS, "settings: " + ", ".join(TRAIN_KEYS)),
    )


def _augment(line: ast.SettingLine, resolver: Resolver) -> AugmentConfig:
    values: dict[str, Any] = {}
    for option in _options_only(line, resolver):
        if option.name == "crop":
            values["crop"] = resolver.number(resolver.single(option))
        elif option.name in AUGMENTS:
            values[option.name] = resolver.boolean(option)
        else:
            raise unknown_option(resolver, option, "augment", list(AUGMENTS))
    if values.get("inception_crop") and values.get("crop"):
        raise resolver.fail(
            "invalid-value",
            "augment: inception_crop and crop=N both crop; use one",
            line.pos,
            hint="inception_crop for ImageNet-sized images, crop=N for small ones (CIFAR)",
        )
    return _validated(AugmentConfig, line, resolver, **values)


_EXAMPLE_PATHS = {"folder": "images/", "tfrecord": "shards/"}


def _dataset(line: ast.SettingLine, resolver: Resolver) -> DatasetConfig:
    span = span_of(line.pos)
    words = line.words
    first = words[0] if words else None
    if not isinstance(first, ast.Option) or first.values or first.name not in DATASETS:
        listing = "datasets: " + ", ".join(DATASETS) + " (folder and tfrecord take a path: "
        listing += '`dataset folder "images/"`, `dataset tfrecord "shards/"`)'
        if isinstance(first, ast.Option):
            raise resolver.fail(
                "unknown-dataset",
                f"unknown dataset '{first.name}'",
                first.pos,
                hint=with_suggestion(first.name, DATASETS, listing),
            )
        where = first.pos if first else line.pos
        raise resolver.fail("unknown-dataset", "unknown dataset", where, hint=listing)
    if first.name in FILE_DATASETS:
        if len(words) != 2 or not isinstance(words[1], ast.Text):
            raise resolver.fail(
                "invalid-value",
                f"a {first.name} dataset needs a quoted path: "
                f'`dataset {first.name} "{_EXAMPLE_PATHS[first.name]}"`',
                first.pos,
            )
        return DatasetConfig(name=first.name, path=words[1].value, span=span)
    if len(words) != 1:
        raise resolver.fail(
            "invalid-value", f"dataset {first.name} takes nothing more", words[1].pos
        )
    return DatasetConfig(name=first.name, span=span)
