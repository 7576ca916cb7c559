#!/usr/bin/env python3
"""Policy stage of an rlhf-lab recipe for TRL: PPO against the trained reward model.

Uses TRL's PPOTrainer, which lives in `trl.experimental.ppo` from TRL 1.0 and was removed in TRL
1.13: this recipe pins TRL 1.12.0 (the last release with it). Settings come from recipe.json next
to this script: "policy" holds keyword arguments of trl.experimental.ppo.PPOConfig (a
transformers TrainingArguments), "policy_switches" the lab's PPO-max switches; every switch is
reported at start as applied, matching TRL's fixed behaviour, or NOT APPLIED.

The value model (critic) starts from the reward model (policy_switches.critic_init =
"reward_model", PPO-max and MetaRM's setting) or, for "zero", from the base model with its value
head zeroed. The prompts are data/prompts.jsonl, as plain text (no chat template).

    python train_policy.py [--model PATH] [--ref-model PATH] [--reward-model PATH] [--max-steps N]
                           [--output-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import torch
import transformers
import trl
from datasets import Dataset
from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification, AutoTokenizer

os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")  # the version is printed at start instead
try:
    from trl.experimental.ppo import PPOConfig, PPOTrainer  # TRL 1.0 to 1.12
except ImportError:
    try:
        from trl import PPOConfig, PPOTrainer  # TRL 0.x
    except ImportError:
        sys.exit(f"TRL {trl.__version__} has no PPO trainer (removed in TRL 1.13): pip install trl==1.12.0")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from recipe_common import load_recipe, make_config, read_jsonl  # noqa: E402


def report_switches(switches: dict) -> str:
    """One line per PPO-max switch: applied, the same as TRL's fixed behaviour, or NOT APPLIED.
    Returns critic_init ("reward_model" or "zero")."""
    trl_ppo = f"TRL {trl.__version__}'s PPOTrainer"

    def say(name, value, status):
        print(f"policy_switches.{name} = {json.dumps(value)}: {status}")

    critic_init = "reward_model"
    for name, value in switches.items():
        if name == "reward_norm":
            if value in (None, "none"):
                say(name, value, f"same as {trl_ppo} (raw reward-model scores)")
            else:
                say(name, value, f"NOT APPLIED: {trl_ppo} has no running reward normalisation or scaling")
        elif name in ("reward_clip", "advantage_clip"):
            what = name.split("_")[0]
            if not value:
                say(name, value, f"same as {trl_ppo} (no {what} clipping)")
            else:
                say(name, value, f"NOT APPLIED: {trl_ppo} does not clip {what}s")
        elif name == "advantage_norm":
            if value:
                say(name, value, f"applied: {trl_ppo} always whitens advantages (per batch)")
            else:
                say(name, value, f"NOT APPLIED: {trl_ppo} always whitens advantages and cannot turn it off")
        elif name == "critic":
            if value in (None, True):
                say(name, value, f"applied: {trl_ppo} trains a critic (GAE)")
            else:
                say(name, value, f"NOT APPLIED: {trl_ppo} always trains a critic; TRL's RLOOTrainer is critic-free")
        elif name == "critic_init":
            if value == "reward_model":
                say(name, value, "applied: the value model is loaded from the reward model")
            elif value == "zero":
                say(name, value, "applied: the value model is the base model with its value head zeroed")
            else:
                say(name, value, "NOT APPLIED: unknown value; the value model is loaded from the reward model")
                value = "reward_model"
            critic_init = value
        elif name == "entropy_coef":
            if not value:
                say(name, value, f"same as {trl_ppo} (no entropy bonus)")
            else:
                say(name, value, f"NOT APPLIED: {trl_ppo} has no entropy bonus")
        elif name == "top_p":
            if value is None or value >= 1:
                say(name, value, f"same as {trl_ppo} (samples the whole distribution)")
            else:
                say(name, value, f"NOT APPLIED: {trl_ppo} samples with top_p = 1")
        elif name == "top_k":
            if not value:
                say(name, value, f"same as {trl_ppo} (samples the whole distribution)")
            else:
                say(name, value, f"NOT APPLIED: {trl_ppo} samples with no top-k")
        else:
            say(name, value, "NOT APPLIED: this script does not know the switch")
    return critic_init


def main() -> None:
    recipe = load_recipe()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=recipe["base_model"],
                        help=f"policy and reference model (default: recipe.json's base_model, {recipe['base_model']})")
    parser.add_argument("--ref-model", default=None,
                        help="the KL penalty's reference (default: --model; rounds.sh passes the base model "
                             "when a round's policy continues from the last round's)")
    parser.add_argument("--reward-model", default="reward_model",
                        help="the trained reward model (default reward_model, train_reward.py's output)")
    parser.add_argument("--max-steps", type=int, default=-1,
                        help="PPO updates (rollout batches); sets total_episodes to N x the rollout batch; "
                             "-1 (default) keeps recipe.json's policy.total_episodes")
    parser.add_argument("--output-dir", default="policy", help="where the policy goes (default policy)")
    args = parser.parse_args()

    print(f"TRL {trl.__version__}, transformers {transformers.__version__}, torch {torch.__version__}; "
          f"policy {args.model}; reference {args.ref_model or args.model}; reward model {args.reward_model}")
    critic_init = report_switches(recipe.get("policy_switches") or {})
    if recipe["policy"].get("max_grad_norm"):
        print(f"policy.max_grad_norm = {recipe['policy']['max_grad_norm']}: NOT APPLIED: TRL {trl.__version__}'s "
              "PPOTrainer steps its optimizer without clipping gradients")

    kwargs = dict(recipe["policy"])
    if args.max_steps != -1:
        world = int(os.environ.get("WORLD_SIZE", "1"))
        per_update = (int(kwargs.get("per_device_train_batch_size", 8))
                      * int(kwargs.get("gradient_accumulation_steps", 1)) * world)
        kwargs["total_episodes"] = args.max_steps * per_update
        print(f"--max-steps {args.max_steps}: total_episodes = {kwargs['total_episodes']} "
              f"({per_update} episodes per update)")
    config = make_config(PPOConfig, kwargs, "policy", output_dir=args.output_dir)

    tokenizer = AutoTokenizer.from_pretrained(args.model, padding_side="left")
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token  # as RewardTrainer does: no new token, one vocabulary
    if tokenizer.pad_token_id == tokenizer.eos_token_id:
        print("warning: pad and EOS are one token; TRL's PPOTrainer then treats a generated EOS as padding")
    try:
        rm_vocab = len(AutoTokenizer.from_pretrained(args.reward_model))
    except (OSError, ValueError):
        rm_vocab = None
    if rm_vocab is not None and rm_vocab != len(tokenizer):
        sys.exit(f"the reward model's tokenizer ({rm_vocab} tokens) is not the policy's ({len(tokenizer)}): "
                 "TRL's PPOTrainer scores the policy's token ids directly")

    # The trained models in float32: Adam's steps at the paper's rates (5e-7) are below bf16's
    # resolution and would round away. The frozen reference and reward model may stay as saved.
    policy = AutoModelForCausalLM.from_pretrained(args.model, dtype=torch.float32)
    ref_policy = AutoModelForCausalLM.from_pretrained(args.ref_model or args.model)
    reward_model = AutoModelForSequenceClassification.from_pretrained(args.reward_model, num_labels=1)
    if critic_init == "zero":
        value_model = AutoModelForSequenceClassification.from_pretrained(args.model, num_labels=1, dtype=torch.float32)
        with torch.no_grad():
            for p in value_model.score.parameters():
                p.zero_()
    else:
        value_model = AutoModelForSequenceClassification.from_pretrained(args.reward_model, num_labels=1,
                                                                         dtype=torch.float32)
    for m in (policy, ref_policy, reward_model, value_model):
        m.config.pad_token_id = tokenizer.pad_token_id

    prompts = [r["prompt"] for r in read_jsonl(recipe["data"]["prompts"])]
    if not prompts:
        sys.exit(f"{recipe['data']['prompts']} has no prompts")
    world = int(os.environ.get("WORLD_SIZE", "1"))
    per_update = config.per_device_train_batch_size * config.gradient_accumulation_steps * world
    if len(prompts) < per_update:
        # PPOTrainer drops a short last batch: with fewer prompts than one update takes it would
        # wait forever for a full one. The lab samples prompts with replacement; so do we.
        reps = -(-per_update // len(prompts))
        print(f"{len(prompts)} prompts, fewer than the {per_update} one update takes: each repeated {reps} times")
        prompts = prompts * reps
    dataset = Dataset.from_dict({"input_ids": [tokenizer(p)["input_ids"] for p in prompts]})
    print(f"{len(prompts)} prompts; {config.total_episodes} episodes; response_length {config.response_length}")

    trainer = PPOTrainer(
        args=config,
        processing_class=tokenizer,
        model=policy,
        ref_model=ref_policy,
        reward_model=reward_model,
        value_model=value_model,
        train_dataset=dataset,
        eval_dataset=dataset,  # only for the sample completions PPOTrainer prints
    )
    trainer.train()
    trainer.save_model(args.output_dir)
    tokenizer.save_pretrained(args.output_dir)
    print(f"policy saved to {args.output_dir}")


if __name__ == "__main__":
    main()
