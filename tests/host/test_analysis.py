"""Host tests of the benchmark analysis: the experiments' parsers and
transforms (bench/<experiment>/experiment.py) on small golden fixtures
(tests/host/fixtures/bench/), malformed lines included, and one end-to-end
`kbench report` on a fixture run folder. No timing assertions: the figures
are fixture data.

    $ /usr/bin/python3 -m pytest -q tests/host/test_analysis.py
"""
import math
import os
import shutil
import sys

import pandas as pd
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "analysis"))
sys.path.insert(0, os.path.join(ROOT, "trace"))

from kbench import parse, report, experiments  # noqa: E402
from kbench import cli  # noqa: E402
from ktrace.writer import SimWriter  # noqa: E402

FIX = os.path.join(HERE, "fixtures", "bench")
EXPS = experiments.discover()
lazy = EXPS["lazy"].module
alloc = EXPS["alloc"].module
fork = EXPS["fork"].module
msync = EXPS["msync"].module
tracecost = EXPS["tracecost"].module
faults = EXPS["faults"].module


def lines(name):
    with open(os.path.join(FIX, name)) as f:
        return f.read().splitlines()


def reasons(problems):
    return [(p.line, p.reason) for p in problems]


def load_fixture_run(path=None):
    return parse.load_run(path or os.path.join(FIX, "run"), EXPS)


def data_of(run, exp):
    return run.data[exp]


# ---- parse: good output --------------------------------------------------------------

def test_vmbench_golden():
    t = lazy.parse_vm(lines("vmbench.out"), "vmbench.out")
    assert t.problems == []
    assert list(t["stats"]["name"]) == ["lazy_fault", "null_syscall", "zero_page",
                                        "syscall_plus_zero"]
    assert t["stats"].set_index("name")["cycles"]["lazy_fault"] == 31782
    runs = t["runs"]
    assert len(runs) == 12
    assert set(runs["mode"]) == {"lazy", "populate", "vm.lazy=0"}
    assert sorted(runs["pct"].unique()) == [1, 10, 50, 100]
    row = runs[(runs["pct"] == 100) & (runs["mode"] == "lazy")].iloc[0]
    assert (row["region_kib"], row["pages"], row["faults"]) == (32768, 8200, 8192)


def test_allocbench_golden():
    t = alloc.parse("allocbench", lines("allocbench.out"), "allocbench.out")
    assert t.problems == []
    assert list(t["buddy"]["order"]) == list(range(11))
    assert list(t["buddy"]["pages"]) == [1 << k for k in range(11)]
    assert len(t["kmalloc"]) == 8 and t["kmalloc"]["size"].iloc[0] == 16
    assert list(t["frag"]["phase"]) == ["start", "held"]
    assert t["fragrun"]["restored"].iloc[0] == 1
    assert t["tsc"]["tsc_khz"].iloc[0] == 2640211


def test_tracebench_golden():
    t = tracecost.parse("tracebench", lines("tracebench.out"), "tracebench.out")
    assert t.problems == []
    s = t["stats"].set_index("name")["value"]
    assert s["touch_pages"] == 512
    assert s["event_cycles_on_x100"] == 48047
    assert s["slowdown_pct_x100"] == 1142


def test_forkbench_golden():
    t = fork.parse("forkbench", lines("forkbench.out"), "forkbench.out")
    assert t.problems == []
    r = t["runs"]
    assert list(r["npages"].unique()) == [0, 64, 256, 1024]
    assert set(r["child"]) == {"exit", "write"}
    assert (r["policy"] == "eager").all()


def test_msyncbench_golden():
    t = msync.parse("msyncbench", lines("msyncbench.out"), "msyncbench.out")
    assert t.problems == []
    r = t["runs"]
    assert len(r) == 8
    assert list(r["pct"].unique()) == [1, 10, 50, 100]
    assert list(r["dirtied"].unique()) == [2, 25, 128, 256]
    assert list(r["mode"][:2]) == ["dirty", "full"]
    assert (r["file_pages"] == 256).all()
    row = r[(r["pct"] == 10) & (r["mode"] == "dirty")].iloc[0]
    assert (row["cycles"], row["pages_written"], row["bytes_written"]) == (64993532, 25, 102400)
    assert (r[r["mode"] == "full"]["pages_written"] == 256).all()
    assert (r["bytes_written"] == r["pages_written"] * 4096).all()


def test_vmphases_uses_vmbench_format():
    t = faults.parse("vmphases", lines("vmphases.out"), "vmphases.out")
    assert t.problems == []
    assert len(t["runs"]) == 12


# ---- parse: malformed output -----------------------------------------------------------

def test_vmbench_malformed_lines_reported_not_fatal():
    t = lazy.parse_vm(lines("vmbench_bad.out"), "vmbench_bad.out")
    got = reasons(t.problems)
    assert [ln for ln, _ in got] == [3, 4, 6, 7, 8, 9, 10, 11]
    r = dict(got)
    assert r[3] == "expected csvstat,NAME,INTEGER"
    assert r[4] == "expected csvstat,NAME,INTEGER"
    assert r[6].startswith("expected 6 fields")
    assert r[7] == "field cycles: 'overflow' is not an integer"
    assert "interleaved" in r[8]
    assert r[9].startswith("header differs")
    assert r[10] == "field mode is empty"
    assert r[11] == "unknown line kind 'csvfoo'"
    # The good lines around them still count.
    assert list(t["stats"]["name"]) == ["lazy_fault"]
    assert list(t["runs"]["mode"]) == ["lazy", "populate"]
    assert str(t.problems[0]).startswith("vmbench_bad.out:3: expected csvstat")


def test_allocbench_malformed_lines():
    t = alloc.parse("allocbench", lines("allocbench_bad.out"), "allocbench_bad.out")
    r = dict(reasons(t.problems))
    assert sorted(r) == [5, 6, 7, 10, 11, 12]
    assert r[5].startswith("buddy: expected 8 fields")
    assert r[6].startswith("header differs")
    assert r[7] == "unknown table 'slab'"
    assert r[10].startswith("frag: expected 15 fields")
    assert r[11] == "expected csv,tsc_khz,INTEGER"
    assert r[12] == "not a csv,TABLE,... line"
    assert list(t["buddy"]["order"]) == [0]
    assert list(t["frag"]["phase"]) == ["start"]
    assert list(t["tsc"]["tsc_khz"]) == [2640211]


def test_forkbench_malformed_lines():
    t = fork.parse("forkbench", lines("forkbench_bad.out"), "forkbench_bad.out")
    r = dict(reasons(t.problems))
    assert sorted(r) == [3, 4]
    assert r[3].startswith("expected 11 fields")
    assert r[4] == "field npages: 'sixty' is not an integer"
    assert list(t["runs"]["npages"]) == [0, 256]


def test_msyncbench_malformed_lines():
    t = msync.parse("msyncbench", lines("msyncbench_bad.out"), "msyncbench_bad.out")
    r = dict(reasons(t.problems))
    assert sorted(r) == [4, 5, 6, 7, 8, 9]
    assert r[4].startswith("expected 7 fields")
    assert r[5] == "field cycles: '6499x532' is not an integer"
    assert r[6].startswith("header differs")
    assert r[7] == "field mode is empty"
    assert r[8] == "unknown line kind 'csvstat'"
    assert "interleaved" in r[9]
    assert list(zip(t["runs"]["pct"], t["runs"]["mode"])) == [(1, "dirty"), (100, "full")]


def test_empty_and_garbage_input():
    for exp in EXPS.values():
        for r in exp.runs:
            t = exp.module.parse(r.name, [], "x")
            assert t.problems == []
            assert all(df.empty for df in t.values())
            t = exp.module.parse(r.name, ["\x00\xff binary", "", "   "], "x")
            assert t.problems == []


# ---- parse: a run folder ---------------------------------------------------------------

def test_load_run_skips_failed_and_reports_stray_files():
    run = load_fixture_run()
    assert [e["out"] for e in run.failed] == ["allocbench.1.out"]
    assert "allocbench.buddy" not in run.data["alloc"].tables
    assert [s["experiment"] for s in run.skipped] == ["msync"]
    assert sorted(data_of(run, "lazy").table("vmbench.runs")["boot"].unique()) == [1, 2]
    assert any("unexpected file" in p.reason for p in run.problems)


def test_load_run_without_raw(tmp_path):
    run = parse.load_run(str(tmp_path), EXPS)
    assert run.data == {}
    assert any("no raw/" in p.reason for p in run.problems)


# ---- transform ------------------------------------------------------------------------

def test_lazy_vs_eager_medians_and_ratios():
    run = load_fixture_run()
    t = lazy.lazy_vs_eager(data_of(run, "lazy").table("vmbench.runs"))
    assert list(t["mode"][:3]) == ["lazy", "populate", "vm.lazy=0"]
    row = t[(t["pct"] == 10) & (t["mode"] == "lazy")].iloc[0]
    assert row["cycles"] == 200.0          # median of 100 and 300
    assert (row["cycles_min"], row["cycles_max"]) == (100, 300)
    assert row["boots"] == 2 and row["cycles_vs_lazy"] == 1.0
    pop = t[(t["pct"] == 10) & (t["mode"] == "populate")].iloc[0]
    assert pop["cycles_vs_lazy"] == 5.0
    assert pop["pages_vs_lazy"] == pytest.approx(258 / 26)
    eager100 = t[(t["pct"] == 100) & (t["mode"] == "vm.lazy=0")].iloc[0]
    assert eager100["cycles_vs_lazy"] == pytest.approx(0.6)
    w = lazy.modes_wide(t, "pages")
    assert list(w.columns) == ["pct", "lazy", "populate", "vm.lazy=0"]
    assert list(w["lazy"]) == [26, 258]


def test_lazy_vs_eager_empty():
    assert lazy.lazy_vs_eager(pd.DataFrame()).empty


def test_fault_cost_floor_ratio():
    run = load_fixture_run()
    t = lazy.fault_cost(data_of(run, "lazy").table("vmbench.stats")).set_index("name")
    assert t.loc["lazy_fault", "cycles"] == 25000.0
    assert t.loc["syscall_plus_zero", "cycles"] == 11000.0
    assert t.loc["fault_over_floor", "cycles"] == pytest.approx(25000 / 11000)


def test_fragmentation_unusable_index():
    t = alloc.parse("allocbench", lines("allocbench.out"), "a")
    frag = t["frag"].assign(boot=1)
    f = alloc.fragmentation(frag)
    start = f[f["phase"] == "start"].set_index("order")
    # start: b0..b2 = 2, 2, 4 blocks -> 2, 4, 16 pages; 32158 free
    assert start.loc[0, "unusable"] == 0.0
    assert start.loc[1, "unusable"] == pytest.approx(2 / 32158)
    assert start.loc[3, "unusable"] == pytest.approx((2 + 4 + 16) / 32158)
    assert start.loc[10, "pages_in_blocks"] == 31 * 1024
    assert start.loc[0, "ext_frag"] == pytest.approx(1 - 1024 / 32158)
    assert f["boots_agree"].all()
    chk = alloc.check_free_lists(frag)
    assert chk["consistent"].all()
    bad = frag.copy()
    bad.loc[0, "b0"] += 1
    assert list(alloc.check_free_lists(bad)["consistent"]) == [False, True]


def test_fragmentation_boots_disagree():
    t = alloc.parse("allocbench", lines("allocbench.out"), "a")
    a = t["frag"].assign(boot=1)
    b = t["frag"].assign(boot=2)
    b.loc[b["phase"] == "held", "b0"] += 2
    f = alloc.fragmentation(pd.concat([a, b], ignore_index=True))
    assert f[f["phase"] == "start"]["boots_agree"].all()
    assert not f[f["phase"] == "held"]["boots_agree"].any()


def test_alloc_by_order_per_page():
    t = alloc.parse("allocbench", lines("allocbench.out"), "a")
    a = alloc.alloc_by_order(t["buddy"].assign(boot=1))
    assert list(a["order"]) == list(range(11))
    r = a.set_index("order")
    assert r.loc[3, "alloc_cycles_per_page"] == pytest.approx(1455 / 8)


def test_trace_overhead():
    run = load_fixture_run()
    pb = tracecost.per_boot(data_of(run, "tracecost").table("tracebench.stats"))
    t = tracecost.trace_overhead(pb).set_index("metric")
    assert t.loc["event_off", "value"] == pytest.approx(29.41)
    assert t.loc["slowdown", "value"] == pytest.approx(10.0)
    assert t.loc["added_per_page", "value"] == pytest.approx(100 * 1024 / 512)
    assert t.loc["touch_on", "unit"] == "cycles"


def test_fork_cost_extra_pages():
    run = load_fixture_run()
    f = fork.fork_cost(data_of(run, "fork").table("forkbench.runs"))
    r = f.set_index(["child", "npages"])
    assert r.loc[("exit", 64), "extra_pages"] == 64
    assert r.loc[("exit", 64), "cycles_per_extra_page"] == pytest.approx((8400 - 2000) / 64)
    assert r.loc[("write", 64), "cycles_per_extra_page"] == pytest.approx((9680 - 2000) / 64)
    assert math.isnan(r.loc[("exit", 0), "cycles_per_extra_page"])
    assert not fork.cow_present(f)
    assert fork.fork_compare(f).empty
    cow = f.copy()
    cow.loc[0, "cow_faults"] = 3
    assert fork.cow_present(cow)


def test_fork_compare_cow_vs_eager():
    rows = []
    for policy, child, n, total, pgalloc, cowf in (
            ("eager", "exit", 0, 2000, 10, 0), ("eager", "exit", 64, 8400, 74, 0),
            ("cow", "exit", 0, 400, 6, 2), ("cow", "exit", 64, 600, 6, 2),
            ("cow", "write", 64, 9000, 70, 66)):
        rows.append({"boot": 1, "policy": policy, "npages": n, "child": child,
                     "fork_cycles": total // 2, "total_cycles": total, "pgalloc": pgalloc,
                     "pgfree": pgalloc, "faults": cowf, "cow_faults": cowf})
    f = fork.fork_cost(pd.DataFrame(rows))
    assert list(f["policy"]) == ["eager", "eager", "cow", "cow", "cow"]
    r = f.set_index(["policy", "child", "npages"])
    # cow exit at 64 pages copies nothing: no per-page figure
    assert math.isnan(r.loc[("cow", "exit", 64), "cycles_per_extra_page"])
    assert fork.cow_present(f)
    c = fork.fork_compare(f)
    assert list(zip(c["child"], c["npages"])) == [("exit", 0), ("exit", 64)]
    row = c.set_index("npages").loc[64]
    assert row["cow_vs_eager_cycles"] == pytest.approx(600 / 8400)
    assert row["cow_vs_eager_pages"] == pytest.approx(6 / 74)
    assert row["cow_faults"] == 2


def msync_runs():
    """The golden msyncbench output as two boots: boot 2 has every cycle
    figure doubled (same page counts)."""
    r = msync.parse("msyncbench", lines("msyncbench.out"), "m")["runs"]
    b2 = r.assign(cycles=r["cycles"] * 2)
    return pd.concat([r.assign(boot=1), b2.assign(boot=2)], ignore_index=True)


def test_msync_compare_medians_and_ratios():
    t = msync.msync_compare(msync_runs())
    assert len(t) == 8
    assert list(zip(t["pct"], t["mode"]))[:4] == [(1, "dirty"), (1, "full"), (10, "dirty"),
                                                  (10, "full")]
    d = t.set_index(["pct", "mode"])
    assert d.loc[(10, "dirty"), "cycles"] == 1.5 * 64993532         # median of x and 2x
    assert (d.loc[(10, "dirty"), "cycles_min"], d.loc[(10, "dirty"), "cycles_max"]) == \
        (64993532, 2 * 64993532)
    assert d.loc[(10, "dirty"), "boots"] == 2
    assert d.loc[(1, "full"), "pages_written"] == 256
    assert d.loc[(1, "full"), "bytes_written"] == 1048576
    assert d.loc[(1, "dirty"), "cycles_vs_dirty"] == 1.0
    assert d.loc[(1, "full"), "cycles_vs_dirty"] == pytest.approx(897892862 / 5285022)
    assert d.loc[(1, "full"), "pages_vs_dirty"] == 128.0
    assert d.loc[(100, "full"), "pages_vs_dirty"] == 1.0
    w = msync.msync_speedup(t)
    assert list(w["pct"]) == [1, 10, 50, 100]
    assert list(w["dirtied"]) == [2, 25, 128, 256]
    assert list(w["ideal"]) == [128.0, 256 / 25, 2.0, 1.0]
    assert w.set_index("pct").loc[50, "speedup"] == pytest.approx(804339684 / 407874346)
    assert w.set_index("pct").loc[50, "efficiency"] == \
        pytest.approx(804339684 / 407874346 / 2.0)


def test_msync_compare_empty_and_one_mode():
    assert msync.msync_compare(pd.DataFrame()).empty
    assert msync.msync_speedup(msync.msync_compare(pd.DataFrame())).empty
    r = msync_runs()
    t = msync.msync_compare(r[r["mode"] == "full"])
    assert len(t) == 4 and t["cycles_vs_dirty"].isna().all()
    assert msync.msync_speedup(t).empty


# ---- the traced run --------------------------------------------------------------------

def sim_trace(tmp_path, truncate=0, drop_end_marker=False):
    """A dump like `trace run vmphases`: two phases; lazy: 3 faults + 3
    page allocs; populate: one order-2 alloc; a stray marker; returns path."""
    w = SimWriter(ncpu=2, cap=256, mode="stop", pid=4)
    w.emit(1, "marker", pid=4, label="ph:lazy:10", arg=1)
    for i in range(3):
        w.emit(1, "fault", pid=4, va=0x40000000 + i * 4096, eip=0x1010, err=6, how="zero",
               cycles=7000 + i * 100)
        w.emit(1, "page_alloc", pid=4, pa=0x100000 + i * 4096, order=0, site=0x80101000)
    w.emit(1, "marker", pid=4, label="ph:lazy:10", arg=0)
    w.emit(1, "fault", pid=4, va=0x40010000, eip=0x1010, err=6, how="zero", cycles=5000)
    w.emit(1, "marker", pid=4, label="ph:populate:10", arg=1)
    w.emit(1, "page_alloc", pid=4, pa=0x200000, order=2, site=0x80101000)
    w.emit(1, "marker", pid=4, label="other marker", arg=7)
    if not drop_end_marker:
        w.emit(1, "marker", pid=4, label="ph:populate:10", arg=0)
    data = w.dump()
    if truncate:
        data = data[:-truncate]
    p = tmp_path / "vmphases.1.com2.bin"
    p.write_bytes(data)
    return str(p)


def test_trace_phase_counts(tmp_path):
    df, summary, problems = parse.load_trace(sim_trace(tmp_path))
    assert problems == []
    assert summary["records"] == 13
    ph = faults.phases(df)
    assert list(ph["phase"]) == ["ph:lazy:10", "ph:populate:10"]
    assert ph["complete"].all()
    c = faults.phase_counts(df, ph).set_index("mode")
    assert c.loc["lazy", "faults"] == 3 and c.loc["lazy", "zero_faults"] == 3
    assert c.loc["lazy", "pages_alloc"] == 3
    assert c.loc["lazy", "fault_cycles_median"] == 7100
    assert c.loc["populate", "faults"] == 0
    assert c.loc["populate", "page_allocs"] == 1 and c.loc["populate", "pages_alloc"] == 4
    runs = pd.DataFrame({"pct": [10, 10], "mode": ["lazy", "populate"], "pages": [3, 5],
                         "faults": [3, 0]})
    cmp = faults.compare_counts(c.reset_index(), runs).set_index("mode")
    assert bool(cmp.loc["lazy", "agree"]) and not bool(cmp.loc["populate", "agree"])
    tl = faults.event_timeline(df, ph)
    assert list(tl["n"]) == [1, 2, 3] and list(tl["total"]) == [1, 2, 3]
    assert (tl["phase"] == "ph:lazy:10").all()
    al = faults.event_timeline(df, ph, "page_alloc")
    assert list(al["total"]) == [1, 2, 3, 7]


def test_trace_unmatched_marker(tmp_path):
    df, _, _ = parse.load_trace(sim_trace(tmp_path, drop_end_marker=True))
    ph = faults.phases(df)
    assert list(ph["complete"]) == [True, False]
    assert len(faults.phase_counts(df, ph)) == 1


def test_trace_truncated_dump_reported(tmp_path):
    df, summary, problems = parse.load_trace(sim_trace(tmp_path, truncate=30))
    assert problems, "a truncated dump must be reported"
    assert any("truncated" in p.reason or "missing_end" in p.reason for p in problems)
    faults.phase_counts(df, faults.phases(df))        # and still usable


def test_trace_empty_dump(tmp_path):
    p = tmp_path / "empty.bin"
    p.write_bytes(b"")
    df, summary, problems = parse.load_trace(str(p))
    assert any("empty" in x.reason for x in problems)
    assert faults.phases(df).empty


# ---- report ---------------------------------------------------------------------------

def test_md_table():
    t = report.md_table(pd.DataFrame({"a": ["x"], "b": [1.5], "c": [float("nan")]}),
                        {"b": "{:.2f}"})
    assert t.splitlines() == ["| a | b | c |", "|---|--:|--:|", "| x | 1.50 | - |"]


def test_report_end_to_end(tmp_path):
    dst = tmp_path / "run"
    shutil.copytree(os.path.join(FIX, "run"), dst)
    assert cli.main(["report", str(dst)]) == 0
    for exp, names in (("lazy", ["lazy_vs_eager", "fault_cost", "crossover"]),
                       ("fork", ["fork_cost", "fork_compare", "fork_break_even"]),
                       ("tracecost", ["trace_overhead"])):
        for name in names:
            assert (dst / exp / (name + ".csv")).exists(), (exp, name)
    for png in ("lazy/lazy_vs_eager_cycles.png", "lazy/lazy_vs_eager_pages.png",
                "fork/fork_cost.png"):
        assert (dst / png).stat().st_size > 0
    text = (dst / "REPORT.md").read_text()
    assert "## Method and machine" in text and "Test CPU" in text
    assert "WARNING: the host was overloaded" in text       # load 3.5 on 2 CPUs
    assert "- msync: skipped: not built" in text
    assert "Copy-on-write: skipped" in text
    assert "run failed: alloc/allocbench.1.out" in text
    assert "unexpected file" in text
    assert "the issue" not in text
    lv = pd.read_csv(dst / "lazy" / "lazy_vs_eager.csv")
    assert len(lv) == 6
    sp = pd.read_csv(dst / "spread.csv")
    assert {"median", "iqr", "cv", "noisy"} <= set(sp.columns)
    assert cli.main(["check", str(dst)]) == 1


def test_report_with_msync_data(tmp_path):
    dst = tmp_path / "run"
    shutil.copytree(os.path.join(FIX, "run"), dst)
    (dst / "raw" / "msync").mkdir()
    shutil.copy(os.path.join(FIX, "msyncbench.out"), dst / "raw" / "msync" / "msyncbench.1.out")
    assert cli.main(["report", str(dst)]) == 0
    assert (dst / "msync" / "msync_compare.png").stat().st_size > 0
    m = pd.read_csv(dst / "msync" / "msync_compare.csv")
    assert len(m) == 8 and set(m["mode"]) == {"dirty", "full"}
    text = (dst / "REPORT.md").read_text()
    sec = text.split("## Dirty-bit vs full msync")[1].split("\n## ")[0]
    assert "Skipped" not in sec
    assert "| 1% | 2 | 5.29 | 897.89 | 169.89x | 128.00x | 133% |" in sec
    assert "2 of 256 pages dirty: speed-up 169.89x against an ideal of 128.00x (133%); above" in sec


# ---- stats and compare -----------------------------------------------------------------

from kbench import stats, compare  # noqa: E402


def test_spread_and_noisy_flag():
    s = pd.DataFrame({"metric": ["a"] * 4 + ["b"] * 4, "boot": [1, 2, 3, 4] * 2,
                      "cycles": [100.0, 110.0, 90.0, 100.0, 50.0, 50.0, 50.0, 51.0]})
    sp = stats.spread(s).set_index("metric")
    assert sp.loc["a", "median"] == 100.0 and sp.loc["a", "iqr"] == 5.0
    assert sp.loc["a", "cv"] == pytest.approx(0.0816, abs=1e-4)
    assert bool(sp.loc["a", "noisy"]) and not bool(sp.loc["b", "noisy"])
    # Under the instruction clock any spread at all is flagged.
    assert bool(stats.spread(s, "icount").set_index("metric").loc["b", "noisy"])


def test_bootstrap_ratio_interval():
    a = [100, 102, 98, 101, 99]
    r, lo, hi = stats.bootstrap_ratio(a, [50, 51, 49, 50.5, 49.5])
    assert r == pytest.approx(0.5) and lo < 0.5 < hi and hi < 1
    r, lo, hi = stats.bootstrap_ratio(a, [99, 103, 100, 98, 101])
    assert lo < 1 < hi
    assert stats.bootstrap_ratio(a, [50, 51, 49]) == stats.bootstrap_ratio(a, [50, 51, 49])
    assert math.isnan(stats.bootstrap_ratio([], a)[0])


def test_crossings_interpolate():
    # lazy rises 1 -> 21, eager flat at 11: equal at x = 50 between 0 and 100.
    assert stats.crossings([0, 100], [1, 21], [11, 11]) == [(50.0, False)]
    assert stats.crossings([1, 10, 50, 100], [1, 2, 10, 30], [20, 20, 20, 20]) == \
        [(75.0, False)]
    assert stats.crossings([0, 1], [1, 2], [5, 5]) == []


def test_lazy_crossover_from_table():
    t = pd.DataFrame({"region_kib": 8192, "pct": [10, 10, 100, 100],
                      "mode": ["lazy", "vm.lazy=0"] * 2, "cycles": [10.0, 60.0, 100.0, 70.0],
                      "pages": [1, 2, 3, 4], "faults": 0, "boot": 1})
    c = lazy.crossovers(lazy.lazy_vs_eager(t))
    # lazy - eager: -50 at 10 %, +30 at 100 %: zero at 10 + 90 * 50/80.
    assert list(c["mode"]) == ["vm.lazy=0"]
    assert c["crossover_pct"].iloc[0] == pytest.approx(10 + 90 * 50 / 80)
    assert bool(c["lazy_cheaper_below"].iloc[0])


def test_fork_break_even():
    cmp = pd.DataFrame({"child": ["exit", "write"], "npages": [64, 64],
                        "eager_cycles": [100.0, 110.0], "cow_cycles": [20.0, 230.0]})
    be = fork.break_even(cmp)
    # cow 20 + 210 w = eager 100 + 10 w  ->  w = 0.4
    assert be["break_even_pct"].iloc[0] == pytest.approx(40.0)
    cmp["cow_cycles"] = [20.0, 50.0]
    assert math.isnan(fork.break_even(cmp)["break_even_pct"].iloc[0])


def test_msync_one_call_timeline():
    ev = pd.DataFrame({"type": "msync_write", "why": "msync",
                       "tsc": [0, 10, 20, 1000, 1010, 1020, 1030, 5000],
                       "off": [0, 4096, 8192, 0, 4096, 8192, 12288, 0],
                       "bytes": 4096})
    tl = msync.one_msync(ev)
    assert list(tl["page"]) == [0, 1, 2, 3] and list(tl["t_cycles"]) == [0, 10, 20, 30]
    assert tl["total_bytes"].iloc[-1] == 4 * 4096


def test_kmalloc_churn_explained():
    t = alloc.parse("allocbench", lines("allocbench.out"), "a")
    b = alloc.alloc_by_order(t["buddy"].assign(boot=1))
    k = alloc.kmalloc_by_size(t["kmalloc"].assign(boot=1))
    c = alloc.kmalloc_churn(k, b).set_index("size")
    assert bool(c.loc[16, "churn"]) and not bool(c.loc[64, "churn"])
    text = "\n".join(alloc.explain_churn(alloc.kmalloc_churn(k, b)))
    assert "16 B" in text and "slab" in text


def test_compare_fixtures(tmp_path):
    A, B = os.path.join(FIX, "compare", "A"), os.path.join(FIX, "compare", "B")
    out = tmp_path / "cmp"
    assert cli.main(["compare", A, B, "--out", str(out)]) == 0
    t = pd.read_csv(out / "compare.csv").set_index("metric")
    assert t.loc["event_on", "verdict"] == "faster"
    assert t.loc["event_on", "ratio"] == pytest.approx(0.5, rel=0.01)
    assert t.loc["event_on", "hi"] < 1
    assert t.loc["event_off", "verdict"] == "slower" and t.loc["event_off", "lo"] > 1
    assert t.loc["touch_off", "verdict"] == "within noise"
    assert t.loc["touch_on", "verdict"] == "within noise"
    assert t.loc["touch_off", "lo"] < 1 < t.loc["touch_off", "hi"]
    text = (out / "COMPARE.md").read_text()
    assert "1 faster, 1 slower, 2 within noise" in text
    assert "kernel aaaaaaa" in text and "kernel bbbbbbb" in text
    assert (out / "compare.png").stat().st_size > 0
    # The same run against itself: every timing within noise.
    assert cli.main(["compare", A, A, "--out", str(tmp_path / "same")]) == 0
    assert set(pd.read_csv(tmp_path / "same" / "compare.csv")["verdict"]) == {"within noise"}


def test_compare_refuses_different_clocks(tmp_path, capsys):
    A, C = os.path.join(FIX, "compare", "A"), os.path.join(FIX, "compare", "C")
    assert cli.main(["compare", A, C, "--out", str(tmp_path / "x")]) == 2
    assert "not the same unit" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_compare_too_few_boots(tmp_path):
    run = os.path.join(FIX, "run")
    assert cli.main(["compare", run, run, "--out", str(tmp_path / "c")]) == 0
    assert set(pd.read_csv(tmp_path / "c" / "compare.csv")["verdict"]) == {"too few boots"}


def test_report_icount_method(tmp_path):
    dst = tmp_path / "C"
    shutil.copytree(os.path.join(FIX, "compare", "C"), dst)
    assert cli.main(["report", str(dst)]) == 0
    text = (dst / "REPORT.md").read_text()
    assert "Clock: **instruction count**" in text and "1000000 kHz" in text
    assert "WARNING" not in text
    # Under icount any spread is noisy: the fixture's boots differ.
    assert "**NOISY**" in text


def test_rank_test_exact():
    assert stats.rank_test([1, 2, 3], [4, 5, 6]) == pytest.approx(0.1)
    assert stats.rank_test([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]) == pytest.approx(2 / 252)
    assert stats.rank_test([1, 2, 3], [1, 2, 3]) == 1.0
    assert stats.rank_test([], [1]) == 1.0


def test_compare_three_boots_not_significant():
    """Three clearly separated boots a side: the bootstrap interval alone
    excludes 1, but three boots cannot show a difference beyond the noise
    (rank-sum p >= 0.1), so the verdict stays "within noise"."""
    a = pd.DataFrame({"experiment": "x", "metric": "m", "boot": [1, 2, 3],
                      "cycles": [100.0, 101.0, 102.0]})
    b = a.assign(cycles=[90.0, 91.0, 92.0])
    t = compare.compare_samples(a, b).iloc[0]
    assert t["hi"] < 1 and t["p"] == pytest.approx(0.1)
    assert t["verdict"] == "within noise"
    more = pd.DataFrame({"experiment": "x", "metric": "m", "boot": [4, 5]})
    a5 = pd.concat([a, more.assign(cycles=[100.5, 101.5])], ignore_index=True)
    b5 = pd.concat([b, more.assign(cycles=[90.5, 91.5])], ignore_index=True)
    assert compare.compare_samples(a5, b5).iloc[0]["verdict"] == "faster"


def test_alloc_rates_exact_under_icount():
    t = alloc.parse("allocbench", lines("allocbench.out"), "a")
    b = alloc.exact_rates(t["buddy"])
    assert list(b["pairs_per_s"]) == [round(1e9 / c) for c in t["buddy"]["pair_cycles"]]
    assert list(b["pair_cycles"]) == list(t["buddy"]["pair_cycles"])
    assert list(t["buddy"]["pairs_per_s"]) != list(b["pairs_per_s"])     # the guest's own


def test_experiment_contract_errors(tmp_path):
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "experiment.py").write_text("TITLE = 'x'\nRUNS = []\n")
    with pytest.raises(experiments.ExperimentError, match="does not define parse, analyse"):
        experiments.discover(str(tmp_path))
    (tmp_path / "bad" / "experiment.py").unlink()
    (tmp_path / "bad2").mkdir()
    (tmp_path / "bad2" / "experiment.py").write_text(
        "TITLE = 'x'\nRUNS = [{'name': 'a', 'cmd': 'echo'}, {'name': 'a', 'cmd': 'ls'}]\n"
        "def parse(r, l, s): pass\ndef analyse(d): pass\ndef section(t, c): pass\n")
    with pytest.raises(experiments.ExperimentError, match="distinct names"):
        experiments.discover(str(tmp_path))
    (tmp_path / "bad2" / "experiment.py").unlink()
    (tmp_path / "Bad-Name").mkdir()
    (tmp_path / "Bad-Name" / "experiment.py").write_text("TITLE = 'x'\n")
    with pytest.raises(experiments.ExperimentError, match="folder name"):
        experiments.discover(str(tmp_path))


def test_every_experiment_keeps_the_contract():
    core = ["lazy", "faults", "msync", "fork", "alloc", "tracecost"]
    assert [e for e in EXPS if e in core] == core      # report order; others may join
    for exp in EXPS.values():
        assert exp.title and exp.runs
        for fn in ("figures", "key_figures"):
            assert exp.has(fn), (exp.name, fn)
        # Timings over several boots have a spread to report and compare.
        assert exp.has("samples") or all(r.boots == 1 for r in exp.runs), exp.name
        assert exp.deterministic or getattr(exp.module, "WHY_NOT_DETERMINISTIC", "")


def test_report_small_fixes(tmp_path):
    """ext_frag is no key figure (capped largest block), the 16 B kmalloc
    pair is explained, the pages plot has a log axis, no "issue" wording."""
    dst = tmp_path / "run"
    shutil.copytree(os.path.join(FIX, "run"), dst)
    shutil.copy(os.path.join(FIX, "allocbench.out"), dst / "raw" / "alloc" / "allocbench.2.out")
    assert cli.main(["report", str(dst)]) == 0
    text = (dst / "REPORT.md").read_text()
    keys = text.split("## Key figures")[1].split("\n## ")[0]
    assert "unusable for an order-10 request" in keys
    assert "largest" not in keys and "ext_frag" not in keys
    assert "capped at order 10" in text
    assert "every pair takes a page from the buddy allocator" in text and "16 B" in text
    assert "issue" not in text
    run = load_fixture_run()
    t = lazy.lazy_vs_eager(data_of(run, "lazy").table("vmbench.runs"))
    fig = lazy.plot_pages(t)
    assert fig.axes[0].get_yscale() == "log"
    assert fig.axes[0].get_xlabel() and fig.axes[0].get_ylabel()


def test_every_figure_labels_its_axes(tmp_path):
    """On fixture data (msync added), each experiment's plots name both
    axes and carry a footnote saying what the marks are."""
    dst = tmp_path / "run"
    shutil.copytree(os.path.join(FIX, "run"), dst)
    (dst / "raw" / "msync").mkdir()
    shutil.copy(os.path.join(FIX, "msyncbench.out"), dst / "raw" / "msync" / "msyncbench.1.out")
    shutil.copy(os.path.join(FIX, "allocbench.out"), dst / "raw" / "alloc" / "allocbench.2.out")
    run = parse.load_run(str(dst), EXPS)
    tables, _ = cli.analyse_run(run, EXPS)
    ctx = report.Context("tsc", 2e6, tables)
    n = 0
    for name, t in tables.items():
        for fname, fig in EXPS[name].module.figures(t, ctx):
            axes = [a for a in fig.axes if a.get_visible() and a.axison and
                    (a.lines or a.patches or a.collections)]
            for a in axes:
                assert a.get_xlabel() or a.get_shared_x_axes().get_siblings(a) != [a], \
                    (name, fname)
                assert a.get_ylabel(), (name, fname, "y label")
            if axes:
                assert fig.texts, (name, fname, "footnote")
                n += 1
    assert n >= 7


def test_pipe_experiment_parses_and_compares_cpu_counts():
    """pipebench lines at 1 and 2 CPUs -> the cost table, the 2/1 ratio
    against its target, and a bad line is a problem, not an exception."""
    pipe = EXPS["pipe"].module
    line = ("pipebench cpus=%d phase=%s test=throughput bytes=4194304 write=512 reps=3 "
            "min=%d med=%d max=%d unit=cycles_per_write ticks=5 ipis=%d ipi_late=0 "
            "migrations=1")
    t1 = pipe.parse("cpu1", [line % (1, "fresh", 90, 100, 110, 0),
                             line % (1, "burst", 90, 100, 110, 0)], "cpu1.1.out")
    t2 = pipe.parse("cpu2", [line % (2, "fresh", 50, 60, 70, 9),
                             line % (2, "burst", 120, 130, 140, 9),
                             "pipebench cpus=2 phase=fresh test=pingpong med=x"], "cpu2.1.out")
    assert len(t2.problems) == 1 and len(t2["rows"]) == 2
    rows = pd.concat([t1["rows"], t2["rows"]], ignore_index=True)
    rows["boot"] = 1
    ratio = pipe.cpu_ratio(pipe.pipe_cost(rows)).set_index("phase")
    assert ratio.loc["fresh", "ratio"] == pytest.approx(0.6)
    assert ratio.loc["burst", "ratio"] == pytest.approx(1.3)
    assert list(ratio["within_target"]) == [False, True]       # burst, fresh


def test_fork_steps_against_floors():
    """forkbench's new lines: floors parsed apart from fork rows; each step
    per page against its floor; old 9-field rows read with unknown (NaN)
    child figures, never as zero."""
    out = ["csv,floor,null_fault,6000", "csv,floor,page_alloc,5000", "csv,floor,copy_4k,4000",
           "csv,floor,page_free,2000",
           "csv,eager,0,exit,1000,2000,10,10,0,0,0,0",
           "csv,eager,100,exit,1001000,1402000,110,110,0,0,0,0",
           "csv,cow,0,exit,500,1500,6,6,2,2,0,0",
           "csv,cow,100,exit,1500,3500,6,6,2,2,0,0",
           "csv,cow,0,write,500,1500,6,6,2,2,10,0",
           "csv,cow,100,write,1500,2000000,106,106,102,102,1900000,18000",
           "csv,eager,0,write,1000,2000,10,10,0,0"]
    t = fork.parse("forkbench", out, "x.out")
    assert t.problems == []
    assert list(t["floors"]["name"]) == ["null_fault", "page_alloc", "copy_4k", "page_free"]
    runs = t["runs"].assign(boot=1)
    assert math.isnan(runs.iloc[-1]["store_median"])
    f = fork.fork_cost(runs)
    st = fork.fork_steps(f, t["floors"].assign(boot=1)).set_index(["policy", "step"])
    assert st.loc[("eager", "fork"), "cycles_per_page"] == pytest.approx(10000)
    assert st.loc[("eager", "fork"), "floor"] == 9000
    assert st.loc[("eager", "exit"), "cycles_per_page"] == pytest.approx(4000)
    assert st.loc[("eager", "exit"), "vs_floor"] == pytest.approx(2.0)
    assert st.loc[("cow", "cow fault"), "cycles_per_page"] == 18000
    assert st.loc[("cow", "cow fault"), "vs_floor"] == pytest.approx(1.2)
    assert st.loc[("cow", "fork"), "cycles_per_page"] == pytest.approx(10)
    assert math.isnan(st.loc[("cow", "fork"), "floor"])
    sm = fork.fork_summary(f).set_index("npages")
    assert sm.loc[100, "cow_speedup"] == pytest.approx(1402000 / 3500)


def test_trace_slowdown_estimators():
    # The slowdown is best against best; the fastest-quarter and pairs
    # estimates ride along when the output has them (older ones do not).
    rows = []
    for boot, extra in ((1, {"slowdown_quarter_pct_x100": 412, "slowdown_pairs_pct_x100": 450}),
                        (2, {})):
        vals = {"touch_kcycles_off": 1000, "touch_kcycles_on": 1030, "touch_pages": 512}
        vals.update(extra)
        rows += [{"boot": boot, "name": k, "value": v} for k, v in vals.items()]
    pb = tracecost.per_boot(pd.DataFrame(rows)).set_index("boot")
    assert pb.loc[1, "slowdown"] == pytest.approx(3.0)
    assert pb.loc[1, "slowdown_quarter"] == pytest.approx(4.12)
    assert pb.loc[1, "slowdown_pairs"] == pytest.approx(4.5)
    assert pb.loc[2, "slowdown"] == pytest.approx(3.0)
    assert math.isnan(pb.loc[2, "slowdown_quarter"])
    assert pb.loc[1, "added_per_page"] == pytest.approx(30 * 1024 / 512)


def test_trace_slowdown_verdict_refuses_when_boots_disagree():
    def section_for(slowdowns):
        rows = []
        for boot, pct in enumerate(slowdowns, 1):
            rows += [{"boot": boot, "name": "touch_kcycles_off", "value": 1000},
                     {"boot": boot, "name": "touch_kcycles_on", "value": 1000 + pct * 10}]
        pb = tracecost.per_boot(pd.DataFrame(rows))
        over = tracecost.trace_overhead(pb)
        return "\n".join(tracecost.section({"trace_overhead": over, "trace_parts": None}, None))
    assert "target is at most 5%: met" in section_for([3, 4, 4.5])
    assert "NOT met" in section_for([6, 7, 6.5])
    calm = section_for([3, 4, 4.5])
    busy = section_for([-16, 2, 15])
    assert "NOT judged" in busy and "NOT judged" not in calm
