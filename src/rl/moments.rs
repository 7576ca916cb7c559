//! Running mean and standard deviation of the reward-model scores over the whole run (spec
//! §6.1 Eq. 18; [CODE]'s `RunningMoments`), merged batch by batch (Chan et al.), and the reward
//! normalisation, scaling and clipping that use them.
use serde::{Deserialize, Serialize};

/// Running moments of a stream.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RunningMoments {
    /// Values seen.
    pub count: u64,
    /// Their mean.
    pub mean: f64,
    /// Sum of squared deviations from the mean.
    m2: f64,
}

impl RunningMoments {
    /// Fold in a batch.
    pub fn update(&mut self, batch: &[f32]) {
        if batch.is_empty() {
            return;
        }
        let n = batch.len() as f64;
        let mean = batch.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
        let m2: f64 = batch.iter().map(|&x| (f64::from(x) - mean).powi(2)).sum();
        let total = self.count as f64 + n;
        let delta = mean - self.mean;
        self.mean += delta * n / total;
        self.m2 += m2 + delta * delta * self.count as f64 * n / total;
        self.count += batch.len() as u64;
    }

    /// Population standard deviation (0 before any value).
    pub fn std(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            (self.m2 / self.count as f64).sqrt()
        }
    }

    /// `(x − mean) / std`, clipped to `±clip` when set.
    pub fn normalise(&self, x: f32, clip: Option<f32>) -> f32 {
        let z = ((f64::from(x) - self.mean) / self.std().max(1e-8)) as f32;
        clip.map_or(z, |c| z.clamp(-c, c))
    }

    /// `x / std` ([CODE]'s reward scaling: no mean subtraction), clipped when set.
    pub fn scale(&self, x: f32, clip: Option<f32>) -> f32 {
        let z = (f64::from(x) / self.std().max(1e-8)) as f32;
        clip.map_or(z, |c| z.clamp(-c, c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn running_moments_match_a_two_pass_mean_and_std_of_the_whole_stream() {
        let batches: [&[f32]; 3] = [&[1.0, 2.0, 3.5], &[-4.0], &[10.0, 0.5, 0.25, 7.0]];
        let mut m = RunningMoments::default();
        for b in batches {
            m.update(b);
        }
        let all: Vec<f64> = batches
            .iter()
            .flat_map(|b| b.iter().map(|&x| f64::from(x)))
            .collect();
        let mean = all.iter().sum::<f64>() / all.len() as f64;
        let std = (all.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / all.len() as f64).sqrt();
        assert_eq!(m.count, 8);
        assert!((m.mean - mean).abs() < 1e-12 && (m.std() - std).abs() < 1e-12);
        assert!(
            (m.normalise(10.0, Some(0.8)) - 0.8).abs() < 1e-7,
            "clipped at δ"
        );
        let z = m.normalise(1.0, None);
        assert!((f64::from(z) - (1.0 - mean) / std).abs() < 1e-6);
        assert!((f64::from(m.scale(2.0, None)) - 2.0 / std).abs() < 1e-6);
    }
}
