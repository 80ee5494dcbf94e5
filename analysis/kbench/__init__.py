"""kbench: the analysis of `make bench` (bench/run_bench.py's raw logs).

Stages: parse (parse.py: the only code that knows the benchmark programs'
output lines and the run folder layout) -> transform (transform.py: pure
DataFrame -> DataFrame) -> plot (plot.py: one Figure per function) and
report (report.py: REPORT.md text) -> cli.py (argparse subcommands).

Example:
    $ PYTHONPATH=analysis:trace /usr/bin/python3 -m kbench report results/latest
    kbench: results/latest: 16 runs parsed, 0 failed, 1 skipped, 0 problems
    kbench: wrote 10 tables, 6 plots, results/latest/REPORT.md
"""
