//! The transformer policy as PPO's learner: SFT on the world's reference responses first, then
//! rollouts sampled from the policy LM, log-probabilities under it and under the frozen SFT
//! reference, values from a transformer critic, and the PPO epochs through autodiff of
//! `Σ_t (dL/dlog π_t) · log π_t` (and `Σ_t (dL/dV_t) · V_t` for the critic) — the same per-token
//! gradients as the factorised policy, so one PPO implementation serves both.
use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{Tensor, TensorData};

use super::config::PpoConfig;
use super::lm::{sample, sft_step};
use super::rollout::{Rollout, UpdateStats, minibatches};
use super::space::TokenSpace;
use crate::data::encode::{PaddedBatch, pad_sequences};
use crate::data::rng::Rng;
use crate::experiment::config::OptimizerConfig;
use crate::experiment::error::ExperimentError;
use crate::experiment::rm::step::{adamw, read_floats};
use crate::model::policy::{PolicyLm, ValueLm};
use crate::rl::losses::{policy_term, value_term};
use crate::rl::sampling::Sampling;

/// The transformer policy, its SFT reference and its critic.
pub struct LmAgent {
    policy: PolicyLm,
    reference: PolicyLm,
    critic: ValueLm,
    optim: ModuleOptimizer,
    critic_optim: ModuleOptimizer,
    sft_optim: ModuleOptimizer,
    space: TokenSpace,
    sft_done: usize,
    sft_lr: f64,
}

fn optimizer(lr: f64, clip: f64) -> ModuleOptimizer {
    adamw(&OptimizerConfig {
        lr,
        weight_decay: 0.0,
        grad_clip_norm: clip,
        ..Default::default()
    })
}

impl LmAgent {
    /// A policy over `space`'s actions, weights from `seed`.
    pub fn new(
        c: &PpoConfig,
        space: TokenSpace,
        seed: u64,
        device: &burn::tensor::Device,
    ) -> Result<Self, ExperimentError> {
        let longest = space.prompts.iter().map(Vec::len).max().unwrap_or(0) + space.max_new;
        if longest > c.policy_model.max_len {
            return Err(ExperimentError::Config(format!(
                "policy_model.max_len = {}: prompts and responses need {longest} tokens",
                c.policy_model.max_len
            )));
        }
        if space.prompts.iter().any(Vec::is_empty) {
            return Err(ExperimentError::Config(
                "a prompt has no tokens: the policy needs one to condition on".into(),
            ));
        }
        let policy = c.policy_model.init_seeded(&space.allowed(), seed, device);
        Ok(Self {
            reference: policy.clone(),
            critic: c
                .policy_model
                .init_critic(space.vocab_size, seed ^ 0xC417, device),
            policy,
            optim: optimizer(c.lm_lr, c.grad_clip),
            critic_optim: optimizer(c.lm_critic_lr, 0.0),
            sft_optim: optimizer(c.sft_lr, 1.0),
            space,
            sft_done: 0,
            sft_lr: c.sft_lr,
        })
    }

    /// A copy with the same policy, reference and critic and fresh optimizers (an arm of an
    /// iterative run that starts where this one stands). PPO's optimizer state is not copied,
    /// so fork before PPO's first update or accept fresh moments.
    pub fn fork(&self, c: &PpoConfig) -> Self {
        Self {
            policy: self.policy.clone(),
            reference: self.reference.clone(),
            critic: self.critic.clone(),
            optim: optimizer(c.lm_lr, c.grad_clip),
            critic_optim: optimizer(c.lm_critic_lr, 0.0),
            sft_optim: optimizer(c.sft_lr, 1.0),
            space: self.space.clone(),
            sft_done: self.sft_done,
            sft_lr: self.sft_lr,
        }
    }

    /// Make the current policy the KL reference (a round whose reference is the last round's
    /// policy).
    pub fn reference_to_policy(&mut self) {
        self.reference = self.policy.clone();
    }

    /// Put the policy back at the reference (a round that restarts from SFT), with fresh
    /// optimizer moments.
    pub fn policy_to_reference(&mut self, c: &PpoConfig) {
        self.policy = self.reference.clone();
        self.optim = optimizer(c.lm_lr, c.grad_clip);
    }

    /// Act with `policy` from now on (a saved policy; the reference stays).
    pub fn set_policy(&mut self, policy: PolicyLm) {
        self.policy = policy;
    }

    /// The policy LM (for sampling outside PPO, e.g. a meta set).
    pub fn policy(&self) -> &PolicyLm {
        &self.policy
    }

    /// Replace the critic (the value head on the reward model's trunk), before PPO starts.
    pub fn set_critic(&mut self, critic: ValueLm) {
        self.critic = critic;
    }

    /// Give the critic a constant value head `c` (its own trunk kept), before PPO starts.
    pub fn set_critic_constant(&mut self, c: f32) {
        self.critic = self.critic.clone().with_constant(c);
    }

    /// The token space the policy acts in.
    pub fn space(&self) -> &TokenSpace {
        &self.space
    }

    /// Act in `space` from now on (the same ids, with more prompts).
    pub fn set_space(&mut self, space: TokenSpace) {
        self.space = space;
    }

    /// The policy and the critic as weight records (burn's bytes).
    pub fn weights(&self) -> Result<(Vec<u8>, Vec<u8>), ExperimentError> {
        let bytes = |r: burn::store::ModuleRecord| {
            r.into_bytes()
                .map(|b| b.to_vec())
                .map_err(|e| ExperimentError::Model(format!("the policy's weights: {e}")))
        };
        Ok((
            bytes(self.policy.clone().into_record())?,
            bytes(self.critic.clone().into_record())?,
        ))
    }

    /// SFT steps taken.
    pub fn sft_done(&self) -> usize {
        self.sft_done
    }

    /// One SFT step on `responses` (prompt, actions without EOS); after the last, the policy
    /// becomes the frozen reference. Returns the loss.
    pub async fn sft(
        &mut self,
        responses: &[(usize, Vec<usize>)],
        last: bool,
    ) -> Result<f32, ExperimentError> {
        let items: Vec<(Vec<u32>, usize)> = responses
            .iter()
            .map(|(p, words)| {
                let mut seq = self.space.sequence(*p, words);
                seq.push(self.space.eos);
                (seq, self.space.prompts[*p].len())
            })
            .collect();
        let seqs: Vec<&[u32]> = items.iter().map(|(s, _)| s.as_slice()).collect();
        let starts: Vec<usize> = items.iter().map(|(_, s)| *s).collect();
        let (next, loss) = sft_step(
            &self.policy,
            &mut self.sft_optim,
            &seqs,
            &starts,
            self.space.pad,
            self.sft_lr,
        )
        .await?;
        self.policy = next;
        self.sft_done += 1;
        if last {
            self.reference = self.policy.clone();
        }
        Ok(loss)
    }

    fn batch(&self, items: &[(usize, &[usize])]) -> PaddedBatch {
        let seqs: Vec<Vec<u32>> = items
            .iter()
            .map(|(p, a)| self.space.sequence(*p, a))
            .collect();
        let refs: Vec<&[u32]> = seqs.iter().map(Vec::as_slice).collect();
        pad_sequences(&refs, self.space.pad)
    }

    /// Per-action entries of a `[rows, width]` host matrix: action j of a row sits at the
    /// prompt's last position + j (the position that predicts it, or the state before it).
    fn at_actions(&self, flat: &[f32], width: usize, items: &[(usize, &[usize])]) -> Vec<Vec<f32>> {
        items
            .iter()
            .enumerate()
            .map(|(r, (p, a))| {
                let start = self.space.prompts[*p].len() - 1;
                (0..a.len()).map(|j| flat[r * width + start + j]).collect()
            })
            .collect()
    }

    /// Draw a response per prompt: actions (see [`TokenSpace`]), then EOS unless the length
    /// limit stopped it.
    pub async fn sample(
        &self,
        prompts: &[usize],
        sampling: &Sampling,
        rng: &mut Rng,
    ) -> Result<Vec<Vec<usize>>, ExperimentError> {
        let asks: Vec<Vec<u32>> = prompts
            .iter()
            .map(|&p| self.space.prompts[p].clone())
            .collect();
        let tokens = sample(
            &self.policy,
            &asks,
            self.space.max_new,
            self.space.eos,
            self.space.pad,
            sampling,
            rng,
        )
        .await?;
        Ok(tokens
            .iter()
            .map(|t| t.iter().map(|&id| self.space.action(id)).collect())
            .collect())
    }

    /// log π (policy) or log π_ref of every action, and the critic's values before each.
    pub async fn score(
        &self,
        items: &[(usize, &[usize])],
    ) -> Result<(Vec<Vec<f32>>, Vec<Vec<f32>>, Vec<Vec<f32>>), ExperimentError> {
        let batch = self.batch(items);
        let w = batch.seq_len - 1;
        let logp = read_floats(self.policy.next_token_log_probs(&batch).detach()).await?;
        let ref_logp = read_floats(self.reference.next_token_log_probs(&batch).detach()).await?;
        let values = read_floats(self.critic.values(&batch).detach()).await?;
        Ok((
            self.at_actions(&logp, w, items),
            self.at_actions(&ref_logp, w, items),
            self.at_actions(&values, batch.seq_len, items),
        ))
    }

    /// Mean entropy of the policy at the actions' positions.
    pub async fn entropy(&self, items: &[(usize, &[usize])]) -> Result<f64, ExperimentError> {
        let batch = self.batch(items);
        let w = batch.seq_len - 1;
        let h = read_floats(self.policy.next_token_entropies(&batch).detach()).await?;
        let per = self.at_actions(&h, w, items);
        let n: usize = per.iter().map(Vec::len).sum();
        Ok(per.iter().flatten().map(|&x| f64::from(x)).sum::<f64>() / n.max(1) as f64)
    }

    /// The PPO epochs over shuffled minibatches.
    pub async fn update(
        &mut self,
        batch: &[Rollout],
        c: &PpoConfig,
        rng: &mut Rng,
    ) -> Result<UpdateStats, ExperimentError> {
        let pclip = PpoConfig::on(c.policy_clip);
        let vclip = PpoConfig::on(c.value_clip);
        let mut stats = UpdateStats::default();
        let mut seen = 0usize;
        for chunk in minibatches(batch.len(), c, rng) {
            let items: Vec<(usize, &[usize])> = chunk
                .iter()
                .map(|&i| (batch[i].prompt, batch[i].actions.as_slice()))
                .collect();
            let n: usize = items.iter().map(|(_, a)| a.len()).sum();
            if n == 0 {
                continue;
            }
            let padded = self.batch(&items);
            let (rows, w) = (padded.rows, padded.seq_len - 1);
            let device = self.policy.device();
            // Policy: dL/dlog π per action, then the surrogate Σ coef · log π.
            let logp = self.policy.next_token_log_probs(&padded);
            let now = self.at_actions(&read_floats(logp.clone().detach()).await?, w, &items);
            let mut coef = vec![0.0f32; rows * w];
            for (r, &i) in chunk.iter().enumerate() {
                let start = self.space.prompts[batch[i].prompt].len() - 1;
                for j in 0..batch[i].actions.len() {
                    let t = policy_term(now[r][j], batch[i].logp[j], batch[i].advantages[j], pclip);
                    stats.policy_loss += f64::from(t.loss);
                    stats.pg_clip_frac += f64::from(u8::from(t.clipped));
                    coef[r * w + start + j] = t.grad / n as f32;
                }
            }
            let coef = Tensor::<2>::from_data(TensorData::new(coef, [rows, w]), &device);
            let loss = (logp * coef).sum();
            let grads = GradientsParams::from_grads(loss.backward(), &self.policy);
            self.policy = self.optim.step(c.lm_lr, self.policy.clone(), grads);
            if c.critic {
                let values = self.critic.values(&padded);
                let width = padded.seq_len;
                let v_now =
                    self.at_actions(&read_floats(values.clone().detach()).await?, width, &items);
                let mut vcoef = vec![0.0f32; rows * width];
                for (r, &i) in chunk.iter().enumerate() {
                    let start = self.space.prompts[batch[i].prompt].len() - 1;
                    for j in 0..batch[i].actions.len() {
                        let v =
                            value_term(v_now[r][j], batch[i].values[j], batch[i].returns[j], vclip);
                        stats.value_loss += f64::from(v.loss);
                        stats.vf_clip_frac += f64::from(u8::from(v.clipped));
                        vcoef[r * width + start + j] = v.grad / n as f32;
                    }
                }
                let vcoef = Tensor::<2>::from_data(TensorData::new(vcoef, [rows, width]), &device);
                let loss = (values * vcoef).sum();
                let grads = GradientsParams::from_grads(loss.backward(), &self.critic);
                self.critic = self
                    .critic_optim
                    .step(c.lm_critic_lr, self.critic.clone(), grads);
            }
            seen += n;
            crate::compute::yield_to_host().await;
        }
        let n = seen.max(1) as f64;
        Ok(UpdateStats {
            policy_loss: stats.policy_loss / n,
            value_loss: stats.value_loss / n,
            pg_clip_frac: stats.pg_clip_frac / n,
            vf_clip_frac: stats.vf_clip_frac / n,
        })
    }
}
