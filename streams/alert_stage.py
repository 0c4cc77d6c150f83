"""Stage D, alerts: merged window scores, re-keyed by (agency, service), fold into a rolling
15-minute state per (agency, service, domain); crossings of the threshold go to cx.alerts.v1.

One input record carries a window cell's merged counts of every domain (a record per domain
cost ~3 records and 3 state writes per cell update), and one table value holds the rolling
states of every domain of an (agency, service).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from cxstream.config import Settings
from cxstream.logs import get_logger
from cxstream.schemas.codec import Codec
from cxstream.schemas.records import Alert
from cxstream.scores import AnswerCounts
from cxstream.streams.alerting import AlertRule, AlertState, apply_score, is_newer
from cxstream.streams.app import Topics
from cxstream.streams.metrics import METRICS
from cxstream.streams.scoring import MergedScore, domain_counts_to_json
from cxstream.streams.stage import Clock, Stage, Tables, wall_clock_ms
from cxstream.streams.table_views import CachedTableView

log = get_logger(__name__)

#: Named after the layout of its values (see score_stage.CELL_TABLE).
ALERT_TABLE = "alert-states"
RETIRED_ALERT_TABLE = "alert-state"


def _state_to_json(state: AlertState) -> dict[str, Any]:
    return {"cells": [[w, ch, v, c.count_1, c.count_2, c.count_3, c.count_4, c.count_5]
                      for (w, ch), (v, c) in state.cells.items()], "firing": state.firing}


def _state_from_json(raw: dict[str, Any]) -> AlertState:
    return AlertState({(w, ch): (v, AnswerCounts(c1, c2, c3, c4, c5)) for w, ch, v, c1, c2, c3, c4, c5 in raw["cells"]},
                      raw["firing"])


def _states_to_json(states: dict[str, AlertState]) -> dict[str, Any]:
    return {domain: _state_to_json(state) for domain, state in states.items()}


def _states_from_json(raw: dict[str, Any]) -> dict[str, AlertState]:
    return {domain: _state_from_json(state) for domain, state in raw.items()}


#: Alerts on the current form's trust question are per scale, under these names (beside the domains).
V2_TRUST_ALERT = "v2_trust_"


def alert_measures(merged: MergedScore) -> dict[str, AnswerCounts]:
    """What a merged window cell gives the rolling alerts: each domain's answers, and each trust
    scale's answers in a form where 4-5 means favourable (thumbs down as 1, thumbs up as 5), so
    the same rule (pct_positive below the threshold with min-n responses) judges them."""
    return {**merged.counts, **{V2_TRUST_ALERT + scale: trust.as_answer_counts(scale)
                                for scale, trust in merged.trust.items()}}


def alert_input(window_start: int, agency: str, service: str, channel: str, version: int,
                counts: Mapping[str, AnswerCounts]) -> tuple[bytes, bytes]:
    """(key, value) of one merged window cell (counts per domain) for the alert stage, keyed by
    (agency, service)."""
    key = json.dumps([agency, service]).encode()
    value = json.dumps({"window_start": window_start, "channel": channel, "version": version,
                        "counts": domain_counts_to_json(counts)}).encode()
    return key, value


class AlertStage(Stage):
    """Wires the rolling alert logic to its table and the alerts topic."""

    name = "alert"
    table_names = (ALERT_TABLE,)

    def __init__(self, settings: Settings, topics: Topics, codec: Codec, tables: Tables,
                 clock: Clock = wall_clock_ms) -> None:
        self.topics = topics
        self.codec = codec
        self.clock = clock
        self.rule = AlertRule(float(settings.alert_threshold_pct), settings.alert_min_responses)
        self.table = tables[ALERT_TABLE]
        # Only this view reads and writes the table: it keeps the decoded states (see CachedTableView).
        self.states = CachedTableView(self.table, _states_to_json, _states_from_json)

    def sources(self) -> tuple[str, ...]:
        return (self.topics.alert_input.get_topic_name(),)

    def on_assigned(self, partitions: set[int]) -> None:
        self.states.forget()  # another worker may have changed the states of these partitions

    async def handle(self, message: Any) -> None:
        agency, service = json.loads(message.key)
        update = json.loads(message.value)
        window_start, channel, version = update["window_start"], update["channel"], update["version"]
        states = self.states.get(message.key.decode()) or {}
        transitions = []
        changed = False
        for domain, raw_counts in sorted(update["counts"].items()):
            state = states.setdefault(domain, AlertState())
            if not is_newer(state, window_start, channel, version):
                continue  # a replay or an older update: nothing to change, nothing to raise
            changed = True
            transition = apply_score(state, window_start, channel, version, AnswerCounts(*raw_counts), self.rule)
            if transition is not None:
                transitions.append((domain, transition))
        if changed:
            self.states[message.key.decode()] = states
        for domain, transition in transitions:
            alert = Alert(agency=agency, service=service, domain=domain, state=transition.state,
                          pct_positive=transition.counts.pct_positive, responses=transition.counts.responses,
                          threshold=self.rule.threshold_pct, min_responses=self.rule.min_responses,
                          window_end=transition.window_end, raised_at=self.clock())
            METRICS.alerts[transition.state] += 1
            log.warning("alert.raised", agency=agency, service=service, domain=domain, state=transition.state,
                        pct_positive=round(alert.pct_positive, 1), responses=alert.responses)
            await self.topics.alerts.send(key=json.dumps([agency, service, domain]).encode(),
                                          value=self.codec.encode("Alert", alert.to_avro()))
