//! The app panel driven headless with egui_kittest: click Train, watch steps advance.
mod common;

use egui_kittest::{
    Harness,
    kittest::{NodeT, Queryable},
};
use rlhf_lab::app::denoise_panel::DenoisePanel;
use rlhf_lab::app::rm_panel::RmPanel;
use rlhf_lab::app::strength_panel::{Section, StrengthPanel};
use rlhf_lab::app::{RlhfApp, RunState};
use rlhf_lab::compute::Compute;
use rlhf_lab::experiment::ExperimentConfig;

fn app() -> RlhfApp {
    let c = common::small_config(40, 1);
    RlhfApp::new(
        c.with(ExperimentConfig::Rm(c.experiment.clone())),
        Some(Compute::cpu()),
    )
}

fn strength(a: &RlhfApp) -> &StrengthPanel {
    a.panel::<StrengthPanel>().expect("the strength tab")
}

fn denoise(a: &RlhfApp) -> &DenoisePanel {
    a.panel::<DenoisePanel>().expect("the denoising tab")
}

/// Draw frames until the UI is idle. A running worker wakes the UI after every step, so "idle"
/// may never come: then the frames drawn so far are enough.
fn settle(harness: &mut Harness<'_, RlhfApp>) {
    let _ = harness.try_run();
}

fn run_until(harness: &mut Harness<'_, RlhfApp>, what: &str, done: impl Fn(&RlhfApp) -> bool) {
    for _ in 0..600 {
        harness.step();
        if done(harness.state()) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("timed out waiting for {what}");
}

#[test]
fn train_button_runs_steps_that_reach_the_charts() {
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1100.0, 800.0))
        .build_ui_state(|ui, app: &mut RlhfApp| app.ui(ui), app());
    settle(&mut harness);
    harness.get_by_label("Train").click();
    run_until(&mut harness, "10 steps", |a| a.shell.history.step >= 10);
    assert!(harness.state().shell.history.loss.len() >= 10);
    harness.get_by_label("Pause").click();
    settle(&mut harness);
    assert_eq!(harness.state().shell.state, RunState::Paused);
    // Let the step in flight when Pause arrived land, then check that nothing more runs.
    std::thread::sleep(std::time::Duration::from_millis(500));
    settle(&mut harness);
    let paused_at = harness.state().shell.history.step;
    std::thread::sleep(std::time::Duration::from_millis(500));
    settle(&mut harness);
    assert_eq!(
        harness.state().shell.history.step,
        paused_at,
        "paused runs do not step"
    );
    harness.get_by_label("Step").click();
    run_until(&mut harness, "one more step", |a| {
        a.shell.history.step > paused_at
    });
    std::thread::sleep(std::time::Duration::from_millis(300));
    settle(&mut harness);
    assert_eq!(
        harness.state().shell.history.step,
        paused_at + 1,
        "Step takes exactly one step"
    );
    harness.get_by_label("Train").click();
    run_until(&mut harness, "the end", |a| a.shell.state == RunState::Done);
    std::thread::sleep(std::time::Duration::from_millis(300));
    settle(&mut harness);
    let h = &harness.state().shell.history;
    assert_eq!(
        h.error, None,
        "the worker's exit after the last step is not an error"
    );
    assert_eq!(harness.state().shell.state, RunState::Done);
    let features = h.features.as_ref().expect("held-out features at the end");
    assert_eq!(features.label, "run 1: baseline, seed 1");
    assert_eq!(features.chosen.len(), features.rejected.len());
    assert!(features.separation.is_some());
    assert_eq!(h.step, 40);
    assert!(!h.chosen_rewards.is_empty() && !h.validation_accuracy.is_empty());
    assert!(
        harness
            .query_all_by_label_contains("validation accuracy")
            .next()
            .is_some()
    );
    // The finished run handed out its model: the Save button is live and the bytes are a model
    // file that scores like the run.
    let bytes = h.model.clone().expect("the trained model");
    let saved = rlhf_lab::model::saved::SavedRewardModel::from_bytes(&bytes).expect("a model file");
    assert_eq!(
        saved.header.model,
        harness.state().panel::<RmPanel>().unwrap().config.model
    );
    assert!(
        !harness
            .get_by_label("Save model…")
            .accesskit_node()
            .is_disabled()
    );
    // Hand the trained model to the PPO tab as its proxy: PPO then trains no proxy of its own.
    harness
        .get_by_label("Use this model as the PPO tab's proxy")
        .click();
    settle(&mut harness);
    assert_eq!(harness.state().shell.tab, "ppo");
    assert!(harness.state().shell.handoff.reward_model.is_some());
    {
        let c = &mut harness
            .state_mut()
            .panel_mut::<rlhf_lab::app::ppo_panel::PpoPanel>()
            .unwrap()
            .config;
        c.steps = 3;
        c.rollouts = 16;
        c.bon_trials = 0;
    }
    harness.get_by_label("Train").click();
    run_until(&mut harness, "PPO on the handed model", |a| {
        a.shell.state == RunState::Done
    });
    let v = &harness
        .state()
        .panel::<rlhf_lab::app::ppo_panel::PpoPanel>()
        .unwrap()
        .view;
    assert_eq!(v.curves.len(), 3);
    assert_eq!(v.progress.jobs, 0, "no proxy stage ran");
    harness.get_by_label("Reward model").click();
    settle(&mut harness);
    harness.get_by_label("Reset").click();
    settle(&mut harness);
    assert_eq!(harness.state().shell.state, RunState::Idle);
    assert!(harness.state().shell.history.loss.is_empty());
    assert!(
        harness
            .get_by_label("Save model…")
            .accesskit_node()
            .is_disabled(),
        "nothing to save after Reset"
    );
}

#[test]
fn invalid_settings_block_training_with_a_message() {
    let mut a = app();
    a.panel_mut::<RmPanel>().unwrap().config.model.heads = 3;
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1100.0, 800.0))
        .build_ui_state(|ui, app: &mut RlhfApp| app.ui(ui), a);
    settle(&mut harness);
    harness.get_by_label("Train").click();
    settle(&mut harness);
    assert_eq!(harness.state().shell.state, RunState::Idle);
    assert!(
        harness
            .query_all_by_label_contains("does not divide")
            .next()
            .is_some()
    );
}

#[test]
fn strength_tab_trains_an_ensemble_and_draws_its_views() {
    let mut a = app();
    let c = &mut a.panel_mut::<StrengthPanel>().unwrap().config;
    c.models = 3;
    c.rm.epochs = 1.0;
    c.band_retrain = true;
    c.band_epochs = 1.0;
    if let rlhf_lab::experiment::DataSource::Synthetic(s) = &mut a.shell.run.data.source {
        s.flip_rate = 0.2;
    }
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1200.0, 900.0))
        .build_ui_state(|ui, app: &mut RlhfApp| app.ui(ui), a);
    settle(&mut harness);
    harness.get_by_label("Preference strength").click();
    settle(&mut harness);
    assert!(
        harness
            .query_all_by_label_contains("models M")
            .next()
            .is_some(),
        "the ensemble settings show"
    );
    harness.get_by_label("Train").click();
    run_until(&mut harness, "the ensemble and bands", |a| {
        a.shell.state == RunState::Done
    });
    // The worker's exit after the last step is not an error.
    std::thread::sleep(std::time::Duration::from_millis(300));
    settle(&mut harness);
    assert_eq!(harness.state().shell.history.error, None);
    let v = &strength(harness.state()).view;
    assert_eq!(v.members, (3, 3));
    assert_eq!(v.mu.len(), 600);
    assert_eq!(v.groups.len(), 20);
    assert_eq!(v.bands.len(), 10, "band-alone retraining ran");
    assert!(
        v.auroc.is_some(),
        "the synthetic world's truth gives a PR curve"
    );
    let report = v.report.as_ref().expect("report");
    let train_mu = v.train_mu();
    let negative = train_mu.iter().filter(|&&m| m < 0.0).count() as f32 / train_mu.len() as f32;
    assert_eq!(
        report.frac_mu_negative, negative,
        "the panel shows the runner's μ"
    );
    // The tab followed the run to its band models; each part shows when picked.
    assert_eq!(strength(harness.state()).section, Section::Bands);
    for (part, label) in [
        (
            "band models (Fig 4)",
            "A fresh reward model trained on each",
        ),
        ("mislabelled pairs", "Lowest-μ training pairs"),
        ("μ and σ (Figs 1–2)", "20 groups sorted by μ"),
    ] {
        harness.get_by_label(part).click();
        settle(&mut harness);
        assert!(
            harness.query_all_by_label_contains(label).next().is_some(),
            "{label} is drawn"
        );
    }
    assert!(strength(harness.state()).picked);
    // The denoising tab does not inherit the finished strength run: it can start its own.
    harness.get_by_label("Denoising").click();
    settle(&mut harness);
    assert!(denoise(harness.state()).view.runs.is_empty());
    assert!(
        harness
            .query_all_by_label_contains("run is in progress")
            .next()
            .is_none(),
        "a finished run does not block the other tabs"
    );
    // Hand the ensemble's μ over: the denoising run then trains no ensemble of its own.
    harness.get_by_label("Preference strength").click();
    settle(&mut harness);
    let mu = strength(harness.state()).view.mu.clone();
    harness
        .get_by_label("Use this μ in the Denoising tab")
        .click();
    settle(&mut harness);
    assert_eq!(harness.state().shell.tab, "denoise");
    let handed = harness
        .state()
        .shell
        .handoff
        .strength
        .clone()
        .expect("μ handed over");
    assert_eq!(handed.mu, mu);
    {
        let c = &mut harness
            .state_mut()
            .panel_mut::<DenoisePanel>()
            .unwrap()
            .config;
        c.methods = vec![
            rlhf_lab::experiment::Method::Baseline,
            rlhf_lab::experiment::Method::Flip,
        ];
        c.seeds = 1;
        c.rm.epochs = 1.0;
    }
    harness.get_by_label("Train").click();
    run_until(&mut harness, "the methods", |a| {
        a.shell.state == RunState::Done
    });
    let v = &denoise(harness.state()).view;
    assert_eq!(v.members, (0, 0), "no ensemble trained: {:?}", v.members);
    assert_eq!(v.runs.len(), 2);
    assert_eq!(harness.state().shell.history.error, None);
}

#[test]
fn ppo_tab_trains_the_proxy_then_the_policy_and_draws_its_charts() {
    use rlhf_lab::app::ppo_panel::PpoPanel;
    let mut a = app();
    {
        let c = &mut a.panel_mut::<PpoPanel>().unwrap().config;
        c.steps = 30;
        c.rollouts = 32;
        c.bon_trials = 2;
        c.bon_max_n = 16;
    }
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1300.0, 1000.0))
        .build_ui_state(|ui, app: &mut RlhfApp| app.ui(ui), a);
    settle(&mut harness);
    harness.get_by_label("PPO & over-optimisation").click();
    settle(&mut harness);
    assert!(
        harness
            .query_all_by_label_contains("KL penalty β")
            .next()
            .is_some(),
        "the PPO switches show"
    );
    // A preset button sets its switches, keeps the rest, and explains itself.
    harness.get_by_label("reinforce").click();
    settle(&mut harness);
    {
        let p = harness.state().panel::<PpoPanel>().unwrap();
        assert!(
            !p.config.critic && p.config.steps == 30,
            "switches set, steps kept"
        );
    }
    assert!(
        harness
            .query_all_by_label_contains("Gao et al.")
            .next()
            .is_some(),
        "the preset's paragraph shows"
    );
    harness.get_by_label("Train").click();
    run_until(&mut harness, "the PPO run", |a| {
        a.shell.state == RunState::Done
    });
    std::thread::sleep(std::time::Duration::from_millis(300));
    settle(&mut harness);
    assert_eq!(harness.state().shell.history.error, None);
    let v = &harness.state().panel::<PpoPanel>().unwrap().view;
    assert_eq!(v.curves.len(), 30);
    assert_eq!(v.best_of_n.len(), 5, "n = 1, 2, 4, 8, 16");
    assert!(v.checkpoints.len() >= 10);
    assert!(v.report.is_some() && !v.samples.is_empty() && !v.tokens.is_empty());
    for label in [
        "Proxy and gold reward per PPO step",
        "Distribution shift",
        "token by token",
    ] {
        assert!(
            harness.query_all_by_label_contains(label).next().is_some(),
            "{label} is drawn"
        );
    }
}

#[test]
fn drawing_the_settings_never_changes_a_loaded_value_outside_a_sliders_range() {
    use rlhf_lab::experiment::ppo::PpoConfig;
    use rlhf_lab::experiment::{RmTrainConfig, Run};
    for experiment in [
        ExperimentConfig::Rm(RmTrainConfig {
            eval_every: 5000,
            batch_size: 1000,
            ..Default::default()
        }),
        ExperimentConfig::Ppo(PpoConfig {
            steps: 3,
            rollouts: 4,
            lr: 5.0,
            ..Default::default()
        }),
    ] {
        let config = Run {
            experiment,
            ..Default::default()
        };
        let mut harness = Harness::builder()
            .with_size(egui::vec2(1100.0, 800.0))
            .build_ui_state(
                |ui, app: &mut RlhfApp| app.ui(ui),
                RlhfApp::new(config.clone(), Some(Compute::cpu())),
            );
        settle(&mut harness);
        assert_eq!(
            harness.state().run_config(),
            config,
            "the config survives drawing"
        );
    }
}
