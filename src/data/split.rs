//! Seeded train/validation split of a dataset, by pair position.
use super::rng::Rng;

/// Positions (into the loaded pair list) of the training and validation pairs.
#[derive(Clone, Debug, PartialEq)]
pub struct Split {
    /// Positions of training pairs, ascending.
    pub train: Vec<usize>,
    /// Positions of validation pairs, ascending.
    pub validation: Vec<usize>,
}

/// Shuffle `n` positions with `seed` and hold out `validation_fraction` of them
/// (at least one pair on each side when `n >= 2`). Sorted afterwards so input order is kept.
pub fn train_validation_split(n: usize, validation_fraction: f64, seed: u64) -> Split {
    let mut order: Vec<usize> = (0..n).collect();
    Rng::derived(seed, "train-validation-split").shuffle(&mut order);
    let frac = if validation_fraction.is_finite() {
        validation_fraction.clamp(0.0, 1.0)
    } else {
        0.2
    };
    let mut n_val = (n as f64 * frac).round() as usize;
    if n >= 2 {
        n_val = n_val.clamp(1, n - 1);
    } else {
        n_val = 0;
    }
    let mut validation = order[..n_val].to_vec();
    let mut train = order[n_val..].to_vec();
    validation.sort_unstable();
    train.sort_unstable();
    Split { train, validation }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_sizes_disjoint_and_seeded() {
        let s = train_validation_split(100, 0.2, 1);
        assert_eq!(s.validation.len(), 20);
        assert_eq!(s.train.len(), 80);
        let mut all = [s.train.clone(), s.validation.clone()].concat();
        all.sort_unstable();
        assert_eq!(all, (0..100).collect::<Vec<_>>());
        assert_eq!(s, train_validation_split(100, 0.2, 1));
        assert_ne!(s, train_validation_split(100, 0.2, 2));
        let tiny = train_validation_split(2, 0.01, 0);
        assert_eq!((tiny.train.len(), tiny.validation.len()), (1, 1));
    }
}
