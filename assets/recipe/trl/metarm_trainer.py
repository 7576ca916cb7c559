"""MetaRM for TRL's RewardTrainer: Algorithm 1 of "Secrets of RLHF in Large Language Models Part II"
(Sec. 3.2) and "MetaRM" (rlhf-lab spec section 5), with the same definitions as rlhf-lab's own
implementation (src/rm/metarm.rs, src/experiment/rm/step.rs).

Algorithm 1, one outer step t:

    X_t  <- minibatch of n preference pairs              (the Trainer's batch)
    X_s  <- minibatch of m prompt groups, k responses     (meta_batch groups of the meta set)
    g_J  <- grad_theta J_theta(X_s)            at theta_t, dropout off
    theta'_t <- theta_t + eta * g_J            plain gradient ASCENT step, theta_t kept
    g_L  <- grad L_theta'(X_t)                 Bradley-Terry loss (with margin) at theta'_t
    theta_{t+1} <- optimizer step on theta_t with g_L     (first order: no second-order term)

with the difference loss, for one prompt x and responses s_1..s_k sampled from the policy,

    J = (2 / k^2) * sum_{i<j} sigmoid(|r(x, s_i) - r(x, s_j)|),

averaged over the m groups. eta = 0 is the plain RewardTrainer exactly: same losses, same
gradients, same weights (check_metarm.py asserts it).

Written against TRL 1.12.0 (the recipe's pinned version); also runs on TRL 1.16.0. It overrides
only Trainer.training_step (one micro-batch's forward and backward pass).
Not for DeepSpeed ZeRO-3 (parameters are sharded there; the step needs them whole).
"""

from __future__ import annotations

import math

import torch
from trl import RewardTrainer


def difference_loss(rewards: torch.Tensor) -> torch.Tensor:
    """Mean J over groups: `rewards` is `[groups, k]`, one row per prompt.

    J = (2/k^2) * sum_{i<j} sigmoid(|r_i - r_j|) per group (the paper's normalisation 2/k^2, not
    2/(k(k-1))), then the mean over groups. A low J means the reward model barely separates the
    policy's responses; MetaRM's meta step increases it.
    """
    groups, k = rewards.shape
    gaps = (rewards.unsqueeze(2) - rewards.unsqueeze(1)).abs()  # [groups, k, k]
    upper = torch.ones(k, k, dtype=torch.bool, device=rewards.device).triu(diagonal=1)
    per_group = torch.sigmoid(gaps)[:, upper].sum(dim=-1)  # [groups]: the pairs i < j
    return per_group.mean() * (2.0 / max(k * k, 1))


class MetaRewardTrainer(RewardTrainer):
    """TRL's RewardTrainer plus Algorithm 1's first-order meta step.

    Extra arguments (keyword only, besides RewardTrainer's own):
        meta_groups: the meta set, a list of `(prompt, [s_1, ..., s_k])` with the same k >= 2 for
            every group (responses sampled from the current policy; no preference labels).
        meta_lr: eta, the meta step size (eta = 0: exactly the plain RewardTrainer).
        meta_batch: m, the prompt groups per outer step.

    Every training micro-batch runs its forward and backward pass at theta' = theta + eta * g_J,
    so the gradients it leaves are grad L(theta'); then theta is restored bit for bit and the
    Trainer's own optimizer, gradient clipping and schedule step theta with them. theta' is held
    in the parameters themselves for that pass (not a functional copy) because gradient
    checkpointing, on by default in TRL, re-runs layers in the backward pass with the module's own
    parameters; the result is that of a separate copy at theta' (check_metarm.py compares).

    With gradient accumulation the meta step runs once per optimizer step (once per outer step t,
    as in Algorithm 1) and its theta' serves every micro-batch of that step. Every process draws
    the same meta minibatch (one seeded generator), so theta' agrees across processes.
    """

    def __init__(self, *args, meta_groups, meta_lr: float, meta_batch: int, **kwargs):
        super().__init__(*args, **kwargs)
        if not meta_groups:
            raise ValueError("MetaRM needs a non-empty meta set")
        ks = {len(responses) for _, responses in meta_groups}
        if len(ks) != 1 or min(ks) < 2:
            raise ValueError(f"every meta group needs the same k >= 2 responses, got sizes {sorted(ks)}")
        if meta_batch < 1:
            raise ValueError(f"meta_batch must be at least 1, got {meta_batch}")
        self.meta_lr = float(meta_lr)
        self.meta_k = ks.pop()
        self.meta_batch = min(int(meta_batch), len(meta_groups))
        self._meta_rows = [[self._encode(prompt, s) for s in responses] for prompt, responses in meta_groups]
        # The meta minibatches come from their own generator: the run's global random state (data
        # order, dropout) is the same as without MetaRM.
        self._meta_generator = torch.Generator().manual_seed(int(self.args.seed))
        self._meta_queue: list[int] = []
        self._lookahead: tuple[int, dict[int, torch.Tensor]] | None = None

    def _encode(self, prompt: str, response: str) -> list[int]:
        """Token ids of one response, tokenized as RewardTrainer tokenizes a non-conversational pair:
        prompt + response + EOS, plain `processing_class(text=...)`."""
        eos = self.processing_class.eos_token
        text = prompt + response
        if eos and not text.endswith(eos):
            text += eos
        ids = self.processing_class(text=text)["input_ids"]
        limit = self.args.max_length
        # The reward is read at the last token, so an over-long sequence keeps its end.
        return ids[-limit:] if limit is not None and len(ids) > limit else ids

    def _next_meta_batch(self, device: torch.device) -> dict[str, torch.Tensor]:
        """X_s: the next `meta_batch` groups (shuffled without replacement, epoch after epoch),
        right-padded as `[meta_batch * k, width]`, group after group."""
        picked = []
        for _ in range(self.meta_batch):
            if not self._meta_queue:
                self._meta_queue = torch.randperm(len(self._meta_rows), generator=self._meta_generator).tolist()
            picked.append(self._meta_queue.pop())
        rows = [row for g in picked for row in self._meta_rows[g]]
        width = max(len(row) for row in rows)
        input_ids = torch.full((len(rows), width), self.processing_class.pad_token_id, dtype=torch.long)
        attention_mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, row in enumerate(rows):
            input_ids[i, : len(row)] = torch.tensor(row, dtype=torch.long)
            attention_mask[i, : len(row)] = 1
        return {"input_ids": input_ids.to(device), "attention_mask": attention_mask.to(device)}

    def meta_step(self, model: torch.nn.Module) -> tuple[dict[int, torch.Tensor], float]:
        """Algorithm 1's meta step at theta_t: J on a meta minibatch with dropout off, g_J by
        autograd, and the ascent step eta * g_J, detached, keyed by `id(parameter)`. Returns the
        steps and J's value.

        The model is put in eval mode for J (dropout off, so no masks are drawn and the random
        generators do not move) and back afterwards; `.grad` is not touched.
        """
        core = self.accelerator.unwrap_model(model)
        params = [p for p in core.parameters() if p.requires_grad]
        batch = self._next_meta_batch(params[0].device)
        was_training = core.training
        core.eval()
        try:
            with self.compute_loss_context_manager():  # the same autocast as the training forward
                rewards = core(**batch, use_cache=False).logits.squeeze(-1).float()
        finally:
            core.train(was_training)
        j = difference_loss(rewards.view(-1, self.meta_k))
        value = j.item()
        if not math.isfinite(value):
            raise FloatingPointError(f"meta step: the difference loss J is {value}; lower meta_lr or the learning rate")
        grads = torch.autograd.grad(j, params, allow_unused=True)
        steps = {id(p): (self.meta_lr * g).detach() for p, g in zip(params, grads) if g is not None}
        return steps, value

    def training_step(self, model, inputs, *args, **kwargs):
        """One micro-batch of Algorithm 1's outer step: the meta step at theta_t (once per
        optimizer step), then RewardTrainer's forward and backward pass (Bradley-Terry with margin)
        at theta'_t = theta_t + eta * g_J, leaving g_L = grad L(theta'_t) in `.grad`, then theta_t
        back in the parameters for the optimizer step."""
        step = self.state.global_step
        if self._lookahead is None or self._lookahead[0] != step:
            steps, j = self.meta_step(model)
            self._lookahead = (step, steps)
            self._metrics["train"]["meta_J"].append(j)
        steps = self._lookahead[1]
        moved = [(p, steps[id(p)]) for p in self.accelerator.unwrap_model(model).parameters() if id(p) in steps]
        with torch.no_grad():
            theta = [p.detach().clone() for p, _ in moved]
            for p, s in moved:
                p.add_(s)
        try:
            return super().training_step(model, inputs, *args, **kwargs)
        finally:
            with torch.no_grad():
                for (p, _), t in zip(moved, theta):
                    p.copy_(t)
