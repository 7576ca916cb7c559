#!/usr/bin/env python3
"""Reward-model stage of an rlhf-lab recipe for TRL.

Trains a reward model with TRL's RewardTrainer on data/pairs.jsonl (prompt / chosen / rejected /
margin rows). Settings come from recipe.json next to this script: "reward" holds RewardConfig
keyword arguments, "metarm" MetaRM's (null: off), "base_model" the default model.

The margin: TRL's RewardTrainer keeps a "margin" column through tokenization, its collator turns it
into a tensor, and compute_loss uses -log sigmoid(r_chosen - r_rejected - margin), the same
Bradley-Terry-with-margin loss as rlhf-lab's (src/rm/loss.rs). This script checks that a collated
batch carries the margin before training.

With MetaRM on, the meta set is sampled first: k responses per prompt from the policy (plain
sampling, temperature 1, no top-k/top-p, at most policy.response_length new tokens) for the first
metarm.meta_prompts prompts of data/prompts.jsonl; then MetaRewardTrainer (metarm_trainer.py)
trains with Algorithm 1's meta step.

Written against TRL 1.12.0 (the recipe's pinned version: the last TRL with a PPO trainer) and
transformers 5.x; it also runs on TRL 1.16.0.

    python train_reward.py [--model PATH] [--max-steps N] [--output-dir DIR]
                           [--metarm | --no-metarm] [--policy PATH]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
import transformers
import trl
from datasets import Dataset
from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig
from trl import RewardConfig, RewardTrainer

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from metarm_trainer import MetaRewardTrainer  # noqa: E402
from recipe_common import load_recipe, make_config, read_jsonl  # noqa: E402


@torch.no_grad()
def sample_meta_set(policy_path: str, prompts: list[str], k: int, max_new_tokens: int, seed: int,
                    prompts_per_batch: int = 8) -> list[tuple[str, list[str]]]:
    """k responses per prompt from the policy: plain sampling at temperature 1 (no top-k, no
    top-p, no repetition penalty), at most `max_new_tokens` tokens, stopping at EOS."""
    device = "cuda" if torch.cuda.is_available() else "cpu"
    tokenizer = AutoTokenizer.from_pretrained(policy_path, padding_side="left")
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    policy = AutoModelForCausalLM.from_pretrained(policy_path).to(device).eval()
    # A fresh generation config: the model's own may set top-k/top-p/penalties we must not use.
    policy.generation_config = GenerationConfig(
        do_sample=True,
        temperature=1.0,
        top_k=0,
        top_p=1.0,
        repetition_penalty=1.0,
        max_new_tokens=max_new_tokens,
        num_return_sequences=k,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    transformers.set_seed(seed)
    groups = []
    for start in range(0, len(prompts), prompts_per_batch):
        chunk = prompts[start:start + prompts_per_batch]
        batch = tokenizer(chunk, return_tensors="pt", padding=True).to(device)
        out = policy.generate(**batch)
        texts = tokenizer.batch_decode(out[:, batch["input_ids"].shape[1]:], skip_special_tokens=True)
        groups += [(p, texts[i * k:(i + 1) * k]) for i, p in enumerate(chunk)]
        print(f"meta set: sampled {len(groups)}/{len(prompts)} prompts x {k} responses")
    del policy
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    return groups


def main() -> None:
    recipe = load_recipe()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=recipe["base_model"],
                        help=f"model to start from (default: recipe.json's base_model, {recipe['base_model']})")
    parser.add_argument("--max-steps", type=int, default=-1,
                        help="optimizer steps; -1 (default) keeps recipe.json's reward.max_steps/epochs")
    parser.add_argument("--output-dir", default="reward_model", help="where the reward model goes (default reward_model)")
    parser.add_argument("--metarm", action=argparse.BooleanOptionalAction, default=None,
                        help="train with MetaRM (default: on when recipe.json's metarm is not null)")
    parser.add_argument("--policy", default=None,
                        help="the policy that samples MetaRM's meta set (default: --model)")
    args = parser.parse_args()

    seed = int(recipe.get("seed", 0))
    kwargs = dict(recipe["reward"])
    if args.max_steps != -1:
        kwargs["max_steps"] = args.max_steps
    config = make_config(RewardConfig, kwargs, "reward", output_dir=args.output_dir)

    rows = read_jsonl(recipe["data"]["pairs"])
    dataset = Dataset.from_list(rows)
    if recipe["data"].get("margin"):
        if "margin" not in dataset.column_names:
            sys.exit(f"recipe.json says the pairs carry a margin but {recipe['data']['pairs']} has no \"margin\" field")
    elif "margin" in dataset.column_names:
        dataset = dataset.remove_columns("margin")

    metarm = recipe.get("metarm")
    use_metarm = metarm is not None if args.metarm is None else args.metarm
    if use_metarm and metarm is None:
        sys.exit("--metarm: recipe.json has no metarm settings (meta_lr, k, meta_batch, meta_prompts)")
    print(f"TRL {trl.__version__}, transformers {transformers.__version__}, torch {torch.__version__}; "
          f"model {args.model}; {len(rows)} pairs; margin {'on' if 'margin' in dataset.column_names else 'off'}; "
          f"MetaRM {'on' if use_metarm else 'off'}")

    common = dict(model=args.model, args=config, train_dataset=dataset)
    if use_metarm:
        count = int(metarm["meta_prompts"])
        if args.max_steps > 0:
            # A short run draws at most meta_batch groups per step: sample no more than it uses.
            count = min(count, args.max_steps * int(metarm["meta_batch"]))
        prompts = [r["prompt"] for r in read_jsonl(recipe["data"]["prompts"])][:count]
        max_new_tokens = int(recipe.get("policy", {}).get("response_length", 64))
        groups = sample_meta_set(args.policy or args.model, prompts, int(metarm["k"]), max_new_tokens, seed)
        trainer = MetaRewardTrainer(**common, meta_groups=groups, meta_lr=float(metarm["meta_lr"]),
                                    meta_batch=int(metarm["meta_batch"]))
        print(f"MetaRM: eta = {trainer.meta_lr}, k = {trainer.meta_k}, {trainer.meta_batch} groups per step, "
              f"{len(groups)} meta groups")
    else:
        trainer = RewardTrainer(**common)

    if "margin" in dataset.column_names:
        batch = trainer.data_collator([trainer.train_dataset[0]])
        if "margin" not in batch:
            sys.exit("the margin column did not reach the collated batch: this TRL version would ignore it")

    trainer.train()
    trainer.save_model(args.output_dir)
    trainer.processing_class.save_pretrained(args.output_dir)
    print(f"reward model saved to {args.output_dir}")


if __name__ == "__main__":
    main()
