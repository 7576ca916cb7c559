#!/usr/bin/env python3
"""Checks MetaRewardTrainer (metarm_trainer.py) on a tiny random model, on the CPU, in seconds:

1. J matches the formula by hand (the same cases as rlhf-lab's src/rm/metarm.rs tests);
2. first order: a training step's gradient equals the Bradley-Terry gradient (with margin; the
   margin changes the loss) of a separate copy whose weights are theta + eta * grad J, with
   gradient checkpointing on, and the weights are theta again after the step;
3. eta = 0 is the plain RewardTrainer: a few steps under one seed give equal weights;
4. eta > 0 changes the weights.

Prints a PASS line and exits 0, or says what failed and exits 1. Needs no download: the tiny model
and its byte-level tokenizer are built locally (make_tiny_model, also used by the recipe's tests).
Written against TRL 1.12.0 (the recipe's pinned version).
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def make_tiny_model(out_dir: str | Path, seed: int = 0, attention_dropout: float = 0.0) -> Path:
    """Save a tiny randomly initialised Llama causal LM (2 layers, hidden 32) and a byte-level
    tokenizer (256 byte tokens, no merges, plus <|pad|> and <|eos|>) to `out_dir`. Any text
    tokenizes; nothing is downloaded."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    core = Tokenizer(models.BPE(vocab={c: i for i, c in enumerate(alphabet)}, merges=[]))
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, pad_token="<|pad|>", eos_token="<|eos|>")
    tokenizer.save_pretrained(out)

    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=4,
        max_position_embeddings=4096,
        attention_dropout=attention_dropout,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=None,
        tie_word_embeddings=False,
    )
    LlamaForCausalLM(config).save_pretrained(out)
    return out


def _pairs(n: int) -> list[dict]:
    """The n shortest of the recipe's pairs (data/pairs.jsonl) when this runs in a recipe folder;
    otherwise n synthetic ones. Every row has a margin."""
    path = HERE / "data" / "pairs.jsonl"
    if path.exists():
        with path.open(encoding="utf-8") as f:
            rows = [json.loads(line) for line in f if line.strip()]
        rows.sort(key=lambda r: len(r["prompt"]) + max(len(r["chosen"]), len(r["rejected"])))
        if len(rows) >= 8:
            rows = rows[:n]
            # Pairs without margins (a run that measured no strength) get test margins: the
            # check is of the trainer's arithmetic, and the margin must be shown to count.
            for i, r in enumerate(rows):
                r.setdefault("margin", 0.1 * (i % 4))
            return rows
    return [
        {"prompt": f"Question {i}: ", "chosen": " a helpful answer" * (1 + i % 3), "rejected": " no", "margin": 0.1 * (i % 4)}
        for i in range(n)
    ]


def _meta_groups(rows: list[dict], k: int) -> list[tuple[str, list[str]]]:
    """Meta groups of k responses per prompt, taken from the pairs' responses (J needs no labels)."""
    responses = [r[key] for r in rows for key in ("chosen", "rejected")]
    return [(row["prompt"], [responses[(i + j) % len(responses)] for j in range(k)]) for i, row in enumerate(rows)]


def _config(out: Path, steps: int):
    from trl import RewardConfig

    return RewardConfig(
        output_dir=str(out),
        max_steps=steps,
        per_device_train_batch_size=4,
        learning_rate=1e-3,
        seed=0,
        use_cpu=True,  # bit-exact comparisons: no GPU kernels with atomics
        bf16=False,
        # Keep the model's dropout: the eta = 0 check then also shows that J runs without it and
        # leaves the random generators alone.
        disable_dropout=False,
        max_length=512,
        save_strategy="no",
        report_to="none",
        logging_strategy="no",
        disable_tqdm=True,
    )


def _train(model_dir: Path, rows: list[dict], out: Path, steps: int, meta_lr: float | None):
    """Train `steps` steps; `meta_lr` None: plain RewardTrainer. Returns the final state dict."""
    from datasets import Dataset
    from trl import RewardTrainer

    from metarm_trainer import MetaRewardTrainer

    kwargs = dict(model=str(model_dir), args=_config(out, steps), train_dataset=Dataset.from_list(rows))
    if meta_lr is None:
        trainer = RewardTrainer(**kwargs)
    else:
        trainer = MetaRewardTrainer(**kwargs, meta_groups=_meta_groups(rows, 3), meta_lr=meta_lr, meta_batch=2)
    batch = trainer.data_collator([trainer.train_dataset[0]])
    assert "margin" in batch, "the collated batch has no margin: the margin column was dropped"
    trainer.train()
    return {name: t.detach().clone() for name, t in trainer.model.state_dict().items()}


def _check_j() -> None:
    import torch

    from metarm_trainer import difference_loss

    s = lambda x: 1.0 / (1.0 + math.exp(-x))  # noqa: E731
    j = lambda rows: difference_loss(torch.tensor(rows, dtype=torch.float64)).item()  # noqa: E731
    assert abs(j([[1.0, 1.0]]) - 0.25) < 1e-12, "J, k = 2, equal rewards: (2/4) sigma(0)"
    assert abs(j([[0.0, 1.0, 3.0]]) - 2 / 9 * (s(1) + s(3) + s(2))) < 1e-12, "J, k = 3"
    gaps = [0.5, 1.0, 2.0, 4.0, 0.5, 1.5, 3.5, 1.0, 3.0, 2.0]
    assert abs(j([[0.0, 0.5, 1.0, 2.0, 4.0]]) - 2 / 25 * sum(map(s, gaps))) < 1e-12, "J, k = 5"
    assert abs(j([[0.5] * 5]) - 0.4) < 1e-12, "J's floor (k - 1) / (2k) for k = 5"
    two = j([[0.0, 1.0, 3.0], [2.0, 2.0, -1.0]])
    assert abs(two - (j([[0.0, 1.0, 3.0]]) + j([[2.0, 2.0, -1.0]])) / 2) < 1e-12, "J: mean over groups"


def _check_first_order(model_dir: Path, rows: list[dict], out: Path, eta: float) -> float:
    """One training step's gradients == those of the BT loss on a separate copy with weights
    theta + eta * g_J, with gradient checkpointing on (TRL's default), and theta restored exactly."""
    import torch
    from datasets import Dataset
    from trl import RewardTrainer

    from metarm_trainer import MetaRewardTrainer

    trainer = MetaRewardTrainer(
        model=str(model_dir),
        args=_config(out, 1),
        train_dataset=Dataset.from_list(rows),
        meta_groups=_meta_groups(rows, 3),
        meta_lr=eta,
        meta_batch=2,
    )
    model = trainer.model
    # transformers 5 renamed gradient checkpointing to activation checkpointing.
    enable = getattr(model, "activation_checkpointing_enable", None) or model.gradient_checkpointing_enable
    enable()
    model.train()
    inputs = trainer.data_collator([trainer.train_dataset[i] for i in range(4)])
    theta = [p.detach().clone() for p in model.parameters()]
    model.zero_grad()
    trainer.current_gradient_accumulation_steps = 1  # set by Trainer.train() otherwise
    trainer.training_step(model, dict(inputs))  # the meta step, then forward and backward at theta'
    steps = trainer._lookahead[1]
    assert all(torch.equal(p, t) for p, t in zip(model.parameters(), theta)), "theta not restored after the step"
    assert max(s.abs().max().item() for s in steps.values()) > 0, "eta > 0 but the meta step moved nothing"
    # The reference: a separate copy with weights theta' = theta + eta * g_J and the plain loss.
    moved = copy.deepcopy(model)
    moved.zero_grad()
    with torch.no_grad():
        for p_copy, p in zip(moved.parameters(), model.parameters()):
            if id(p) in steps:
                p_copy.add_(steps[id(p)])
    loss = RewardTrainer.compute_loss(trainer, moved, dict(inputs))
    loss.backward()
    worst = 0.0
    for p, p_copy in zip(model.parameters(), moved.parameters()):
        if p.grad is None or p_copy.grad is None:
            assert p.grad is None and p_copy.grad is None, "a parameter has a gradient on one side only"
            continue
        worst = max(worst, (p.grad - p_copy.grad).abs().max().item())
    assert worst <= 1e-6, f"the step's gradient differs from the copy's at theta' by {worst:.3e}"
    # The margin is used: the same loss with the margins zeroed differs.
    if inputs["margin"].abs().max() > 0:
        no_margin = dict(inputs, margin=torch.zeros_like(inputs["margin"]))
        assert RewardTrainer.compute_loss(trainer, moved, no_margin).item() != loss.item(), "margin ignored"
    return worst


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=3, help="training steps per run (default 3)")
    parser.add_argument("--meta-lr", type=float, default=0.5, help="eta for the eta > 0 checks (default 0.5)")
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))
    import torch
    import transformers

    transformers.logging.set_verbosity_error()
    rows = _pairs(16)
    try:
        _check_j()
        print("check_metarm: J matches (2/k^2) sum_{i<j} sigmoid(|r_i - r_j|)")
        with tempfile.TemporaryDirectory(prefix="check-metarm-") as tmp:
            tmp = Path(tmp)
            # No dropout for the gradient comparison (two forward passes must see one network).
            worst = _check_first_order(make_tiny_model(tmp / "tiny"), rows, tmp / "first-order", args.meta_lr)
            print(f"check_metarm: first order: the step's gradient = that of a copy at theta + eta*g_J "
                  f"(max diff {worst:.1e}), theta restored")
            model_dir = make_tiny_model(tmp / "tiny-dropout", attention_dropout=0.1)
            plain = _train(model_dir, rows, tmp / "plain", args.steps, None)
            zero = _train(model_dir, rows, tmp / "eta0", args.steps, 0.0)
            diff0 = max((plain[n] - zero[n]).abs().max().item() for n in plain)
            exact = all(torch.equal(plain[n], zero[n]) for n in plain)
            assert diff0 <= 1e-7, f"eta = 0 differs from RewardTrainer after {args.steps} steps by {diff0:.3e}"
            print(f"check_metarm: eta = 0: weights after {args.steps} steps {'identical' if exact else f'within {diff0:.1e}'} to RewardTrainer's")
            meta = _train(model_dir, rows, tmp / "eta", args.steps, args.meta_lr)
            diff = max((plain[n] - meta[n]).abs().max().item() for n in plain)
            assert diff > 1e-6, f"eta = {args.meta_lr} left the weights as RewardTrainer's (max diff {diff:.3e})"
            print(f"check_metarm: eta = {args.meta_lr}: weights differ from RewardTrainer's (max diff {diff:.1e})")
    except AssertionError as e:
        print(f"check_metarm: FAIL: {e}")
        return 1
    print("check_metarm: PASS (MetaRewardTrainer: J, first-order step, eta = 0 == RewardTrainer, eta > 0 differs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
