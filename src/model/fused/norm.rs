//! Layer normalisation over the last axis on f32 slices, and its gradients: one pass per row
//! forward (mean, variance, normalise, scale, shift) and one backward, where burn's autodiff
//! composes it from about ten element-wise and reduction ops, each a pass over memory.
//!
//! Rows of width `d`: `x̂ = (x − μ)/√(var + ε)` (variance divided by `d`), `y = x̂·γ + β`.

use super::kernels::{dot_lanes, lanes, madd};

#[inline(always)]
fn sum(v: &[f32]) -> f32 {
    lanes(v, 0.0, |a, x| a + x, |a, x| a + x)
}

#[inline(always)]
fn forward_body<const FMA: bool>(
    x: &[f32],
    gamma: &[f32],
    beta: &[f32],
    eps: f32,
    y: &mut [f32],
    xhat: &mut [f32],
    rstd: &mut [f32],
) {
    let d = gamma.len().max(1);
    for (((row, out), hat), r) in x
        .chunks_exact(d)
        .zip(y.chunks_exact_mut(d))
        .zip(xhat.chunks_exact_mut(d))
        .zip(rstd.iter_mut())
    {
        let mean = sum(row) / d as f32;
        for (h, &v) in hat.iter_mut().zip(row) {
            *h = v - mean;
        }
        let var = dot_lanes::<FMA>(hat, hat) / d as f32;
        *r = 1.0 / (var + eps).sqrt();
        for i in 0..d {
            hat[i] *= *r;
            out[i] = madd::<FMA>(hat[i], gamma[i], beta[i]);
        }
    }
}

dispatch!(
    forward_into,
    forward_body,
    (
        x: &[f32],
        gamma: &[f32],
        beta: &[f32],
        eps: f32,
        y: &mut [f32],
        xhat: &mut [f32],
        rstd: &mut [f32]
    )
);

/// `y`, and for the backward `x̂` and `1/√(var + ε)` per row.
pub fn forward(x: &[f32], gamma: &[f32], beta: &[f32], eps: f32) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let rows = x.len() / gamma.len().max(1);
    let (mut y, mut xhat, mut rstd) = (vec![0.0; x.len()], vec![0.0; x.len()], vec![0.0; rows]);
    forward_into(x, gamma, beta, eps, &mut y, &mut xhat, &mut rstd);
    (y, xhat, rstd)
}

#[inline(always)]
fn grad_input_body<const FMA: bool>(
    dy: &[f32],
    xhat: &[f32],
    rstd: &[f32],
    gamma: &[f32],
    dx: &mut [f32],
) {
    let d = gamma.len().max(1);
    for (((g_row, hat), out), &r) in dy
        .chunks_exact(d)
        .zip(xhat.chunks_exact(d))
        .zip(dx.chunks_exact_mut(d))
        .zip(rstd)
    {
        for i in 0..d {
            out[i] = g_row[i] * gamma[i];
        }
        let mean_g = sum(out) / d as f32;
        let mean_gx = dot_lanes::<FMA>(out, hat) / d as f32;
        for i in 0..d {
            out[i] = r * (out[i] - mean_g - hat[i] * mean_gx);
        }
    }
}

dispatch!(
    grad_input_into,
    grad_input_body,
    (dy: &[f32], xhat: &[f32], rstd: &[f32], gamma: &[f32], dx: &mut [f32])
);

/// `dx = (1/σ)·(g − mean(g) − x̂·mean(g ⊙ x̂))` with `g = dy ⊙ γ`.
pub fn grad_input(dy: &[f32], xhat: &[f32], rstd: &[f32], gamma: &[f32]) -> Vec<f32> {
    let mut dx = vec![0.0; dy.len()];
    grad_input_into(dy, xhat, rstd, gamma, &mut dx);
    dx
}

#[inline(always)]
fn grad_params_body<const FMA: bool>(
    dy: &[f32],
    xhat: &[f32],
    dgamma: &mut [f32],
    dbeta: &mut [f32],
) {
    let d = dgamma.len().max(1);
    for (g_row, hat) in dy.chunks_exact(d).zip(xhat.chunks_exact(d)) {
        for i in 0..d {
            dgamma[i] = madd::<FMA>(g_row[i], hat[i], dgamma[i]);
            dbeta[i] += g_row[i];
        }
    }
}

dispatch!(
    grad_params_into,
    grad_params_body,
    (dy: &[f32], xhat: &[f32], dgamma: &mut [f32], dbeta: &mut [f32])
);

/// `(dγ, dβ) = (Σ_rows dy ⊙ x̂, Σ_rows dy)`.
pub fn grad_params(dy: &[f32], xhat: &[f32], d: usize) -> (Vec<f32>, Vec<f32>) {
    let (mut dgamma, mut dbeta) = (vec![0.0; d], vec![0.0; d]);
    grad_params_into(dy, xhat, &mut dgamma, &mut dbeta);
    (dgamma, dbeta)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_row_by_hand_and_the_input_gradient_against_differences() {
        // Row [1, 2, 3, 6]: μ = 3, var = (4 + 1 + 0 + 9)/4 = 3.5.
        let x = [1.0, 2.0, 3.0, 6.0];
        let (gamma, beta) = ([1.0, 2.0, 0.5, -1.0], [0.0, 0.5, 0.0, 1.0]);
        let (y, xhat, rstd) = forward(&x, &gamma, &beta, 0.0);
        let s = 3.5f32.sqrt();
        assert!((rstd[0] - 1.0 / s).abs() < 1e-6);
        let want = [-2.0 / s, -2.0 / s + 0.5, 0.0, -3.0 / s + 1.0];
        for (a, b) in y.iter().zip(want) {
            assert!((a - b).abs() < 1e-6, "{y:?} vs {want:?}");
        }
        let w = [0.3, -1.0, 2.0, 0.7];
        let dx = grad_input(&w, &xhat, &rstd, &gamma);
        let loss = |x: &[f32]| {
            let (y, _, _) = forward(x, &gamma, &beta, 0.0);
            y.iter().zip(&w).map(|(a, b)| (a * b) as f64).sum::<f64>()
        };
        for i in 0..4 {
            let (mut up, mut down) = (x, x);
            up[i] += 1e-2;
            down[i] -= 1e-2;
            let numeric = (loss(&up) - loss(&down)) / 2e-2;
            assert!(
                (dx[i] as f64 - numeric).abs() < 1e-3,
                "dx[{i}] {} vs {numeric}",
                dx[i]
            );
        }
        let (dg, db) = grad_params(&w, &xhat, 4);
        assert_eq!(db, w.to_vec());
        for i in 0..4 {
            assert!((dg[i] - w[i] * xhat[i]).abs() < 1e-7);
        }
    }
}
