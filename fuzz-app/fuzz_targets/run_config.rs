//! Any text as a run config: parsed (legacy layouts converted), then validated.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rlhf_lab::experiment::RunConfig;

fuzz_target!(|text: &str| {
    if let Ok(parsed) = RunConfig::parse(text) {
        let _ = parsed.config.validate();
    }
});
