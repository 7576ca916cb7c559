//! Step-wise reward-model training: `step()` does one optimizer step (plus evaluation when due)
//! and returns the events it produced. Natively a worker thread loops over it; in the browser an
//! async task awaits it between frames. Device-agnostic: the backend is a runtime `Device`.
use std::sync::Arc;

use burn::module::Module;
use burn::optim::ModuleOptimizer;
use burn::tensor::Device;
use web_time::Instant;

use super::config::RmTrainConfig;
use super::event::RmEvent;
use super::meta::MetaSet;
use super::order::BatchOrder;
use super::report::RmReport;
use super::step::{
    EVAL_BATCH_PAIRS, PairBatch, adamw, meta_ascent, score_features, score_pairs, train_step,
};
use crate::compute::Compute;
use crate::data::PreferencePair;
use crate::data::encode::EncodedPair;
use crate::experiment::config::Run;
use crate::experiment::error::ExperimentError;
use crate::experiment::events::Event;
use crate::experiment::metrics::{pairwise_accuracy, shorter_wins_accuracy};
use crate::experiment::prepare::{PreparedData, Upload, prepare};
use crate::model::RewardModel;
use crate::rm::denoise::PairTarget;
use crate::rm::loss::{mean_bt_loss, preference_loss_value};
use crate::rm::probe::linear_probe_auroc;

/// Held-out pairs whose features the Features event carries (the probe uses all of them).
const FEATURE_EVENT_PAIRS: usize = 400;

/// Mixed into the seed of the meta groups' order, so it differs from the pairs' order.
const META_ORDER_SALT: u64 = 0x3E7A_0B5D_C2F1_9A64;

/// What a run trains on and validates on (positions into the prepared pairs), and the loss
/// target of each pair.
#[derive(Clone, Debug, Default)]
pub struct TrainPlan {
    /// Training positions.
    pub train: Vec<usize>,
    /// Validation positions.
    pub validation: Vec<usize>,
    /// One target per prepared pair (indexed by position); empty means plain Bradley–Terry.
    pub targets: Vec<PairTarget>,
    /// A single run (not an ensemble member, band or method seed): measure held-out features
    /// at the end and hand out the trained model ([`RmEvent::Model`]).
    pub measure_features: bool,
    /// MetaRM's meta set: with it, every step first takes the meta step on `meta_batch` of its
    /// groups (see [`super::step::meta_ascent`]).
    pub meta: Option<Arc<MetaSet>>,
}

impl TrainPlan {
    /// The data's own split: plain Bradley–Terry, or with the file's margins
    /// (`data.margin_field`) where it has them.
    pub fn from_split(data: &PreparedData) -> Self {
        let targets = data.margins.as_ref().map_or_else(Vec::new, |margins| {
            margins
                .iter()
                .map(|&margin| PairTarget {
                    margin,
                    ..PairTarget::default()
                })
                .collect()
        });
        Self {
            train: data.split.train.clone(),
            validation: data.split.validation.clone(),
            targets,
            measure_features: true,
            meta: None,
        }
    }

    fn target(&self, position: usize) -> PairTarget {
        self.targets.get(position).copied().unwrap_or_default()
    }

    fn check(&self, pairs: usize) -> Result<(), ExperimentError> {
        if self.train.is_empty() || self.validation.is_empty() {
            return Err(ExperimentError::Config(
                "the split left no training or no validation pairs; change data.validation_fraction".into(),
            ));
        }
        if let Some(&p) = self
            .train
            .iter()
            .chain(&self.validation)
            .find(|&&p| p >= pairs)
        {
            return Err(ExperimentError::Config(format!(
                "position {p} is outside the {pairs} prepared pairs"
            )));
        }
        if let Some(meta) = &self.meta {
            meta.check().map_err(ExperimentError::Config)?;
        }
        if !self.targets.is_empty() && self.targets.len() != pairs {
            return Err(ExperimentError::Config(format!(
                "{} loss targets for {pairs} pairs: give one per pair",
                self.targets.len()
            )));
        }
        if let Some((i, t)) = self
            .targets
            .iter()
            .enumerate()
            .find(|(_, t)| !t.margin.is_finite() || !(0.0..=1.0).contains(&t.smoothing))
        {
            return Err(ExperimentError::Config(format!(
                "pair at position {i}: margin {} / smoothing {} is invalid (margins must be finite, smoothing in [0, 1])",
                t.margin, t.smoothing
            )));
        }
        Ok(())
    }
}

/// Last validation measurement.
#[derive(Clone, Debug)]
struct EvalSnapshot {
    accuracy: f32,
    label_accuracy: f32,
    loss: f32,
}

/// A reward-model training run.
pub struct RmRunner {
    run: Run<RmTrainConfig>,
    compute: Compute,
    device: Device,
    data: Arc<PreparedData>,
    plan: TrainPlan,
    model: RewardModel,
    /// The model before the last update: what a diverged step falls back to.
    previous_model: RewardModel,
    optim: ModuleOptimizer,
    step: usize,
    total_steps: usize,
    order: BatchOrder,
    /// The order the meta groups are drawn in (runs with a meta set).
    meta_order: BatchOrder,
    started: bool,
    finished: bool,
    train_seconds: f64,
    last_loss: f32,
    last_eval: Option<EvalSnapshot>,
    curve: Vec<(usize, f32)>,
    final_train_accuracy: f32,
    final_train_loss: f32,
    feature_separation: Option<f32>,
    use_gold: bool,
    /// The model file a finished single run handed out.
    handed_out: Option<Arc<Vec<u8>>>,
}

impl RmRunner {
    /// Load and prepare the data of `run`, then set up the run.
    pub fn setup(
        run: Run<RmTrainConfig>,
        compute: Compute,
        upload: Option<&Upload>,
    ) -> Result<Self, ExperimentError> {
        run.validate().map_err(ExperimentError::Config)?;
        let data = prepare(&run.data, run.experiment.model.max_len, run.seed, upload)?;
        Self::new(run, compute, data)
    }

    /// Set up a run on already prepared data and its split.
    pub fn new(
        run: Run<RmTrainConfig>,
        compute: Compute,
        data: PreparedData,
    ) -> Result<Self, ExperimentError> {
        let plan = TrainPlan::from_split(&data);
        Self::with_plan(run, compute, Arc::new(data), plan)
    }

    /// Set up a run on shared prepared data with its own positions and loss targets (ensemble
    /// members, band retraining, denoising methods).
    pub fn with_plan(
        run: Run<RmTrainConfig>,
        compute: Compute,
        data: Arc<PreparedData>,
        plan: TrainPlan,
    ) -> Result<Self, ExperimentError> {
        let config = &run.experiment;
        config.validate().map_err(ExperimentError::Config)?;
        plan.check(data.pairs.len())?;
        if let Some(meta) = &plan.meta
            && meta.k != config.k
        {
            return Err(ExperimentError::Config(format!(
                "the meta set has groups of {} responses, the config's k is {}: sample the meta set with k = {}",
                meta.k, config.k, config.k
            )));
        }
        let device = compute.train_device();
        let model = config.model.init_seeded(
            data.tokenizer.vocab_size(),
            config.contrastive.model_prototypes(),
            run.seed,
            &device,
        );
        let optim = adamw(&config.optimizer);
        let use_gold = data.has_gold();
        let total_steps = config.total_steps(plan.train.len());
        Ok(Self {
            total_steps,
            order: BatchOrder::new(run.seed),
            meta_order: BatchOrder::new(run.seed ^ META_ORDER_SALT),
            step: 0,
            started: false,
            finished: false,
            train_seconds: 0.0,
            last_loss: f32::NAN,
            last_eval: None,
            curve: Vec::new(),
            final_train_accuracy: f32::NAN,
            final_train_loss: f32::NAN,
            feature_separation: None,
            use_gold,
            handed_out: None,
            run,
            compute,
            device,
            data,
            plan,
            previous_model: model.clone(),
            model,
            optim,
        })
    }

    /// The run config (data, seed, backend and knobs) this run uses.
    pub fn config(&self) -> &Run<RmTrainConfig> {
        &self.run
    }

    /// The prepared data.
    pub fn data(&self) -> &PreparedData {
        &self.data
    }

    /// The prepared data, shared (cheap to clone).
    pub fn shared_data(&self) -> Arc<PreparedData> {
        Arc::clone(&self.data)
    }

    /// The positions and targets this run trains on.
    pub fn plan(&self) -> &TrainPlan {
        &self.plan
    }

    /// The current model.
    pub fn model(&self) -> &RewardModel {
        &self.model
    }

    /// The current model as the bytes of a model file (weights, shape, tokenizer, config); a
    /// finished run returns the bytes it already handed out.
    pub fn model_file(&self) -> Result<Arc<Vec<u8>>, ExperimentError> {
        if let Some(bytes) = &self.handed_out {
            return Ok(Arc::clone(bytes));
        }
        let tokenizer = &self.data.tokenizer;
        super::score::save_reward_model(
            &self.model,
            &self.run,
            tokenizer.to_json()?,
            tokenizer.vocab_size(),
        )
        .map(Arc::new)
    }

    /// The trained model for the app to save (kept for [`Self::model_file`]), or a notice why
    /// it cannot be had here.
    fn model_event(&mut self) -> Event {
        // Reading weights back is synchronous in burn's record API, which WebGPU in a browser
        // tab cannot do.
        if cfg!(target_arch = "wasm32") && self.compute.backend_name() == "wgpu" {
            return Event::Notice {
                message: "saving a model trained on WebGPU in the browser is not possible yet; \
                          train with the CPU backend (?backend=cpu) to save it"
                    .into(),
            };
        }
        match self.model_file() {
            Ok(bytes) => {
                self.handed_out = Some(Arc::clone(&bytes));
                RmEvent::Model { bytes }.into()
            }
            Err(e) => Event::Notice {
                message: format!("the trained model could not be serialised: {e}"),
            },
        }
    }

    /// The epoch or job the next step belongs to (see [`crate::experiment::Runner::span`]).
    pub fn span_of(
        &self,
        stride: crate::experiment::runner::Stride,
    ) -> Option<crate::experiment::Span> {
        use crate::experiment::runner::Stride;
        Some(match stride {
            Stride::Job => Vec::new(),
            Stride::Epoch => {
                vec![self.step / self.run.experiment.steps_per_epoch(self.plan.train.len())]
            }
        })
    }

    /// Optimizer steps taken.
    pub fn steps_done(&self) -> usize {
        self.step
    }

    /// Optimizer steps the run will take.
    pub fn total_steps(&self) -> usize {
        self.total_steps
    }

    /// True once all steps and the final evaluation are done.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    fn pairs_at(&self, positions: &[usize]) -> (Vec<&EncodedPair>, Vec<&PreferencePair>) {
        positions
            .iter()
            .map(|&i| (&self.data.encoded[i], &self.data.pairs[i]))
            .unzip()
    }

    /// The training batch of `positions`: flipped pairs swapped, margins and smoothing attached
    /// when the plan has targets.
    fn batch(&self, positions: &[usize]) -> PairBatch {
        let pad = self.data.tokenizer.pad_id();
        if self.plan.targets.is_empty() {
            let (encoded, _) = self.pairs_at(positions);
            return PairBatch::new(&encoded, pad);
        }
        let targets: Vec<PairTarget> = positions.iter().map(|&p| self.plan.target(p)).collect();
        let owned: Vec<EncodedPair> = positions
            .iter()
            .zip(&targets)
            .map(|(&p, t)| {
                let e = &self.data.encoded[p];
                if t.flip { e.swapped() } else { e.clone() }
            })
            .collect();
        let refs: Vec<&EncodedPair> = owned.iter().collect();
        let mut batch = PairBatch::new(&refs, pad);
        batch.margins = Some(targets.iter().map(|t| t.margin).collect());
        batch.smoothing = Some(targets.iter().map(|t| t.smoothing).collect());
        batch
    }

    fn started_events(&self) -> [Event; 2] {
        [
            Event::started(&self.compute, self.total_steps),
            RmEvent::Setup {
                data: self.data.label.clone(),
                train_pairs: self.plan.train.len(),
                validation_pairs: self.plan.validation.len(),
                skipped_lines: self.data.skipped_lines,
                dropped_ties: self.data.dropped_ties,
                vocab_size: self.data.tokenizer.vocab_size(),
                params: self.model.num_params(),
            }
            .into(),
        ]
    }

    /// Score a set of positions with the current model (no dropout, no gradients), in the
    /// dataset's orientation: `(chosen rewards, rejected rewards)`.
    pub async fn score(
        &self,
        positions: &[usize],
    ) -> Result<(Vec<f32>, Vec<f32>), ExperimentError> {
        let (encoded, _) = self.pairs_at(positions);
        let plain = self.device.clone().without_autodiff();
        let model = self.model.valid().to_device(&plain);
        score_pairs(
            &model,
            &encoded,
            self.data.tokenizer.pad_id(),
            EVAL_BATCH_PAIRS,
        )
        .await
    }

    /// Pooled features (no dropout) of the chosen and rejected responses at `positions`.
    pub async fn pair_features(
        &self,
        positions: &[usize],
    ) -> Result<(Vec<Vec<f32>>, Vec<Vec<f32>>), ExperimentError> {
        let (encoded, _) = self.pairs_at(positions);
        let plain = self.device.clone().without_autodiff();
        let model = self.model.valid().to_device(&plain);
        score_features(
            &model,
            &encoded,
            self.data.tokenizer.pad_id(),
            EVAL_BATCH_PAIRS,
        )
        .await
    }

    /// Start training from `model`'s weights instead of the seeded ones (before the first
    /// step; an iterative run's reward model continued from the last round's).
    pub fn start_from(&mut self, model: &RewardModel) -> Result<(), ExperimentError> {
        if self.step > 0 {
            return Err(ExperimentError::Config(
                "a reward-model run takes starting weights before its first step only".into(),
            ));
        }
        let model = model.clone().to_device(&self.device);
        self.previous_model = model.clone();
        self.model = model;
        Ok(())
    }

    /// Reward gaps `r(chosen) − r(rejected)` of a set of positions, dataset orientation.
    pub async fn score_gaps(&self, positions: &[usize]) -> Result<Vec<f32>, ExperimentError> {
        let (chosen, rejected) = self.score(positions).await?;
        Ok(chosen.iter().zip(&rejected).map(|(c, r)| c - r).collect())
    }

    async fn evaluate(&mut self) -> Result<Event, ExperimentError> {
        let positions = self.plan.validation.clone();
        let (chosen, rejected) = self.score(&positions).await?;
        let gaps: Vec<f32> = chosen.iter().zip(&rejected).map(|(c, r)| c - r).collect();
        let (_, pairs) = self.pairs_at(&positions);
        let accuracy = pairwise_accuracy(&pairs, &gaps, self.use_gold);
        let label_accuracy = pairwise_accuracy(&pairs, &gaps, false);
        let loss = mean_bt_loss(&gaps);
        self.curve.push((self.step, accuracy));
        self.last_eval = Some(EvalSnapshot {
            accuracy,
            label_accuracy,
            loss,
        });
        Ok(RmEvent::Eval {
            step: self.step,
            validation_accuracy: accuracy,
            validation_label_accuracy: label_accuracy,
            validation_loss: loss,
            chosen_rewards: chosen,
            rejected_rewards: rejected,
        }
        .into())
    }

    /// Do one bounded slice of work and report what happened.
    pub async fn step(&mut self) -> Result<Vec<Event>, ExperimentError> {
        let mut events = Vec::new();
        if self.finished {
            return Ok(events);
        }
        if !self.started {
            self.started = true;
            events.extend(self.started_events());
            if let Some(notice) = &self.compute.notice {
                events.push(Event::Notice {
                    message: notice.clone(),
                });
            }
        }
        let positions = self
            .order
            .next_batch(&self.plan.train, self.run.experiment.batch_size);
        let lr = self
            .run
            .experiment
            .optimizer
            .lr_at(self.step, self.total_steps);
        let t0 = Instant::now();
        let meta = match &self.plan.meta {
            Some(set) => {
                let all: Vec<usize> = (0..set.groups.len()).collect();
                let picked = self
                    .meta_order
                    .next_batch(&all, self.run.experiment.meta_batch);
                let groups = set.batch(&picked, self.data.tokenizer.pad_id());
                Some(meta_ascent(&self.model, &groups, set.k, self.run.experiment.meta_lr).await?)
            }
            None => None,
        };
        let outcome = {
            let batch = self.batch(&positions);
            train_step(
                &self.model,
                meta.as_ref().map(|(lookahead, _)| lookahead),
                &mut self.optim,
                &batch,
                lr,
                &self.run.experiment.contrastive,
                crate::model::init::step_seed(self.run.seed, self.step),
            )
            .await?
        };
        if !outcome.applied {
            // The loss is measured before the update, so the weights of the last applied update
            // produced it: fall back to the model before that update.
            self.model = self.previous_model.clone();
            self.step = self.step.saturating_sub(1);
            return Err(ExperimentError::NonFinite {
                step: self.step + 2,
                value: outcome.loss,
                last_good: self.step,
                lr,
            });
        }
        self.train_seconds += t0.elapsed().as_secs_f64();
        self.previous_model = std::mem::replace(&mut self.model, outcome.model);
        self.step += 1;
        self.last_loss = outcome.loss;
        let correct = outcome.gaps.iter().filter(|&&g| g > 0.0).count();
        events.push(
            RmEvent::Step {
                step: self.step,
                loss: outcome.loss,
                train_accuracy: correct as f32 / outcome.gaps.len().max(1) as f32,
                lr,
                contrastive_loss: outcome.contrastive_loss,
                difference_loss: meta.map(|(_, j)| j),
            }
            .into(),
        );
        let last = self.step >= self.total_steps;
        if self.step.is_multiple_of(self.run.experiment.eval_every) || last {
            events.push(self.evaluate().await?);
        }
        if last {
            events.extend(self.finish().await?);
        }
        Ok(events)
    }

    /// Held-out features and their linear-probe separation (Fig 11's question).
    async fn features(&mut self) -> Result<Event, ExperimentError> {
        let positions = self.plan.validation.clone();
        let (encoded, _) = self.pairs_at(&positions);
        let plain = self.device.clone().without_autodiff();
        let model = self.model.valid().to_device(&plain);
        let (mut chosen, mut rejected) = score_features(
            &model,
            &encoded,
            self.data.tokenizer.pad_id(),
            EVAL_BATCH_PAIRS,
        )
        .await?;
        let separation = linear_probe_auroc(&chosen, &rejected);
        self.feature_separation = separation;
        chosen.truncate(FEATURE_EVENT_PAIRS);
        rejected.truncate(FEATURE_EVENT_PAIRS);
        Ok(RmEvent::Features {
            chosen,
            rejected,
            separation_auroc: separation,
        }
        .into())
    }

    async fn finish(&mut self) -> Result<Vec<Event>, ExperimentError> {
        let mut events = Vec::new();
        if self.plan.measure_features {
            events.push(self.features().await?);
            events.push(self.model_event());
        }
        let positions = self.plan.train.clone();
        let gaps = self.score_gaps(&positions).await?;
        let (_, pairs) = self.pairs_at(&positions);
        self.final_train_accuracy = pairwise_accuracy(&pairs, &gaps, false);
        // The loss on the whole training set, with the plan's flips, margins and smoothing.
        let total: f64 = positions
            .iter()
            .zip(&gaps)
            .map(|(&p, &g)| {
                let t = self.plan.target(p);
                let g = if t.flip { -g } else { g };
                preference_loss_value(f64::from(g), f64::from(t.margin), f64::from(t.smoothing))
            })
            .sum();
        self.final_train_loss = (total / positions.len().max(1) as f64) as f32;
        self.finished = true;
        let validation_accuracy = self.last_eval.as_ref().map_or(f32::NAN, |e| e.accuracy);
        let done = RmEvent::Done {
            step: self.step,
            train_accuracy: self.final_train_accuracy,
            validation_accuracy,
            wall_time_s: self.train_seconds,
            train_pairs_per_s: self.train_pairs_per_s(),
        };
        let summary = format!(
            "validation_accuracy={validation_accuracy:.3} train_accuracy={:.3}",
            self.final_train_accuracy
        );
        events.extend(Event::closing(done, self.train_seconds, summary));
        Ok(events)
    }

    fn train_pairs_per_s(&self) -> f64 {
        let pairs = self.step * self.run.experiment.batch_size.min(self.plan.train.len());
        if self.train_seconds > 0.0 {
            pairs as f64 / self.train_seconds
        } else {
            0.0
        }
    }

    /// The run's report (complete once [`Self::is_finished`]).
    pub fn report(&self) -> RmReport {
        let eval = self.last_eval.as_ref();
        let finite = |x: f32| x.is_finite().then_some(x);
        let (_, val_pairs) = self.pairs_at(&self.plan.validation);
        RmReport {
            config: self.run.clone(),
            train_accuracy: finite(self.final_train_accuracy),
            validation_accuracy: eval.map(|e| e.accuracy),
            validation_label_accuracy: eval.map(|e| e.label_accuracy),
            validation_target: if self.use_gold { "gold" } else { "labels" }.into(),
            baseline_accuracy: shorter_wins_accuracy(&val_pairs, self.use_gold),
            validation_loss: eval.map(|e| e.loss),
            final_train_loss: finite(self.last_loss),
            train_set_loss: finite(self.final_train_loss),
            feature_separation_auroc: self.feature_separation,
            wall_time_s: self.train_seconds,
            train_pairs_per_s: self.train_pairs_per_s(),
            backend: self.compute.backend_name().into(),
            adapter: self.compute.adapter.clone(),
            backend_notice: self.compute.notice.clone(),
            steps: self.step,
            params: self.model.num_params(),
            data: self.data.label.clone(),
            train_pairs: self.plan.train.len(),
            validation_pairs: self.plan.validation.len(),
            skipped_lines: self.data.skipped_lines,
            dropped_ties: self.data.dropped_ties,
            validation_curve: self.curve.clone(),
        }
    }
}

impl crate::experiment::runner::Runner for RmRunner {
    fn step(&mut self) -> crate::experiment::runner::StepFuture<'_> {
        Box::pin(RmRunner::step(self))
    }

    fn is_finished(&self) -> bool {
        self.finished
    }

    fn progress(&self) -> crate::experiment::runner::Progress {
        crate::experiment::runner::Progress {
            done: self.step,
            total: self.total_steps,
        }
    }

    fn report_json(&self) -> serde_json::Value {
        crate::experiment::runner::report_value(&self.report())
    }

    /// The trained model, once the run has handed it out.
    fn artifacts(&self) -> crate::experiment::runner::Artifacts {
        crate::experiment::runner::Artifacts {
            reward_model: self.handed_out.clone(),
            ..Default::default()
        }
    }

    /// One job; its epochs by the steps taken so far.
    fn span(&self, stride: crate::experiment::runner::Stride) -> Option<crate::experiment::Span> {
        self.span_of(stride)
    }
}
