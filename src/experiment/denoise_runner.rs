//! Denoising methods compared ([P2] §2.4–2.5, Figs 5–8): an ensemble gives μ for every
//! training pair, then baseline and each method train for several seeds on the same split and
//! are scored on validation (against gold for the synthetic world, held-out labels otherwise).
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::config::RmTrainConfig;
use super::error::ExperimentError;
use super::events::Event;
use super::jobs::{Job, JobQueue};
use super::prepare::{PreparedData, Upload, prepare};
use super::rm_runner::TrainPlan;
use super::strength_io::{StrengthRow, mu_by_position};
use super::strength_runner::{StrengthConfig, StrengthRunner};
use crate::compute::Compute;
use crate::rm::denoise::{DenoiseSpec, FlipRule, PairTarget, SmoothScope};

/// A reward-model training method.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Plain Bradley–Terry.
    Baseline,
    /// Flip the low-strength pairs.
    Flip,
    /// Label smoothing.
    Smooth,
    /// Adaptive margin on all pairs.
    Margin,
    /// Flip + margin.
    FlipMargin,
    /// Smoothing (on μ < 0 by default) + margin on all pairs.
    SmoothMargin,
    /// Flip exactly the pairs known to be mislabeled (needs ground truth): the ceiling.
    Oracle,
}

impl Method {
    /// Every method, in the order of the paper's figures.
    pub const ALL: [Method; 7] = [
        Method::Baseline,
        Method::Flip,
        Method::Smooth,
        Method::Margin,
        Method::FlipMargin,
        Method::SmoothMargin,
        Method::Oracle,
    ];

    /// Its CLI name.
    pub fn name(self) -> &'static str {
        match self {
            Method::Baseline => "baseline",
            Method::Flip => "flip",
            Method::Smooth => "smooth",
            Method::Margin => "margin",
            Method::FlipMargin => "flip+margin",
            Method::SmoothMargin => "smooth+margin",
            Method::Oracle => "oracle",
        }
    }

    /// Parse a comma-separated list (`baseline,flip,flip+margin`).
    pub fn parse_list(arg: &str) -> Result<Vec<Method>, String> {
        arg.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                Method::ALL
                    .into_iter()
                    .find(|m| m.name() == s)
                    .ok_or_else(|| {
                        format!(
                            "unknown method '{s}': use {}",
                            Method::ALL.map(Method::name).join(", ")
                        )
                    })
            })
            .collect()
    }
}

/// Which training pairs the methods train on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "subset", rename_all = "snake_case")]
pub enum TrainSubset {
    /// All training pairs.
    #[default]
    All,
    /// Only the strongest `fraction` by μ (the top-band overfit experiment, Fig 6).
    Top {
        /// Fraction in (0, 1].
        fraction: f64,
    },
}

/// A method comparison: the config of `denoise` and of the app's Denoising panel.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DenoiseConfig {
    /// The ensemble that measures μ (band retraining is skipped here).
    pub strength: StrengthConfig,
    /// Training of every method run (seeds are `seed + s`).
    pub rm: RmTrainConfig,
    /// Methods to compare.
    pub methods: Vec<Method>,
    /// Seeds per method (≥ 1; report figures with ≥ 3).
    pub seeds: usize,
    /// The flip rule of Flip and Flip+Margin.
    pub flip: FlipRule,
    /// Label-smoothing α of Smooth and Smooth+Margin.
    pub smoothing: f64,
    /// Where smoothing applies.
    pub smoothing_scope: SmoothScope,
    /// Margin scale λ of the margin methods.
    pub margin_scale: f64,
    /// Use max(μ, 0) as the margin.
    pub margin_clamp: bool,
    /// Which training pairs the methods see.
    pub subset: TrainSubset,
}

impl Default for DenoiseConfig {
    fn default() -> Self {
        let strength = StrengthConfig {
            band_retrain: false,
            ..StrengthConfig::default()
        };
        Self {
            rm: RmTrainConfig {
                eval_every: 50,
                ..strength.rm.clone()
            },
            strength,
            // Every method but the oracle, which needs ground truth.
            methods: Method::ALL
                .into_iter()
                .filter(|m| *m != Method::Oracle)
                .collect(),
            seeds: 3,
            flip: FlipRule::Bottom { fraction: 0.2 },
            smoothing: 0.9,
            smoothing_scope: SmoothScope::MuNegative,
            margin_scale: 1.0,
            margin_clamp: false,
            subset: TrainSubset::All,
        }
    }
}

impl DenoiseConfig {
    /// The recipe of one method.
    pub fn spec(&self, method: Method) -> DenoiseSpec {
        let margin = DenoiseSpec {
            margin_scale: self.margin_scale,
            margin_clamp: self.margin_clamp,
            ..Default::default()
        };
        let smooth = DenoiseSpec {
            smoothing: self.smoothing,
            smoothing_scope: self.smoothing_scope,
            ..Default::default()
        };
        match method {
            Method::Baseline | Method::Oracle => DenoiseSpec::default(),
            Method::Flip => DenoiseSpec {
                flip: self.flip,
                ..Default::default()
            },
            Method::Smooth => smooth,
            Method::Margin => margin,
            Method::FlipMargin => DenoiseSpec {
                flip: self.flip,
                ..margin
            },
            Method::SmoothMargin => DenoiseSpec {
                smoothing: self.smoothing,
                smoothing_scope: self.smoothing_scope,
                ..margin
            },
        }
    }

    /// Check everything a user can set.
    pub fn validate(&self) -> Result<(), String> {
        self.strength.validate()?;
        self.rm.validate()?;
        if self.methods.is_empty() {
            return Err("methods is empty: name at least one, e.g. baseline,flip".into());
        }
        if self.seeds == 0 {
            return Err("seeds = 0: train each method at least once (3 for figures)".into());
        }
        if let TrainSubset::Top { fraction } = self.subset
            && !(fraction > 0.0 && fraction <= 1.0)
        {
            return Err(format!("subset fraction = {fraction}: must be in (0, 1]"));
        }
        for m in &self.methods {
            self.spec(*m).validate()?;
        }
        Ok(())
    }
}

/// One trained method run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MethodRun {
    /// The method.
    pub method: Method,
    /// Seed offset (0-based).
    pub seed: usize,
    /// Final validation accuracy.
    pub validation_accuracy: f32,
    /// Loss over its training pairs at the end (with its own targets).
    pub train_loss: Option<f32>,
    /// Validation accuracy over steps.
    pub curve: Vec<(usize, f32)>,
}

/// Mean and spread of one method over seeds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MethodSummary {
    /// The method.
    pub method: Method,
    /// Mean validation accuracy over seeds.
    pub mean_accuracy: f32,
    /// Population std over seeds.
    pub std_accuracy: f32,
    /// Mean final training-set loss.
    pub mean_train_loss: Option<f32>,
    /// Seeds run.
    pub seeds: usize,
}

/// What `denoise` writes (`report.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DenoiseReport {
    /// The exact config.
    pub config: DenoiseConfig,
    /// Data label.
    pub data: String,
    /// `gold` (synthetic world) or `labels` (held-out labels).
    pub validation_target: String,
    /// Fraction of training pairs with μ < 0 (`None` when no method needed μ).
    pub frac_mu_negative: Option<f32>,
    /// Pairs each method trained on.
    pub train_pairs: usize,
    /// Every run.
    pub runs: Vec<MethodRun>,
    /// Per method, in config order.
    pub summary: Vec<MethodSummary>,
}

enum Stage {
    Strength(Box<StrengthRunner>),
    Methods(Box<JobQueue>),
    Done,
}

/// The step-wise comparison runner.
pub struct DenoiseRunner {
    config: DenoiseConfig,
    compute: Compute,
    data: Arc<PreparedData>,
    stage: Stage,
    mu: Vec<f32>,
    job_method: Vec<(Method, usize)>,
    runs: Vec<MethodRun>,
    train_pairs: usize,
    finished: bool,
}

impl DenoiseRunner {
    /// Load the data and set up. `strength` (the rows of a `strength.csv` and its name, matched
    /// to the pairs by input index) skips the ensemble when given.
    pub fn setup(
        config: DenoiseConfig,
        compute: Compute,
        upload: Option<&Upload>,
        strength: Option<(&[StrengthRow], &str)>,
    ) -> Result<Self, ExperimentError> {
        config.validate().map_err(ExperimentError::Config)?;
        // Both models read the same encoded pairs: encode for the shorter of the two, so a
        // transformer never sees positions beyond its table.
        let max_len = config
            .strength
            .rm
            .model
            .max_len
            .min(config.rm.model.max_len);
        let data = prepare(
            &config.strength.rm.data,
            max_len,
            config.strength.rm.seed,
            upload,
        )?;
        let mu = strength
            .map(|(rows, source)| mu_by_position(&data.pairs, rows, source))
            .transpose()
            .map_err(ExperimentError::Config)?;
        Self::new(config, compute, Arc::new(data), mu)
    }

    /// Set up on prepared data.
    pub fn new(
        config: DenoiseConfig,
        compute: Compute,
        data: Arc<PreparedData>,
        mu: Option<Vec<f32>>,
    ) -> Result<Self, ExperimentError> {
        config.validate().map_err(ExperimentError::Config)?;
        if config.methods.contains(&Method::Oracle) && data.mislabeled.is_none() {
            return Err(ExperimentError::Config(
                "the oracle method needs ground truth (the synthetic world, --truth-field or --inject-flip-rate)".into(),
            ));
        }
        let needs_mu = config
            .methods
            .iter()
            .any(|m| config.spec(*m).needs_strength())
            || config.subset != TrainSubset::All;
        let mut runner = Self {
            stage: Stage::Done,
            mu: Vec::new(),
            job_method: Vec::new(),
            runs: Vec::new(),
            train_pairs: 0,
            finished: false,
            config,
            compute,
            data,
        };
        match mu {
            Some(mu) => {
                if mu.len() != runner.data.pairs.len() {
                    return Err(ExperimentError::Config(format!(
                        "{} strength values for {} pairs: the strength run used other data",
                        mu.len(),
                        runner.data.pairs.len()
                    )));
                }
                runner.mu = mu;
                runner.start_methods()?;
            }
            None if needs_mu => {
                let strength = StrengthConfig {
                    band_retrain: false,
                    ..runner.config.strength.clone()
                };
                runner.stage = Stage::Strength(Box::new(StrengthRunner::new(
                    strength,
                    runner.compute.clone(),
                    Arc::clone(&runner.data),
                )?));
            }
            None => runner.start_methods()?,
        }
        Ok(runner)
    }

    /// The config.
    pub fn config(&self) -> &DenoiseConfig {
        &self.config
    }

    /// The prepared data.
    pub fn data(&self) -> &Arc<PreparedData> {
        &self.data
    }

    /// μ per prepared position (empty until the ensemble is done).
    pub fn mu(&self) -> &[f32] {
        &self.mu
    }

    /// Runs finished so far.
    pub fn runs(&self) -> &[MethodRun] {
        &self.runs
    }

    /// True when all runs are done.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// Training positions the methods use.
    fn train_positions(&self) -> Vec<usize> {
        let train = &self.data.split.train;
        match self.config.subset {
            TrainSubset::All => train.clone(),
            TrainSubset::Top { fraction } => {
                let mut order = train.clone();
                order.sort_by(|&a, &b| self.mu[b].total_cmp(&self.mu[a]).then(a.cmp(&b)));
                let k = ((train.len() as f64 * fraction).round() as usize).clamp(1, train.len());
                order.truncate(k);
                order.sort_unstable();
                order
            }
        }
    }

    fn targets(&self, method: Method, train: &[usize]) -> Result<Vec<PairTarget>, ExperimentError> {
        let n = self.data.pairs.len();
        let mut targets = vec![PairTarget::default(); n];
        if method == Method::Oracle {
            let truth = self.data.mislabeled.as_ref().ok_or_else(|| {
                ExperimentError::Config("the oracle method needs ground truth".into())
            })?;
            for &p in train {
                targets[p].flip = truth[p];
            }
            return Ok(targets);
        }
        let spec = self.config.spec(method);
        if spec == DenoiseSpec::default() {
            return Ok(targets);
        }
        // Recipes that do not read μ (smoothing every pair) run without an ensemble.
        let mu: Vec<f32> = if spec.needs_strength() {
            train.iter().map(|&p| self.mu[p]).collect()
        } else {
            vec![0.0; train.len()]
        };
        let names: Vec<usize> = train.iter().map(|&p| self.data.pairs[p].index).collect();
        let per_pair = spec
            .targets(&mu, &names)
            .map_err(|e| ExperimentError::Config(format!("{}: {e}", method.name())))?;
        for (&p, t) in train.iter().zip(per_pair) {
            targets[p] = t;
        }
        Ok(targets)
    }

    fn start_methods(&mut self) -> Result<(), ExperimentError> {
        let train = self.train_positions();
        self.train_pairs = train.len();
        let mut jobs = Vec::new();
        for &method in &self.config.methods {
            let targets = self.targets(method, &train)?;
            for s in 0..self.config.seeds {
                jobs.push(Job {
                    label: format!("{} · seed {}", method.name(), s + 1),
                    config: RmTrainConfig {
                        // Apart from the ensemble's member seeds (seed + 1 + 1000·m + k), so no
                        // method run reproduces a model that measured μ.
                        seed: self.config.rm.seed.wrapping_add(0x5EED_0000 + s as u64),
                        ..self.config.rm.clone()
                    },
                    plan: TrainPlan {
                        train: train.clone(),
                        validation: self.data.split.validation.clone(),
                        targets: targets.clone(),
                        measure_features: false,
                    },
                });
                self.job_method.push((method, s));
            }
        }
        self.stage = Stage::Methods(Box::new(JobQueue::new(
            self.compute.clone(),
            Arc::clone(&self.data),
            jobs,
        )));
        Ok(())
    }

    /// One step of the current run.
    pub async fn step(&mut self) -> Result<Vec<Event>, ExperimentError> {
        let mut events = Vec::new();
        match &mut self.stage {
            Stage::Done => {}
            Stage::Strength(runner) => {
                // The ensemble is a phase of this run: its own end is not the run's end.
                events = runner.step().await?;
                events.retain(|e| !matches!(e, Event::StrengthDone { .. }));
                if runner.is_finished() {
                    let mu = runner.strength().map(|s| s.mu.clone()).ok_or_else(|| {
                        ExperimentError::Config("the ensemble gave no strength".into())
                    })?;
                    self.mu = mu;
                    self.start_methods()?;
                }
            }
            Stage::Methods(queue) => {
                let (ev, finished) = queue.step().await?;
                events = ev;
                let all_done = queue.is_finished();
                if let Some(done) = finished {
                    let (method, seed) = self.job_method[done.job];
                    let report = done.runner.report();
                    let run = MethodRun {
                        method,
                        seed,
                        validation_accuracy: report.validation_accuracy.unwrap_or(f32::NAN),
                        train_loss: report.train_set_loss,
                        curve: report.validation_curve,
                    };
                    self.runs.push(run.clone());
                    events.push(Event::MethodDone { run });
                }
                if all_done {
                    self.stage = Stage::Done;
                    self.finished = true;
                    events.push(Event::DenoiseDone {
                        report: Box::new(self.report()),
                    });
                }
            }
        }
        Ok(events)
    }

    /// The comparison so far.
    pub fn report(&self) -> DenoiseReport {
        let train = &self.data.split.train;
        let neg = (!self.mu.is_empty()).then(|| {
            train.iter().filter(|&&p| self.mu[p] < 0.0).count() as f32 / train.len().max(1) as f32
        });
        let summary = self
            .config
            .methods
            .iter()
            .filter_map(|&method| {
                let runs: Vec<&MethodRun> =
                    self.runs.iter().filter(|r| r.method == method).collect();
                if runs.is_empty() {
                    return None;
                }
                let n = runs.len() as f32;
                let mean = runs.iter().map(|r| r.validation_accuracy).sum::<f32>() / n;
                let var = runs
                    .iter()
                    .map(|r| (r.validation_accuracy - mean).powi(2))
                    .sum::<f32>()
                    / n;
                let losses: Vec<f32> = runs.iter().filter_map(|r| r.train_loss).collect();
                Some(MethodSummary {
                    method,
                    mean_accuracy: mean,
                    std_accuracy: var.sqrt(),
                    mean_train_loss: (!losses.is_empty())
                        .then(|| losses.iter().sum::<f32>() / losses.len() as f32),
                    seeds: runs.len(),
                })
            })
            .collect();
        let gold = self.data.has_gold();
        DenoiseReport {
            config: self.config.clone(),
            data: self.data.label.clone(),
            validation_target: if gold { "gold" } else { "labels" }.into(),
            frac_mu_negative: neg,
            train_pairs: self.train_pairs,
            runs: self.runs.clone(),
            summary,
        }
    }
}

/// `denoise.csv`: one row per method and seed.
pub fn runs_csv(report: &DenoiseReport) -> String {
    let mut out = String::from("method,seed,validation_accuracy,train_loss\n");
    for r in &report.runs {
        out.push_str(&format!(
            "{},{},{},{}\n",
            r.method.name(),
            r.seed,
            r.validation_accuracy,
            r.train_loss.map_or(String::new(), |l| l.to_string())
        ));
    }
    out
}
