"""`python3 -m kbench ...`: see cli.py."""
import sys

from .cli import main

sys.exit(main())
