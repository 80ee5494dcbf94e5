"""kbench: the analysis of `make bench` (bench/run_bench.py's raw logs).

The experiments live in bench/<name>/experiment.py (found by
experiments.discover(), contract in bench/README.md): each owns its
parser, its tables (pure DataFrame -> DataFrame transforms), its figures
and its report section. This package holds what they share: parse.py
(reading helpers, the run folder's layout, COM2 dumps), stats.py (medians,
IQR, CV, bootstrap intervals, crossings), plot.py and report.py (helpers,
method section, spread tables, REPORT.md), compare.py (two runs) and
cli.py (argparse subcommands report, check, compare).

Example:
    $ PYTHONPATH=analysis:trace /usr/bin/python3 -m kbench report results/latest
    kbench: results/latest: 17 guest runs, 0 failed, 0 skipped, 0 problems
    kbench: wrote 6 experiments (21 tables, 9 plots), results/latest/REPORT.md
"""
