//! Seeded weight initialisation, the same on every backend: weights are drawn on the CPU from a
//! seeded generator, every parameter in declaration order, and then moved to the target device.
use std::sync::Mutex;

use burn::{
    module::{Module, ModuleVisitor, Param},
    tensor::{Device, Tensor},
};

/// burn-flex keeps one global random generator; holding this while seeding and drawing weights
/// keeps concurrent runs in one process from interleaving their draws.
static INIT_LOCK: Mutex<()> = Mutex::new(());

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
    let _guard = INIT_LOCK
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
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
