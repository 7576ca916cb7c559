//! The order a run draws its training pairs in: the training positions reshuffled at the start
//! of every epoch from the run's seed. One type, so a single run and the members of a stacked
//! ensemble see exactly the same batches under the same seed.
use crate::data::rng::Rng;

/// Seeded epoch-by-epoch shuffling of training positions.
#[derive(Clone, Debug)]
pub struct BatchOrder {
    seed: u64,
    order: Vec<usize>,
    cursor: usize,
    epoch: u64,
}

impl BatchOrder {
    /// A fresh order for a run seeded with `seed` (nothing drawn yet).
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            order: Vec::new(),
            cursor: 0,
            epoch: 0,
        }
    }

    /// The next `min(batch_size, train.len())` positions of `train`, reshuffling `train` each
    /// time an epoch runs out.
    pub fn next_batch(&mut self, train: &[usize], batch_size: usize) -> Vec<usize> {
        let n = batch_size.min(train.len());
        let mut batch = Vec::with_capacity(n);
        while batch.len() < n {
            if self.cursor >= self.order.len() {
                self.order = train.to_vec();
                let mut rng =
                    Rng::derived(self.seed ^ self.epoch.wrapping_mul(0x9E37), "rm-shuffle");
                rng.shuffle(&mut self.order);
                self.epoch += 1;
                self.cursor = 0;
            }
            batch.push(self.order[self.cursor]);
            self.cursor += 1;
        }
        batch
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_epoch_is_a_permutation_and_the_seed_decides_it() {
        let train: Vec<usize> = (10..20).collect();
        let mut a = BatchOrder::new(7);
        let first: Vec<usize> = (0..5).flat_map(|_| a.next_batch(&train, 2)).collect();
        let mut sorted = first.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, train, "one epoch visits every position once");
        let second: Vec<usize> = (0..5).flat_map(|_| a.next_batch(&train, 2)).collect();
        assert_ne!(first, second, "epochs are reshuffled");
        let mut b = BatchOrder::new(7);
        let again: Vec<usize> = (0..5).flat_map(|_| b.next_batch(&train, 2)).collect();
        assert_eq!(first, again, "same seed, same order");
        let mut c = BatchOrder::new(8);
        let other: Vec<usize> = (0..5).flat_map(|_| c.next_batch(&train, 2)).collect();
        assert_ne!(first, other);
        // A batch larger than the set is the whole set.
        assert_eq!(BatchOrder::new(1).next_batch(&train[..3], 8).len(), 3);
    }
}
