"""Report renderers: every --format from the same report dict (uptimed.report_format)."""

from __future__ import annotations

import copy
import csv
import html
import io
import json
import re
from html.parser import HTMLParser
from typing import Any

import pytest

from uptimed.report_format import FORMATS, format_percent, human_duration, render

NASTY = "<script>alert(\"x\")</script>&amp; 'q'"


def incident(start: str, end: str | None, seconds: float, cause: str) -> dict[str, Any]:
    return {"start": start, "end": end, "duration_seconds": seconds, "counted_seconds": seconds, "cause": cause}


def sample_report() -> dict[str, Any]:
    """A month with a monitor that had incidents, one with no data at all, a quorum service, an SLO
    met and one missed with a credit, a config window and a retroactive ad-hoc exclusion."""
    web_incidents = [
        incident("2026-10-07T13:00:00Z", "2026-10-07T13:20:00Z", 1200, "timeout"),
        incident("2026-10-30T23:55:00Z", None, 300.5, "http_status " + NASTY),
    ]
    shop_incidents = [incident("2026-10-07T13:00:00Z", "2026-10-07T13:02:09.600Z", 129.6, "timeout")]
    return {
        "from": "2026-10-01T00:00:00Z",
        "to": "2026-10-31T00:00:00Z",
        "generated_at": "2026-11-01T08:00:00Z",
        "timezone": "UTC",
        "policy": {"unknown": "exclude", "maintenance": "exclude"},
        "config_sha256": "a" * 64,
        "config_versions": [
            {"sha256": "b" * 64, "from": "2026-10-01T00:00:00Z", "to": "2026-10-15T12:00:00Z"},
            {"sha256": "a" * 64, "from": "2026-10-15T12:00:00Z", "to": "2026-10-31T00:00:00Z"},
        ],
        "exclusions": [
            {
                "id": "sunday-patch", "source": "config", "monitors": ["web_api"], "services": [],
                "start": "2026-10-04T02:00:00Z", "end": "2026-10-04T03:00:00Z", "reason": "kernel patching",
                "created_by": None, "created_at": None, "retroactive": False,
            },
            {
                "id": 12, "source": "adhoc", "monitors": ["db.primary"], "services": ["shop"],
                "start": "2026-10-20T10:00:00Z", "end": "2026-10-20T10:30:00Z",
                "reason": "upstream DC outage " + NASTY, "created_by": "alice",
                "created_at": "2026-10-22T09:15:00Z", "retroactive": True,
            },
        ],
        "monitors": [
            {
                "id": "web_api", "name": "Web API " + NASTY, "availability": 0.9994212962962963,
                "coverage": 0.99871, "up_seconds": 2585700.0, "down_seconds": 1500.5, "maintenance_seconds": 3600,
                "unknown_seconds": 1200, "incidents": web_incidents, "incident_count": 2, "incident_seconds": 1500.5,
                "longest_incident_seconds": 1200, "mttr_seconds": 1200, "mtbf_seconds": 1290000,
            },
            {
                "id": "db.primary", "name": "Primary database", "availability": 1.0, "coverage": 0.999,
                "up_seconds": 2588400, "down_seconds": 0, "maintenance_seconds": 1800, "unknown_seconds": 0,
                "incidents": [], "incident_count": 0, "incident_seconds": 0, "longest_incident_seconds": None,
                "mttr_seconds": None, "mtbf_seconds": None,
            },
            {  # added yesterday and never probed in the window: no data at all
                "id": "new-probe", "name": "new-probe", "availability": None, "coverage": None,
                "up_seconds": 0, "down_seconds": 0, "maintenance_seconds": 0, "unknown_seconds": 0,
                "incidents": [], "incident_count": 0, "incident_seconds": 0, "longest_incident_seconds": None,
                "mttr_seconds": None, "mtbf_seconds": None,
            },
        ],
        "services": [
            {
                "id": "shop", "name": "Shop " + NASTY, "rule": "quorum", "quorum": 2,
                "monitors": ["web_api", "db.primary", "new-probe"], "availability": 0.99995, "coverage": 0.9986,
                "up_seconds": 2589000, "down_seconds": 129.6, "maintenance_seconds": 1800, "unknown_seconds": 400,
                "incidents": shop_incidents, "incident_count": 1, "incident_seconds": 129.6,
                "longest_incident_seconds": 129.6, "mttr_seconds": 129.6, "mtbf_seconds": None,
            },
        ],
        "slos": [
            {
                "id": "shop-availability", "target": "shop", "target_kind": "service", "customer": "ACME " + NASTY,
                "objective": 0.999, "attainment": 0.99995, "met": True,
                "from": "2026-10-01T00:00:00Z", "to": "2026-10-31T00:00:00Z", "window": None, "period": "month",
                "timezone": "Europe/Berlin", "policy": {"unknown": "exclude", "maintenance": "exclude"},
                "eligible_seconds": 2592000, "outside_hours_seconds": 0,
                "error_budget": {
                    "total_seconds": 2592.0, "consumed_seconds": 129.6, "remaining_seconds": 2462.4,
                    "remaining_ratio": 0.95,
                },
                "burn_rates": {"5m": 0.0, "30m": 0.0, "1h": 0.0, "2h": 0.0, "6h": 0.0, "24h": 0.0, "3d": 0.0},
                "credit": None,
                "latency": {
                    "threshold_seconds": 0.3, "objective": 0.99, "attainment": 0.9931, "met": True,
                    "good": 25812, "total": 25991,
                },
                "incidents": shop_incidents,
            },
            {
                "id": "api-business-hours", "target": "web_api", "target_kind": "monitor", "customer": "Globex",
                "objective": 0.9995, "attainment": 0.94, "met": False,
                "from": "2026-10-01T00:00:00Z", "to": "2026-10-31T00:00:00Z", "window": "30d", "period": None,
                "timezone": "Europe/Berlin", "policy": {"unknown": "down", "maintenance": "exclude"},
                "eligible_seconds": 777600, "outside_hours_seconds": 1814400,
                "error_budget": {
                    "total_seconds": 388.8, "consumed_seconds": 1500.5, "remaining_seconds": -1111.7,
                    "remaining_ratio": -2.859310699588477,
                },
                "burn_rates": {"5m": None, "30m": None, "1h": 14.4, "2h": 7.2, "6h": 2.4, "24h": 0.6, "3d": 0.2},
                "credit": {"below": 95.0, "credit": 100},
                "latency": None,
                "incidents": web_incidents,
            },
        ],
    }  # fmt: skip


MONITOR_IDS = ["web_api", "db.primary", "new-probe"]
SERVICE_IDS = ["shop"]
SLO_IDS = ["shop-availability", "api-business-hours"]


@pytest.fixture
def report() -> dict[str, Any]:
    return sample_report()


def section(markdown: str, slo_id: str) -> str:
    """The Markdown section of one SLO, from its heading to the next level-2 heading."""
    start = markdown.index(f"## SLO {slo_id}")
    end = markdown.find("\n## ", start + 1)
    return markdown[start : end if end != -1 else None]


# -- every format ----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_monitor_service_and_slo_appears_by_id(report: dict[str, Any], fmt: str) -> None:
    out = render(report, fmt)
    for item_id in MONITOR_IDS + SERVICE_IDS + SLO_IDS:
        assert item_id in out, f"{item_id} missing from --format {fmt}"
    assert out.endswith("\n")


@pytest.mark.parametrize("fmt", FORMATS)
def test_render_leaves_the_report_alone(report: dict[str, Any], fmt: str) -> None:
    before = copy.deepcopy(report)
    render(report, fmt)
    assert report == before


@pytest.mark.parametrize("fmt", FORMATS)
def test_empty_report_renders(fmt: str) -> None:
    empty = {"from": "2026-10-01T00:00:00Z", "to": "2026-10-02T00:00:00Z", "policy": {}, "monitors": [],
             "services": [], "slos": [], "exclusions": []}  # fmt: skip
    assert render(empty, fmt)


@pytest.mark.parametrize("fmt", ["pdfx", "JSON", "", "md"])
def test_unknown_format_is_named_with_the_allowed_ones(report: dict[str, Any], fmt: str) -> None:
    with pytest.raises(ValueError) as e:
        render(report, fmt)
    assert repr(fmt) in str(e.value)
    assert "table, json, csv, markdown, html" in str(e.value)


# -- json ------------------------------------------------------------------------------------------


def test_json_round_trips(report: dict[str, Any]) -> None:
    out = render(report, "json")
    assert json.loads(out) == report
    assert out == json.dumps(report, indent=2) + "\n"


# -- csv -------------------------------------------------------------------------------------------


def test_csv_has_one_row_per_item_with_a_kind(report: dict[str, Any]) -> None:
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


def test_csv_values_are_raw_and_flat(report: dict[str, Any]) -> None:
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(render(report, "csv"), newline=""))}
    web, empty, shop = rows["web_api"], rows["new-probe"], rows["shop"]
    met, missed = rows["shop-availability"], rows["api-business-hours"]
    assert web["name"] == "Web API " + NASTY  # quotes and commas survive RFC 4180 quoting
    assert web["availability"] == "0.9994212962962963"
    assert web["down_seconds"] == "1500.5"
    assert web["incidents"] == "2"
    assert empty["availability"] == "" and empty["mttr_seconds"] == "" and empty["up_seconds"] == "0"
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


def test_csv_keeps_unknown_fields_as_extra_columns(report: dict[str, Any]) -> None:
    report["monitors"][0]["p95_latency_seconds"] = 0.25
    rows = list(csv.DictReader(io.StringIO(render(report, "csv"), newline="")))
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


def test_html_is_one_self_contained_escaped_document(report: dict[str, Any]) -> None:
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


def test_html_has_the_same_content_as_markdown(report: dict[str, Any]) -> None:
    out = render(report, "html")
    for needle in ("SLO shop-availability", "SLO api-business-hours", "MET", "MISSED",
                   "100 % (attainment below 95 %)", "43m12s total", "retroactive, added by alice",
                   "Primary database", "quorum 2 of 3", "b" * 64):  # fmt: skip
        assert needle in out, needle
    assert '<strong class="missed">MISSED</strong>' in out


# -- markdown --------------------------------------------------------------------------------------


def test_markdown_has_a_section_per_slo_with_verdict_budget_and_credit(report: dict[str, Any]) -> None:
    out = render(report, "markdown")
    assert out.startswith("# Availability report — ACME ")
    assert "Globex" in out.splitlines()[0]

    met = section(out, "shop-availability")
    assert "- **Objective:** 99.9 %" in met
    assert "- **Attainment:** 99.995 %" in met
    assert "- **Result:** **MET**" in met
    assert "- **Error budget:** 43m12s total, 2m09s used, 41m02s left (95.000 %)" in met
    assert "- **Service credit:** none" in met
    assert "| 2026-10-07T13:00:00Z | 2026-10-07T13:02:09.600Z | 2m09s | 2m09s | timeout |" in met
    # Maintenance on the service or on one of its members, both within the SLO's window.
    assert "| sunday-patch |" in met and "| 12 |" in met

    missed = section(out, "api-business-hours")
    assert "- **Objective:** 99.95 %" in missed
    assert "- **Result:** **MISSED**" in missed
    assert "- **Service credit:** **100 % (attainment below 95 %)**" in missed
    assert "overspent by 18m31s" in missed
    assert "| 2026-10-30T23:55:00Z | ongoing | 5m00s | 5m00s |" in missed
    assert "- **Policy:** unknown time counted as down, maintenance excluded" in missed
    assert "| sunday-patch |" in missed and "| 12 |" not in missed  # window 12 covers db.primary, not web_api

    tail = out[out.index("\n## Monitors") :]
    assert "| new-probe | new-probe | - | - | 0s | 0s | 0s | 0 | - |" in tail
    assert "retroactive, added by alice at 2026-10-22T09:15:00Z" in tail
    assert "Policy: unknown time excluded, maintenance excluded." in tail
    assert "a" * 64 in tail and "b" * 64 in tail


def test_markdown_escapes_markup_from_the_report(report: dict[str, Any]) -> None:
    report["monitors"][1]["name"] = "a | b *c* [d](e) `f` _g_"
    out = render(report, "markdown")
    assert re.search(r"(?<!\\)[<&]", out) is None  # no raw HTML or entity a renderer could act on
    assert "\\<script\\>" in out
    assert r"a \| b \*c\* \[d\](e) \`f\` \_g\_" in out
    assert "web_api" in out  # an underscore inside a word is left alone


def test_markdown_and_table_flatten_control_characters(report: dict[str, Any]) -> None:
    report["exclusions"][0]["reason"] = "line one\nline two\x1b[31m red"
    for fmt in ("markdown", "table"):
        out = render(report, fmt)
        assert "\x1b" not in out
        assert "line one line two" in out


# -- table -----------------------------------------------------------------------------------------


def test_table_for_operators(report: dict[str, Any]) -> None:
    out = render(report, "table")
    lines = out.splitlines()
    assert lines[0] == "Availability report 2026-10-01T00:00:00Z to 2026-10-31T00:00:00Z (30d00h)"
    assert "policy:          unknown=exclude, maintenance=exclude" in lines
    assert any(line.endswith("b" * 64 + " (2026-10-01T00:00:00Z to 2026-10-15T12:00:00Z)") for line in lines)

    def row(first: str) -> list[str]:
        return next(line for line in lines if line.startswith(first + " ")).split()

    assert row("web_api") == ["web_api", "99.9421", "%", "99.87", "%", "29d22h", "25m00s", "1h00m", "20m00s",
                              "2", "20m00s"]  # fmt: skip
    assert row("new-probe") == ["new-probe", "-", "-", "0s", "0s", "0s", "0s", "0", "-"]
    assert row("shop")[:3] == ["shop", "quorum", "2"]
    assert row("shop-availability")[:8] == ["shop-availability", "shop", "99.9", "%", "99.9950", "%", "MET", "41m02s"]
    missed = " ".join(row("api-business-hours"))
    assert "MISSED -18m31s (-285.94 %) 14.40 100 %" in missed
    assert "api-business-hours: policy unknown=down, maintenance=exclude" in out
    retro = next(line for line in lines if line.startswith("12 "))
    assert "retroactive, added by alice at 2026-10-22T09:15:00Z" in retro
    assert "\x1b" not in out


def test_table_columns_are_aligned(report: dict[str, Any]) -> None:
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
        (129.6, "2m09s"),  # cut, never rounded up
        (2592, "43m12s"),  # the budget of a fully eligible 30 days at 99.9 %
        (2592.0, "43m12s"),
        (3599.9999999, "1h00m"),
        (3720, "1h02m"),
        (86399, "23h59m"),
        (86400, "1d00h"),
        (183600, "2d03h"),
        (31 * 86400, "31d00h"),
        (-1111.7, "-18m31s"),
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


def test_a_missed_objective_never_shows_as_reached(report: dict[str, Any]) -> None:
    slo = report["slos"][1]
    slo.update(objective=0.99995, attainment=0.9999499999, met=False)
    out = render(report, "markdown")
    assert "- **Objective:** 99.995 %" in out
    assert "- **Attainment:** 99.994 %" in out
    slo.update(objective=0.999995, attainment=0.99999499)
    out = render(report, "markdown")
    assert "- **Objective:** 99.9995 %" in out
    assert "- **Attainment:** 99.9994 %" in out  # as many decimals as the objective has


def test_slo_over_its_own_window(report: dict[str, Any]) -> None:
    """An SLO evaluated over its calendar month in its zone says so, and lists only the maintenance
    that falls in that window."""
    slo = report["slos"][0]
    slo.update({"from": "2026-09-30T22:00:00Z", "to": "2026-10-15T00:00:00Z"})
    report["exclusions"][0].update(start="2026-10-20T02:00:00Z", end="2026-10-20T03:00:00Z")
    table = render(report, "table")
    assert "  shop-availability: evaluated 2026-09-30T22:00:00Z to 2026-10-15T00:00:00Z (period month, Europe/Berlin)" in table
    markdown = section(render(report, "markdown"), "shop-availability")
    assert "(calendar month, time zone Europe/Berlin)" in markdown
    assert "### Maintenance excluded\n\nNone." in markdown
