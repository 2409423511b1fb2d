"""The MDC nomenclature table: codes as SDC and PCD-01 give them lead to the same metric and unit."""

from __future__ import annotations

from devices import mdc
from devices.protocol import METRICS_BY_KEY, Reading


def test_a_context_free_code_and_its_reference_id_name_the_same_metric() -> None:
    # MDC_PULS_OXIM_SAT_O2 is 2::19384 in 11073-10101: 2 * 65536 + 19384 = 150456.
    assert mdc.metric_for(150456) == mdc.metric_for("150456") == mdc.metric_for("MDC_PULS_OXIM_SAT_O2")
    assert mdc.metric_for(150456).alias == "spo2"  # type: ignore[union-attr]
    assert mdc.unit_for("266016").ucum == "mm[Hg]"  # type: ignore[union-attr]  # MDC_DIM_MMHG = 4::3872


def test_unknown_codes_are_none_not_guesses() -> None:
    assert mdc.metric_for(196174) is None
    assert mdc.unit_for("MDC_DIM_DIMLESS") is None


def test_every_mapped_metric_and_unit_is_one_the_wire_format_accepts() -> None:
    assert all(metric.alias in METRICS_BY_KEY for metric in mdc.METRICS)
    for metric in mdc.METRICS:
        spec = METRICS_BY_KEY[metric.alias]
        units = [u.ucum for u in mdc.UNITS if u.ucum in (spec.unit, *(c[0] for c in spec.conversions))]
        assert units, metric.refid
        Reading.model_validate(
            {"metric": metric.alias, "value": spec.minimum, "unit": units[0], "time": "2026-11-23T10:00:00Z"}
        )
