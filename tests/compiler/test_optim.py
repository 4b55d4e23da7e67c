"""Learning-rate schedules and optimizers from the `train:` section."""

from __future__ import annotations

import keras
import pytest

from compiler.optim import learning_rate, make_optimizer
from netspec.ir import OptimizerConfig, ScheduleConfig

pytestmark = pytest.mark.keras


def test_step_schedule_multiplies_by_gamma_at_each_boundary() -> None:
    schedule = ScheduleConfig(name="step", at=(60, 120, 160), gamma=0.2)
    rates = [learning_rate(0.1, schedule, epoch, 200) for epoch in (0, 59.9, 60, 120, 199)]
    assert rates == pytest.approx([0.1, 0.1, 0.02, 0.004, 0.0008])


def test_warmup_rises_linearly_then_hands_over() -> None:
    schedule = ScheduleConfig(name="step", at=(60,), gamma=0.2, warmup=1)
    assert learning_rate(0.1, schedule, 0.5, 200) == pytest.approx(0.05, rel=1e-2)
    assert learning_rate(0.1, schedule, 0.0, 200) < 0.001
    assert learning_rate(0.1, schedule, 1.0, 200) == pytest.approx(0.1)


def test_cosine_decays_from_base_to_zero() -> None:
    schedule = ScheduleConfig(name="cosine")
    assert learning_rate(0.1, schedule, 0, 10) == pytest.approx(0.1)
    assert learning_rate(0.1, schedule, 5, 10) == pytest.approx(0.05)
    assert learning_rate(0.1, schedule, 10, 10) == pytest.approx(0.0)


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("sgd", keras.optimizers.SGD),
        ("adam", keras.optimizers.Adam),
        ("adamw", keras.optimizers.AdamW),
        ("rmsprop", keras.optimizers.RMSprop),
    ],
)
def test_each_optimizer_name_builds_its_keras_optimizer(name: str, kind: type) -> None:
    optimizer = make_optimizer(OptimizerConfig(name=name, lr=0.01), 0.01, 5e-4)
    assert isinstance(optimizer, kind)
    assert optimizer.weight_decay == pytest.approx(5e-4)


def test_sgd_keeps_momentum_and_nesterov() -> None:
    optimizer = make_optimizer(OptimizerConfig(name="sgd", momentum=0.9, nesterov=True), 0.1, 0)
    assert optimizer.momentum == pytest.approx(0.9) and optimizer.nesterov
    assert optimizer.weight_decay is None


def test_poly_schedule_is_caffes() -> None:
    schedule = ScheduleConfig(name="poly", power=0.5)
    assert learning_rate(0.01, schedule, 0, 60) == pytest.approx(0.01)
    assert learning_rate(0.01, schedule, 45, 60) == pytest.approx(0.01 * 0.25**0.5)
    assert learning_rate(0.01, schedule, 60, 60) == 0


def decayed(weight_decay: float | None) -> list[float]:
    """A weight after one AdamW step with a zero gradient: Adam's own update is zero, so
    whatever changed it is the decay."""
    optimizer = make_optimizer(OptimizerConfig(name="adamw", lr=0.5), 0.5, weight_decay)
    weight = keras.Variable([1.0, -2.0], name="kernel")
    optimizer.apply([keras.ops.zeros((2,))], [weight])
    return [float(v) for v in keras.ops.convert_to_numpy(weight)]


def test_weight_decay_0_turns_adamws_decay_off() -> None:
    assert decayed(0.0) == [1.0, -2.0]


def test_without_a_weight_decay_line_adamw_keeps_its_own_default() -> None:
    # Keras' AdamW default, 0.004: w -= lr * 0.004 * w.
    assert decayed(None) == pytest.approx([1.0 - 0.5 * 0.004, -2.0 + 2 * 0.5 * 0.004])


def test_weight_decay_0_in_the_spec_reaches_the_optimizer() -> None:
    from netspec.api import compile_text

    spec = "network t\ninput 8x8x1\nclasses 2\ngap\ndense classes\ntrain:\n"
    config = compile_text(spec + "  optimizer adamw lr=0.001\n  weight_decay 0\n").train
    assert config.weight_decay == 0
    assert make_optimizer(config.optimizer, 0.001, config.weight_decay).weight_decay == 0
    assert compile_text(spec + "  optimizer adamw lr=0.001\n").train.weight_decay is None
