//! Denoising methods compared ([P2] §2.4–2.5): config, the comparison runner, events, report.
pub mod config;
pub mod event;
pub mod report;
pub mod runner;

pub use config::{DenoiseConfig, Method, TrainSubset};
pub use event::DenoiseEvent;
pub use report::{DenoiseReport, MethodRun, MethodSummary, runs_csv};
pub use runner::DenoiseRunner;

impl crate::experiment::kinds::ExperimentKind for DenoiseConfig {
    type Event = DenoiseEvent;
    const COMMAND: &'static str = "denoise";
    const LESSONS: &'static str = include_str!("../../../assets/presets/lessons/denoise.json");
    const LINK_KEYS: &'static [(&'static str, &'static str)] = &[
        ("methods", "experiment.methods"),
        ("seeds", "experiment.seeds"),
        ("models", "experiment.strength.models"),
        ("arch", "experiment.rm.model.arch"),
        ("epochs", "experiment.rm.epochs"),
        ("alpha", "experiment.smoothing"),
        ("margin", "experiment.margin_scale"),
        ("flip_fraction", "experiment.flip.fraction"),
        ("top", "experiment.subset.fraction"),
    ];

    fn build(
        run: crate::experiment::Run<Self>,
        compute: crate::compute::Compute,
        upload: Option<&crate::experiment::prepare::Upload>,
        artifacts: &crate::experiment::Artifacts,
    ) -> crate::experiment::kinds::Built {
        let r = DenoiseRunner::setup(run, compute, upload, artifacts.strength.as_ref())?;
        let events = vec![crate::experiment::StrengthEvent::pairs_of(r.data()).into()];
        Ok((Box::new(r), events))
    }

    fn is_report(event: &DenoiseEvent) -> bool {
        matches!(event, DenoiseEvent::Done { .. })
    }
}
