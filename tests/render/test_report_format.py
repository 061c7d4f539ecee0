"""Report renderers: every --format from the same typed report (uptimed.render)."""

from __future__ import annotations

import copy
import csv
import dataclasses
import html
import io
import json
import re
from decimal import Decimal
from fractions import Fraction
from html.parser import HTMLParser
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from probes.base import ERROR_KINDS
from uptimed.core.times import MAX_SECONDS, parse_duration, parse_time
from uptimed.model.config import SLO, CreditTier, LatencyObjective, Policy
from uptimed.model.report import (
    ConfigVersion,
    ErrorBudget,
    Exclusion,
    Figures,
    Incident,
    Latency,
    LatencyAttainment,
    MonitorReport,
    Report,
    ServiceReport,
    SLOEvaluation,
    SloReport,
    SloWindow,
)
from uptimed.render.csv import csv_of
from uptimed.render.json import report_json
from uptimed.render.report import FORMATS, render
from uptimed.render.text import format_percent, human_duration

NASTY = "<script>alert(\"x\")</script>&amp; 'q'"
UTC = ZoneInfo("UTC")
DEFAULT_POLICY = Policy()
BURN_NAMES = ("5m", "30m", "1h", "2h", "6h", "24h", "3d")


def ms(text: str) -> int:
    return parse_time(text, UTC)


def sec(seconds: float) -> int:
    """Seconds as the model's milliseconds."""
    return round(seconds * 1000)


def incident(start: str, end: str | None, seconds: float, cause: str) -> Incident:
    return (ms(start), None if end is None else ms(end), sec(seconds), sec(seconds), cause)


def figures(
    up: float, down: float, maintenance: float, unknown: float, availability: float | None,
    coverage: float | None, incidents: list[Incident], mttr: float | None = None,
    mtbf: float | None = None, outside: float = 0,
) -> Figures:  # fmt: skip
    counted = [i[3] for i in incidents]  # counted_ms
    return Figures(
        start=ms("2026-10-01T00:00:00Z"), end=ms("2026-10-31T00:00:00Z"), up_ms=sec(up),
        down_ms=sec(down), maintenance_ms=sec(maintenance), unknown_ms=sec(unknown),
        outside_hours_ms=sec(outside), availability=availability, coverage=coverage,
        incidents=tuple(incidents), incident_count=len(incidents), incident_total_ms=sum(counted),
        longest_incident_ms=max(counted, default=0), mttr_ms=None if mttr is None else sec(mttr),
        mtbf_ms=None if mtbf is None else sec(mtbf),
    )  # fmt: skip


def slo_window(start: str, end: str, basis: str, label: str | None) -> SloWindow:
    """A window evaluated whole, the period over (nothing to date)."""
    lo, hi = ms(start), ms(end)
    return SloWindow(lo, hi, lo, hi, basis, label, None, None, False, hi)


def evaluation(
    objective: str, attainment: float | None, met: bool | None, verdict: str, eligible: float,
    budget: tuple[float, float, float, float | None], credit: CreditTier | None = None,
    policy: Policy = DEFAULT_POLICY,
) -> SLOEvaluation:  # fmt: skip
    total, consumed, remaining, ratio = budget
    return SLOEvaluation(
        objective=Decimal(objective), policy=policy, eligible_ms=sec(eligible), good_ms=0,
        bad_ms=sec(consumed), attainment=None if attainment is None else Fraction(attainment),
        met=met, budget=ErrorBudget(Fraction(sec(total)), sec(consumed), Fraction(sec(remaining)),
                                    None if ratio is None else Fraction(ratio)),
        burn_rate=None, credit=credit, verdict=verdict,
    )  # fmt: skip


def slo(
    id: str, target: str, objective: str, customer: str | None, policy: Policy = DEFAULT_POLICY,
    latency: LatencyObjective | None = None, credits: tuple[CreditTier, ...] = (),
) -> SLO:  # fmt: skip
    return SLO(
        id=id, target=target, objective=Decimal(objective), window=None, period=None,
        timezone="Europe/Berlin", effective_from=None, effective_until=None, customer=customer,
        latency=latency, credits=credits, service_hours=None, policy=policy,
    )  # fmt: skip


def exclusion(
    id: int | str, source: str, monitors: tuple[str, ...], services: tuple[str, ...], start: str,
    end: str, reason: str | None, by: str | None = None, at: str | None = None,
    retroactive: bool = False,
) -> Exclusion:  # fmt: skip
    return Exclusion(id, source, reason, by, None if at is None else ms(at), retroactive,
                     monitors, services, ms(start), ms(end), ())  # fmt: skip


def sample_report() -> Report:
    """A month with a monitor that had incidents, one with no data at all, a quorum service, an SLO
    met and one missed with a credit, a config window and a retroactive ad-hoc exclusion."""
    web_incidents = [
        incident("2026-10-07T13:00:00Z", "2026-10-07T13:20:00Z", 1200, "timeout"),
        incident("2026-10-30T23:55:00Z", None, 300.5, "http_status " + NASTY),
    ]
    shop_incidents = [
        incident("2026-10-07T13:00:00Z", "2026-10-07T13:02:09.600Z", 129.6, "timeout")
    ]
    sunday = exclusion("sunday-patch", "config", ("web_api",), (), "2026-10-04T02:00:00Z",
                       "2026-10-04T03:00:00Z", "kernel patching")  # fmt: skip
    retro = exclusion(12, "adhoc", ("db.primary",), ("shop",), "2026-10-20T10:00:00Z",
                      "2026-10-20T10:30:00Z", "upstream DC outage " + NASTY, "alice",
                      "2026-10-22T09:15:00Z", retroactive=True)  # fmt: skip
    month = slo_window("2026-10-01T00:00:00Z", "2026-10-31T00:00:00Z", "period", "month")
    rolling = slo_window("2026-10-01T00:00:00Z", "2026-10-31T00:00:00Z", "window", "30d")
    return Report(
        start=ms("2026-10-01T00:00:00Z"),
        end=ms("2026-10-31T00:00:00Z"),
        full_end=ms("2026-10-31T00:00:00Z"),
        generated_at=ms("2026-11-01T08:00:00Z"),
        timezone="UTC",
        policy=Policy(),
        config_sha256="a" * 64,
        config_versions=(
            ConfigVersion("b" * 64, ms("2026-10-01T00:00:00Z"), ms("2026-10-15T12:00:00Z")),
            ConfigVersion("a" * 64, ms("2026-10-15T12:00:00Z"), ms("2026-10-31T00:00:00Z")),
        ),
        exclusions=(sunday, retro),
        monitors=(
            MonitorReport("web_api", "Web API " + NASTY, figures(
                2585700.0, 1500.5, 3600, 1200, 0.9994212962962963, 0.99871, web_incidents,
                mttr=1200, mtbf=1290000)),
            MonitorReport("db.primary", "Primary database",
                          figures(2588400, 0, 1800, 0, 1.0, 0.999, [])),
            # added yesterday and never probed in the window: no data at all
            MonitorReport("new-probe", "new-probe", figures(0, 0, 0, 0, None, None, [])),
        ),
        services=(
            ServiceReport("shop", "Shop " + NASTY, "quorum", 2,
                          ("web_api", "db.primary", "new-probe"), figures(
                              2589000, 129.6, 1800, 400, 0.99995, 0.9986, shop_incidents,
                              mttr=129.6)),
        ),
        slos=(
            SloReport(
                slo=slo("shop-availability", "shop", "99.9", "ACME " + NASTY,
                        latency=LatencyObjective(0.3, Decimal("99"))),
                target_kind="service",
                window=month,
                figures=figures(2589000, 129.6, 1800, 400, 0.99995, None, shop_incidents),
                evaluation=evaluation("99.9", 0.99995, True, "met", 2592000,
                                      (2592.0, 129.6, 2462.4, 0.95)),
                burn_rates=tuple((name, 0.0) for name in BURN_NAMES),
                latency=Latency(0.3, LatencyAttainment(25812, 25991, Decimal("99"),
                                                       Fraction(0.9931), True), None, True),
                exclusions=(sunday, retro),
            ),
            SloReport(
                slo=slo("api-business-hours", "web_api", "99.95", "Globex",
                        policy=Policy(unknown="down")),
                target_kind="monitor",
                window=rolling,
                figures=figures(775000, 1500.5, 0, 1100, 0.94, None, web_incidents,
                                outside=1814400),
                evaluation=evaluation("99.95", 0.94, False, "missed", 777600,
                                      (388.8, 1500.5, -1111.7, -2.859310699588477),
                                      CreditTier(Decimal("95.0"), Decimal("100")),
                                      Policy(unknown="down")),
                burn_rates=(("5m", None), ("30m", None), ("1h", 14.4), ("2h", 7.2), ("6h", 2.4),
                            ("24h", 0.6), ("3d", 0.2)),
                latency=None,
                exclusions=(sunday,),  # window 12 covers db.primary, not web_api
            ),
        ),
    )  # fmt: skip


def replace_slo(report: Report, i: int, **changes: Any) -> Report:
    """The report with SLO ``i`` changed: fields of the SloReport, of its ``slo``,
    ``evaluation``, ``figures`` or ``window`` by name (``slo__customer=...``)."""
    item = report.slos[i]
    parts: dict[str, dict[str, Any]] = {}
    direct = {}
    for key, value in changes.items():
        part, _, field = key.partition("__")
        if field:
            parts.setdefault(part, {})[field] = value
        else:
            direct[key] = value
    for part, fields in parts.items():
        direct[part] = dataclasses.replace(getattr(item, part), **fields)
    slos = list(report.slos)
    slos[i] = dataclasses.replace(item, **direct)
    return dataclasses.replace(report, slos=tuple(slos))


def replace_exclusion(report: Report, ident: int | str, **changes: Any) -> Report:
    """The report with exclusion ``ident`` changed, wherever it is listed."""

    def each(xs: tuple[Exclusion, ...]) -> tuple[Exclusion, ...]:
        return tuple(dataclasses.replace(x, **changes) if x.id == ident else x for x in xs)

    slos = tuple(dataclasses.replace(r, exclusions=each(r.exclusions)) for r in report.slos)
    return dataclasses.replace(report, exclusions=each(report.exclusions), slos=slos)


def bare_report(start: str, end: str, full_end: str | None = None, zone: str = "UTC") -> Report:
    """A report of nothing over ``[start, end)``."""
    return Report(ms(start), ms(end), ms(full_end or end), ms(start), zone, Policy(), "a" * 64,
                  (), (), (), (), ())  # fmt: skip


MONITOR_IDS = ["web_api", "db.primary", "new-probe"]
SERVICE_IDS = ["shop"]
SLO_IDS = ["shop-availability", "api-business-hours"]


@pytest.fixture
def report() -> Report:
    return sample_report()


def t(text: str) -> str:
    """A time as the Markdown report writes it: no-break spaces, never split across lines."""
    return text.replace(" ", "\u00a0")


def section(markdown: str, slo_id: str) -> str:
    """The Markdown section of one SLO, from its heading to the next level-2 heading."""
    start = markdown.index(f"## SLO {slo_id}")
    end = markdown.find("\n## ", start + 1)
    return markdown[start : end if end != -1 else None]


# -- every format ----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_monitor_service_and_slo_appears_by_id(report: Report, fmt: str) -> None:
    out = render(report, fmt)
    for item_id in MONITOR_IDS + SERVICE_IDS + SLO_IDS:
        assert item_id in out, f"{item_id} missing from --format {fmt}"
    assert out.endswith("\n")


@pytest.mark.parametrize("fmt", FORMATS)
def test_render_leaves_the_report_alone(report: Report, fmt: str) -> None:
    before = copy.deepcopy(report)
    render(report, fmt)
    assert report == before


@pytest.mark.parametrize("fmt", FORMATS)
def test_empty_report_renders(fmt: str) -> None:
    assert render(bare_report("2026-10-01T00:00:00Z", "2026-10-02T00:00:00Z"), fmt)


@pytest.mark.parametrize("fmt", ["pdfx", "JSON", "", "md"])
def test_unknown_format_is_named_with_the_allowed_ones(report: Report, fmt: str) -> None:
    with pytest.raises(ValueError) as e:
        render(report, fmt)
    assert repr(fmt) in str(e.value)
    assert "table, json, csv, markdown, html" in str(e.value)


# -- json ------------------------------------------------------------------------------------------


def test_json_round_trips(report: Report) -> None:
    out = render(report, "json")
    assert json.loads(out) == report_json(report)
    assert out == json.dumps(report_json(report), indent=2) + "\n"


def subset(want: Any, got: Any, path: str = "") -> None:
    """Every key of ``want`` is in ``got`` with the same value (lists item by item)."""
    if isinstance(want, dict):
        assert isinstance(got, dict), path
        for key, value in want.items():
            assert key in got, f"{path}.{key}"
            subset(value, got[key], f"{path}.{key}")
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), path
        for i, (a, b) in enumerate(zip(want, got, strict=True)):
            subset(a, b, f"{path}[{i}]")
    else:
        assert got == want and type(got) is type(want), (path, got, want)


def test_json_has_seconds_ratios_and_rfc3339_times(report: Report) -> None:
    """The JSON's units: seconds and ratios as numbers, times in RFC 3339 (UTC), configured
    numbers as written."""
    web_incident = {
        "start": "2026-10-07T13:00:00Z",
        "end": "2026-10-07T13:20:00Z",
        "duration_seconds": 1200.0,
        "counted_seconds": 1200.0,
        "cause": "timeout",
    }
    shop_incident = {
        "start": "2026-10-07T13:00:00Z",
        "end": "2026-10-07T13:02:09.600Z",
        "duration_seconds": 129.6,
        "counted_seconds": 129.6,
        "cause": "timeout",
    }
    ongoing = {"start": "2026-10-30T23:55:00Z", "end": None, "duration_seconds": 300.5}
    want = {
        "from": "2026-10-01T00:00:00Z", "to": "2026-10-31T00:00:00Z", "to_date": False,
        "period_to": "2026-10-31T00:00:00Z", "elapsed_seconds": 2592000.0,
        "length_seconds": 2592000.0, "generated_at": "2026-11-01T08:00:00Z", "timezone": "UTC",
        "policy": {"unknown": "exclude", "maintenance": "exclude"}, "config_sha256": "a" * 64,
        "config_versions": [
            {"sha256": "b" * 64, "from": "2026-10-01T00:00:00Z", "to": "2026-10-15T12:00:00Z"},
            {"sha256": "a" * 64, "from": "2026-10-15T12:00:00Z", "to": "2026-10-31T00:00:00Z"},
        ],
        "exclusions": [
            {"id": "sunday-patch", "source": "config", "reason": "kernel patching",
             "created_by": None, "created_at": None, "retroactive": False,
             "monitors": ["web_api"], "services": [], "start": "2026-10-04T02:00:00Z",
             "end": "2026-10-04T03:00:00Z", "overlaps": []},
            {"id": 12, "source": "adhoc", "created_by": "alice",
             "created_at": "2026-10-22T09:15:00Z", "retroactive": True,
             "monitors": ["db.primary"], "services": ["shop"], "overlaps": []},
        ],
        "monitors": [
            {"id": "web_api", "availability": 0.9994212962962963, "coverage": 0.99871,
             "up_seconds": 2585700.0, "down_seconds": 1500.5, "maintenance_seconds": 3600.0,
             "unknown_seconds": 1200.0, "incidents": [web_incident, ongoing],
             "incident_count": 2, "incident_seconds": 1500.5, "longest_incident_seconds": 1200.0,
             "mttr_seconds": 1200.0, "mtbf_seconds": 1290000.0},
            {"id": "db.primary", "incidents": [], "incident_count": 0,
             "longest_incident_seconds": 0.0, "mttr_seconds": None, "mtbf_seconds": None},
            {"id": "new-probe", "availability": None, "coverage": None, "up_seconds": 0.0},
        ],
        "services": [
            {"id": "shop", "rule": "quorum", "quorum": 2,
             "monitors": ["web_api", "db.primary", "new-probe"], "incidents": [shop_incident]},
        ],
        "slos": [
            {"id": "shop-availability", "target": "shop", "target_kind": "service",
             "objective": 0.999, "attainment": 0.99995, "met": True, "verdict": "met",
             "min_coverage": 0.9, "from": "2026-10-01T00:00:00Z", "basis": "period",
             "window": None, "period": "month", "effective_from": None,
             "timezone": "Europe/Berlin", "eligible_seconds": 2592000.0,
             "error_budget": {"total_seconds": 2592.0, "consumed_seconds": 129.6,
                              "remaining_seconds": 2462.4, "remaining_ratio": 0.95},
             "burn_rates": dict.fromkeys(BURN_NAMES, 0.0), "credit": None,
             "latency": {"threshold_seconds": 0.3, "objective": 0.99, "attainment": 0.9931,
                         "met": True, "good": 25812, "total": 25991, "counted_from": None,
                         "exact": True},
             "incidents": [shop_incident]},
            {"id": "api-business-hours", "objective": 0.9995, "basis": "window",
             "window": "30d", "period": None, "policy": {"unknown": "down",
                                                          "maintenance": "exclude"},
             "outside_hours_seconds": 1814400.0,
             "error_budget": {"remaining_seconds": -1111.7,
                              "remaining_ratio": -2.859310699588477},
             "burn_rates": {"5m": None, "30m": None, "1h": 14.4},
             "credit": {"below": 95.0, "credit": 100}, "latency": None,
             "exclusions": [{"id": "sunday-patch"}]},
        ],
    }  # fmt: skip
    subset(want, report_json(report))


# -- csv -------------------------------------------------------------------------------------------


def test_csv_has_one_row_per_item_with_a_kind(report: Report) -> None:
    out = render(report, "csv")
    rows = list(csv.DictReader(io.StringIO(out, newline="")))
    assert [(r["kind"], r["id"]) for r in rows] == [
        *(("monitor", i) for i in MONITOR_IDS),
        *(("service", i) for i in SERVICE_IDS),
        *(("slo", i) for i in SLO_IDS),
    ]
    header = next(csv.reader(io.StringIO(out, newline="")))
    assert header[0] == "kind"
    assert len(header) == len(set(header))
    for row in csv.reader(io.StringIO(out, newline="")):
        assert len(row) == len(header)


def test_csv_values_are_raw_and_flat(report: Report) -> None:
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(render(report, "csv"), newline=""))}
    web, empty, shop = rows["web_api"], rows["new-probe"], rows["shop"]
    met, missed = rows["shop-availability"], rows["api-business-hours"]
    assert web["name"] == "Web API " + NASTY  # quotes and commas survive RFC 4180 quoting
    assert web["availability"] == "0.9994212962962963"
    assert web["down_seconds"] == "1500.5"
    assert web["incidents"] == "2"
    assert (
        empty["availability"] == "" and empty["mttr_seconds"] == "" and empty["up_seconds"] == "0.0"
    )
    assert shop["rule"] == "quorum" and shop["quorum"] == "2"
    assert shop["monitors"] == "web_api db.primary new-probe"
    assert met["met"] == "true" and missed["met"] == "false"
    assert met["error_budget_remaining_ratio"] == "0.95"
    assert missed["error_budget_remaining_seconds"] == "-1111.7"
    assert missed["burn_rate_1h"] == "14.4" and missed["burn_rate_5m"] == ""
    assert missed["credit_percent"] == "100" and missed["credit_below"] == "95.0"
    assert met["credit_percent"] == "" and met["latency_threshold_seconds"] == "0.3"
    assert missed["policy_unknown"] == "down"
    assert "credit" not in rows["web_api"] and "error_budget" not in rows["web_api"]


def test_csv_keeps_unknown_fields_as_extra_columns(report: Report) -> None:
    shape = report_json(report)
    shape["monitors"][0]["p95_latency_seconds"] = 0.25
    rows = list(csv.DictReader(io.StringIO(csv_of(shape), newline="")))
    assert rows[0]["p95_latency_seconds"] == "0.25" and rows[1]["p95_latency_seconds"] == ""


# -- html ------------------------------------------------------------------------------------------


class TagChecker(HTMLParser):
    VOID = {"meta", "br", "hr", "img", "link", "input", "col", "wbr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.starts: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.decl: list[str] = []
        self.text: list[str] = []

    def handle_decl(self, decl: str) -> None:
        self.decl.append(decl)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.starts.append(tag)
        self.attrs += attrs
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_html_is_one_self_contained_escaped_document(report: Report) -> None:
    out = render(report, "html")
    assert out.startswith("<!DOCTYPE html>\n") and out.endswith("</html>\n")
    assert "<script" not in out.lower()
    parser = TagChecker()
    parser.feed(out)
    parser.close()
    assert parser.decl == ["DOCTYPE html"]
    assert parser.errors == [] and parser.stack == []
    for tag in ("html", "head", "body", "title", "style"):
        assert parser.starts.count(tag) == 1, tag
    assert not {"script", "link", "img", "iframe", "object", "embed"} & set(parser.starts)
    assert not [(k, v) for k, v in parser.attrs if k in ("src", "href") or k.startswith("on")]
    assert "url(" not in out and "@import" not in out and "://" not in out
    # Every hostile value is shown, escaped, exactly as it was.
    assert html.escape("Web API " + NASTY) in out
    assert html.escape("upstream DC outage " + NASTY) in out
    text = "".join(parser.text)
    assert "Web API " + NASTY in text and "http_status " + NASTY in text


def test_html_has_the_same_content_as_markdown(report: Report) -> None:
    out = render(report, "html")
    for needle in ("SLO shop-availability", "SLO api-business-hours", "MET", "MISSED",
                   "100 % (attainment below 95 %)", "43m12s total", "retroactive, added by alice",
                   "Primary database", "quorum 2 of 3", "b" * 64):  # fmt: skip
        assert needle in out, needle
    assert '<strong class="missed">MISSED</strong>' in out


# -- markdown --------------------------------------------------------------------------------------


def test_markdown_has_a_section_per_slo_with_verdict_budget_and_credit(
    report: dict[str, Any],
) -> None:
    out = render(report, "markdown")
    assert out.startswith("# Availability report — ACME ")
    assert "Globex" in out.splitlines()[0]

    met = section(out, "shop-availability")
    assert "- **Objective:** 99.9 %" in met
    assert "- **Attainment:** 99.995 %" in met
    assert "- **Result:** **MET**" in met
    assert "- **Error budget:** 43m12s total, 2m10s used, 41m02s left (95.000 %)" in met
    assert "- **Service credit:** none" in met
    # In the SLO's zone, at whole seconds (cut), never split across lines.
    assert (
        f"| {t('2026-10-07 15:00:00 CEST')} | {t('2026-10-07 15:02:09 CEST')} | 2m10s | 2m10s"
        " | timed out (timeout) |"
    ) in met
    # Maintenance on the service or on one of its members, both within the SLO's window.
    assert "| sunday-patch |" in met and "| 12 |" in met

    missed = section(out, "api-business-hours")
    assert "- **Objective:** 99.95 %" in missed
    assert "- **Result:** **MISSED**" in missed
    assert "- **Service credit:** **100 % (attainment below 95 %)**" in missed
    assert "- **Error budget:** 6m29s total, 25m01s used, overspent by 285 % (18m32s)" in missed
    assert f"| {t('2026-10-31 00:55:00 CET')} | ongoing | 5m01s | 5m01s |" in missed
    assert "- **Policy:** unknown time counted as down, maintenance excluded" in missed
    assert (
        "| sunday-patch |" in missed and "| 12 |" not in missed
    )  # window 12 covers db.primary, not web_api

    tail = out[out.index("\n## Monitors") :]
    assert "| new-probe | new-probe | - | - | 0s | 0s | 0s | 0 | - |" in tail
    assert f"retroactive, added by alice at {t('2026-10-22 09:15:00 UTC')}" in tail
    assert "Policy: unknown time excluded, maintenance excluded." in tail
    assert "a" * 64 in tail and "b" * 64 in tail


def test_markdown_escapes_markup_from_the_report(report: Report) -> None:
    monitors = list(report.monitors)
    monitors[1] = dataclasses.replace(monitors[1], name="a | b *c* [d](e) `f` _g_")
    out = render(dataclasses.replace(report, monitors=tuple(monitors)), "markdown")
    assert re.search(r"(?<!\\)[<&]", out) is None  # no raw HTML or entity a renderer could act on
    assert "\\<script\\>" in out
    assert r"a \| b \*c\* \[d\](e) \`f\` \_g\_" in out
    assert "web_api" in out  # an underscore inside a word is left alone


def test_markdown_and_table_flatten_control_characters(report: Report) -> None:
    report = replace_exclusion(report, "sunday-patch", reason="line one\nline two\x1b[31m red")
    for fmt in ("markdown", "table"):
        out = render(report, fmt)
        assert "\x1b" not in out
        assert "line one line two" in out


# -- table -----------------------------------------------------------------------------------------


def test_table_for_operators(report: Report) -> None:
    out = render(report, "table")
    lines = out.splitlines()
    assert lines[0] == "Availability report 2026-10-01T00:00:00Z to 2026-10-31T00:00:00Z (30d)"
    assert "policy:          unknown=exclude, maintenance=exclude" in lines
    assert any(
        line.endswith("b" * 64 + " (2026-10-01T00:00:00Z to 2026-10-15T12:00:00Z)")
        for line in lines
    )

    def row(first: str) -> list[str]:
        return next(line for line in lines if line.startswith(first + " ")).split()

    assert row("web_api") == ["web_api", "99.9421", "%", "99.87", "%", "29d22h", "25m01s",
                              "1h00m", "20m00s", "2", "20m00s"]  # fmt: skip
    assert row("new-probe") == ["new-probe", "-", "-", "0s", "0s", "0s", "0s", "0", "-"]
    assert row("shop")[:3] == ["shop", "quorum", "2"]
    assert row("shop-availability")[:8] == [
        "shop-availability",
        "shop",
        "99.9",
        "%",
        "99.9950",
        "%",
        "MET",
        "41m02s",
    ]
    missed = " ".join(row("api-business-hours"))
    assert "MISSED overspent by 285 % (18m32s) 14.40 100 %" in missed
    assert "api-business-hours: policy unknown=down, maintenance=exclude" in out
    retro = next(line for line in lines if line.startswith("12 "))
    assert "retroactive, added by alice at 2026-10-22T09:15:00Z" in retro
    assert "\x1b" not in out


def test_table_columns_are_aligned(report: Report) -> None:
    lines = render(report, "table").splitlines()
    start = lines.index("MONITORS (3)") + 1
    block = lines[start : start + 4]
    # Right-aligned numbers: the "%" of every availability sits in the same column.
    assert len({line.index(" %") for line in block[1:3]}) == 1
    assert block[0].startswith("ID ")


# -- numbers for people ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (0.0, "0s"),
        (0.5, "0.5s"),
        (0.25, "0.25s"),
        (0.0004, "0.0004s"),
        (1, "1s"),
        (12.34, "12.3s"),
        (59, "59s"),
        (59.99, "1m00s"),
        (60, "1m00s"),
        (129.6, "2m10s"),  # rounded to the second shown
        (129.5, "2m10s"),  # halves up, on the decimal the float reads as
        (129.4999, "2m09s"),
        (328.999, "5m29s"),  # not 5m28s: no truncation
        (59.94, "59.9s"),
        (59.6, "59.6s"),
        (89.5, "1m30s"),
        (2592, "43m12s"),  # the budget of a fully eligible 30 days at 99.9 %
        (2592.0, "43m12s"),
        (3599.4, "59m59s"),
        (3599.5, "1h00m"),  # rounded first, then split: never 59m60s
        (3599.9999999, "1h00m"),
        (3720, "1h02m"),
        (3749.9, "1h02m"),
        (3750, "1h03m"),
        (86369, "23h59m"),
        (86399, "1d00h"),  # 23h59m59s is nearer 24h00m than 23h59m
        (5400 + 1799, "2h00m"),
        (88200, "1d01h"),  # 1d00h30m: halves up
        (86400, "1d00h"),
        (183600, "2d03h"),
        (31 * 86400, "31d00h"),
        (-1111.7, "-18m32s"),
        (None, "-"),
    ],
)
def test_human_duration(seconds: float | None, text: str) -> None:
    assert human_duration(seconds) == text


def test_human_duration_rejects_what_is_not_a_duration() -> None:
    with pytest.raises(ValueError):
        human_duration(float("nan"))
    with pytest.raises(TypeError):
        human_duration("5m")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("ratio", "places", "text"),
    [
        (0.9994212962962963, 4, "99.9421 %"),
        (0.99999996, 4, "99.9999 %"),  # never rounded up to a perfect score
        (1.0, 3, "100.000 %"),
        (1, 2, "100.00 %"),
        (0.999, 3, "99.900 %"),  # no float noise: 0.999 * 100 is not 99.89999
        (0, 3, "0.000 %"),
        (-0.0, 3, "0.000 %"),
        (None, 3, "-"),
    ],
)
def test_format_percent(ratio: float | None, places: int, text: str) -> None:
    assert format_percent(ratio, places) == text


def test_a_missed_objective_never_shows_as_reached(report: Report) -> None:
    changed = replace_slo(report, 1, slo__objective=Decimal("99.995"),
                          evaluation__attainment=Fraction("0.9999499999"),
                          evaluation__met=False)  # fmt: skip
    out = render(changed, "markdown")
    assert "- **Objective:** 99.995 %" in out
    assert "- **Attainment:** 99.994 %" in out
    changed = replace_slo(report, 1, slo__objective=Decimal("99.9995"),
                          evaluation__attainment=Fraction("0.99999499"),
                          evaluation__met=False)  # fmt: skip
    out = render(changed, "markdown")
    assert "- **Objective:** 99.9995 %" in out
    assert "- **Attainment:** 99.9994 %" in out  # as many decimals as the objective has


def test_slo_over_its_own_window(report: Report) -> None:
    """An SLO evaluated over its calendar month in its zone says so, and lists only the maintenance
    that falls in that window (the report lists every window that changed a figure)."""
    own = slo_window("2026-09-30T22:00:00Z", "2026-10-15T00:00:00Z", "period", "month")
    report = replace_slo(report, 0, window=own, exclusions=())
    report = replace_exclusion(report, "sunday-patch", start=ms("2026-10-20T02:00:00Z"),
                               end=ms("2026-10-20T03:00:00Z"))  # fmt: skip
    table = render(report, "table")
    assert (
        "  shop-availability: evaluated 2026-09-30T22:00:00Z to 2026-10-15T00:00:00Z"
        " (period month, Europe/Berlin)"
    ) in table
    markdown = section(render(report, "markdown"), "shop-availability")
    assert (
        f"- **Evaluated:** over the calendar month, {t('2026-10-01 00:00:00 CEST')} – "
        f"{t('2026-10-15 02:00:00 CEST')} (time zone Europe/Berlin)"
    ) in markdown
    assert "### Maintenance excluded\n\nNone." in markdown


# -- figures that read well to a customer (issue 14, point 11) -------------------------------------


def test_human_duration_rounds_instead_of_cutting() -> None:
    # Old code cut 328.999 s to 5m28s: nearly a second short of what happened.
    assert human_duration(328.999) == "5m29s"
    assert human_duration(3659.5) == "1h01m"  # 1h00m59.5s: nearer 1h01m
    assert human_duration(59.96) == "1m00s"


def _parts(text: str) -> list[tuple[str, str]]:
    return re.findall(r"([0-9]+(?:\.[0-9]+)?)([a-z]+)", text)


@settings(max_examples=600, deadline=None)
@given(
    st.one_of(
        st.floats(min_value=1e-6, max_value=MAX_SECONDS, allow_nan=False, allow_infinity=False),
        st.integers(min_value=0, max_value=int(MAX_SECONDS)),
        st.integers(min_value=0, max_value=10**7).map(lambda n: n / 2),  # exact halves
        st.sampled_from([0.0, 59.95, 59.949, 3599.5, 3599.49, 86369.99, 86370, 5e-6]),
    )
)
def test_human_duration_parses_back_to_the_input_rounded_to_its_last_unit(seconds: float) -> None:
    """The text is in the config's duration grammar, and parses back to ``seconds`` rounded to
    the last unit it shows (half a unit away at most; halves up), with the smaller unit below
    the larger one's size."""
    text = human_duration(seconds)
    parsed = Fraction(parse_duration(text))
    exact = Fraction(Decimal(repr(seconds)) if isinstance(seconds, float) else seconds)
    parts = _parts(text)
    assert "".join(n + u for n, u in parts) == text
    if len(parts) == 2:
        (major, big), (minor, small) = parts
        size, per = {"m": (1, 60), "h": (60, 60), "d": (3600, 24)}[big]
        assert small == {"m": "s", "h": "m", "d": "h"}[big] and len(minor) == 2 and int(minor) < per
        assert int(major) >= 1
        unit = Fraction(size)
    else:
        ((number, unit_name),) = parts
        assert unit_name == "s" and Fraction(number) < 60
        digits = number.replace(".", "").lstrip("0")
        assert len(digits) <= 3  # three significant digits
        unit = Fraction(10) ** -(len(number.split(".")[1]) if "." in number else 0)
        if exact:
            # The place of the third significant digit, which may be below the last one shown.
            unit = min(unit, Fraction(10) ** (Decimal(repr(float(exact))).adjusted() - 2))
    # parse_duration gives the nearest float to the text's exact value: allow for that.
    slack = abs(parsed) * Fraction(1, 2**50)
    assert abs(parsed - exact) <= unit / 2 + slack, (seconds, text)
    if parsed - exact == -unit / 2:
        raise AssertionError(f"{seconds} is a half and was rounded down to {text}")


def test_human_duration_is_monotonic() -> None:
    values = [0, 0.001, 0.5, 9.99, 59.94, 59.96, 60, 89.49, 89.5, 3599.49, 3599.5, 3629.9, 3630,
              86369.9, 86370, 88199, 88200, 10**7]  # fmt: skip
    shown = [parse_duration(human_duration(v)) for v in values]
    assert shown == sorted(shown)


def insufficient(report: Report, coverage: float = 0.0, minimum: str = "90") -> Report:
    """The met SLO as an SLO with no data at all: coverage 0 %, attainment 100 % of nothing. Its
    credit is set as a tier would be, to show that none is claimed whatever the report says."""
    return replace_slo(
        report, 0, evaluation__verdict="insufficient data", evaluation__met=None,
        figures__coverage=coverage, slo__min_coverage=Decimal(minimum),
        evaluation__attainment=Fraction(1),
        evaluation__credit=CreditTier(Decimal("99.9"), Decimal("10")), latency=None,
    )  # fmt: skip


def test_insufficient_coverage_is_never_met_nor_credited_markdown(report: Report) -> None:
    md = section(render(insufficient(report), "markdown"), "shop-availability")
    assert "MET" not in md
    assert (
        "- **Result:** **INSUFFICIENT DATA**: coverage 0.0 % is below the 90 % minimum; no verdict"
        " and no service credit are claimed"
    ) in md
    assert "- **Coverage:** 0.0 % of the eligible time has data (minimum 90 %)" in md
    assert "- **Service credit:** none claimed (insufficient data)" in md
    assert "10 %" not in md


def test_insufficient_coverage_is_never_met_nor_credited_html(report: Report) -> None:
    out = render(insufficient(report), "html")
    start = out.index("SLO shop-availability")
    part = out[start : out.index("SLO api-business-hours")]
    assert ">MET<" not in part and "10 % (attainment" not in part
    assert (
        '<strong class="nodata">INSUFFICIENT DATA</strong>: coverage 0.0 % is below the 90 %'
        " minimum"
    ) in part
    assert "none claimed (insufficient data)" in part


def test_insufficient_coverage_is_never_met_nor_credited_table(report: Report) -> None:
    out = render(insufficient(report, coverage=0.125), "table")
    row = next(line for line in out.splitlines() if line.startswith("shop-availability "))
    # RESULT, BUDGET LEFT, BURN 1h, CREDIT (none claimed: "-"; no SLO here has a latency column)
    assert re.search(r" INSUFFICIENT DATA +41m02s \(95\.00 %\) +0\.00 +-$", row), row
    assert (
        "  shop-availability: insufficient data: coverage 12.5 % is below the 90 % minimum; no"
        " verdict and no service credit are claimed"
    ) in out


def test_coverage_just_below_the_minimum_never_shows_as_reaching_it(report: Report) -> None:
    out = render(insufficient(report, 0.899999, "90"), "markdown")
    assert "coverage 89.9 % is below the 90 % minimum" in out
    out = render(insufficient(report, 0.9249999, "92.5"), "markdown")
    assert "coverage 92.4 % is below the 92.5 % minimum" in out
    out = render(insufficient(report, 0.99949, "99.95"), "markdown")
    assert "coverage 99.94 % is below the 99.95 % minimum" in out


def test_no_data_verdict_and_a_verdict_this_version_does_not_know(report: Report) -> None:
    nothing = replace_slo(report, 0, evaluation__verdict="no data", evaluation__met=None,
                          figures__coverage=None, evaluation__credit=None)  # fmt: skip
    md = section(render(nothing, "markdown"), "shop-availability")
    assert "- **Result:** **NO DATA**: none of the time evaluated was eligible; no verdict" in md
    assert "- **Service credit:** none claimed (no data)" in md
    # The verdict wins over met; an unknown one is never shown as met.
    thin = replace_slo(nothing, 0, evaluation__verdict="insufficient data", evaluation__met=True)
    assert "- **Result:** **INSUFFICIENT DATA**" in section(
        render(thin, "markdown"), "shop-availability"
    )
    pending = replace_slo(nothing, 0, evaluation__verdict="pending", evaluation__met=True)
    md = section(render(pending, "markdown"), "shop-availability")
    assert "- **Result:** **PENDING**: " in md
    assert "- **Service credit:** none claimed (pending)" in md


def test_verdict_columns_in_csv(report: Report) -> None:
    out = render(insufficient(report), "csv")
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(out, newline=""))}
    assert rows["shop-availability"]["verdict"] == "insufficient data"
    assert (
        rows["shop-availability"]["met"] == ""
        and rows["shop-availability"]["min_coverage"] == "0.9"
    )
    assert rows["api-business-hours"]["verdict"] == "missed"


def budget(total: float, consumed: float, remaining: float, ratio: float | None) -> ErrorBudget:
    return ErrorBudget(Fraction(sec(total)), sec(consumed), Fraction(remaining * 1000),
                       None if ratio is None else Fraction(ratio))  # fmt: skip


def test_overspent_budget_says_by_how_much(report: Report) -> None:
    def with_budget(b: ErrorBudget) -> Report:
        return replace_slo(report, 1, evaluation__budget=b)

    spent = with_budget(budget(90, 8113.0808, -8023.0808, -89.14312))
    md = section(render(spent, "markdown"), "api-business-hours")
    assert "overspent by 8914 % (2h14m)" in md
    assert "-8914" not in md and "left" not in md.split("Error budget:")[1].splitlines()[0]
    table = render(spent, "table")
    assert "overspent by 8914 % (2h14m)" in table and "-8914" not in table
    out = render(with_budget(budget(90, 8113.0808, -0.5, -0.0005)), "markdown")
    assert "overspent by less than 0.1 % (0.5s)" in out
    out = render(with_budget(budget(90, 8113.0808, -12, -0.0123)), "markdown")
    assert "overspent by 1.2 % (12s)" in out
    out = render(with_budget(budget(0, 30, -30, None)), "markdown")  # a budget of zero: no ratio
    assert "overspent by 30s" in out


def test_times_in_the_slo_zone_at_whole_seconds_html(report: Report) -> None:
    changed = incident("2026-10-07T13:00:00.999Z", "2026-10-07T13:02:09.600Z", 128.6, "refused")
    report = replace_slo(report, 0, figures__incidents=(changed,))
    out = render(report, "html")
    part = out[out.index("SLO shop-availability") : out.index("SLO api-business-hours")]
    assert '<td><span class="time">2026-10-07 15:00:00 CEST</span></td>' in part
    assert '<td><span class="time">2026-10-07 15:02:09 CEST</span></td>' in part
    assert "T13:" not in part and ".600" not in part
    assert ".time{white-space:nowrap}" in out
    # The header and the report-wide tables are in the report's zone.
    assert 'Generated</dt><dd><span class="time">2026-11-01 08:00:00 UTC</span>' in out
    assert (
        '<span class="time">2026-10-20 10:00:00 UTC</span>'
        in out[out.index("Maintenance and other") :]
    )


def test_times_in_the_report_zone_and_unknown_zones(report: Report) -> None:
    md = render(dataclasses.replace(report, timezone="America/New_York"), "markdown")
    period = f"- **Period:** {t('2026-09-30 20:00:00 EDT')} – {t('2026-10-30 20:00:00 EDT')} (30d)"
    assert md.splitlines()[2] == period
    # never fails: the times say what zone they are in
    md = render(dataclasses.replace(report, timezone="Not/AZone"), "markdown")
    assert f"- **Generated:** {t('2026-11-01 08:00:00 UTC')}" in md


def test_markdown_never_breaks_a_time(report: Report) -> None:
    md = render(report, "markdown")
    for match in re.finditer(
        r"20[0-9]{2}-[0-9]{2}-[0-9]{2}(.)[0-9]{2}:[0-9]{2}:[0-9]{2}(.)([A-Z]+)", md
    ):
        assert match.group(1) == match.group(2) == "\u00a0", match.group(0)
    assert re.search(r"T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z", md) is None  # no raw RFC 3339


@pytest.mark.parametrize("kind", ERROR_KINDS)
def test_every_error_kind_reads_as_words_next_to_its_code(report: Report, kind: str) -> None:
    one = incident("2026-10-07T13:00:00Z", "2026-10-07T13:20:00Z", 1200, kind)
    report = replace_slo(report, 0, figures__incidents=(one,))
    md = section(render(report, "markdown"), "shop-availability")
    row = next(line for line in md.splitlines() if line.startswith("| 2026-10-07"))
    cause = row.split(" | ")[-1].rstrip(" |")
    words, _, code = cause.rpartition(" (")
    # Underscores inside a word are left alone by the Markdown escaping: "http_status" as is.
    assert code == kind + ")" and words and words != kind, cause


def test_causes_in_words() -> None:
    incidents = (
        incident("2026-10-08T13:00:00Z", "2026-10-08T13:20:00Z", 1200, "refused"),
        incident("2026-10-09T13:00:00Z", "2026-10-09T13:20:00Z", 1200, "http_status"),
    )
    report = replace_slo(sample_report(), 0, figures__incidents=incidents)
    md = section(render(report, "markdown"), "shop-availability")
    assert "| connection refused (refused) |" in md
    assert "| HTTP error status (http_status) |" in md


def test_window_label_says_what_was_evaluated(report: Report) -> None:
    month = "2026-10-01T00:00:00Z", "2026-10-31T00:00:00Z"
    report = replace_slo(report, 1, window=slo_window(*month, "window", "7d"))
    report = replace_slo(report, 0, window=slo_window(*month, "period", "month"))
    md = render(report, "markdown")
    assert "- **Evaluated:** over the rolling window 7d, " in section(md, "api-business-hours")
    assert "- **Evaluated:** over the calendar month, " in section(md, "shop-availability")
    # Neither: the SLO was evaluated over the report's own window, and says so (no "30d").
    report = replace_slo(report, 1, window=slo_window(*month, "report", None))
    part = section(render(report, "markdown"), "api-business-hours")
    assert "- **Evaluated:** over the report window, " in part
    assert "rolling" not in part and "30d" not in part
    later = slo_window("2026-10-02T00:00:00Z", month[1], "report", None)
    assert "(report window, Europe/Berlin)" in render(replace_slo(report, 1, window=later), "table")


def test_period_to_date_in_the_header_and_the_slo(report: Report) -> None:
    report = dataclasses.replace(report, start=ms("2026-12-01T00:00:00Z"),
                                 end=ms("2026-12-02T01:00:00Z"),
                                 full_end=ms("2027-01-01T00:00:00Z"),
                                 generated_at=ms("2026-12-02T01:00:00Z"))  # fmt: skip
    lo, hi = ms("2026-11-30T23:00:00Z"), ms("2026-12-02T01:00:00Z")
    to_date = SloWindow(lo, hi, lo, ms("2026-12-31T23:00:00Z"), "period", "month", None, None,
                        True, hi)  # fmt: skip
    report = replace_slo(report, 0, window=to_date)
    md = render(report, "markdown")
    assert md.splitlines()[2] == (
        "- **Period:** December 2026 to date: 1d01h of 31d elapsed"
        f" (figures to {t('2026-12-02 01:00:00 UTC')})"
    )
    assert (
        "- **To date:** December 2026 to date: 1d02h of 31d elapsed"
        f" (figures to {t('2026-12-02 02:00:00 CET')})"
    ) in section(md, "shop-availability")
    table = render(report, "table")
    assert (
        "period:          December 2026 to date: 1d01h of 31d elapsed"
        " (figures to 2026-12-02 01:00:00 UTC)"
    ) in table
    assert "  shop-availability: December 2026 to date: 1d02h of 31d elapsed" in table
    # Not to date: nothing said.
    done = dataclasses.replace(report, full_end=report.end, generated_at=report.end)
    assert "to date" not in render(done, "markdown").splitlines()[2]


@pytest.mark.parametrize(
    ("start", "end", "zone", "name"),
    [
        ("2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z", "UTC", "December 2026"),
        (
            "2026-09-30T22:00:00Z",
            "2026-10-31T23:00:00Z",
            "Europe/Berlin",
            "October 2026",
        ),  # DST ends inside
        ("2026-10-01T00:00:00Z", "2027-01-01T00:00:00Z", "UTC", "Q4 2026"),
        ("2025-12-31T23:00:00Z", "2026-12-31T23:00:00Z", "Europe/Berlin", "2026"),
        ("2026-11-30T00:00:00Z", "2026-12-07T00:00:00Z", "UTC", "week 2026-W49"),
        ("2026-12-02T00:00:00Z", "2026-12-03T00:00:00Z", "UTC", "2026-12-02"),
        (
            "2026-12-01T00:00:00Z",
            "2027-01-01T00:00:00Z",
            "Europe/Berlin",
            None,
        ),  # not a month there
    ],
)
def test_period_names(start: str, end: str, zone: str, name: str | None) -> None:
    header = render(bare_report(start, start, end, zone), "markdown").splitlines()[2]
    if name is None:
        assert header.startswith("- **Period:** 20") and " to date" in header
    else:
        assert header.startswith(f"- **Period:** {name} to date: 0s of ")


def test_overlapping_exclusions_are_marked(report: Report) -> None:
    report = replace_exclusion(report, "sunday-patch", overlaps=(12,))
    report = replace_exclusion(report, 12, overlaps=("sunday-patch", 3))
    md = render(report, "markdown")
    tail = md[md.index("## Maintenance and other") :]
    assert "| config; overlaps #12 |" in tail
    assert (
        f"retroactive, added by alice at {t('2026-10-22 09:15:00 UTC')};"
        " overlaps sunday-patch, #3 |"
    ) in tail
    table = render(report, "table")
    assert "config; overlaps #12" in table


def test_latency_counted_from_part_of_the_window(report: Report) -> None:
    latency = report.slos[0].latency
    assert latency is not None
    partly = dataclasses.replace(latency, counted_from=ms("2026-10-03T10:00:00Z"), exact=False)
    changed = replace_slo(report, 0, latency=partly)
    md = section(render(changed, "markdown"), "shop-availability")
    assert f"**MET**; latency counted from {t('2026-10-03 12:00:00 CEST')} only" in md
    assert "  shop-availability: latency counted from 2026-10-03T10:00:00Z only" in render(
        changed, "table"
    )
    whole = replace_slo(report, 0, latency=dataclasses.replace(partly, exact=True))
    assert "counted from" not in render(whole, "markdown")
