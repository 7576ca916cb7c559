//! Any bytes as a model file: the header parsed and checked, then the weights loaded on the CPU.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rlhf_lab::compute::Compute;
use rlhf_lab::model::saved::SavedRewardModel;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(saved) = SavedRewardModel::from_bytes(bytes) {
        let _ = saved.load(&Compute::cpu().device);
    }
});
