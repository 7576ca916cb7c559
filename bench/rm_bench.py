"""RM-bench in PyTorch: the reference for `rlhf-lab bench rm` (src/experiment/rm/bench.rs).

Same workload: a pre-LN causal transformer reward model (vocab 4096, d_model 128, 4 layers,
4 heads, FFN 512 with GELU, learned positions, dropout 0), read out at the last token through a
final LayerNorm and a bias-free 1-unit head; Bradley-Terry loss; AdamW (lr 1e-4, weight decay
0.01); every sequence 128 random token ids; 32 pairs (64 sequences) per step; 4 fixed batches
cycled; 3 untimed warm-up steps, then timed steps. Training (forward + backward + AdamW) and
scoring (forward only, no gradients, gaps read back) are timed separately.

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

    def forward(self, ids, mask):
        rows, seq = ids.shape
        positions = torch.arange(seq, device=ids.device).unsqueeze(0).expand(rows, seq)
        x = self.token(ids) + self.position(positions)
        x = self.encoder(x, mask=mask, is_causal=True)
        x = self.final_norm(x)
        return self.head(x[:, -1, :]).squeeze(-1)


def gaps(model, ids, mask, pairs):
    rewards = model(ids, mask)
    return rewards[:pairs] - rewards[pairs:]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=20, help="timed steps (20 for reported figures)")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: PyTorch's default)")
    args = p.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    vocab, d_model, layers, heads, ffn, seq, pairs = 4096, 128, 4, 4, 512, 128, 32
    device = torch.device(args.device)
    model = RewardModel(vocab, d_model, layers, heads, ffn, seq).to(device)
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
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
