//! PPO against a proxy reward model, measured against the world's gold reward: the factorised
//! policy, PPO-max's switches and presets, events, report and curves.
pub mod adam;
pub mod bench;
pub mod bon;
pub mod config;
pub mod curves;
pub mod env;
pub mod event;
pub mod factorised;
pub mod lm;
pub mod lm_agent;
pub mod proxy;
pub mod report;
pub mod rollout;
pub mod rounds;
pub mod runner;
pub mod saved_policy;
pub mod space;

pub use config::PpoConfig;
pub use curves::PpoStep;
pub use event::PpoEvent;
pub use report::PpoReport;
pub use runner::PpoRunner;

impl crate::experiment::kinds::ExperimentKind for PpoConfig {
    type Event = PpoEvent;
    const COMMAND: &'static str = "ppo";
    const LESSONS: &'static str = include_str!("../../../assets/presets/lessons/ppo.json");
    const LINK_KEYS: &'static [(&'static str, &'static str)] = &[
        ("steps", "experiment.steps"),
        ("kl", "experiment.kl_coef"),
        ("lr", "experiment.lr"),
    ];

    fn build(
        run: crate::experiment::Run<Self>,
        compute: crate::compute::Compute,
        upload: Option<&crate::experiment::prepare::Upload>,
        artifacts: &crate::experiment::Artifacts,
    ) -> crate::experiment::kinds::Built {
        let proxy = artifacts.reward_model.as_deref().map(Vec::as_slice);
        let r = PpoRunner::setup(run, compute, upload, proxy)?;
        Ok((Box::new(r), Vec::new()))
    }

    fn is_report(event: &PpoEvent) -> bool {
        matches!(event, PpoEvent::Done { .. })
    }
}
