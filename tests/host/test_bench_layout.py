"""Host tests of the benchmark driver on the real kernel: an experiment is
one folder (the worked example of bench/README.md, added to a copy of
bench/, runs and reports with nothing else touched), runs are kept and
never overwritten, and the instruction clock (CLOCK=icount) repeats a
CPU-bound experiment exactly.

    $ /usr/bin/python3 -m pytest -q tests/host/test_bench_layout.py
"""
import json
import os
import re
import shutil
import subprocess
import sys

import pandas as pd
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PY = sys.executable
DRIVER = os.path.join(ROOT, "bench", "run_bench.py")
ENV = dict(os.environ, PYTHONPATH=os.pathsep.join([os.path.join(ROOT, "analysis"),
                                                   os.path.join(ROOT, "trace")]))

pytestmark = pytest.mark.skipif(
    not os.path.exists(os.path.join(ROOT, "out", "kernel.img")), reason="kernel not built")


def toy_source():
    """The python block after the toy-example marker in bench/README.md."""
    with open(os.path.join(ROOT, "bench", "README.md")) as f:
        text = f.read()
    m = re.search(r"<!-- toy-example.*?```python\n(.*?)```", text, re.S)
    assert m, "bench/README.md lost its worked example"
    return m.group(1)


def drive(*args):
    return subprocess.run([PY, DRIVER] + list(args), capture_output=True, text=True,
                          env=ENV, timeout=300)


def kbench(*args):
    return subprocess.run([PY, "-m", "kbench"] + list(args), capture_output=True, text=True,
                          env=ENV, timeout=300)


def test_toy_experiment_is_one_folder(tmp_path):
    bench = tmp_path / "bench"
    shutil.copytree(os.path.join(ROOT, "bench"), bench,
                    ignore=shutil.ignore_patterns("__pycache__"))
    (bench / "toy").mkdir()
    (bench / "toy" / "experiment.py").write_text(toy_source())
    results = tmp_path / "results"
    r = drive("--bench", str(bench), "--results", str(results), "--only", "toy",
              "--boots", "5", "--run", "first")
    assert r.returncode == 0, r.stdout + r.stderr
    # The run's own boots limit (2) wins over --boots; progress lines count them.
    assert "[1/2] toy echo boot 1/2" in r.stdout and "[2/2] toy echo boot 2/2" in r.stdout
    assert "about" in r.stdout and "s left" in r.stdout
    assert os.readlink(results / "latest") == "first"
    assert sorted(os.listdir(results / "first" / "raw" / "toy")) == ["echo.1.out", "echo.2.out"]
    r = kbench("--bench", str(bench), "report", str(results / "latest"))
    assert r.returncode == 0, r.stdout + r.stderr
    run = results / "first"
    t = pd.read_csv(run / "toy" / "toy.csv")
    assert list(t["cycles"]) == [700.0] and list(t["boots"]) == [2]
    assert (run / "toy" / "toy.png").stat().st_size > 0
    text = (run / "REPORT.md").read_text()
    assert "## Toy (echo)" in text and "The toy's median: 700 cycles" in text
    assert "Spread over boots of every timing: 0 of 1 rows noisy" in text
    # Nothing is overwritten: the same name again is refused, a new run
    # gets its own folder and latest follows it.
    r = drive("--bench", str(bench), "--results", str(results), "--only", "toy", "--run",
              "first")
    assert r.returncode == 2 and "never overwritten" in r.stderr
    r = drive("--bench", str(bench), "--results", str(results), "--only", "toy", "--boots", "1")
    assert r.returncode == 0, r.stdout + r.stderr
    runs = sorted(d for d in os.listdir(results) if d != "latest")
    assert len(runs) == 2 and os.readlink(results / "latest") == [d for d in runs
                                                                   if d != "first"][0]
    assert (run / "REPORT.md").read_text() == text


def test_unknown_experiment_refused(tmp_path):
    r = drive("--results", str(tmp_path), "--only", "nosuch")
    assert r.returncode == 2 and "unknown experiment(s): nosuch" in r.stderr
    assert os.listdir(tmp_path) == []


def fork_tables(run_dir):
    """The fork experiment's CSV tables of a run, as text (no plots)."""
    sys.path.insert(0, os.path.join(ROOT, "analysis"))
    sys.path.insert(0, os.path.join(ROOT, "trace"))
    from kbench import experiments, parse
    exps = experiments.discover()
    run = parse.load_run(str(run_dir), exps)
    assert not run.problems and not run.failed
    tables = exps["fork"].module.analyse(run.data["fork"])
    return {k: v.to_csv(index=False) for k, v in tables.items() if not k.startswith("_")}


def test_icount_repeats_cpu_bound_experiment(tmp_path):
    """fork (forkbench: fork, exit, wait, COW faults on 2 CPUs) twice under
    the instruction clock: byte-identical output and tables."""
    outs, tables = [], []
    for name in ("a", "b"):
        r = drive("--results", str(tmp_path), "--only", "fork", "--boots", "1",
                  "--clock", "icount", "--run", name)
        assert r.returncode == 0, r.stdout + r.stderr
        m = json.load(open(tmp_path / name / "raw" / "manifest.json"))
        assert m["clock"] == "icount" and "-icount" in m["qemu_args"]
        with open(tmp_path / name / "raw" / "fork" / "forkbench.1.out") as f:
            outs.append(f.read())
        tables.append(fork_tables(tmp_path / name))
    assert "csv,eager,1024,exit" in outs[0]
    assert outs[0] == outs[1]
    assert tables[0] == tables[1] and "fork_cost" in tables[0]


def test_progress_during_a_long_guest(tmp_path):
    """A guest that takes a while (the fake qemu's "slow" scenario prints a
    line every 0.3 s) gets progress lines with its latest output."""
    bench = tmp_path / "bench"
    (bench / "toy").mkdir(parents=True)
    (bench / "toy" / "experiment.py").write_text(toy_source())
    env = dict(ENV, QEMU=os.path.join(HERE, "fake_qemu.py"), FAKE_QEMU_SCENARIO="slow")
    r = subprocess.run([PY, DRIVER, "--bench", str(bench), "--results", str(tmp_path / "r"),
                        "--boots", "1", "--heartbeat", "0.25"], capture_output=True,
                       text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    beats = [ln for ln in r.stdout.splitlines() if "... running" in ln]
    assert beats and beats[0].startswith("bench: [1/1] toy echo boot 1/1 ... running")
    assert any(ln.endswith(": tick 0") or ln.endswith(": tick 1") for ln in beats), beats
