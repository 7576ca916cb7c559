"""What the recipe's training scripts share: recipe.json, the data files beside it, and
configs built from recipe.json's keyword arguments."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import torch
import transformers
import trl

HERE = Path(__file__).resolve().parent


def load_recipe() -> dict:
    with (HERE / "recipe.json").open(encoding="utf-8") as f:
        return json.load(f)


def read_jsonl(relative: str) -> list[dict]:
    with (HERE / relative).open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def make_config(cls, kwargs: dict, what: str, **fixed):
    """`cls(**fixed, **kwargs)`, refusing keys the installed version does not know.

    One rename is bridged, and said: transformers 5 dropped `warmup_ratio`; its `warmup_steps`
    takes the ratio as a float below 1.
    """
    known = {f.name for f in dataclasses.fields(cls)}
    kwargs = dict(kwargs)
    if "warmup_ratio" in kwargs and "warmup_ratio" not in known and "warmup_steps" in known:
        ratio = kwargs.pop("warmup_ratio")
        print(f"recipe.json {what}.warmup_ratio = {ratio}: passed as warmup_steps = {ratio} "
              f"(transformers {transformers.__version__} has no warmup_ratio; a float below 1 is a ratio)")
        kwargs["warmup_steps"] = ratio
    unknown = sorted(set(kwargs) - known)
    if unknown:
        sys.exit(f"recipe.json {what}: {', '.join(unknown)} not fields of {cls.__name__} in TRL {trl.__version__} "
                 f"/ transformers {transformers.__version__}")
    if not torch.cuda.is_available() and kwargs.get("bf16", True):
        print("no CUDA device: bf16 off (training in float32 on the CPU)")
        kwargs["bf16"] = False
    return cls(**fixed, **kwargs)
