//! Seeded weight initialisation, the same on every backend: weights are drawn on the CPU from a
//! seeded generator, every parameter in declaration order, and then moved to the target device.
use std::sync::{Mutex, MutexGuard};

use burn::{
    module::{Module, ModuleVisitor, Param},
    tensor::{Device, Tensor},
};

/// burn keeps one random generator per device (burn-flex one per process); holding this while
/// seeding and drawing keeps concurrent runs in one process from interleaving their draws.
static GENERATOR_LOCK: Mutex<()> = Mutex::new(());

/// Exclusive use of the devices' random generators: hold it from seeding a device until the
/// draws that must follow that seed are made (weight init, one training step's dropout masks).
pub fn generator_lock() -> MutexGuard<'static, ()> {
    GENERATOR_LOCK
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The seed of step `step`'s random draws (dropout masks) in a run seeded with `seed`: every
/// step has its own, so a run's draws do not depend on what else runs in the process.
pub fn step_seed(seed: u64, step: usize) -> u64 {
    (seed ^ 0x5DEE_CE66_D1CE_4E5B)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(step as u64)
        .rotate_left(17)
}

/// Reads every float parameter once. burn initialises parameters lazily, on first use; reading
/// them here fixes the order of the draws to the order the fields are declared in, whatever a
/// later forward pass or accessor touches first.
struct Materialise;

impl ModuleVisitor for Materialise {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let _ = param.val();
    }
}

/// Build a module with `build` on a CPU device seeded with `seed`, draw all of its weights
/// there, and move it to `device` (in training mode when `device` records gradients).
pub fn seeded<M: Module>(seed: u64, device: &Device, build: impl FnOnce(&Device) -> M) -> M {
    let _guard = generator_lock();
    let cpu = Device::flex();
    cpu.seed(seed);
    let module = build(&cpu);
    module.visit(&mut Materialise);
    let module = module.to_device(device);
    if device.is_autodiff() {
        module.train()
    } else {
        module
    }
}
