//! Reward-model training: config, the step-wise runner and its optimizer step, events, report,
//! scoring with a saved model, and the RM benchmark.
pub mod bench;
pub mod config;
pub mod event;
pub mod fused_adamw;
pub mod meta;
pub mod order;
pub mod report;
pub mod runner;
pub mod score;
pub mod step;

pub use config::RmTrainConfig;
pub use event::RmEvent;
pub use report::RmReport;
pub use runner::{RmRunner, TrainPlan};

impl crate::experiment::kinds::ExperimentKind for RmTrainConfig {
    type Event = RmEvent;
    const COMMAND: &'static str = "train-rm";
    const LESSONS: &'static str = include_str!("../../../assets/presets/lessons/rm.json");
    const LINK_KEYS: &'static [(&'static str, &'static str)] = &[
        ("arch", "experiment.model.arch"),
        ("dim", "experiment.model.d_model"),
        ("layers", "experiment.model.layers"),
        ("epochs", "experiment.epochs"),
        ("steps", "experiment.steps"),
        ("batch", "experiment.batch_size"),
        ("lr", "experiment.optimizer.lr"),
        ("eval", "experiment.eval_every"),
        ("method", "experiment.contrastive.method"),
        ("beta", "experiment.contrastive.beta"),
        ("tau", "experiment.contrastive.tau"),
    ];

    fn build(
        run: crate::experiment::Run<Self>,
        compute: crate::compute::Compute,
        upload: Option<&crate::experiment::prepare::Upload>,
        _artifacts: &crate::experiment::Artifacts,
    ) -> crate::experiment::kinds::Built {
        Ok((Box::new(RmRunner::setup(run, compute, upload)?), Vec::new()))
    }

    fn is_report(event: &RmEvent) -> bool {
        matches!(event, RmEvent::Done { .. })
    }
}
