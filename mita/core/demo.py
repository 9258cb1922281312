"""The demo deployment is built in steps that apps contribute; later modules add theirs."""

import dataclasses
import random
from collections.abc import Callable
from typing import Any


@dataclasses.dataclass
class DemoContext:
    """What the steps share: a seeded random source, the objects made so far, and the users to publish."""

    accounts: int
    password: str
    rng: random.Random
    objects: dict[str, Any] = dataclasses.field(default_factory=dict)
    users: list[dict[str, str]] = dataclasses.field(default_factory=list)
    log: Callable[[str], None] = print


@dataclasses.dataclass(frozen=True)
class DemoStep:
    order: int
    name: str
    run: Callable[[DemoContext], None]


_steps: dict[str, DemoStep] = {}


def register_demo_step(order: int, name: str, run: Callable[[DemoContext], None]) -> None:
    _steps[name] = DemoStep(order=order, name=name, run=run)


def demo_steps() -> list[DemoStep]:
    return sorted(_steps.values(), key=lambda step: (step.order, step.name))
