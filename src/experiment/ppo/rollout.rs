//! One PPO iteration on host data (spec §6.3's order): the experiences of a rollout batch —
//! scores normalised by running moments, KL-shaped token rewards, GAE advantages and returns —
//! and the PPO epochs over minibatches that update the policy and the critic.
use super::adam::Adam;
use super::config::{PpoConfig, RewardNorm};
use super::factorised::Factorised;
use crate::data::rng::Rng;
use crate::rl::gae::{gae, whiten};
use crate::rl::losses::{policy_term, value_term};
use crate::rl::moments::RunningMoments;
use crate::rl::shaping::shaped_rewards;

/// One sampled response and what PPO computes for it, token by token.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Rollout {
    /// Prompt index.
    pub prompt: usize,
    /// Actions (word ids, then EOS unless the length limit stopped it).
    pub actions: Vec<usize>,
    /// log π_old of each action.
    pub logp: Vec<f32>,
    /// log π_ref of each action.
    pub ref_logp: Vec<f32>,
    /// The critic's value before each action.
    pub values: Vec<f32>,
    /// Raw proxy score.
    pub proxy: f32,
    /// Gold reward.
    pub gold: f32,
    /// The score as it enters the rewards (normalised, clipped).
    pub score: f32,
    /// Token rewards.
    pub rewards: Vec<f32>,
    /// Advantages.
    pub advantages: Vec<f32>,
    /// Returns.
    pub returns: Vec<f32>,
}

/// Discounted reward-to-go.
fn returns_to_go(rewards: &[f32], gamma: f32) -> Vec<f32> {
    let mut out = vec![0.0; rewards.len()];
    let mut acc = 0.0;
    for t in (0..rewards.len()).rev() {
        acc = rewards[t] + gamma * acc;
        out[t] = acc;
    }
    out
}

/// The score as it enters the rewards: raw, scaled or normalised by the running moments, then
/// clipped to ±δ when set.
pub fn entering_score(
    raw: f32,
    norm: RewardNorm,
    clip: Option<f32>,
    moments: &RunningMoments,
) -> f32 {
    match norm {
        RewardNorm::None => clip.map_or(raw, |d| raw.clamp(-d, d)),
        RewardNorm::Scale => moments.scale(raw, clip),
        RewardNorm::Normalise => moments.normalise(raw, clip),
    }
}

/// Fill scores, rewards, advantages and returns of a batch whose actions, log-probs, values and
/// raw scores are set. `moments` follows the raw scores over the whole run.
pub fn make_experiences(batch: &mut [Rollout], c: &PpoConfig, moments: &mut RunningMoments) {
    let raw: Vec<f32> = batch.iter().map(|r| r.proxy).collect();
    if c.reward_norm != RewardNorm::None {
        moments.update(&raw);
    }
    let clip = PpoConfig::on(c.reward_clip);
    let (gamma, lambda) = (c.gamma as f32, c.lambda as f32);
    for r in batch.iter_mut() {
        r.score = entering_score(r.proxy, c.reward_norm, clip, moments);
        r.rewards = shaped_rewards(&r.logp, &r.ref_logp, c.kl_coef as f32, r.score);
        if c.critic {
            (r.advantages, r.returns) = gae(&r.rewards, &r.values, gamma, lambda);
        } else {
            r.returns = returns_to_go(&r.rewards, gamma);
            r.advantages = r.returns.clone();
        }
    }
    let advantage_clip = PpoConfig::on(c.advantage_clip);
    if c.advantage_norm {
        let mut all: Vec<Vec<f32>> = batch.iter().map(|r| r.advantages.clone()).collect();
        whiten(&mut all, advantage_clip);
        for (r, a) in batch.iter_mut().zip(all) {
            r.advantages = a;
        }
    } else if let Some(clip) = advantage_clip {
        for a in batch.iter_mut().flat_map(|r| r.advantages.iter_mut()) {
            *a = a.clamp(-clip, clip);
        }
    }
}

/// Loss and clipping of the update, averaged over every token of every minibatch.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct UpdateStats {
    /// Mean policy loss.
    pub policy_loss: f64,
    /// Mean value loss.
    pub value_loss: f64,
    /// Share of clipped policy terms.
    pub pg_clip_frac: f64,
    /// Share of clipped value terms.
    pub vf_clip_frac: f64,
}

/// The factorised policy as PPO's learner: the policy, its frozen reference, the tabular critic
/// (one value per prompt and position) and their optimizers.
#[derive(Clone, Debug)]
pub struct FactorisedAgent {
    /// The policy.
    pub policy: Factorised,
    /// The reference (the world's reference distribution).
    pub reference: Factorised,
    /// The tabular critic.
    pub critic: Vec<f64>,
    policy_adam: Adam,
    critic_adam: Adam,
}

impl FactorisedAgent {
    /// The policy at `reference`, the critic at 0.
    pub fn new(reference: Factorised) -> Self {
        let critic = vec![0.0; reference.states()];
        Self {
            policy_adam: Adam::new(reference.len()),
            critic_adam: Adam::new(critic.len()),
            policy: reference.clone(),
            reference,
            critic,
        }
    }

    /// The same policy, reference and critic with fresh optimizer moments (an arm of an
    /// iterative run starting where this one stands).
    pub fn fork(&self) -> Self {
        Self {
            policy_adam: Adam::new(self.policy.len()),
            critic_adam: Adam::new(self.critic.len()),
            ..self.clone()
        }
    }

    /// Make the current policy the KL reference.
    pub fn reference_to_policy(&mut self) {
        self.reference = self.policy.clone();
    }

    /// Put the policy back at the reference, with fresh optimizer moments.
    pub fn policy_to_reference(&mut self) {
        self.policy = self.reference.clone();
        self.policy_adam = Adam::new(self.policy.len());
    }
}

/// The minibatches of the PPO epochs, in order: each epoch shuffles the batch's indices and
/// splits them into exactly `minibatches` parts (sizes differing by at most one). Every policy's
/// update walks these.
pub fn minibatches(len: usize, c: &PpoConfig, rng: &mut Rng) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..len).collect();
    let m = c.minibatches.clamp(1, len.max(1));
    let mut out = Vec::with_capacity(c.ppo_epochs * m);
    for _ in 0..c.ppo_epochs {
        rng.shuffle(&mut order);
        for k in 0..m {
            out.push(order[k * len / m..(k + 1) * len / m].to_vec());
        }
    }
    out
}

/// The PPO epochs over shuffled minibatches of `batch`.
pub fn update(
    l: &mut FactorisedAgent,
    batch: &[Rollout],
    c: &PpoConfig,
    rng: &mut Rng,
) -> UpdateStats {
    let pclip = PpoConfig::on(c.policy_clip);
    let vclip = PpoConfig::on(c.value_clip);
    let gclip = (c.grad_clip > 0.0).then_some(c.grad_clip);
    let mut stats = UpdateStats::default();
    let mut tokens_seen = 0usize;
    for chunk in minibatches(batch.len(), c, rng) {
        let n: usize = chunk.iter().map(|&i| batch[i].actions.len()).sum();
        if n == 0 {
            continue;
        }
        let mut grad = vec![0.0; l.policy.len()];
        let mut vgrad = vec![0.0; l.critic.len()];
        // The logits stay put within a minibatch: each state's log-probabilities once.
        let table = l.policy.log_prob_table();
        for &i in &chunk {
            let r = &batch[i];
            let now = l.policy.action_log_probs(r.prompt, &r.actions, &table);
            for (t, &a) in r.actions.iter().enumerate() {
                let lp = &table[l.policy.state(r.prompt, t)];
                let term = policy_term(now[t], r.logp[t], r.advantages[t], pclip);
                stats.policy_loss += f64::from(term.loss);
                stats.pg_clip_frac += f64::from(u8::from(term.clipped));
                l.policy.add_log_prob_grad(
                    &mut grad,
                    r.prompt,
                    t,
                    a,
                    f64::from(term.grad) / n as f64,
                    lp,
                );
                if c.entropy_coef > 0.0 {
                    // The loss subtracts coef · H: its gradient is −coef · ∂H.
                    l.policy.add_entropy_grad(
                        &mut grad,
                        r.prompt,
                        t,
                        -c.entropy_coef / n as f64,
                        lp,
                    );
                }
                if c.critic {
                    let s = l.policy.state(r.prompt, t);
                    let v = value_term(l.critic[s] as f32, r.values[t], r.returns[t], vclip);
                    stats.value_loss += f64::from(v.loss);
                    stats.vf_clip_frac += f64::from(u8::from(v.clipped));
                    vgrad[s] += f64::from(v.grad) / n as f64;
                }
            }
        }
        tokens_seen += n;
        l.policy_adam.step(&mut l.policy.logits, &grad, c.lr, gclip);
        if c.critic {
            l.critic_adam.step(&mut l.critic, &vgrad, c.critic_lr, None);
        }
    }
    let n = tokens_seen.max(1) as f64;
    UpdateStats {
        policy_loss: stats.policy_loss / n,
        value_loss: stats.value_loss / n,
        pg_clip_frac: stats.pg_clip_frac / n,
        vf_clip_frac: stats.vf_clip_frac / n,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rollout(logp: Vec<f32>, ref_logp: Vec<f32>, values: Vec<f32>, proxy: f32) -> Rollout {
        Rollout {
            actions: vec![0; logp.len()],
            logp,
            ref_logp,
            values,
            proxy,
            ..Default::default()
        }
    }

    #[test]
    fn experiences_put_the_score_on_the_last_token_and_follow_the_switches() {
        let c = PpoConfig {
            kl_coef: 0.5,
            reward_norm: RewardNorm::None,
            reward_clip: 0.0,
            critic: true,
            gamma: 1.0,
            lambda: 1.0,
            advantage_norm: false,
            ..PpoConfig::ppo_max()
        };
        let mut b = vec![rollout(
            vec![-1.0, -1.0],
            vec![-2.0, -1.0],
            vec![0.5, 0.25],
            3.0,
        )];
        make_experiences(&mut b, &c, &mut RunningMoments::default());
        assert_eq!(b[0].rewards, vec![-0.5, 3.0]);
        // γ = λ = 1: advantage = reward-to-go − V.
        assert_eq!(b[0].returns, vec![2.5, 3.0]);
        assert_eq!(b[0].advantages, vec![2.0, 2.75]);
        // Normalised and clipped at δ: two scores far apart land at ±δ.
        let c = PpoConfig {
            reward_norm: RewardNorm::Normalise,
            reward_clip: 0.8,
            critic: false,
            ..c
        };
        let mut b = vec![
            rollout(vec![-1.0], vec![-1.0], vec![0.0], 10.0),
            rollout(vec![-1.0], vec![-1.0], vec![0.0], -10.0),
        ];
        let mut m = RunningMoments::default();
        make_experiences(&mut b, &c, &mut m);
        assert_eq!((b[0].score, b[1].score), (0.8, -0.8));
        assert_eq!(m.count, 2);
        assert_eq!(
            b[0].advantages, b[0].returns,
            "no critic: the return is the advantage"
        );
    }
}
