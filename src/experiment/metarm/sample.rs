//! What MetaRM reads from a policy: groups of k responses to one prompt (the meta set, and
//! held-out groups for J) and pairs of responses to one prompt labelled by the gold reward
//! (the shifted distribution's accuracy), all drawn from the policy's current distribution.
use super::config::MetaSampling;
use crate::data::rng::Rng;
use crate::experiment::error::ExperimentError;
use crate::experiment::ppo::PpoRunner;
use crate::experiment::ppo::proxy::Proxy;
use crate::experiment::rm::meta::{MetaGroup, MetaSet};

/// One prompt's responses (words, without EOS).
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    /// The prompt (an index into the run's prompts).
    pub prompt: usize,
    /// The responses.
    pub responses: Vec<Vec<usize>>,
}

/// Two responses to one prompt and their gold rewards.
#[derive(Clone, Debug, PartialEq)]
pub struct GoldPair {
    /// The prompt.
    pub prompt: usize,
    /// The first response.
    pub a: Vec<usize>,
    /// The second response.
    pub b: Vec<usize>,
    /// Gold reward of `a`.
    pub gold_a: f32,
    /// Gold reward of `b`.
    pub gold_b: f32,
}

/// Everything drawn from one policy.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PolicySamples {
    /// Groups the MetaRM arm trains on.
    pub train: Vec<Group>,
    /// Groups J is measured on.
    pub heldout: Vec<Group>,
    /// Pairs labelled by gold.
    pub pairs: Vec<GoldPair>,
}

/// `groups` groups of `k` responses, each to a prompt drawn from `prompts`.
pub async fn draw_groups(
    runner: &PpoRunner,
    prompts: &[usize],
    groups: usize,
    k: usize,
    rng: &mut Rng,
) -> Result<Vec<Group>, ExperimentError> {
    if prompts.is_empty() {
        return Err(ExperimentError::Config(
            "no prompts to sample the policy on".into(),
        ));
    }
    let chosen: Vec<usize> = (0..groups)
        .map(|_| prompts[rng.below(prompts.len())])
        .collect();
    let asks: Vec<usize> = chosen
        .iter()
        .flat_map(|&p| std::iter::repeat_n(p, k))
        .collect();
    let mut words = Vec::with_capacity(asks.len());
    for chunk in asks.chunks(256) {
        words.extend(runner.sample_words(chunk, rng).await?);
    }
    let mut words = words.into_iter();
    Ok(chosen
        .into_iter()
        .map(|prompt| Group {
            prompt,
            responses: words.by_ref().take(k).collect(),
        })
        .collect())
}

/// Draw the meta groups, the held-out groups and the gold-labelled pairs of `sampling` from
/// `runner`'s policy, on `prompts`.
pub async fn draw(
    runner: &PpoRunner,
    prompts: &[usize],
    sampling: &MetaSampling,
    k: usize,
    rng: &mut Rng,
) -> Result<PolicySamples, ExperimentError> {
    let train = draw_groups(runner, prompts, sampling.groups, k, rng).await?;
    let heldout = draw_groups(runner, prompts, sampling.heldout_groups, k, rng).await?;
    let twos = draw_groups(runner, prompts, sampling.shifted_pairs, 2, rng).await?;
    let pairs = gold_pairs(runner, twos).await?;
    Ok(PolicySamples {
        train,
        heldout,
        pairs,
    })
}

/// Pairs of the two responses of each group, with their gold rewards.
pub async fn gold_pairs(
    runner: &PpoRunner,
    twos: Vec<Group>,
) -> Result<Vec<GoldPair>, ExperimentError> {
    let items: Vec<(usize, Vec<usize>)> = twos
        .iter()
        .flat_map(|g| g.responses.iter().map(move |r| (g.prompt, r.clone())))
        .collect();
    let gold = runner.env().gold(&items).await?;
    Ok(twos
        .into_iter()
        .zip(gold.chunks(2))
        .filter_map(|(g, gold)| {
            let mut r = g.responses.into_iter();
            Some(GoldPair {
                prompt: g.prompt,
                a: r.next()?,
                b: r.next()?,
                gold_a: *gold.first()?,
                gold_b: *gold.get(1)?,
            })
        })
        .collect())
}

/// The groups as a meta set the reward model `proxy` reads (its token space and length).
pub fn meta_set(groups: &[Group], k: usize, proxy: &Proxy) -> Result<MetaSet, ExperimentError> {
    let max_len = proxy.config().max_len;
    let groups = groups
        .iter()
        .map(|g| {
            let (sequences, starts) = g
                .responses
                .iter()
                .map(|words| proxy.space().scored(g.prompt, words, max_len))
                .collect::<Result<Vec<_>, _>>()?
                .into_iter()
                .unzip();
            Ok(MetaGroup {
                prompt: g.prompt,
                sequences,
                starts,
            })
        })
        .collect::<Result<Vec<_>, ExperimentError>>()?;
    let set = MetaSet { k, groups };
    set.check().map_err(ExperimentError::Config)?;
    Ok(set)
}
