//! Preference strength ([P2] §2.2–2.3): config, the ensemble runner, events, report, and the
//! strength table's CSV and TRL export.
pub mod bench;
pub mod config;
pub mod event;
pub mod io;
pub mod report;
pub mod runner;
pub mod stacked;

pub use config::StrengthConfig;
pub use event::{PairView, StrengthEvent};
pub use report::{BandResult, StrengthReport, StrengthTable};
pub use runner::StrengthRunner;
