"""Stage D, alerts: merged window scores, re-keyed by (agency, service, domain), fold into a
rolling 15-minute state per key; crossings of the threshold go to cx.alerts.v1."""

from __future__ import annotations

import json
import time
from typing import Any

import faust

from cxstream.config import Settings
from cxstream.logs import get_logger
from cxstream.schemas.codec import Codec
from cxstream.schemas.records import Alert
from cxstream.scores import AnswerCounts
from cxstream.streams.alerting import AlertRule, AlertState, apply_score
from cxstream.streams.acking import ConfirmedAcks, consume
from cxstream.streams.app import Topics, table_options
from cxstream.streams.metrics import METRICS
from cxstream.streams.table_views import TableView

log = get_logger(__name__)


def _state_to_json(state: AlertState) -> dict[str, Any]:
    return {"cells": [[w, ch, v, *c.as_tuple()] for (w, ch), (v, c) in state.cells.items()], "firing": state.firing}


def _state_from_json(raw: dict[str, Any]) -> AlertState:
    return AlertState({(c[0], c[1]): (c[2], AnswerCounts(*c[3:8])) for c in raw["cells"]}, raw["firing"])


def alert_input(window_start: int, agency: str, service: str, channel: str, domain: str, version: int,
                counts: AnswerCounts) -> tuple[bytes, bytes]:
    """(key, value) of one merged score for the alert stage, keyed by (agency, service, domain)."""
    key = json.dumps([agency, service, domain]).encode()
    value = json.dumps({"window_start": window_start, "channel": channel, "version": version,
                        "counts": list(counts.as_tuple())}).encode()
    return key, value


class AlertStage:
    """Wires the rolling alert logic to a Faust table and the alerts topic."""

    def __init__(self, app: faust.App, settings: Settings, topics: Topics, codec: Codec, acks: ConfirmedAcks) -> None:
        self.acks = acks
        self.topics = topics
        self.codec = codec
        self.rule = AlertRule(float(settings.alert_threshold_pct), settings.alert_min_responses)
        self.table = app.Table("alert-state", partitions=topics.partitions, options=table_options(settings))
        self.states = TableView(self.table, _state_to_json, _state_from_json)
        acks.register("alert", topics.alert_input)
        app.agent(topics.alert_input, name="cxstream.alert")(self.run)

    async def run(self, stream: Any) -> None:
        await consume(stream, self.acks, self._handle, "alert")

    async def _handle(self, message: Any) -> None:
        key = message.key.decode()
        update = json.loads(message.value)
        state = self.states.get(key) or AlertState()
        transition = apply_score(state, update["window_start"], update["channel"], update["version"],
                                 AnswerCounts(*update["counts"]), self.rule)
        self.states[key] = state
        if transition is None:
            return
        agency, service, domain = json.loads(key)
        alert = Alert(agency=agency, service=service, domain=domain, state=transition.state,
                      pct_positive=transition.counts.pct_positive, responses=transition.counts.responses,
                      threshold=self.rule.threshold_pct, min_responses=self.rule.min_responses,
                      window_end=transition.window_end, raised_at=int(time.time() * 1000))
        METRICS.alerts[transition.state] += 1
        log.warning("alert.raised", agency=agency, service=service, domain=domain, state=transition.state,
                    pct_positive=round(alert.pct_positive, 1), responses=alert.responses)
        await self.topics.alerts.send(key=message.key, value=self.codec.encode("Alert", alert.to_avro()))
