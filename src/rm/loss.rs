//! The reward-model loss: Bradley–Terry with a per-pair margin and label smoothing.
//!
//! For a pair with reward gap `z = r_c − r_r`, margin `m` and smoothing `α`, with `u = z − m`:
//! `L = −(1 − α) log σ(u) − α log(1 − σ(u))`, and `dL/dz = σ(u) − (1 − α)`.
//! `m = 0, α = 0` is the plain Bradley–Terry loss `−log σ(z)`.
use burn::tensor::{Tensor, activation::log_sigmoid};

/// Per-pair loss `[pairs]` from the reward gap `z = r_c − r_r` (`[pairs]`).
/// `margin` and `smoothing` are per-pair (`[pairs]`); `None` means 0 for every pair.
pub fn preference_loss(
    gap: Tensor<1>,
    margin: Option<Tensor<1>>,
    smoothing: Option<Tensor<1>>,
) -> Tensor<1> {
    let u = match margin {
        Some(m) => gap - m,
        None => gap,
    };
    let log_p = log_sigmoid(u.clone());
    match smoothing {
        None => log_p.neg(),
        Some(alpha) => {
            // log(1 − σ(u)) = log σ(−u)
            let log_not_p = log_sigmoid(u.neg());
            let keep = alpha.clone().neg() + 1.0;
            (keep * log_p + alpha * log_not_p).neg()
        }
    }
}

/// The same loss on plain numbers (reference for tests and reports).
pub fn preference_loss_value(gap: f64, margin: f64, smoothing: f64) -> f64 {
    let u = gap - margin;
    // log σ(u) computed stably
    let log_sigmoid = |x: f64| -> f64 {
        if x >= 0.0 {
            -(-x).exp().ln_1p()
        } else {
            x - x.exp().ln_1p()
        }
    };
    -(1.0 - smoothing) * log_sigmoid(u) - smoothing * log_sigmoid(-u)
}

/// Mean plain Bradley–Terry loss `−log σ(z)` over reward gaps (host side, for reports).
pub fn mean_bt_loss(gaps: &[f32]) -> f32 {
    let total: f64 = gaps
        .iter()
        .map(|&g| preference_loss_value(f64::from(g), 0.0, 0.0))
        .sum();
    (total / gaps.len().max(1) as f64) as f32
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, TensorData};

    fn t(v: &[f32], device: &Device) -> Tensor<1> {
        Tensor::from_data(TensorData::new(v.to_vec(), [v.len()]), device)
    }

    fn values(x: Tensor<1>) -> Vec<f32> {
        x.into_data().try_to_vec::<f32>().unwrap()
    }

    #[test]
    fn plain_bt_matches_hand_computed_values() {
        let d = Device::flex();
        // −log σ(0) = ln 2; −log σ(2) = ln(1 + e^−2) = 0.126928; −log σ(−1) = ln(1 + e) = 1.313262
        let got = values(preference_loss(t(&[0.0, 2.0, -1.0], &d), None, None));
        let want = [std::f32::consts::LN_2, 0.126_928, 1.313_262];
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-5, "{got:?}");
        }
    }

    #[test]
    fn zero_margin_and_zero_smoothing_reduce_exactly_to_bt() {
        let d = Device::flex();
        let z = [0.3, -2.0, 5.0, 0.0];
        let plain = values(preference_loss(t(&z, &d), None, None));
        let zeros = values(preference_loss(
            t(&z, &d),
            Some(t(&[0.0; 4], &d)),
            Some(t(&[0.0; 4], &d)),
        ));
        assert_eq!(plain, zeros);
    }

    #[test]
    fn margin_and_smoothing_match_hand_computed_values() {
        let d = Device::flex();
        // z = 1, m = 1 → u = 0: −(0.9) ln .5 − 0.1 ln .5 = ln 2 for any α.
        // z = 3, m = 1, α = 0.1 → u = 2: 0.9·0.126928 + 0.1·2.126928 = 0.326928
        let got = values(preference_loss(
            t(&[1.0, 3.0], &d),
            Some(t(&[1.0, 1.0], &d)),
            Some(t(&[0.1, 0.1], &d)),
        ));
        assert!((got[0] - std::f32::consts::LN_2).abs() < 1e-5, "{got:?}");
        assert!((got[1] - 0.326_928).abs() < 1e-5, "{got:?}");
        assert!((preference_loss_value(3.0, 1.0, 0.1) - 0.326_928).abs() < 1e-6);
        // mean of ln 2 and ln(1 + e^−2)
        assert!(
            (mean_bt_loss(&[0.0, 2.0]) - (std::f32::consts::LN_2 + 0.126_928) / 2.0).abs() < 1e-6
        );
    }

    #[test]
    fn gradient_is_sigmoid_minus_target() {
        let d = Device::flex().autodiff();
        let z = [-2.0f32, -0.5, 0.0, 0.7, 3.0];
        let m = [0.5f32, 0.0, -1.0, 0.2, 1.0];
        let a = [0.0f32, 0.1, 0.3, 0.0, 0.9];
        let gap = t(&z, &d).require_grad();
        let loss = preference_loss(gap.clone(), Some(t(&m, &d)), Some(t(&a, &d))).sum();
        let grads = loss.backward();
        let g = gap.grad(&grads).expect("gap has a gradient");
        let g = g.into_data().try_to_vec::<f32>().unwrap();
        for i in 0..z.len() {
            let sigma = 1.0 / (1.0 + (-(z[i] - m[i])).exp());
            let want = sigma - (1.0 - a[i]);
            assert!((g[i] - want).abs() < 1e-5, "pair {i}: {} vs {want}", g[i]);
        }
    }

    #[test]
    fn loss_is_stable_for_large_gaps() {
        let d = Device::flex();
        let got = values(preference_loss(
            t(&[80.0, -80.0], &d),
            None,
            Some(t(&[0.1, 0.1], &d)),
        ));
        assert!(got.iter().all(|v| v.is_finite()), "{got:?}");
        assert!(
            (got[0] - 8.0).abs() < 1e-3 && (got[1] - 72.0).abs() < 1e-3,
            "{got:?}"
        );
    }
}
