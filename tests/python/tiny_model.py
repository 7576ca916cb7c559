#!/usr/bin/env python3
"""Save a tiny randomly initialised causal LM and a local byte-level tokenizer for the recipe's
smoke tests: `python tiny_model.py OUT_DIR`, then `--model OUT_DIR` works for every recipe script.

The builder lives in the TRL recipe's check_metarm.py (it ships in the recipe folder and needs it
too); this imports it from the repository's assets so there is one copy.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "assets" / "recipe" / "trl"))
from check_metarm import make_tiny_model  # noqa: E402

if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: tiny_model.py OUT_DIR")
    print(make_tiny_model(sys.argv[1]))
