//! A mutation fuzzer for the inputs that `cargo fuzz` does not reach cheaply: run configs (the
//! CLI's `--config`, the browser's `?config=`, saved runs) and model files. Those parsers live in
//! the crate with burn, wgpu and egui, which a coverage-instrumented nightly build would have to
//! rebuild; this runs on the ordinary build instead, without coverage guidance: it mutates seed
//! files (byte flips, truncation, insertions, splices, JSON-aware value swaps) and feeds each
//! result to the parser (and, for model files, the weight loader), catching panics.
//!
//! `cargo run --example mutate_inputs -- config|model SECONDS OUT_DIR SEED...`: prints the
//! number of inputs tried, how many parsed, and writes any input that panicked to OUT_DIR;
//! `… -- replay config|model FILE...` runs saved inputs and shows each panic.
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use rlhf_lab::compute::Compute;
use rlhf_lab::data::rng::Rng;
use rlhf_lab::experiment::RunConfig;
use rlhf_lab::model::saved::SavedRewardModel;

/// Values a JSON-aware mutation puts in place of a number, string or literal.
const REPLACEMENTS: &[&str] = &[
    "0",
    "-1",
    "1e308",
    "-1e308",
    "1e999",
    "\"NaN\"",
    "null",
    "[]",
    "{}",
    "\"\"",
    "true",
    "4294967296",
    "18446744073709551616",
    "0.0000001",
    "[[[[[]]]]]",
    "\"\\ud800\"",
];

fn mutate(seed: &[u8], other: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut bytes = seed.to_vec();
    for _ in 0..=rng.below(4) {
        let len = bytes.len().max(1);
        match rng.below(7) {
            0 if !bytes.is_empty() => {
                let i = rng.below(bytes.len());
                bytes[i] ^= 1 << rng.below(8);
            }
            1 => bytes.truncate(rng.below(len)),
            2 => {
                let i = rng.below(len).min(bytes.len());
                bytes.insert(i, rng.below(256) as u8);
            }
            3 if !other.is_empty() => {
                let cut = rng.below(len).min(bytes.len());
                let from = rng.below(other.len());
                bytes.truncate(cut);
                bytes.extend_from_slice(&other[from..]);
            }
            4 | 5 => {
                // Replace the token after a ':' with an absurd value.
                let colons: Vec<usize> = bytes
                    .iter()
                    .enumerate()
                    .filter(|(_, b)| **b == b':')
                    .map(|(i, _)| i)
                    .collect();
                if colons.is_empty() {
                    continue;
                }
                let at = colons[rng.below(colons.len())] + 1;
                let end = bytes[at..]
                    .iter()
                    .position(|b| matches!(b, b',' | b'}' | b']'))
                    .map_or(bytes.len(), |p| at + p);
                let value = REPLACEMENTS[rng.below(REPLACEMENTS.len())].as_bytes();
                bytes.splice(at..end, value.iter().copied());
            }
            _ if !bytes.is_empty() => {
                // Repeat a slice (duplicate keys, deep nesting, long runs).
                let i = rng.below(bytes.len());
                let j = (i + 1 + rng.below(64)).min(bytes.len());
                let piece = bytes[i..j].to_vec();
                bytes.splice(i..i, piece);
            }
            _ => {}
        }
    }
    bytes
}

/// Feeds one input to the parser of `target`; true when it was accepted.
fn run(target: &str, input: &[u8], device: &burn::tensor::Device) -> bool {
    match target {
        "config" => std::str::from_utf8(input)
            .ok()
            .and_then(|text| RunConfig::parse(text).ok())
            .is_some_and(|parsed| parsed.config.validate().is_ok()),
        _ => SavedRewardModel::from_bytes(input)
            .ok()
            .is_some_and(|saved| saved.load(device).is_ok()),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [mode, target, files @ ..] = args.as_slice()
        && mode == "replay"
    {
        // One input per file, the panic (if any) printed with its place.
        let device = Compute::cpu().device.clone();
        for file in files {
            let input = std::fs::read(file).unwrap_or_default();
            println!("{file}:");
            let _ = catch_unwind(AssertUnwindSafe(|| run(target, &input, &device)));
        }
        return;
    }
    let [target, seconds, out, seeds @ ..] = args.as_slice() else {
        eprintln!("usage: mutate_inputs config|model SECONDS OUT_DIR SEED...");
        std::process::exit(2);
    };
    let seconds: u64 = seconds.parse().unwrap_or(60);
    let out = PathBuf::from(out);
    let _ = std::fs::create_dir_all(&out);
    let seeds: Vec<Vec<u8>> = seeds.iter().filter_map(|p| std::fs::read(p).ok()).collect();
    if seeds.is_empty() {
        eprintln!("no readable seed files");
        std::process::exit(2);
    }
    std::panic::set_hook(Box::new(|_| {}));
    let device = Compute::cpu().device.clone();
    let mut rng = Rng::derived(0, target);
    let (mut tried, mut accepted, mut panics) = (0u64, 0u64, 0u64);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while Instant::now() < deadline {
        let seed = &seeds[rng.below(seeds.len())];
        let other = &seeds[rng.below(seeds.len())];
        let input = mutate(seed, other, &mut rng);
        let result = catch_unwind(AssertUnwindSafe(|| run(target, &input, &device)));
        tried += 1;
        match result {
            Ok(true) => accepted += 1,
            Ok(false) => {}
            Err(_) => {
                panics += 1;
                let _ = std::fs::write(out.join(format!("panic-{tried}")), &input);
            }
        }
    }
    println!(
        "{target}: {tried} inputs in {seconds} s, {accepted} accepted, {panics} panicked (written to {})",
        out.display()
    );
}
