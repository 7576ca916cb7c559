//! Any bytes, under a few names (JSONL, CSV, Parquet, compressed), through the pair loader in
//! strict and skipping mode, with the rated pairing rules: an error is fine, a panic is not.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rlhf_lab_fuzz::data::formats::{Pairing, ParseOptions};
use rlhf_lab_fuzz::data::load::{LoadOptions, load_bytes};

fuzz_target!(|input: &[u8]| {
    let Some((&selector, bytes)) = input.split_first() else {
        return;
    };
    let name = ["f.jsonl", "f.csv", "f.parquet", "f.json.gz"][usize::from(selector & 3)];
    let options = LoadOptions {
        skip_bad_lines: selector & 4 != 0,
        max_line_bytes: 1 << 16,
        parse: ParseOptions {
            pairing: if selector & 8 != 0 {
                Pairing::AllPairs
            } else {
                Pairing::BestVsRandom
            },
            min_rating_gap: f64::from(selector >> 4),
            ..ParseOptions::default()
        },
        min_score_gap: f64::from(selector >> 6),
    };
    if let Ok(report) = load_bytes(name, bytes, &options) {
        assert!(!report.pairs.is_empty());
        assert!(report.pairs.windows(2).all(|w| w[0].index < w[1].index));
    }
});
