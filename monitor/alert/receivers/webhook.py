"""The webhook receiver: POSTs a group as Alertmanager-style JSON, which chat bridges and incident tools read.

The body has Alertmanager's webhook fields (`version`, `groupKey`, `status`, `receiver`,
`groupLabels`, `commonLabels`, `commonAnnotations`, `alerts[]` with `status`, `labels`,
`annotations`, `startsAt`, `endsAt`, `fingerprint`) and, per alert, the monitor's own: `value`,
`threshold`, `window`, `article`, `trend`, `examples` (with links) and `silenceCommand`.
Options: `url` (http or https), `timeout_s`. A 2xx answer delivers; 408, 429, 5xx and network
errors are retried through the outbox; any other answer is a permanent failure; a timeout after the
request went out is `uncertain`. Redirects are not followed: configure the final URL.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, ClassVar, Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from monitor.alert.content import safe_url
from monitor.alert.receiver import Delivery, DeliveryError, options_error

if TYPE_CHECKING:
    import httpx

    from monitor.alert.content import AlertView, Group
    from monitor.config import Config

__all__ = ["WebhookReceiver", "alertmanager_body"]

_ZERO_TIME = "0001-01-01T00:00:00Z"  # Alertmanager's endsAt of an alert still firing


class _Options(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str
    timeout_s: float = Field(10.0, gt=0, le=300)

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        if not safe_url(value):
            raise ValueError(f"expected an http:// or https:// URL, got {value!r}")
        return value


def _time(value: datetime | None) -> str:
    if value is None:
        return _ZERO_TIME
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _alert(view: AlertView) -> dict[str, Any]:
    return {
        "status": view.status, "labels": view.labels, "annotations": view.annotations,
        "startsAt": _time(view.starts_at), "endsAt": _time(view.ends_at), "generatorURL": "",
        "fingerprint": view.fingerprint, "value": view.value, "metric": view.metric,
        "threshold": view.threshold, "commentCount": view.comment_count,
        "window": {"start": _time(view.window_start), "end": _time(view.window_end)},
        "article": ({"title": view.article_title, "url": view.article_url}
                    if view.article_title or view.article_url else None),
        "trend": [{"start": _time(p.start), "value": p.value} for p in view.trend],
        "examplesChosen": view.examples_chosen,
        "examples": [{"source": e.source, "articleTitle": e.article_title, "url": e.url, "author": e.author,
                      "text": e.text, "score": e.score,
                      "publishedAt": _time(e.published_at) if e.published_at else None}
                     for e in view.examples],
        "silenceCommand": view.silence_command,
    }


def _common(maps: list[dict[str, str]]) -> dict[str, str]:
    if not maps:
        return {}
    return {k: v for k, v in maps[0].items() if all(m.get(k) == v for m in maps[1:])}


def alertmanager_body(group: Group, receiver: str) -> dict[str, Any]:
    """The JSON body Alertmanager's webhook receiver would send for `group`."""
    return {
        "version": "4", "groupKey": group.key, "truncatedAlerts": 0, "status": group.status,
        "receiver": receiver, "groupLabels": group.labels,
        "commonLabels": _common([a.labels for a in group.alerts]),
        "commonAnnotations": _common([a.annotations for a in group.alerts]),
        "externalURL": "", "alerts": [_alert(a) for a in group.alerts],
        "silenceCommand": group.silence_command,
    }


class WebhookReceiver:
    """POSTs each group to one URL."""

    kind: ClassVar[str] = "webhook"

    def __init__(self, name: str, url: str, timeout_s: float = 10.0, client: httpx.Client | None = None) -> None:
        self.name = name
        self.url = url
        self.timeout_s = timeout_s
        self.client = client

    @classmethod
    def from_config(cls, name: str, options: Mapping[str, Any], config: Config) -> WebhookReceiver:
        try:
            parsed = _Options(**options)
        except ValidationError as exc:
            raise options_error(exc, config, name) from None
        return cls(name, parsed.url, parsed.timeout_s)

    def describe(self) -> str:
        return f"webhook to {self.url.split('?')[0]}"

    def render(self, group: Group) -> dict[str, Any]:
        return alertmanager_body(group, self.name)

    def summary(self, payload: Mapping[str, Any]) -> str:
        alerts = payload.get("alerts") or []
        names = sorted({str((a.get("labels") or {}).get("alertname", "")) for a in alerts})
        return f"[{str(payload.get('status', '')).upper()}:{len(alerts)}] {', '.join(names)} (webhook)"

    def send(self, payload: Mapping[str, Any]) -> Delivery:
        import httpx

        target = f"webhook {self.name}"
        client = self.client or httpx.Client(timeout=self.timeout_s, follow_redirects=False)
        try:
            response = client.post(self.url, json=dict(payload),
                                   headers={"User-Agent": "monitor-alerts", "Content-Type": "application/json"})
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise DeliveryError(f"cannot reach {self.describe()}: {exc}") from None
        except httpx.TransportError as exc:
            raise DeliveryError(f"{self.describe()}: no answer after the request was sent ({exc})",
                                uncertain=True) from None
        finally:
            if self.client is None:
                client.close()
        if response.is_success:
            return Delivery({target: f"delivered (HTTP {response.status_code})"})
        answer = f"{self.describe()} answered HTTP {response.status_code} {response.text[:200]!r}"
        retry = response.status_code in (408, 429) or response.status_code >= 500
        raise DeliveryError(answer if retry else f"{answer}; check alerts.receivers.{self.name}.url",
                            permanent=not retry)
