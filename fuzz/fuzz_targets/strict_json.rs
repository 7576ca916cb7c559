//! The duplicate-key-refusing JSON reader agrees with serde_json wherever serde_json succeeds
//! and no object repeats a key.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rlhf_lab_fuzz::data::strict_json::from_slice;

fuzz_target!(|bytes: &[u8]| {
    let strict = from_slice(bytes);
    let loose = serde_json::from_slice::<serde_json::Value>(bytes);
    if let Ok(value) = &strict {
        assert_eq!(Some(value), loose.as_ref().ok());
    }
    if loose.is_err() {
        assert!(strict.is_err());
    }
});
