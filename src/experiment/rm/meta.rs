//! MetaRM's meta set as a reward-model run reads it: groups of k responses to one prompt each,
//! sampled from a policy and encoded the way the reward model reads a pair's side
//! (`prompt + response + EOS`), and the seeded order its minibatches of groups are drawn in.
use crate::data::encode::{PaddedBatch, pad_sequences};

/// One prompt's k responses, encoded.
#[derive(Clone, Debug, PartialEq)]
pub struct MetaGroup {
    /// Which prompt (an index into the policy's prompts; for reports and views).
    pub prompt: usize,
    /// `prompt + response + EOS` ids of each response.
    pub sequences: Vec<Vec<u32>>,
    /// Where each response starts in its sequence.
    pub starts: Vec<usize>,
}

/// Groups of `k` responses per prompt (the meta dataset S of Algorithm 1).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MetaSet {
    /// Responses per group.
    pub k: usize,
    /// The groups.
    pub groups: Vec<MetaGroup>,
}

impl MetaSet {
    /// Check that every group holds `k ≥ 2` responses, each with a start inside it.
    pub fn check(&self) -> Result<(), String> {
        if self.k < 2 {
            return Err(format!(
                "meta set: k = {}: the difference loss compares responses, so each group needs at least 2",
                self.k
            ));
        }
        if self.groups.is_empty() {
            return Err("meta set: no groups; sample some from a policy first".into());
        }
        for (i, g) in self.groups.iter().enumerate() {
            if g.sequences.len() != self.k || g.starts.len() != self.k {
                return Err(format!(
                    "meta set: group {i} holds {} responses, not k = {}",
                    g.sequences.len(),
                    self.k
                ));
            }
            if g.sequences.iter().any(Vec::is_empty) {
                return Err(format!("meta set: group {i} has an empty sequence"));
            }
        }
        Ok(())
    }

    /// The groups at `indices` as one padded batch, group by group: rows `g·k .. (g + 1)·k`
    /// are group `indices[g]`'s responses (the `[groups, k]` layout of the difference loss).
    pub fn batch(&self, indices: &[usize], pad: u32) -> PaddedBatch {
        let groups: Vec<&MetaGroup> = indices.iter().filter_map(|&i| self.groups.get(i)).collect();
        let seqs: Vec<&[u32]> = groups
            .iter()
            .flat_map(|g| g.sequences.iter().map(Vec::as_slice))
            .collect();
        let mut batch = pad_sequences(&seqs, pad);
        batch.starts = groups
            .iter()
            .flat_map(|g| g.starts.iter().copied())
            .collect();
        batch
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_lays_groups_out_row_by_row_with_their_starts() {
        let set = MetaSet {
            k: 2,
            groups: vec![
                MetaGroup {
                    prompt: 0,
                    sequences: vec![vec![5, 6, 1], vec![5, 1]],
                    starts: vec![1, 1],
                },
                MetaGroup {
                    prompt: 3,
                    sequences: vec![vec![7, 8, 9, 1], vec![7, 2, 1]],
                    starts: vec![1, 1],
                },
            ],
        };
        set.check().unwrap();
        let b = set.batch(&[1, 0], 0);
        assert_eq!((b.rows, b.seq_len), (4, 4));
        assert_eq!(&b.ids[..8], &[7, 8, 9, 1, 7, 2, 1, 0]);
        assert_eq!(b.lengths, vec![4, 3, 3, 2]);
        assert_eq!(b.starts, vec![1, 1, 1, 1]);
        let bad = MetaSet {
            k: 3,
            ..set.clone()
        };
        assert!(bad.check().unwrap_err().contains("not k = 3"));
        let one = MetaSet { k: 1, ..set };
        assert!(one.check().unwrap_err().contains("at least 2"));
    }
}
