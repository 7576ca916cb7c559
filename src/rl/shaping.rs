//! The KL-shaped token rewards of one response (spec §6.1, §6.3): every response token pays the
//! KL penalty `−β (log π_old − log π_ref)`, and the reward model's score is added to the last
//! token only.

/// Per-token rewards of one response.
pub fn shaped_rewards(logp: &[f32], ref_logp: &[f32], kl_coef: f32, score: f32) -> Vec<f32> {
    let mut r: Vec<f32> = logp
        .iter()
        .zip(ref_logp)
        .map(|(lp, rp)| -kl_coef * (lp - rp))
        .collect();
    if let Some(last) = r.last_mut() {
        *last += score;
    }
    r
}

/// The k1 estimate of KL(π ‖ π_ref) of one response: the mean of `log π − log π_ref` over its
/// tokens (the "KL" of the paper's plots).
pub fn k1_mean(logp: &[f32], ref_logp: &[f32]) -> f32 {
    if logp.is_empty() {
        return 0.0;
    }
    logp.iter().zip(ref_logp).map(|(a, b)| a - b).sum::<f32>() / logp.len() as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_penalty_is_on_every_token_and_the_score_on_the_last_only() {
        let r = shaped_rewards(&[-1.0, -2.0, -0.5], &[-1.5, -1.0, -0.5], 0.1, 3.0);
        assert!((r[0] - -0.05).abs() < 1e-7);
        assert!((r[1] - 0.1).abs() < 1e-7);
        assert!(
            (r[2] - 3.0).abs() < 1e-7,
            "no penalty where π = π_ref, plus the score"
        );
        assert!((k1_mean(&[-1.0, -2.0, -0.5], &[-1.5, -1.0, -0.5]) - (-0.5 / 3.0)).abs() < 1e-7);
        assert!(shaped_rewards(&[], &[], 0.1, 3.0).is_empty());
    }
}
