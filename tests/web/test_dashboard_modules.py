"""The dashboard's pure functions, run in Chromium as the pages load them (ES modules, no build)."""

from __future__ import annotations

from playwright.async_api import Page

from tests.web.conftest import LiveServer

BACKOFF = """async () => {
  const { backoffDelayMs } = await import("/static/shared/live-feed.js");
  return [0, 1, 2, 5, 10, 20].map((n) => [backoffDelayMs(n, () => 0), backoffDelayMs(n, () => 1)]);
}"""

MERGE = """async () => {
  const { mergeAlarm, activeAlarms } = await import("/static/staff/alarm-view.js");
  const alarms = new Map();
  const base = { id: "a", patient_id: "p", priority: "high", raised_at: "2026-01-01T10:00:00Z" };
  const steps = [
    mergeAlarm(alarms, { ...base, status: "raised" }),
    mergeAlarm(alarms, { ...base, status: "acknowledged", acknowledged_at: "2026-01-01T10:01:00Z" }),
    mergeAlarm(alarms, { ...base, status: "raised" }),
    mergeAlarm(alarms, { ...base, status: "acknowledged", acknowledged_at: "2026-01-01T10:01:00Z" }),
  ];
  mergeAlarm(alarms, { ...base, id: "b", priority: "low", status: "raised" });
  mergeAlarm(alarms, { ...base, id: "c", priority: "medium", status: "raised" });
  mergeAlarm(alarms, { ...base, id: "d", status: "resolved" });
  return { steps, status: alarms.get("a").status, order: activeAlarms(alarms).map((a) => a.id) };
}"""

BUCKETS = """async () => {
  const { addToBuckets } = await import("/static/shared/trend-chart.js");
  const buckets = [];
  for (const [t, v] of [[0, 10], [30_000, 20], [59_999, 30], [60_000, 5], [10_000, 99]]) {
    addToBuckets(buckets, 60_000, t, v);
  }
  return buckets;
}"""

SPARK = """async () => {
  const { sparkline } = await import("/static/shared/sparkline.js");
  const flat = sparkline([{ t: 0, v: 5 }, { t: 500, v: 5 }], { now: 1000, windowMs: 1000, label: "HR" });
  const none = sparkline([], { now: 1000, windowMs: 1000, label: "HR" });
  const line = flat.querySelector("polyline").getAttribute("points");
  return { line, flatLabel: flat.getAttribute("aria-label"), noneLabel: none.getAttribute("aria-label") };
}"""


async def test_backoff_doubles_from_half_a_second_to_thirty_with_jitter(
    page: Page, live_server: LiveServer
) -> None:
    await page.goto(live_server.url + "/")
    delays = await page.evaluate(BACKOFF)
    assert delays == [[250, 500], [500, 1000], [1000, 2000], [8000, 16000], [15000, 30000], [15000, 30000]]


async def test_an_alarm_only_moves_forward_and_the_most_urgent_comes_first(
    page: Page, live_server: LiveServer
) -> None:
    await page.goto(live_server.url + "/")
    result = await page.evaluate(MERGE)
    # A late "raised" (a delta overtaken by the acknowledgement's answer) does not undo it.
    assert result["steps"] == [True, True, False, False]
    assert result["status"] == "acknowledged"
    # Unacknowledged before acknowledged, then by priority; resolved ones are not active.
    assert result["order"] == ["c", "b", "a"]


async def test_live_readings_fold_into_the_current_bucket_and_start_new_ones(
    page: Page, live_server: LiveServer
) -> None:
    await page.goto(live_server.url + "/")
    buckets = await page.evaluate(BUCKETS)
    assert buckets == [
        {"t": 0, "min": 10, "max": 30, "avg": 20, "count": 3},
        # A reading older than the newest bucket is in the history already: it is not counted twice.
        {"t": 60_000, "min": 5, "max": 5, "avg": 5, "count": 1},
    ]


async def test_sparklines_draw_a_flat_series_mid_height_and_describe_themselves(
    page: Page, live_server: LiveServer
) -> None:
    await page.goto(live_server.url + "/")
    result = await page.evaluate(SPARK)
    assert result["line"] == "0.0,14.0 60.0,14.0"
    assert result["flatLabel"] == "HR trend: from 5 to 5"
    assert result["noneLabel"] == "HR trend: no readings yet"
