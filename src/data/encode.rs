//! Text pairs to model inputs: `prompt + response + EOS` id sequences (truncated to a maximum
//! length) and right-padded batches in the reward model's chosen-then-rejected layout.
use crate::data::tokenizer::{TextTokenizer, TokenizerError};

/// Everything that can go wrong turning text into model inputs.
#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    /// The maximum sequence length cannot hold a token and the EOS.
    #[error("max sequence length {max_len} is too small: it must be at least 2 (one token + EOS)")]
    MaxLenTooSmall {
        /// The length that was asked for.
        max_len: usize,
    },
    /// Tokenizing one text of a pair failed.
    #[error("pair {index}: could not tokenize the {side}: {source}")]
    Tokenize {
        /// The pair's input index.
        index: usize,
        /// `"prompt"`, `"chosen"` or `"rejected"`.
        side: &'static str,
        /// What the tokenizer said.
        source: TokenizerError,
    },
}

/// One side of a pair as the reward model reads it: prompt ids + response ids + EOS, at most
/// `max_len` ids.
///
/// Truncation: if too long, tokens are dropped from the LEFT of the prompt first, so the
/// response and EOS survive; if the response alone (+ EOS) is longer than `max_len`, no prompt
/// is kept and the FIRST `max_len - 1` response tokens are, then EOS. The result always ends
/// with EOS. `max_len >= 2` is required.
pub fn encode_sequence(
    prompt_ids: &[u32],
    response_ids: &[u32],
    eos_id: u32,
    max_len: usize,
) -> Result<Vec<u32>, EncodeError> {
    if max_len < 2 {
        return Err(EncodeError::MaxLenTooSmall { max_len });
    }
    let budget = max_len - 1; // room left once the EOS is placed
    let response = &response_ids[..response_ids.len().min(budget)];
    let prompt_room = budget - response.len();
    let prompt = &prompt_ids[prompt_ids.len().saturating_sub(prompt_room)..];
    let mut out = Vec::with_capacity(prompt.len() + response.len() + 1);
    out.extend_from_slice(prompt);
    out.extend_from_slice(response);
    out.push(eos_id);
    Ok(out)
}

/// Both sides of one preference pair, encoded with [`encode_sequence`].
#[derive(Clone, Debug, PartialEq)]
pub struct EncodedPair {
    /// The pair's input index (as given to [`encode_pairs`]).
    pub index: usize,
    /// `prompt + chosen + EOS`, truncated.
    pub chosen: Vec<u32>,
    /// `prompt + rejected + EOS`, truncated.
    pub rejected: Vec<u32>,
    /// Where the response starts in `chosen` (prompt tokens kept before it).
    pub chosen_start: usize,
    /// Where the response starts in `rejected`.
    pub rejected_start: usize,
}

impl EncodedPair {
    /// A pair whose sequences hold no prompt (responses start at 0): benches and tests.
    pub fn without_prompt(index: usize, chosen: Vec<u32>, rejected: Vec<u32>) -> Self {
        Self {
            index,
            chosen,
            rejected,
            chosen_start: 0,
            rejected_start: 0,
        }
    }

    /// The same pair with chosen and rejected swapped (a flipped label).
    pub fn swapped(&self) -> Self {
        Self {
            index: self.index,
            chosen: self.rejected.clone(),
            rejected: self.chosen.clone(),
            chosen_start: self.rejected_start,
            rejected_start: self.chosen_start,
        }
    }
}

/// Prompt tokens [`encode_sequence`] keeps for a response of `response_len` tokens.
pub fn kept_prompt_len(prompt_len: usize, response_len: usize, max_len: usize) -> usize {
    let budget = max_len.saturating_sub(1);
    prompt_len.min(budget - response_len.min(budget))
}

/// Encode many `(index, prompt, chosen, rejected)` pairs, in order. The prompt is tokenized
/// once per pair, cut to its last `max_prompt_len` tokens (the context nearest the response;
/// this also keeps the response's length visible in the EOS position), and shared by both
/// sides. Errors name the pair index and which text failed.
pub fn encode_pairs<'a>(
    tokenizer: &TextTokenizer,
    pairs: impl Iterator<Item = (usize, &'a str, &'a str, &'a str)>,
    max_len: usize,
    max_prompt_len: usize,
) -> Result<Vec<EncodedPair>, EncodeError> {
    if max_len < 2 {
        return Err(EncodeError::MaxLenTooSmall { max_len });
    }
    let eos = tokenizer.eos_id();
    let mut out = Vec::with_capacity(pairs.size_hint().0);
    for (index, prompt, chosen, rejected) in pairs {
        let tokenize = |side: &'static str, text: &str| {
            tokenizer
                .encode(text)
                .map_err(|source| EncodeError::Tokenize {
                    index,
                    side,
                    source,
                })
        };
        let prompt_ids = tokenize("prompt", prompt)?;
        let prompt_ids = &prompt_ids[prompt_ids.len().saturating_sub(max_prompt_len)..];
        let chosen_ids = tokenize("chosen", chosen)?;
        let rejected_ids = tokenize("rejected", rejected)?;
        out.push(EncodedPair {
            index,
            chosen: encode_sequence(prompt_ids, &chosen_ids, eos, max_len)?,
            rejected: encode_sequence(prompt_ids, &rejected_ids, eos, max_len)?,
            chosen_start: kept_prompt_len(prompt_ids.len(), chosen_ids.len(), max_len),
            rejected_start: kept_prompt_len(prompt_ids.len(), rejected_ids.len(), max_len),
        });
    }
    Ok(out)
}

/// A right-padded batch of id sequences, row-major with shape `[rows, seq_len]`.
#[derive(Clone, Debug, PartialEq)]
pub struct PaddedBatch {
    /// `rows * seq_len` ids; row `r` is `ids[r * seq_len..(r + 1) * seq_len]`, its real ids
    /// followed by the pad id.
    pub ids: Vec<u32>,
    /// Real (unpadded) length of each row; at least 1 for sequences from [`encode_sequence`],
    /// whose last real id is the EOS at `lengths[r] - 1`.
    pub lengths: Vec<usize>,
    /// Number of rows.
    pub rows: usize,
    /// Length of the longest row in this batch (not the configured maximum), so short data
    /// runs fast. 0 for an empty batch.
    pub seq_len: usize,
    /// Where each row's response starts (0 when the rows carry no prompt).
    pub starts: Vec<usize>,
}

/// Pad pairs into one batch: rows `[p0.chosen, ..., pn.chosen, p0.rejected, ..., pn.rejected]`
/// (the chosen block, then the rejected block), so the rewards split at `pairs.len()`.
pub fn pad_pairs(pairs: &[&EncodedPair], pad_id: u32) -> PaddedBatch {
    let seqs: Vec<&[u32]> = pairs
        .iter()
        .map(|p| p.chosen.as_slice())
        .chain(pairs.iter().map(|p| p.rejected.as_slice()))
        .collect();
    let mut batch = pad_sequences(&seqs, pad_id);
    batch.starts = pairs
        .iter()
        .map(|p| p.chosen_start)
        .chain(pairs.iter().map(|p| p.rejected_start))
        .collect();
    batch
}

/// Right-pad sequences with `pad_id` to the longest one, in the given order.
pub fn pad_sequences(seqs: &[&[u32]], pad_id: u32) -> PaddedBatch {
    let rows = seqs.len();
    let seq_len = seqs.iter().map(|s| s.len()).max().unwrap_or(0);
    let mut ids = Vec::with_capacity(rows * seq_len);
    let mut lengths = Vec::with_capacity(rows);
    for seq in seqs {
        ids.extend_from_slice(seq);
        ids.resize(ids.len() + (seq_len - seq.len()), pad_id);
        lengths.push(seq.len());
    }
    PaddedBatch {
        ids,
        lengths,
        rows,
        seq_len,
        starts: vec![0; rows],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EOS: u32 = 1;

    #[test]
    fn sequence_that_fits_is_prompt_response_eos() {
        let out = encode_sequence(&[10, 11], &[20, 21, 22], EOS, 6).unwrap();
        assert_eq!(out, vec![10, 11, 20, 21, 22, EOS]);
        let out = encode_sequence(&[10, 11], &[20, 21, 22], EOS, 100).unwrap();
        assert_eq!(out, vec![10, 11, 20, 21, 22, EOS]);
    }

    #[test]
    fn prompt_is_truncated_from_the_left() {
        // 4 + 2 + 1 = 7 ids, max 5: two prompt tokens must go, the oldest ones.
        let out = encode_sequence(&[10, 11, 12, 13], &[20, 21], EOS, 5).unwrap();
        assert_eq!(out, vec![12, 13, 20, 21, EOS]);
        // Room for exactly the response + EOS: no prompt at all.
        let out = encode_sequence(&[10, 11, 12, 13], &[20, 21], EOS, 3).unwrap();
        assert_eq!(out, vec![20, 21, EOS]);
    }

    #[test]
    fn long_response_keeps_its_start_and_no_prompt() {
        let out = encode_sequence(&[10, 11], &[20, 21, 22, 23, 24], EOS, 4).unwrap();
        assert_eq!(out, vec![20, 21, 22, EOS]);
        let out = encode_sequence(&[], &[20, 21, 22], EOS, 2).unwrap();
        assert_eq!(out, vec![20, EOS]);
    }

    #[test]
    fn empty_prompt_and_empty_response() {
        assert_eq!(
            encode_sequence(&[], &[20, 21], EOS, 8).unwrap(),
            vec![20, 21, EOS]
        );
        assert_eq!(
            encode_sequence(&[10, 11], &[], EOS, 8).unwrap(),
            vec![10, 11, EOS]
        );
        assert_eq!(
            encode_sequence(&[10, 11], &[], EOS, 2).unwrap(),
            vec![11, EOS]
        );
        assert_eq!(encode_sequence(&[], &[], EOS, 2).unwrap(), vec![EOS]);
    }

    #[test]
    fn max_len_below_two_is_an_error() {
        for max_len in [0, 1] {
            let err = encode_sequence(&[10], &[20], EOS, max_len).unwrap_err();
            assert!(matches!(err, EncodeError::MaxLenTooSmall { max_len: m } if m == max_len));
        }
        assert!(err_is_max_len(encode_pairs(
            &TextTokenizer::word_level(&["a"]).unwrap(),
            std::iter::empty(),
            1,
            usize::MAX
        )));
    }

    fn err_is_max_len(r: Result<Vec<EncodedPair>, EncodeError>) -> bool {
        matches!(r, Err(EncodeError::MaxLenTooSmall { max_len: 1 }))
    }

    #[test]
    fn always_ends_with_eos_and_respects_max_len() {
        let prompt: Vec<u32> = (100..130).collect();
        let response: Vec<u32> = (200..220).collect();
        for max_len in 2..60 {
            for p in [0, 1, 5, 30] {
                for r in [0, 1, 7, 20] {
                    let out = encode_sequence(&prompt[..p], &response[..r], EOS, max_len).unwrap();
                    assert_eq!(out.last(), Some(&EOS));
                    assert_eq!(out.len(), (p + r + 1).min(max_len));
                    // The response prefix is kept before any prompt token.
                    let kept_r = r.min(max_len - 1);
                    assert_eq!(
                        &out[out.len() - 1 - kept_r..out.len() - 1],
                        &response[..kept_r]
                    );
                }
            }
        }
    }

    #[test]
    fn encode_pairs_shares_the_prompt_and_keeps_indices() {
        let tok = TextTokenizer::word_level(&["q", "yes", "no", "maybe"]).unwrap();
        // q=2 yes=3 no=4 maybe=5
        let pairs = [(7, "q q", "yes", "no maybe"), (9, "", "maybe", "no")];
        let out = encode_pairs(&tok, pairs.iter().copied(), 4, usize::MAX).unwrap();
        assert_eq!(
            out,
            vec![
                EncodedPair {
                    index: 7,
                    chosen: vec![2, 2, 3, 1],
                    rejected: vec![2, 4, 5, 1],
                    chosen_start: 2,
                    rejected_start: 1,
                },
                EncodedPair {
                    index: 9,
                    chosen: vec![5, 1],
                    rejected: vec![4, 1],
                    chosen_start: 0,
                    rejected_start: 0,
                },
            ]
        );
    }

    #[test]
    fn encode_pairs_error_names_the_pair_and_side() {
        let tok = TextTokenizer::word_level(&["q", "yes", "no"]).unwrap();
        let pairs = [(0, "q", "yes", "no"), (41, "q", "yes", "nope")];
        let err = encode_pairs(&tok, pairs.iter().copied(), 16, usize::MAX).unwrap_err();
        assert!(
            matches!(
                &err,
                EncodeError::Tokenize {
                    index: 41,
                    side: "rejected",
                    ..
                }
            ),
            "{err:?}"
        );
        let msg = err.to_string();
        assert!(msg.contains("pair 41") && msg.contains("nope"), "{msg}");
    }

    #[test]
    fn encode_pairs_with_bpe_round_trips_the_text() {
        let texts = [
            "Human: what is two plus two?\n\nAssistant:",
            " Four.",
            " Five!",
        ];
        let tok = TextTokenizer::train_bpe(texts.iter().copied(), 280).unwrap();
        let out = encode_pairs(
            &tok,
            [(3, texts[0], texts[1], texts[2])].into_iter(),
            512,
            usize::MAX,
        )
        .unwrap();
        let pair = &out[0];
        assert_eq!(pair.index, 3);
        assert_eq!(pair.chosen.last(), Some(&tok.eos_id()));
        assert_eq!(
            tok.decode(&pair.chosen).unwrap(),
            format!("{}{}", texts[0], texts[1])
        );
        assert_eq!(
            tok.decode(&pair.rejected).unwrap(),
            format!("{}{}", texts[0], texts[2])
        );
        // Truncated to room for one prompt token: the response survives whole, the prompt
        // keeps only its last token.
        let prompt_ids = tok.encode(texts[0]).unwrap();
        let response_ids = tok.encode(texts[1]).unwrap();
        assert!(prompt_ids.len() > 1);
        let max_len = response_ids.len() + 2;
        let short = encode_pairs(
            &tok,
            [(3, texts[0], texts[1], texts[2])].into_iter(),
            max_len,
            usize::MAX,
        )
        .unwrap();
        let mut expected = vec![prompt_ids[prompt_ids.len() - 1]];
        expected.extend_from_slice(&response_ids);
        expected.push(tok.eos_id());
        assert_eq!(short[0].chosen, expected);
    }

    #[test]
    fn pad_pairs_puts_chosen_block_then_rejected_block() {
        let p0 = EncodedPair {
            chosen_start: 1,
            rejected_start: 0,
            ..EncodedPair::without_prompt(0, vec![5, 6, 1], vec![7, 1])
        };
        let p1 = EncodedPair {
            chosen_start: 0,
            rejected_start: 2,
            ..EncodedPair::without_prompt(1, vec![8, 1], vec![9, 10, 11, 12, 1])
        };
        let batch = pad_pairs(&[&p0, &p1], 0);
        assert_eq!(batch.starts, vec![1, 0, 0, 2]);
        let flipped = p1.swapped();
        assert_eq!(flipped.chosen, p1.rejected);
        assert_eq!((flipped.chosen_start, flipped.rejected_start), (2, 0));
        assert_eq!(batch.rows, 4);
        assert_eq!(batch.seq_len, 5);
        assert_eq!(batch.lengths, vec![3, 2, 2, 5]);
        #[rustfmt::skip]
        let expected = vec![
            5, 6, 1, 0, 0,      // p0.chosen
            8, 1, 0, 0, 0,      // p1.chosen
            7, 1, 0, 0, 0,      // p0.rejected
            9, 10, 11, 12, 1,   // p1.rejected
        ];
        assert_eq!(batch.ids, expected);
    }

    #[test]
    fn pad_sequences_uses_the_pad_id_and_batch_longest_row() {
        let a = [3u32, 1];
        let b = [4u32, 4, 1];
        let batch = pad_sequences(&[&a, &b, &a], 99);
        assert_eq!(batch.seq_len, 3);
        assert_eq!(batch.rows, 3);
        assert_eq!(batch.lengths, vec![2, 3, 2]);
        assert_eq!(batch.ids, vec![3, 1, 99, 4, 4, 1, 3, 1, 99]);
        assert_eq!(batch.ids.len(), batch.rows * batch.seq_len);

        let empty = pad_sequences(&[], 0);
        assert_eq!(
            empty,
            PaddedBatch {
                ids: vec![],
                lengths: vec![],
                rows: 0,
                seq_len: 0,
                starts: vec![],
            }
        );
        assert_eq!(pad_pairs(&[], 0).rows, 0);
    }
}
