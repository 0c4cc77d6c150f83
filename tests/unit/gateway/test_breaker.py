"""The outage breaker: refuse at once after a failure, then one probe at a time until Kafka answers."""

from __future__ import annotations

from cxstream.gateway.delivery import Breaker


class Clock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


def test_closed_until_a_failure_then_open_for_the_cooldown() -> None:
    clock = Clock()
    breaker = Breaker(cooldown=2.0, probe_timeout=10.0, clock=clock)

    before = breaker.admit()
    breaker.failed()
    clock.now += 0.5
    during = breaker.admit()

    assert before == 0.0
    assert during == 1.5


def test_after_the_cooldown_one_probe_goes_and_the_others_wait_for_its_answer() -> None:
    clock = Clock()
    breaker = Breaker(cooldown=2.0, probe_timeout=10.0, clock=clock)
    breaker.failed()
    clock.now += 2.0

    probe, other = breaker.admit(), breaker.admit()
    breaker.succeeded()

    assert probe == 0.0 and other == 2.0
    assert breaker.admit() == 0.0


def test_a_failed_probe_opens_again_and_a_lost_probe_is_replaced() -> None:
    clock = Clock()
    breaker = Breaker(cooldown=2.0, probe_timeout=10.0, clock=clock)
    breaker.failed()
    clock.now += 2.0
    breaker.admit()
    breaker.failed()
    reopened = breaker.admit()
    clock.now += 2.0
    breaker.admit()  # a probe whose request never comes back
    clock.now += 10.0

    assert reopened == 2.0
    assert breaker.admit() == 0.0
