//! Causal multi-head self-attention on f32 slices, forward and backward, reading the heads in
//! place from the projections `[batch, seq, width]` and writing the context the same way (no
//! head-splitting copies), one batch row per task.
//!
//! For each batch row and head (width `d = width / heads`): `P = causal_softmax(scale · Q Kᵀ)`,
//! `O = P V`. Backward: `dP = dO Vᵀ`, `dS = scale · P ⊙ (dP − rowsum(P ⊙ dP))`, `dQ = dS K`,
//! `dK = dSᵀ Q`, `dV = Pᵀ dO`.

use super::kernels;
use super::linear::product_strided;

/// Sizes of one call.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    /// Batch rows.
    pub batch: usize,
    /// Positions per row.
    pub seq: usize,
    /// Heads.
    pub heads: usize,
    /// Model width (`heads × d`).
    pub width: usize,
}

impl Shape {
    fn d(&self) -> usize {
        self.width / self.heads.max(1)
    }
    fn row(&self) -> usize {
        self.seq * self.width
    }
    fn matrix(&self) -> usize {
        self.seq * self.seq
    }
}

/// One task per batch row: `f(b, outputs of that row…)`, in parallel where threads exist.
fn per_row<const N: usize>(
    outs: [(&mut [f32], usize); N],
    f: impl Fn(usize, [&mut [f32]; N]) + Sync,
) {
    let rows = outs.first().map_or(0, |(o, len)| o.len() / (*len).max(1));
    let mut chunks: Vec<Vec<&mut [f32]>> = (0..rows).map(|_| Vec::with_capacity(N)).collect();
    for (out, len) in outs {
        for (b, c) in out.chunks_mut(len.max(1)).enumerate() {
            chunks[b].push(c);
        }
    }
    let run = |(b, c): (usize, Vec<&mut [f32]>)| {
        let Ok(c) = <[&mut [f32]; N]>::try_from(c) else {
            unreachable!("every output has one chunk per batch row")
        };
        f(b, c)
    };
    #[cfg(not(target_arch = "wasm32"))]
    {
        use rayon::prelude::*;
        chunks.into_par_iter().enumerate().for_each(run);
    }
    #[cfg(target_arch = "wasm32")]
    chunks.into_iter().enumerate().for_each(run);
}

/// Query rows in blocks of this many: a block's products stop at its last row's diagonal, so
/// about half of each `seq × seq` product (the part the causal mask zeroes) is skipped.
const BLOCK: usize = 32;

/// The row blocks of a `seq × seq` matrix.
fn blocks(seq: usize) -> impl Iterator<Item = std::ops::Range<usize>> {
    (0..seq)
        .step_by(BLOCK)
        .map(move |r| r..(r + BLOCK).min(seq))
}

/// `(context [batch, seq, width], weights [batch, heads, seq, seq])`.
pub fn forward(q: &[f32], k: &[f32], v: &[f32], s: Shape, scale: f32) -> (Vec<f32>, Vec<f32>) {
    let (d, w, seq) = (s.d(), s.width, s.seq);
    let mut context = vec![0.0; s.batch * s.row()];
    let mut weights = vec![0.0; s.batch * s.heads * s.matrix()];
    per_row(
        [
            (&mut context, s.row()),
            (&mut weights, s.heads * s.matrix()),
        ],
        |b, [ctx, wts]| {
            let mut scores = vec![0.0; s.matrix()];
            let at = b * s.row();
            for h in 0..s.heads {
                let (qh, kh, vh) = (&q[at + h * d..], &k[at + h * d..], &v[at + h * d..]);
                // Queries in `rows` see keys `0..rows.end`: the rest of the matrix is never
                // computed (the softmax reads only what a query may see, and writes 0 past it).
                for rows in blocks(seq) {
                    let (r, n) = (rows.start, rows.len());
                    product_strided(
                        (n, d, rows.end),
                        (&mut scores[r * seq..], seq),
                        false,
                        &qh[r * w..],
                        (w, 1),
                        kh,
                        (1, w),
                        false,
                    );
                }
                let p = &mut wts[h * s.matrix()..(h + 1) * s.matrix()];
                kernels::causal_softmax(&scores, seq, scale, p);
                for rows in blocks(seq) {
                    let (r, n) = (rows.start, rows.len());
                    product_strided(
                        (n, rows.end, d),
                        (&mut ctx[r * w + h * d..], w),
                        false,
                        &p[r * seq..],
                        (seq, 1),
                        vh,
                        (w, 1),
                        false,
                    );
                }
            }
        },
    );
    (context, weights)
}

/// `(dq, dk, dv)`, each `[batch, seq, width]`.
pub fn backward(
    (q, k, v): (&[f32], &[f32], &[f32]),
    weights: &[f32],
    d_context: &[f32],
    s: Shape,
    scale: f32,
) -> [Vec<f32>; 3] {
    let (d, w, seq) = (s.d(), s.width, s.seq);
    let n = s.batch * s.row();
    let (mut dq, mut dk, mut dv) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
    per_row(
        [(&mut dq, s.row()), (&mut dk, s.row()), (&mut dv, s.row())],
        |b, [dq, dk, dv]| {
            let (mut dp, mut ds) = (vec![0.0; s.matrix()], vec![0.0; s.matrix()]);
            let at = b * s.row();
            for h in 0..s.heads {
                let (qh, kh, vh) = (&q[at + h * d..], &k[at + h * d..], &v[at + h * d..]);
                let doh = &d_context[at + h * d..];
                let m = (b * s.heads + h) * s.matrix();
                let p = &weights[m..m + s.matrix()];
                // As in the forward, only the blocks a query may see: `P` and `dS` are 0 past
                // the diagonal, so the products skip them.
                for rows in blocks(seq) {
                    let (r, n) = (rows.start, rows.len());
                    product_strided(
                        (n, d, rows.end),
                        (&mut dp[r * seq..], seq),
                        false,
                        &doh[r * w..],
                        (w, 1),
                        vh,
                        (1, w),
                        false,
                    );
                }
                kernels::causal_softmax_backward(p, &dp, seq, scale, &mut ds);
                for rows in blocks(seq) {
                    let (r, n) = (rows.start, rows.len());
                    // dQ[rows] = dS[rows, ..end] · K[..end].
                    product_strided(
                        (n, rows.end, d),
                        (&mut dq[r * w + h * d..], w),
                        false,
                        &ds[r * seq..],
                        (seq, 1),
                        kh,
                        (w, 1),
                        false,
                    );
                    // Keys (and values) in `rows` are seen by queries `r..seq`:
                    // dK[rows] = dS[r.., rows]ᵀ · Q[r..], dV[rows] = P[r.., rows]ᵀ · dO[r..].
                    let below = seq - r;
                    product_strided(
                        (n, below, d),
                        (&mut dk[r * w + h * d..], w),
                        false,
                        &ds[r * seq + r..],
                        (1, seq),
                        &qh[r * w..],
                        (w, 1),
                        false,
                    );
                    product_strided(
                        (n, below, d),
                        (&mut dv[r * w + h * d..], w),
                        false,
                        &p[r * seq + r..],
                        (1, seq),
                        &doh[r * w..],
                        (w, 1),
                        false,
                    );
                }
            }
        },
    );
    [dq, dk, dv]
}
