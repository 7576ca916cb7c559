//! One MetaRM round on a saved policy, two arms under one seed: the vanilla reward model (the
//! proxy a PPO run of the policy's world trains: on the world's pairs, or on the text track the
//! pairs the gold model relabels), and the MetaRM one — the same config, seed and pairs, plus
//! the meta step on groups sampled from the policy. Both are then measured on the original
//! held-out pairs and on fresh samples of the policy (the shifted distribution).
use std::collections::BTreeMap;
use std::sync::Arc;

use web_time::Instant;

use super::config::MetaRmConfig;
use super::measure::{ShiftMeasures, measure, unit_histogram};
use super::report::{ArmReport, MetaRmReport};
use super::sample::{PolicySamples, draw, meta_set};
use crate::compute::Compute;
use crate::data::rng::Rng;
use crate::experiment::config::{DataSource, Run};
use crate::experiment::error::ExperimentError;
use crate::experiment::events::{Event, Phase};
use crate::experiment::ppo::proxy::Proxy;
use crate::experiment::ppo::saved_policy::SavedPolicy;
use crate::experiment::ppo::{PpoConfig, PpoRunner};
use crate::experiment::prepare::Upload;
use crate::experiment::rm::{RmRunner, TrainPlan};
use crate::experiment::runner::{Progress, Runner, StepFuture, report_value};

/// Bins of the |Δr| histograms.
pub const HIST_BINS: usize = 20;

/// An arm's name and its trained reward model as a model file.
pub type ArmModel = (&'static str, Arc<Vec<u8>>);

/// Where a MetaRM comparison stands.
enum Stage {
    /// The vanilla reward model (and on text the gold model first) trains.
    Vanilla,
    /// The policy is loaded and sampled; the MetaRM arm is set up.
    Sample,
    /// The MetaRM arm trains.
    Meta,
    /// Both arms are measured.
    Measure,
    /// Done.
    Done,
}

/// A MetaRM comparison on a saved policy.
pub struct MetaRmRunner {
    run: Run<MetaRmConfig>,
    compute: Compute,
    base: PpoRunner,
    policy: SavedPolicy,
    meta_prompts: Option<Vec<String>>,
    stage: Stage,
    samples: PolicySamples,
    metarm: Option<RmRunner>,
    report: MetaRmReport,
    started: bool,
    seconds: f64,
}

/// Check that `policy` comes from the world `run` describes.
fn same_world(run: &Run<MetaRmConfig>, policy: &Run<PpoConfig>) -> Result<(), ExperimentError> {
    let other = |why: String| {
        ExperimentError::Config(format!(
            "the policy is of another world: {why}; use the world it was trained in"
        ))
    };
    match (&run.data.source, &policy.data.source) {
        (DataSource::Synthetic(a), DataSource::Synthetic(b)) => {
            if a.seed != b.seed {
                return Err(other(format!(
                    "it acts in the synthetic world of seed {}, this run's world seed is {} (--world-seed {})",
                    b.seed, a.seed, b.seed
                )));
            }
            if (a.min_len, a.max_len) != (b.min_len, b.max_len) {
                return Err(other(format!(
                    "its responses are {}..={} words, this world's {}..={}",
                    b.min_len, b.max_len, a.min_len, a.max_len
                )));
            }
            Ok(())
        }
        (DataSource::Synthetic(_), theirs) | (theirs, DataSource::Synthetic(_)) => {
            Err(other(format!(
                "it was trained on {}, this run's world is {}",
                theirs.label(),
                run.data.source.label()
            )))
        }
        (mine, theirs) if mine != theirs => Err(other(format!(
            "it was trained on {}, this run reads {}",
            theirs.label(),
            mine.label()
        ))),
        _ => Ok(()),
    }
}

impl MetaRmRunner {
    /// Set up the comparison on `policy` (its files), in `run`'s world (which must be the
    /// policy's), with meta groups asked on `meta_prompts` (HH-shaped prompt texts) or, without
    /// them, on the world's own prompts.
    pub fn setup(
        run: Run<MetaRmConfig>,
        compute: Compute,
        upload: Option<&Upload>,
        policy: SavedPolicy,
        meta_prompts: Option<Vec<String>>,
    ) -> Result<Self, ExperimentError> {
        run.experiment.validate().map_err(ExperimentError::Config)?;
        run.data.validate().map_err(ExperimentError::Config)?;
        same_world(&run, &policy.run)?;
        if meta_prompts.as_ref().is_some_and(Vec::is_empty) {
            return Err(ExperimentError::Config(
                "the meta prompt file holds no prompts".into(),
            ));
        }
        // The policy's own PPO run, with this run's data, seed and reward model: it trains the
        // vanilla arm (its proxy) and holds the world and the policy.
        let mut ppo = policy.run.experiment.clone();
        ppo.proxy = run.experiment.rm.clone();
        ppo.bon_trials = 0;
        ppo.critic_init = crate::experiment::ppo::config::CriticInit::Zero;
        let base = PpoRunner::setup(run.with(ppo), compute.clone(), upload, None)?;
        Ok(Self {
            report: MetaRmReport {
                config: run.clone(),
                policy: policy.kind().to_string(),
                ..Default::default()
            },
            run,
            compute,
            base,
            policy,
            meta_prompts,
            stage: Stage::Vanilla,
            samples: PolicySamples::default(),
            metarm: None,
            started: false,
            seconds: 0.0,
        })
    }

    /// The finished runs' reward models as model files: `vanilla` and `metarm`.
    pub fn model_files(&self) -> Result<Vec<ArmModel>, ExperimentError> {
        let mut out = Vec::new();
        if let Some(r) = self.base.proxy_runner() {
            out.push(("vanilla", r.model_file()?));
        }
        if let Some(r) = &self.metarm {
            out.push(("metarm", r.model_file()?));
        }
        Ok(out)
    }

    /// The report so far (complete once finished).
    pub fn report(&self) -> &MetaRmReport {
        &self.report
    }

    fn wrap(stage: usize, name: &str, events: Vec<Event>) -> Vec<Event> {
        events
            .into_iter()
            .filter(|e| !matches!(e, Event::Started { .. } | Event::Finished { .. }))
            .map(|e| Event::Job {
                job: stage,
                jobs: 2,
                phase: Phase::Stage {
                    stage,
                    name: name.into(),
                },
                inner: Box::new(e),
            })
            .collect()
    }

    /// Load the policy, draw its samples and set up the MetaRM arm.
    async fn sample(&mut self) -> Result<Vec<Event>, ExperimentError> {
        let c = self.run.experiment.clone();
        let own = self.base.all_prompts();
        self.base.load_policy(&self.policy)?;
        let prompts = match &self.meta_prompts {
            Some(texts) => self.base.prompts_for(texts)?,
            None => own,
        };
        let mut rng = Rng::derived(self.run.seed, "metarm-samples");
        self.samples = draw(&self.base, &prompts, &c.sampling, c.rm.k, &mut rng).await?;
        let proxy = self.base.proxy().ok_or_else(|| {
            ExperimentError::Config("the vanilla reward model is not trained yet".into())
        })?;
        let set = meta_set(&self.samples.train, c.rm.k, proxy)?;
        let vanilla = self.base.proxy_runner().ok_or_else(|| {
            ExperimentError::Config("the vanilla reward model's run is missing".into())
        })?;
        self.report.data = vanilla.data().label.clone();
        self.report.meta_groups = set.groups.len();
        let plan = TrainPlan {
            meta: Some(Arc::new(set)),
            ..vanilla.plan().clone()
        };
        self.metarm = Some(RmRunner::with_plan(
            vanilla.config().clone(),
            self.compute.clone(),
            vanilla.shared_data(),
            plan,
        )?);
        Ok(vec![Event::Notice {
            message: format!(
                "sampled {} meta groups of {} responses, {} held-out groups and {} pairs from the {} policy",
                self.samples.train.len(),
                c.rm.k,
                self.samples.heldout.len(),
                self.samples.pairs.len(),
                self.policy.kind()
            ),
        }])
    }

    /// Measure both arms and write the report.
    async fn measure(&mut self) -> Result<Vec<Event>, ExperimentError> {
        let base_proxy = self.base.proxy().ok_or_else(|| {
            ExperimentError::Config("the vanilla reward model is not trained yet".into())
        })?;
        let metarm = self.metarm.as_ref().ok_or_else(|| {
            ExperimentError::Config("the MetaRM reward model is not trained yet".into())
        })?;
        let meta_proxy = Proxy::in_space(
            metarm.model().clone(),
            base_proxy.space().clone(),
            base_proxy.config(),
        );
        let heldout = &self.samples.heldout;
        let pairs = &self.samples.pairs;
        let vanilla: ShiftMeasures = measure(base_proxy, heldout, pairs).await?;
        let meta: ShiftMeasures = measure(&meta_proxy, heldout, pairs).await?;
        let mut arms = BTreeMap::new();
        arms.insert(
            "vanilla".to_string(),
            ArmReport::new(self.base.proxy_accuracy(), &vanilla),
        );
        arms.insert(
            "metarm".to_string(),
            ArmReport::new(metarm.report().validation_accuracy, &meta),
        );
        let mut hist = BTreeMap::new();
        for (name, m) in [("vanilla", &vanilla), ("metarm", &meta)] {
            let scale = m.abs_dr.iter().copied().fold(0.0f32, f32::max);
            hist.insert(
                name.to_string(),
                unit_histogram(&m.abs_dr, scale, HIST_BINS),
            );
        }
        self.report.arms = arms;
        self.report.abs_dr_hist = hist;
        self.report.wall_time_s = self.seconds;
        let summary = self.report.summary();
        Ok(vec![Event::Finished {
            wall_time_s: self.seconds,
            summary,
        }])
    }

    async fn step_inner(&mut self) -> Result<Vec<Event>, ExperimentError> {
        let t0 = Instant::now();
        let mut events = Vec::new();
        if !self.started {
            self.started = true;
            events.push(Event::started(&self.compute, self.progress().total));
        }
        match self.stage {
            Stage::Vanilla => {
                let inner = self.base.step().await?;
                events.extend(Self::wrap(0, "vanilla reward model", inner));
                if self.base.proxy().is_some() {
                    self.stage = Stage::Sample;
                }
            }
            Stage::Sample => {
                events.extend(self.sample().await?);
                self.stage = Stage::Meta;
            }
            Stage::Meta => {
                if let Some(r) = &mut self.metarm {
                    let inner = r.step().await?;
                    events.extend(Self::wrap(1, "MetaRM reward model", inner));
                    if r.is_finished() {
                        self.stage = Stage::Measure;
                    }
                }
            }
            Stage::Measure => {
                self.seconds += t0.elapsed().as_secs_f64();
                events.extend(self.measure().await?);
                self.stage = Stage::Done;
                return Ok(events);
            }
            Stage::Done => {}
        }
        self.seconds += t0.elapsed().as_secs_f64();
        Ok(events)
    }
}

impl Runner for MetaRmRunner {
    fn step(&mut self) -> StepFuture<'_> {
        Box::pin(self.step_inner())
    }

    fn is_finished(&self) -> bool {
        matches!(self.stage, Stage::Done)
    }

    /// The vanilla arm's steps (and the gold model's on text), then the MetaRM arm's (as many
    /// as the vanilla arm's until it starts).
    fn progress(&self) -> Progress {
        let (done, total) = self.base.reward_model_progress();
        let vanilla = self.base.proxy_runner().map_or(total, |r| r.total_steps());
        let (meta_done, meta_total) = self
            .metarm
            .as_ref()
            .map_or((0, vanilla), |r| (r.steps_done(), r.total_steps()));
        Progress {
            done: done + meta_done,
            total: total + meta_total,
        }
    }

    fn report_json(&self) -> serde_json::Value {
        report_value(&self.report)
    }
}
