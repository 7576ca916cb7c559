//! Any bytes through the prompt-set loader.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rlhf_lab_fuzz::data::load::LoadOptions;
use rlhf_lab_fuzz::data::prompts::load_prompts;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(set) = load_prompts("p.jsonl", bytes, &LoadOptions::default()) {
        assert!(!set.prompts.is_empty());
    }
});
