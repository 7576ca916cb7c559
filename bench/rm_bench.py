"""RM-bench in PyTorch: the reference for `rlhf-lab bench rm` (src/experiment/rm/bench.rs).

Same workload: a pre-LN causal transformer reward model (vocab 4096, d_model 128, 4 layers,
4 heads, FFN 512 with GELU, learned positions, dropout 0), read out at the last token through a
final LayerNorm and a bias-free 1-unit head; Bradley-Terry loss; AdamW (lr 1e-4, weight decay
0.01); every sequence 128 random token ids; 32 pairs (64 sequences) per step; 4 fixed batches
cycled; 3 untimed warm-up steps, then timed steps. Training (forward + backward + AdamW) and
scoring (forward only, no gradients, gaps read back) are timed separately.

With --last-layer-at-readout the last block computes only what the read-out token needs (keys
and values at every position; query, attention, feed-forward and residual at the last token),
as rlhf-lab's reward model does: the same rewards and gradients for less work, so the two
implementations can be compared doing the same work as well as each written the usual way.

Prints one JSON object with the same keys as `rlhf-lab bench rm`.
"""

import argparse
import json
import os
import platform
import time

import torch
from torch import nn
import torch.nn.functional as F


class RewardModel(nn.Module):
    def __init__(self, vocab, d_model, layers, heads, ffn, max_len):
        super().__init__()
        self.token = nn.Embedding(vocab, d_model)
        self.position = nn.Embedding(max_len, d_model)
        layer = nn.TransformerEncoderLayer(
            d_model,
            heads,
            dim_feedforward=ffn,
            dropout=0.0,
            activation="gelu",
            batch_first=True,
            norm_first=True,
        )
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.final_norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, 1, bias=False)
        self.last_layer_at_readout = False

    def forward(self, ids, mask):
        rows, seq = ids.shape
        positions = torch.arange(seq, device=ids.device).unsqueeze(0).expand(rows, seq)
        x = self.token(ids) + self.position(positions)
        if not self.last_layer_at_readout:
            x = self.encoder(x, mask=mask, is_causal=True)
            x = self.final_norm(x)
            return self.head(x[:, -1, :]).squeeze(-1)
        *before, last = self.encoder.layers
        for layer in before:
            x = layer(x, src_mask=mask, is_causal=True)
        # The last position sees every key, so its one query needs no mask.
        h = last.norm1(x)
        y = x[:, -1:, :] + last.self_attn(h[:, -1:, :], h, h, need_weights=False)[0]
        y = y + last._ff_block(last.norm2(y))
        return self.head(self.final_norm(y[:, 0, :])).squeeze(-1)


def gaps(model, ids, mask, pairs):
    rewards = model(ids, mask)
    return rewards[:pairs] - rewards[pairs:]


def check(model, vocab, seq, device):
    """Both ways give the same rewards and parameter gradients (to float rounding)."""
    ids = torch.randint(0, vocab, (6, seq), device=device)
    mask = nn.Transformer.generate_square_subsequent_mask(seq, device=device)
    out = {}
    for trimmed in (False, True):
        model.last_layer_at_readout = trimmed
        model.zero_grad(set_to_none=True)
        rewards = model(ids, mask)
        (rewards * torch.arange(1.0, 7.0, device=device)).sum().backward()
        out[trimmed] = (rewards.detach(), [p.grad.clone() for p in model.parameters()])
    (r0, g0), (r1, g1) = out[False], out[True]
    worst = max((a - b).abs().max().item() for a, b in zip(g0, g1))
    assert torch.allclose(r0, r1, atol=1e-5), (r0, r1)
    assert worst < 1e-4, worst
    print(f"check: rewards and gradients agree (largest gradient difference {worst:.2e})")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=20, help="timed steps (20 for reported figures)")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: PyTorch's default)")
    p.add_argument(
        "--last-layer-at-readout",
        action="store_true",
        help="run the last block at the read-out token only, as rlhf-lab does",
    )
    p.add_argument(
        "--check",
        action="store_true",
        help="check that both ways give the same rewards and gradients, then exit",
    )
    args = p.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    vocab, d_model, layers, heads, ffn, seq, pairs = 4096, 128, 4, 4, 512, 128, 32
    device = torch.device(args.device)
    model = RewardModel(vocab, d_model, layers, heads, ffn, seq).to(device)
    model.last_layer_at_readout = args.last_layer_at_readout
    if args.check:
        check(model, vocab, seq, device)
        return
    optim = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01)
    mask = nn.Transformer.generate_square_subsequent_mask(seq, device=device)
    batches = [torch.randint(0, vocab, (2 * pairs, seq), device=device) for _ in range(4)]

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize()

    train_s = 0.0
    for i in range(args.warmup + args.steps):
        ids = batches[i % len(batches)]
        sync()
        t0 = time.perf_counter()
        loss = -F.logsigmoid(gaps(model, ids, mask, pairs)).mean()
        optim.zero_grad(set_to_none=True)
        loss.backward()
        optim.step()
        loss.item()  # one readback per step, as the Rust step reads its loss and gaps
        sync()
        if i >= args.warmup:
            train_s += time.perf_counter() - t0

    model.eval()
    score_s = 0.0
    with torch.inference_mode():
        for i in range(args.warmup + args.steps):
            ids = batches[i % len(batches)]
            sync()
            t0 = time.perf_counter()
            gaps(model, ids, mask, pairs).cpu()
            if i >= args.warmup:
                score_s += time.perf_counter() - t0

    n = max(args.steps, 1)
    print(
        json.dumps(
            {
                "train_pairs_per_s": pairs * n / train_s,
                "score_pairs_per_s": pairs * n / score_s,
                "train_ms_per_step": train_s * 1e3 / n,
                "score_ms_per_batch": score_s * 1e3 / n,
                "params": sum(t.numel() for t in model.parameters()),
                "backend": f"pytorch-{device.type}",
                "adapter": torch.cuda.get_device_name(0) if device.type == "cuda" else platform.processor() or platform.machine(),
                "torch": torch.__version__,
                "threads": torch.get_num_threads(),
                "cpus": os.cpu_count(),
                "last_layer_at_readout": args.last_layer_at_readout,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
