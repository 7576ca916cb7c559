//! Generalised advantage estimation over one response (spec §6.1):
//! `δ_t = r_t + γ V_{t+1} − V_t` with `V_T = 0` after the last token,
//! `A_t = Σ_l (γλ)^l δ_{t+l}`, and the returns `R̂_t = A_t + V_t`.

/// Advantages and returns of one response from its per-token rewards and values.
pub fn gae(rewards: &[f32], values: &[f32], gamma: f32, lambda: f32) -> (Vec<f32>, Vec<f32>) {
    let n = rewards.len().min(values.len());
    let mut advantages = vec![0.0f32; n];
    let mut running = 0.0f32;
    for t in (0..n).rev() {
        let next = if t + 1 < n { values[t + 1] } else { 0.0 };
        let delta = rewards[t] + gamma * next - values[t];
        running = delta + gamma * lambda * running;
        advantages[t] = running;
    }
    let returns = advantages.iter().zip(values).map(|(a, v)| a + v).collect();
    (advantages, returns)
}

/// Whiten advantages over every token of a batch (mean 0, std 1), then clip to `±clip` when set.
pub fn whiten(advantages: &mut [Vec<f32>], clip: Option<f32>) {
    let all: Vec<f64> = advantages.iter().flatten().map(|&a| f64::from(a)).collect();
    if all.is_empty() {
        return;
    }
    let mean = all.iter().sum::<f64>() / all.len() as f64;
    let var = all.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / all.len() as f64;
    let std = var.sqrt().max(1e-8);
    for a in advantages.iter_mut().flatten() {
        let mut w = ((f64::from(*a) - mean) / std) as f32;
        if let Some(c) = clip {
            w = w.clamp(-c, c);
        }
        *a = w;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambda_one_is_the_monte_carlo_return_minus_the_value() {
        let r = [0.5, -1.0, 2.0, 0.25];
        let v = [0.3, 0.1, -0.4, 1.0];
        let (a, ret) = gae(&r, &v, 1.0, 1.0);
        for t in 0..4 {
            let mc: f32 = r[t..].iter().sum();
            assert!((a[t] - (mc - v[t])).abs() < 1e-6, "t={t}");
            assert!((ret[t] - mc).abs() < 1e-6);
        }
    }

    #[test]
    fn lambda_zero_is_the_td_error() {
        let r = [0.5, -1.0, 2.0];
        let v = [0.3, 0.1, -0.4];
        let gamma = 0.9;
        let (a, _) = gae(&r, &v, gamma, 0.0);
        assert!((a[0] - (0.5 + 0.9 * 0.1 - 0.3)).abs() < 1e-6);
        assert!((a[1] - (-1.0 + 0.9 * -0.4 - 0.1)).abs() < 1e-6);
        assert!(
            (a[2] - (2.0 - -0.4)).abs() < 1e-6,
            "V after the last token is 0"
        );
    }

    #[test]
    fn whitening_gives_mean_zero_std_one_then_clips() {
        let mut a = vec![vec![1.0, 2.0], vec![3.0, 10.0]];
        whiten(&mut a, None);
        let all: Vec<f32> = a.iter().flatten().copied().collect();
        let mean: f32 = all.iter().sum::<f32>() / 4.0;
        let var: f32 = all.iter().map(|x| (x - mean).powi(2)).sum::<f32>() / 4.0;
        assert!(mean.abs() < 1e-6 && (var - 1.0).abs() < 1e-5);
        whiten(&mut a, Some(0.5));
        assert!(a.iter().flatten().all(|x| x.abs() <= 0.5));
    }
}
