//! Calibration-tier statistics: a phenomenon is asserted on the mean over seeds with a margin
//! of two standard errors, and the per-seed table is printed for the issue note.

/// Values of one measurement, one per seed.
pub struct PerSeed {
    /// What is measured.
    pub name: String,
    /// `(seed, value)`.
    pub values: Vec<(u64, f64)>,
}

impl PerSeed {
    /// An empty measurement.
    pub fn new(name: &str) -> Self {
        Self {
            name: name.into(),
            values: Vec::new(),
        }
    }

    /// Add one seed's value.
    pub fn push(&mut self, seed: u64, value: f64) {
        self.values.push((seed, value));
    }

    /// Mean over seeds.
    pub fn mean(&self) -> f64 {
        self.values.iter().map(|v| v.1).sum::<f64>() / self.values.len().max(1) as f64
    }

    /// Standard error of the mean (sample standard deviation / √n).
    pub fn se(&self) -> f64 {
        let n = self.values.len();
        if n < 2 {
            return f64::INFINITY;
        }
        let m = self.mean();
        let var = self.values.iter().map(|v| (v.1 - m).powi(2)).sum::<f64>() / (n - 1) as f64;
        (var / n as f64).sqrt()
    }

    /// Per-seed differences `self − other` (paired by seed).
    pub fn minus(&self, other: &PerSeed) -> PerSeed {
        PerSeed {
            name: format!("{} − {}", self.name, other.name),
            values: self
                .values
                .iter()
                .zip(&other.values)
                .map(|(a, b)| {
                    assert_eq!(a.0, b.0, "paired by seed");
                    (a.0, a.1 - b.1)
                })
                .collect(),
        }
    }

    /// One table row: name, mean ± 2 SE, then every seed's value.
    pub fn row(&self) -> String {
        let seeds: Vec<String> = self
            .values
            .iter()
            .map(|(s, v)| format!("{s}:{v:.4}"))
            .collect();
        format!(
            "| {} | {:.4} ± {:.4} | {} |",
            self.name,
            self.mean(),
            2.0 * self.se(),
            seeds.join(" ")
        )
    }

    /// The mean clears `bar` from above by at least two standard errors.
    pub fn check_at_least(&self, bar: f64) -> Result<(), String> {
        let low = self.mean() - 2.0 * self.se();
        eprintln!("{}  (mean − 2 SE = {low:.4}, bar ≥ {bar})", self.row());
        (low >= bar)
            .then_some(())
            .ok_or_else(|| format!("{}: mean − 2 SE = {low:.4} < {bar}", self.name))
    }

    /// The mean stays below `bar` by at least two standard errors.
    pub fn check_at_most(&self, bar: f64) -> Result<(), String> {
        let high = self.mean() + 2.0 * self.se();
        eprintln!("{}  (mean + 2 SE = {high:.4}, bar ≤ {bar})", self.row());
        (high <= bar)
            .then_some(())
            .ok_or_else(|| format!("{}: mean + 2 SE = {high:.4} > {bar}", self.name))
    }
}

/// Fail with every check that did not hold (all are printed first, so one run shows the whole
/// table).
pub fn all_hold(checks: Vec<Result<(), String>>) {
    let failed: Vec<String> = checks.into_iter().filter_map(Result::err).collect();
    assert!(failed.is_empty(), "did not hold:\n{}", failed.join("\n"));
}

/// The calibration tier's seeds: world seed and run seed both take each value.
pub const CALIBRATION_SEEDS: [u64; 5] = [1, 2, 3, 4, 5];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_standard_error_match_hand_computation() {
        let mut p = PerSeed::new("x");
        for (s, v) in [(1, 1.0), (2, 2.0), (3, 3.0), (4, 4.0)] {
            p.push(s, v);
        }
        // mean 2.5, sample variance 5/3, SE = sqrt(5/12).
        assert!((p.mean() - 2.5).abs() < 1e-12);
        assert!((p.se() - (5.0f64 / 12.0).sqrt()).abs() < 1e-12);
        assert!(p.check_at_least(1.2).is_ok());
        assert!(p.check_at_least(1.3).is_err());
        assert!(p.check_at_most(3.8).is_ok());
        assert!(p.check_at_most(3.7).is_err());
    }
}
