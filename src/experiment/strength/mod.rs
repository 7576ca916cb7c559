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

impl crate::experiment::kinds::ExperimentKind for StrengthConfig {
    type Event = StrengthEvent;
    const COMMAND: &'static str = "strength";
    const LESSONS: &'static str = include_str!("../../../assets/presets/lessons/strength.json");
    const LINK_KEYS: &'static [(&'static str, &'static str)] = &[
        ("models", "experiment.models"),
        ("folds", "experiment.cross_fit"),
        ("arch", "experiment.rm.model.arch"),
        ("epochs", "experiment.rm.epochs"),
        ("lr", "experiment.rm.optimizer.lr"),
        ("bands", "experiment.band_retrain"),
        ("band_epochs", "experiment.band_epochs"),
    ];

    fn build(
        run: crate::experiment::Run<Self>,
        compute: crate::compute::Compute,
        upload: Option<&crate::experiment::prepare::Upload>,
        _artifacts: &crate::experiment::Artifacts,
    ) -> crate::experiment::kinds::Built {
        let r = StrengthRunner::setup(run, compute, upload)?;
        let events = vec![StrengthEvent::pairs_of(r.data()).into()];
        Ok((Box::new(r), events))
    }

    fn is_report(event: &StrengthEvent) -> bool {
        matches!(event, StrengthEvent::Done { .. })
    }
}
