"""The MDC nomenclature table: codes as SDC and PCD-01 give them lead to the same metric and unit."""

from __future__ import annotations

from devices.protocol import METRICS_BY_KEY, Reading, mdc


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


def test_pulse_rates_are_their_own_metric_beside_the_ecg_heart_rate() -> None:
    # One monitor sends both at the same instant: as one metric they would collide in storage.
    assert mdc.metric_for("MDC_ECG_HEART_RATE").loinc == "8867-4"  # type: ignore[union-attr]
    for refid in ("MDC_PULS_OXIM_PULS_RATE", "MDC_PULS_RATE", "MDC_PULS_RATE_NON_INV"):
        assert mdc.metric_for(refid).alias == "pr"  # type: ignore[union-attr]
        assert mdc.metric_for(refid).loinc == "8889-8"  # type: ignore[union-attr]
    assert mdc.metric_for(149530) == mdc.metric_for("MDC_PULS_OXIM_PULS_RATE")  # 2::18458


def test_hl7_coded_elements_are_read_by_code_by_reference_id_or_as_ucum() -> None:
    # OBX-3 as PCD-01 writes it: code^refid^MDC, or the reference id alone.
    assert mdc.find_term("150023", "MDC_PRESS_BLD_NONINV_MEAN").alias == "map"  # type: ignore[union-attr]
    assert mdc.find_term("", "MDC_AWAY_CO2_ET").alias == "etco2"  # type: ignore[union-attr]
    assert mdc.find_term("MDC_TEMP_AXILLA", "").alias == "temp"  # type: ignore[union-attr]
    assert mdc.find_term("150033", "MDC_PRESS_BLD_ART_SYS") is None  # invasive: not mapped on purpose
    # OBX-6: MDC code, reference id, or a UCUM unit when the coding system says so.
    assert mdc.find_unit("265987", "MDC_DIM_KILO_PASCAL", "MDC") == "kPa"
    assert mdc.find_unit("", "MDC_DIM_FAHR", "MDC") == "[degF]"
    assert mdc.find_unit("mm[Hg]", "", "UCUM") == "mm[Hg]"
    assert mdc.find_unit("mm[Hg]", "", "MDC") is None
    assert mdc.find_unit("262656", "MDC_DIM_DIMLESS", "MDC") is None


def test_the_term_ownat_writes_for_a_metric_is_its_first() -> None:
    assert mdc.metric_of_alias("hr").refid == "MDC_ECG_HEART_RATE"  # type: ignore[union-attr]
    assert mdc.metric_of_alias("temp").refid == "MDC_TEMP_BODY"  # type: ignore[union-attr]
    assert mdc.metric_of_alias("pr").refid == "MDC_PULS_OXIM_PULS_RATE"  # type: ignore[union-attr]
