//! Step-wise reward-model training: `step()` does one optimizer step (plus evaluation when due)
//! and returns the events it produced. Natively a worker thread loops over it; in the browser an
//! async task awaits it between frames. Device-agnostic: the backend is a runtime `Device`.
use std::sync::Mutex;

use burn::module::Module;
use burn::optim::ModuleOptimizer;
use burn::tensor::{Device, Int, Tensor, TensorData};
use web_time::Instant;

use super::config::{DataSource, RmTrainConfig};
use super::error::ExperimentError;
use super::events::Event;
use super::metrics::{pairwise_accuracy, shorter_wins_accuracy};
use super::prepare::{PreparedData, Upload, prepare};
use super::report::RmReport;
use super::rm_step::{PairBatch, adamw, score_pairs, train_step};
use crate::compute::Compute;
use crate::data::PreferencePair;
use crate::data::encode::EncodedPair;
use crate::data::rng::Rng;
use crate::model::RewardModel;
use crate::rm::loss::mean_bt_loss;

/// burn-flex keeps one global random generator; holding this while seeding and initialising
/// weights keeps concurrent runs in one process from interleaving their draws.
static INIT_LOCK: Mutex<()> = Mutex::new(());

/// Pairs scored per forward pass during evaluation.
const EVAL_BATCH_PAIRS: usize = 64;

/// Build a reward model with seeded weights: always initialised on the CPU and then moved, so
/// the same seed gives the same starting weights on every backend.
pub fn init_reward_model(
    config: &crate::model::RewardModelConfig,
    vocab_size: usize,
    seed: u64,
    device: &Device,
) -> RewardModel {
    let _guard = INIT_LOCK
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let cpu = Device::flex();
    cpu.seed(seed);
    let model = config.init(vocab_size, &cpu);
    // Parameters are initialised lazily, on first use and on whatever device they live on by
    // then; a forward pass here draws every one of them from the seeded CPU generator.
    let probe = Tensor::<2, Int>::from_data(TensorData::new(vec![0i64], [1, 1]), &cpu);
    let _ = model.forward(probe, &[1]);
    let model = model.to_device(device);
    if device.is_autodiff() {
        model.train()
    } else {
        model
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
    config: RmTrainConfig,
    compute: Compute,
    device: Device,
    data: PreparedData,
    model: RewardModel,
    /// The model before the last update: what a diverged step falls back to.
    previous_model: RewardModel,
    optim: ModuleOptimizer,
    step: usize,
    total_steps: usize,
    order: Vec<usize>,
    cursor: usize,
    epoch: u64,
    started: bool,
    finished: bool,
    train_seconds: f64,
    last_loss: f32,
    last_eval: Option<EvalSnapshot>,
    curve: Vec<(usize, f32)>,
    final_train_accuracy: f32,
    use_gold: bool,
}

impl RmRunner {
    /// Load and prepare the data of `config`, then set up the run.
    pub fn setup(
        config: RmTrainConfig,
        compute: Compute,
        upload: Option<&Upload>,
    ) -> Result<Self, ExperimentError> {
        config.validate().map_err(ExperimentError::Config)?;
        let data = prepare(&config.data, config.model.max_len, config.seed, upload)?;
        Self::new(config, compute, data)
    }

    /// Set up a run on already prepared data.
    pub fn new(
        config: RmTrainConfig,
        compute: Compute,
        data: PreparedData,
    ) -> Result<Self, ExperimentError> {
        config.validate().map_err(ExperimentError::Config)?;
        if data.split.train.is_empty() || data.split.validation.is_empty() {
            return Err(ExperimentError::Config(
                "the split left no training or no validation pairs; change data.validation_fraction".into(),
            ));
        }
        let device = compute.train_device();
        device.seed(config.seed);
        let model = init_reward_model(
            &config.model,
            data.tokenizer.vocab_size(),
            config.seed,
            &device,
        );
        let optim = adamw(&config.optimizer);
        let use_gold = matches!(config.data.source, DataSource::Synthetic(_));
        let total_steps = config.total_steps(data.split.train.len());
        Ok(Self {
            total_steps,
            order: Vec::new(),
            cursor: 0,
            epoch: 0,
            step: 0,
            started: false,
            finished: false,
            train_seconds: 0.0,
            last_loss: f32::NAN,
            last_eval: None,
            curve: Vec::new(),
            final_train_accuracy: f32::NAN,
            use_gold,
            config,
            compute,
            device,
            data,
            previous_model: model.clone(),
            model,
            optim,
        })
    }

    /// The config this run uses.
    pub fn config(&self) -> &RmTrainConfig {
        &self.config
    }

    /// The prepared data.
    pub fn data(&self) -> &PreparedData {
        &self.data
    }

    /// The current model.
    pub fn model(&self) -> &RewardModel {
        &self.model
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

    /// Next batch of training positions (reshuffled every epoch, seeded).
    fn next_batch(&mut self) -> Vec<usize> {
        let n = self.config.batch_size.min(self.data.split.train.len());
        let mut batch = Vec::with_capacity(n);
        while batch.len() < n {
            if self.cursor >= self.order.len() {
                self.order = self.data.split.train.clone();
                let mut rng = Rng::derived(
                    self.config.seed ^ self.epoch.wrapping_mul(0x9E37),
                    "rm-shuffle",
                );
                rng.shuffle(&mut self.order);
                self.epoch += 1;
                self.cursor = 0;
            }
            batch.push(self.order[self.cursor]);
            self.cursor += 1;
        }
        batch
    }

    fn started_event(&self) -> Event {
        Event::Started {
            backend: self.compute.backend_name().into(),
            adapter: self.compute.adapter.clone(),
            notice: self.compute.notice.clone(),
            data: self.data.label.clone(),
            train_pairs: self.data.split.train.len(),
            validation_pairs: self.data.split.validation.len(),
            skipped_lines: self.data.skipped_lines,
            vocab_size: self.data.tokenizer.vocab_size(),
            params: self.model.num_params(),
            total_steps: self.total_steps,
        }
    }

    /// Score a set of positions with the current model (no dropout, no gradients).
    async fn score(&self, positions: &[usize]) -> Result<(Vec<f32>, Vec<f32>), ExperimentError> {
        let (encoded, _) = self.pairs_at(positions);
        let plain = self.device.clone().without_autodiff();
        let model = self.model.valid().to_device(&plain);
        score_pairs(
            &model,
            &encoded,
            self.data.tokenizer.pad_id(),
            &plain,
            EVAL_BATCH_PAIRS,
        )
        .await
    }

    async fn evaluate(&mut self) -> Result<Event, ExperimentError> {
        let positions = self.data.split.validation.clone();
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
        Ok(Event::RmEval {
            step: self.step,
            validation_accuracy: accuracy,
            validation_label_accuracy: label_accuracy,
            validation_loss: loss,
            chosen_rewards: chosen,
            rejected_rewards: rejected,
        })
    }

    /// Do one bounded slice of work and report what happened.
    pub async fn step(&mut self) -> Result<Vec<Event>, ExperimentError> {
        let mut events = Vec::new();
        if self.finished {
            return Ok(events);
        }
        if !self.started {
            self.started = true;
            events.push(self.started_event());
            if let Some(notice) = &self.compute.notice {
                events.push(Event::Notice {
                    message: notice.clone(),
                });
            }
        }
        let positions = self.next_batch();
        let lr = self.config.optimizer.lr_at(self.step, self.total_steps);
        let t0 = Instant::now();
        let outcome = {
            let (encoded, _) = self.pairs_at(&positions);
            let batch = PairBatch::new(&encoded, self.data.tokenizer.pad_id(), &self.device);
            train_step(&self.model, &mut self.optim, &batch, lr).await?
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
        events.push(Event::RmStep {
            step: self.step,
            loss: outcome.loss,
            train_accuracy: correct as f32 / outcome.gaps.len().max(1) as f32,
            lr,
        });
        let last = self.step >= self.total_steps;
        if self.step.is_multiple_of(self.config.eval_every) || last {
            events.push(self.evaluate().await?);
        }
        if last {
            events.push(self.finish().await?);
        }
        Ok(events)
    }

    async fn finish(&mut self) -> Result<Event, ExperimentError> {
        let positions = self.data.split.train.clone();
        let (chosen, rejected) = self.score(&positions).await?;
        let gaps: Vec<f32> = chosen.iter().zip(&rejected).map(|(c, r)| c - r).collect();
        let (_, pairs) = self.pairs_at(&positions);
        self.final_train_accuracy = pairwise_accuracy(&pairs, &gaps, false);
        self.finished = true;
        Ok(Event::Done {
            step: self.step,
            train_accuracy: self.final_train_accuracy,
            validation_accuracy: self.last_eval.as_ref().map_or(f32::NAN, |e| e.accuracy),
            wall_time_s: self.train_seconds,
            train_pairs_per_s: self.train_pairs_per_s(),
        })
    }

    fn train_pairs_per_s(&self) -> f64 {
        let pairs = self.step * self.config.batch_size.min(self.data.split.train.len());
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
        let (_, val_pairs) = self.pairs_at(&self.data.split.validation);
        RmReport {
            config: self.config.clone(),
            train_accuracy: finite(self.final_train_accuracy),
            validation_accuracy: eval.map(|e| e.accuracy),
            validation_label_accuracy: eval.map(|e| e.label_accuracy),
            validation_target: if self.use_gold { "gold" } else { "labels" }.into(),
            baseline_accuracy: shorter_wins_accuracy(&val_pairs, self.use_gold),
            validation_loss: eval.map(|e| e.loss),
            final_train_loss: finite(self.last_loss),
            wall_time_s: self.train_seconds,
            train_pairs_per_s: self.train_pairs_per_s(),
            backend: self.compute.backend_name().into(),
            adapter: self.compute.adapter.clone(),
            backend_notice: self.compute.notice.clone(),
            steps: self.step,
            params: self.model.num_params(),
            data: self.data.label.clone(),
            train_pairs: self.data.split.train.len(),
            validation_pairs: self.data.split.validation.len(),
            skipped_lines: self.data.skipped_lines,
            validation_curve: self.curve.clone(),
        }
    }
}
