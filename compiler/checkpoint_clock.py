"""When to save inside an epoch: every N steps or every N seconds, at once on SIGTERM, and
the same decision on every worker (a save is a collective operation under multi-worker)."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FrameType

import tensorflow as tf

from compiler.distribute import is_multi_worker
from compiler.session import CheckpointEvery


@dataclass
class CheckpointClock:
    every: CheckpointEvery
    last_save: float = field(default_factory=time.monotonic)

    def steps_until_due(self, optimizer_steps: int) -> int | None:
        """How many steps a chunk may run before a step-counted save; None: time-counted."""
        if self.every.steps is None:
            return None
        return self.every.steps - optimizer_steps % self.every.steps

    def due(self, optimizer_steps: int) -> bool:
        if self.every.steps is not None:
            return optimizer_steps % self.every.steps == 0
        return time.monotonic() - self.last_save >= self.every.seconds

    def saved(self) -> None:
        self.last_save = time.monotonic()


@dataclass
class Termination:
    """Set by SIGTERM, what schedulers send before they kill; the loop saves and stops."""

    requested: bool = False

    def request(self, signum: int, frame: FrameType | None) -> None:
        self.requested = True


@contextmanager
def catching_sigterm() -> Iterator[Termination]:
    termination = Termination()
    previous = signal.signal(signal.SIGTERM, termination.request)
    try:
        yield termination
    finally:
        signal.signal(signal.SIGTERM, previous)


def agree(strategy: tf.distribute.Strategy, save: bool, stop: bool) -> tuple[bool, bool]:
    """(save, stop) for every worker: true on all when true on any. Within one process the
    local answer is everyone's, so only multi-worker runs pay for the collective."""
    if not is_multi_worker(strategy):
        return save, stop
    flags = tf.constant([int(save), int(stop)], dtype=tf.int32)
    # ReduceOp offers SUM and MEAN only: a sum above zero means someone said yes.
    votes = strategy.reduce(
        tf.distribute.ReduceOp.SUM, strategy.run(lambda: tf.identity(flags)), axis=None
    )
    return bool(votes[0] > 0), bool(votes[1] > 0)
