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
