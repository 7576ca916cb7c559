//! What a denoising comparison reports besides the lifecycle.
use serde::{Deserialize, Serialize};

use super::report::{DenoiseReport, MethodRun};

/// Denoising events.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "denoise", rename_all = "snake_case")]
pub enum DenoiseEvent {
    /// A method run finished.
    MethodDone {
        /// Its result.
        run: MethodRun,
    },
    /// The comparison's report.
    Done {
        /// Everything it found.
        report: Box<DenoiseReport>,
    },
}
