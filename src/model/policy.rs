//! The policy language model: the shared causal trunk and an LM head (tied to the token
//! embedding by default), with a fixed mask of the tokens it may emit. Log-probabilities and
//! sampling read the same masked distribution, so PPO's ratios are those of what was sampled.
use burn::{
    module::Module,
    tensor::{Device, Int, Tensor, TensorData, activation::log_softmax},
};
use serde::{Deserialize, Serialize};

use super::heads::{LmHead, last_token};
use super::kv_cache::KvCache;
use super::trunk::{TransformerTrunk, TrunkShape};
use crate::data::encode::PaddedBatch;

/// Shape of the policy LM. The vocabulary comes from the tokenizer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PolicyConfig {
    /// Width of the residual stream.
    pub d_model: usize,
    /// Transformer blocks.
    pub layers: usize,
    /// Attention heads (divides `d_model`).
    pub heads: usize,
    /// Feed-forward width.
    pub ffn: usize,
    /// Longest sequence (prompt + response + EOS), in tokens.
    pub max_len: usize,
    /// Dropout (0 keeps sampling and scoring identical).
    pub dropout: f64,
    /// Tie the LM head to the token embedding.
    pub tied: bool,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        Self {
            d_model: 64,
            layers: 2,
            heads: 4,
            ffn: 128,
            max_len: 32,
            dropout: 0.0,
            tied: true,
        }
    }
}

impl PolicyConfig {
    /// Check the shape, naming the field and the fix.
    pub fn validate(&self) -> Result<(), String> {
        for (name, v) in [
            ("policy_model.d_model", self.d_model),
            ("policy_model.layers", self.layers),
            ("policy_model.heads", self.heads),
            ("policy_model.ffn", self.ffn),
        ] {
            if v == 0 {
                return Err(format!("{name} = 0: must be at least 1"));
            }
        }
        if !self.d_model.is_multiple_of(self.heads) {
            return Err(format!(
                "policy_model.heads = {} does not divide policy_model.d_model = {}",
                self.heads, self.d_model
            ));
        }
        if self.max_len < 2 {
            return Err("policy_model.max_len < 2: room for a token and EOS is needed".into());
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(format!(
                "policy_model.dropout = {}: must be in [0, 1)",
                self.dropout
            ));
        }
        Ok(())
    }

    /// The trunk's shape for a vocabulary of `vocab_size` tokens (the policy's and the critic's).
    pub fn trunk_shape(&self, vocab_size: usize) -> TrunkShape {
        TrunkShape {
            vocab_size,
            d_model: self.d_model,
            layers: self.layers,
            heads: self.heads,
            ffn: self.ffn,
            max_len: self.max_len,
            dropout: self.dropout,
        }
    }

    /// Build with weights drawn from `seed` on `device`; `allowed[id]` says which tokens the
    /// policy may emit.
    pub fn init_seeded(&self, allowed: &[bool], seed: u64, device: &Device) -> PolicyLm {
        let vocab_size = allowed.len();
        let shape = self.trunk_shape(vocab_size);
        let tied = self.tied;
        let d = self.d_model;
        let mask: Vec<f32> = allowed
            .iter()
            .map(|&a| if a { 0.0 } else { -1e9 })
            .collect();
        super::init::seeded(seed, device, |cpu| PolicyLm {
            trunk: TransformerTrunk::new(&shape, cpu),
            head: LmHead::new(d, vocab_size, tied, cpu),
            mask,
        })
    }
}

/// The policy LM.
#[derive(Module, Debug)]
pub struct PolicyLm {
    trunk: TransformerTrunk,
    head: LmHead,
    /// 0 for tokens it may emit, −1e9 for the others (prompt words, padding).
    mask: Vec<f32>,
}

impl PolicyLm {
    /// The device the weights live on.
    pub fn device(&self) -> Device {
        self.trunk.token_embedding().device()
    }

    fn masked(&self, logits: Tensor<3>) -> Tensor<3> {
        let device = logits.device();
        let v = self.mask.len();
        let mask = Tensor::<3>::from_data(TensorData::new(self.mask.clone(), [1, 1, v]), &device);
        log_softmax(logits + mask, 2)
    }

    /// Log-probability of each next real token: `[rows, seq − 1]`, entry `t` is
    /// `log π(ids[t + 1] | ids[..=t])`; entries past a row's end are 0-padded garbage to mask.
    pub fn next_token_log_probs(&self, batch: &PaddedBatch) -> Tensor<2> {
        let device = self.device();
        let (rows, seq) = (batch.rows, batch.seq_len);
        let hidden = self.trunk.forward(batch, &device).hidden;
        let logp = self.masked(self.head.forward(hidden, self.trunk.token_embedding()));
        let v = self.mask.len();
        let logp = logp.slice([0..rows, 0..seq - 1, 0..v]);
        let mut next = Vec::with_capacity(rows * (seq - 1));
        for r in 0..rows {
            next.extend(
                batch.ids[r * seq + 1..(r + 1) * seq]
                    .iter()
                    .map(|&id| i64::from(id)),
            );
        }
        let next = Tensor::<3, Int>::from_data(TensorData::new(next, [rows, seq - 1, 1]), &device);
        logp.gather(2, next).reshape([rows, seq - 1])
    }

    /// Log-probabilities of the token after each row's last real token, `[rows, vocab]`.
    pub fn last_log_probs(&self, batch: &PaddedBatch) -> Tensor<2> {
        let device = self.device();
        let hidden = self.trunk.forward(batch, &device).hidden;
        self.log_probs_of(last_token(hidden, batch, &device))
    }

    /// The masked next-token log-probabilities of hidden states `[rows, d_model]`.
    fn log_probs_of(&self, hidden: Tensor<2>) -> Tensor<2> {
        let [rows, d] = hidden.dims();
        let logp = self.masked(
            self.head
                .forward(hidden.reshape([rows, 1, d]), self.trunk.token_embedding()),
        );
        logp.reshape([rows, self.mask.len()])
    }

    /// Start cached generation from right-padded prompts: [`Self::last_log_probs`] of the
    /// prompts, and the key/value cache the next tokens decode from.
    pub fn start_generation(&self, prompts: &PaddedBatch) -> (Tensor<2>, KvCache) {
        let (hidden, cache) = self.trunk.prefill(prompts, &self.device());
        (self.log_probs_of(hidden), cache)
    }

    /// Feed one token per cached row; the log-probabilities of the token after it,
    /// `[rows, vocab]` (errors when a row would pass `max_len`).
    pub fn continue_generation(
        &self,
        cache: &mut KvCache,
        tokens: &[u32],
    ) -> Result<Tensor<2>, String> {
        let hidden = self.trunk.decode(cache, tokens, &self.device())?;
        Ok(self.log_probs_of(hidden))
    }

    /// The dropout probability (cached and uncached sampling agree only without dropout).
    pub fn dropout(&self) -> f64 {
        self.trunk.dropout()
    }
}

impl PolicyLm {
    /// Entropy (nats) of the next-token distribution at every position but the last,
    /// `[rows, seq − 1]`.
    pub fn next_token_entropies(&self, batch: &PaddedBatch) -> Tensor<2> {
        let device = self.device();
        let (rows, seq) = (batch.rows, batch.seq_len);
        let hidden = self.trunk.forward(batch, &device).hidden;
        let logp = self.masked(self.head.forward(hidden, self.trunk.token_embedding()));
        let v = self.mask.len();
        let logp = logp.slice([0..rows, 0..seq - 1, 0..v]);
        (logp.clone().exp() * logp)
            .sum_dim(2)
            .neg()
            .reshape([rows, seq - 1])
    }
}

/// The transformer critic: its own trunk and a value per position.
#[derive(Module, Debug)]
pub struct ValueLm {
    trunk: TransformerTrunk,
    head: super::heads::ValueHead,
}

impl PolicyConfig {
    /// A critic of the same shape, weights from `seed`.
    pub fn init_critic(&self, vocab_size: usize, seed: u64, device: &Device) -> ValueLm {
        let shape = self.trunk_shape(vocab_size);
        let d = self.d_model;
        super::init::seeded(seed, device, |cpu| ValueLm {
            trunk: TransformerTrunk::new(&shape, cpu),
            head: super::heads::ValueHead::new(d, cpu),
        })
    }
}

impl ValueLm {
    /// The critic on a reward model's trunk (rebuilt as `shape`, the reward model's own, with
    /// dropout off), its value head the reward head mapped by `scale · r + shift`; `None` when
    /// the reward model has no transformer trunk.
    pub fn from_reward_model(
        rm: &super::reward::RewardModel,
        shape: &TrunkShape,
        scale: f32,
        shift: f32,
    ) -> Option<Self> {
        let (trunk, head) = rm.trunk_and_head()?;
        let device = head.device();
        let quiet = TrunkShape {
            dropout: 0.0,
            ..*shape
        };
        let trunk = TransformerTrunk::new(&quiet, &device).load_record(trunk.clone().into_record());
        Some(Self {
            trunk,
            head: super::heads::ValueHead::from_reward_head(head.detach(), scale, shift),
        })
    }

    /// This critic with a constant value head `c` (the trunk kept).
    pub fn with_constant(self, c: f32) -> Self {
        let e = self.trunk.token_embedding();
        let [_, d_model] = e.dims();
        Self {
            head: super::heads::ValueHead::constant(d_model, c, &e.device()),
            trunk: self.trunk,
        }
    }

    /// The longest sequence the critic reads.
    pub fn max_len(&self) -> usize {
        self.trunk.max_len()
    }

    /// Values `[rows, seq]`: position t is the value of the state after tokens `0..=t`.
    pub fn values(&self, batch: &PaddedBatch) -> Tensor<2> {
        let device = self.trunk.token_embedding().device();
        self.head.forward(self.trunk.forward(batch, &device).hidden)
    }
}
