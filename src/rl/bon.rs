//! Best-of-n on a proxy reward (spec §8.4): draw n responses, keep the one the proxy likes best.
//! Its KL to the sampling policy is `log n − (n − 1)/n` (Stiennon et al.; Gao et al.).

/// KL of best-of-n to the policy it samples from.
pub fn kl_best_of_n(n: usize) -> f64 {
    let n = n.max(1) as f64;
    n.ln() - (n - 1.0) / n
}

/// Index of the proxy's favourite among candidates (the first on ties).
pub fn best_of(proxy: &[f32]) -> Option<usize> {
    proxy
        .iter()
        .enumerate()
        .fold(None, |best: Option<(usize, f32)>, (i, &r)| match best {
            Some((_, b)) if b >= r => best,
            _ => Some((i, r)),
        })
        .map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kl_of_best_of_n_and_the_pick() {
        assert_eq!(kl_best_of_n(1), 0.0);
        assert!((kl_best_of_n(2) - (2f64.ln() - 0.5)).abs() < 1e-12);
        assert!((kl_best_of_n(1024) - (1024f64.ln() - 1023.0 / 1024.0)).abs() < 1e-12);
        assert_eq!(best_of(&[0.1, 0.7, 0.7, -1.0]), Some(1));
        assert_eq!(best_of(&[]), None);
    }
}
