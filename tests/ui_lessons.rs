//! The app as a teaching instrument, driven headless with egui_kittest: every lesson preset loads
//! with its explainer, runs by its buttons and fills its charts; the wheel scrolls the page (Ctrl
//! zooms a chart); bar hover text is a tooltip above everything; the link follows the settings;
//! lessons can hide panels; the speed limit and Step size hold; charts, report and config save;
//! the data view shows pairs; screenshots of the app are rendered.
use egui_kittest::{
    Harness,
    kittest::{NodeT, Queryable},
};
use rlhf_lab::app::controller::StepSize;
use rlhf_lab::app::denoise_panel::DenoisePanel;
use rlhf_lab::app::ppo_panel::PpoPanel;
use rlhf_lab::app::rlhf_panel::RlhfPanel;
use rlhf_lab::app::strength_panel::StrengthPanel;
use rlhf_lab::app::{RlhfApp, RunState};
use rlhf_lab::compute::Compute;
use rlhf_lab::experiment::{DataSource, ExperimentConfig, presets};

/// Pairs of the synthetic world in these tests (the lessons' own sizes are for a class).
const PAIRS: usize = 400;

/// The lesson `name` on the CPU, on a smaller world.
fn lesson(name: &str) -> RlhfApp {
    let mut app = RlhfApp::with_preset(name, Some(Compute::cpu())).expect("the lesson loads");
    if let DataSource::Synthetic(w) = &mut app.shell.run.data.source {
        w.pairs = PAIRS;
    }
    app
}

fn harness(app: RlhfApp, height: f32) -> Harness<'static, RlhfApp> {
    Harness::builder()
        .with_size(egui::vec2(1280.0, height))
        .build_ui_state(|ui, app: &mut RlhfApp| app.ui(ui), app)
}

fn run_until(harness: &mut Harness<'_, RlhfApp>, what: &str, done: impl Fn(&RlhfApp) -> bool) {
    for _ in 0..1200 {
        harness.step();
        if done(harness.state()) {
            return;
        }
        assert_ne!(
            harness.state().shell.state,
            RunState::Failed,
            "{what}: {:?}",
            harness.state().shell.history.error
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("timed out waiting for {what}");
}

/// Files the app saved: (name, bytes).
type Saved = std::sync::Arc<std::sync::Mutex<Vec<(String, Vec<u8>)>>>;

/// Send the files `app` saves to a list instead of the file dialog.
fn keep_saved_files(app: &mut RlhfApp) -> Saved {
    let saved = Saved::default();
    let sink = saved.clone();
    app.shell.on_save = Some(Box::new(move |name, bytes| {
        if let Ok(mut s) = sink.lock() {
            s.push((name.to_string(), bytes.to_vec()));
        }
    }));
    saved
}

/// Press Train and draw frames until the run is done.
fn train_to_end(h: &mut Harness<'_, RlhfApp>, what: &str) {
    h.run_steps(2);
    h.get_by_label("Train").click();
    run_until(h, &format!("{what}: done"), |a| {
        a.shell.state == RunState::Done
    });
    h.run_steps(5);
}

/// What shows that a lesson's charts have data.
fn charts_have_data(app: &RlhfApp) -> bool {
    let h = &app.shell.history;
    match app.run_config().experiment {
        ExperimentConfig::Rm(_) => !h.loss.is_empty() && !h.validation_accuracy.is_empty(),
        ExperimentConfig::Strength(_) => app
            .panel::<StrengthPanel>()
            .is_some_and(|p| !p.view.mu.is_empty()),
        ExperimentConfig::Denoise(_) => app
            .panel::<DenoisePanel>()
            .is_some_and(|p| !p.view.live.is_empty()),
        ExperimentConfig::Ppo(_) => app
            .panel::<PpoPanel>()
            .is_some_and(|p| !p.view.curves.is_empty()),
        ExperimentConfig::Rlhf(_) => app
            .panel::<RlhfPanel>()
            .is_some_and(|p| !p.view.curves.is_empty()),
    }
}

/// Load a lesson, find its explainer, press Train, wait for its charts' data, and check the
/// placeholder made way for them.
fn lesson_runs(name: &str) {
    let preset = presets::find(name).unwrap();
    let mut h = harness(lesson(name), 800.0);
    h.run_steps(3);
    assert_eq!(h.state().preset(), name);
    assert_eq!(
        h.state().link(),
        format!("preset={name}&pairs={PAIRS}"),
        "the link names the lesson and the one change"
    );
    let opening: String = preset.about.chars().take(40).collect();
    assert!(
        h.query_all_by_label_contains(&opening).next().is_some(),
        "{name}: the explainer shows"
    );
    assert!(
        h.query_all_by_label_contains(&preset.look_for.chars().take(30).collect::<String>())
            .next()
            .is_some(),
        "{name}: what to look for shows"
    );
    assert!(
        h.query_all_by_label_contains("will appear")
            .next()
            .is_some(),
        "{name}: a placeholder says what will appear, no empty axes"
    );
    h.get_by_label("Train").click();
    run_until(
        &mut h,
        &format!("{name}: charts with data"),
        charts_have_data,
    );
    h.run_steps(3);
    assert!(
        h.query_all_by_label_contains("press Train")
            .next()
            .is_none()
            || matches!(
                h.state().run_config().experiment,
                ExperimentConfig::Rm(_) | ExperimentConfig::Ppo(_) | ExperimentConfig::Rlhf(_)
            ),
        "{name}: the first placeholder made way for the charts"
    );
    assert_eq!(h.state().shell.history.error, None);
}

#[test]
fn lesson_rm_runs() {
    lesson_runs("rm");
}

#[test]
fn lesson_contrastive_runs() {
    lesson_runs("contrastive");
}

#[test]
fn lesson_strength_runs() {
    lesson_runs("strength");
}

#[test]
fn lesson_bands_runs() {
    lesson_runs("bands");
}

#[test]
fn lesson_denoise_runs() {
    lesson_runs("denoise");
}

#[test]
fn lesson_soft_labels_runs() {
    lesson_runs("soft-labels");
}

#[test]
fn lesson_ppo_runs() {
    lesson_runs("ppo");
}

#[test]
fn the_ppo_tabs_charts_save_their_data_too() {
    let mut app = lesson("ppo");
    if let Some(p) = app.panel_mut::<PpoPanel>() {
        p.config.steps = 5;
    }
    let saved = keep_saved_files(&mut app);
    let mut h = harness(app, 800.0);
    train_to_end(&mut h, "a short PPO run");
    h.get_all_by_label("CSV")
        .next()
        .expect("a CSV button")
        .click();
    h.run_steps(3);
    let files = saved.lock().unwrap().clone();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].0, "proxy-and-gold-reward-per-ppo-step.csv");
    let csv = String::from_utf8_lossy(&files[0].1);
    assert!(csv.starts_with("series,step,reward\nproxy,0,"), "{csv}");
    // A row per step for proxy and for gold.
    assert_eq!(csv.lines().count(), 1 + 2 * 5, "{csv}");
}

#[test]
fn lesson_rlhf_runs() {
    lesson_runs("rlhf");
}

/// The Iterative RLHF tab: Step by round stops at each round's end (both arms judged), and the
/// finished run draws every view — gold per step, the judge's bars, MetaRM's J, the spread, the
/// |Δr| histograms, the map and the table — whose data saves as CSV.
#[test]
fn the_rlhf_tab_steps_by_round_and_draws_every_view() {
    let mut app = lesson("rlhf");
    let saved = keep_saved_files(&mut app);
    let mut h = harness(app, 800.0);
    h.run_steps(2);
    h.get_by_value("Step = 1 step").click();
    h.run_steps(2);
    h.get_by_label("Step = a round").click();
    h.run_steps(2);
    // The first press ends with the start (the first reward model), the next with round 1.
    let rows = |a: &RlhfApp| a.panel::<RlhfPanel>().map_or(0, |p| p.view.rows.len());
    h.get_by_label("Step").click();
    run_until(&mut h, "the start", |a| {
        a.panel::<RlhfPanel>()
            .is_some_and(|p| p.view.start.is_some())
            && a.shell.state == RunState::Paused
    });
    h.get_by_label("Step").click();
    run_until(&mut h, "round 1", |a| {
        rows(a) == 2 && a.shell.state == RunState::Paused
    });
    std::thread::sleep(std::time::Duration::from_millis(300));
    h.run_steps(3);
    assert_eq!(rows(h.state()), 2, "one round: a row per arm, then a pause");
    h.get_by_label("Train").click();
    run_until(&mut h, "the end", |a| a.shell.state == RunState::Done);
    h.run_steps(4);
    let view = &h.state().panel::<RlhfPanel>().unwrap().view;
    assert_eq!(view.rows.len(), 6);
    assert!(view.report.is_some() && view.head_to_head.is_some() && !view.features.is_empty());
    for title in [
        "Gold reward over PPO steps",
        "Gold and proxy at each round's end",
        "Each round's policy against SFT, judged by gold",
        "MetaRM's difference loss J while each round's reward model trains",
        "Distribution shift: the first reward model's reward gaps as PPO goes on",
        "How far apart the reward models set the policy's answers",
        "Where the policy's answers land in the reward model's feature space",
        "Round by round",
    ] {
        assert!(
            h.query_all_by_label_contains(title).next().is_some(),
            "the tab shows {title}"
        );
    }
    assert!(
        h.query_all_by_label_contains("win ").next().is_some(),
        "the head-to-head line"
    );
    // The charts' numbers save as CSV (those in view take the click): the judge's among them.
    let buttons = h.get_all_by_label("CSV").count();
    for i in 0..buttons {
        h.get_all_by_label("CSV")
            .nth(i)
            .expect("a CSV button")
            .click();
        h.run_steps(2);
    }
    let files = saved.lock().unwrap().clone();
    assert!(
        buttons >= 7 && files.len() >= 3,
        "{buttons} buttons, {} files",
        files.len()
    );
    let (_, bytes) = files
        .iter()
        .find(|(name, _)| name == "each-round-s-policy-against-sft-judged-by-gold.csv")
        .expect("the judge's CSV");
    let csv = String::from_utf8_lossy(bytes);
    assert!(
        csv.starts_with("round,arm,win,tie,lose,gold,gold_at_matched_kl\n1,metarm,"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 7);
}

#[test]
fn every_lesson_has_a_test_here() {
    let names: Vec<String> = presets::all()
        .unwrap()
        .iter()
        .map(|p| p.name.clone())
        .collect();
    assert_eq!(
        names,
        [
            "rm",
            "contrastive",
            "strength",
            "bands",
            "denoise",
            "soft-labels",
            "ppo",
            "rlhf"
        ],
        "a new lesson needs its lesson_…_runs test above"
    );
}

fn auto_bounds(h: &Harness<'_, RlhfApp>, id: &str) -> bool {
    let memory = egui_plot::PlotMemory::load(&h.ctx, egui::Id::unique(id))
        .unwrap_or_else(|| panic!("chart {id} was drawn"));
    memory.auto_bounds.x && memory.auto_bounds.y
}

fn wheel(h: &Harness<'_, RlhfApp>, dy: f32, modifiers: egui::Modifiers) {
    h.event(egui::Event::MouseWheel {
        unit: egui::MouseWheelUnit::Point,
        delta: egui::vec2(0.0, dy),
        phase: egui::TouchPhase::Move,
        source: egui::MouseWheelSource::Wheel,
        modifiers,
    });
}

/// The strength lesson with its band models, run to the end in a window `height` high, showing
/// its μ part.
fn finished_strength(height: f32) -> Harness<'static, RlhfApp> {
    let mut app = lesson("bands");
    if let Some(p) = app.panel_mut::<StrengthPanel>() {
        p.config.models = 3;
        p.config.rm.epochs = 1.0;
        p.config.band_epochs = 1.0;
    }
    // Frames 1/30 s apart on egui's clock (kittest's default, 1/4 s, spaces two clicks too far
    // for a double-click).
    let mut h = Harness::builder()
        .with_size(egui::vec2(1280.0, height))
        .with_step_dt(1.0 / 30.0)
        .build_ui_state(|ui, app: &mut RlhfApp| app.ui(ui), app);
    train_to_end(&mut h, "the strength run");
    // The tab followed the run to its band models; back to μ.
    h.get_by_label("μ and σ (Figs 1–2)").click();
    h.run_steps(2);
    h
}

#[test]
fn ctrl_and_the_wheel_zoom_a_chart_and_the_wheel_alone_scrolls_the_page() {
    // Short enough that the μ part of the tab needs scrolling.
    let mut h = finished_strength(520.0);
    // The middle of the μ histogram, below its title and legend.
    let over_chart = |h: &Harness<'_, RlhfApp>| {
        let title = h.get_by_label_contains("μ: the preference strength").rect();
        egui::pos2(title.center().x, title.max.y + 90.0)
    };
    let at = over_chart(&h);
    h.hover_at(at);
    h.run_steps(2);
    assert!(auto_bounds(&h, "ps_mu_hist"));
    // Ctrl + wheel zooms the chart under the pointer (Ctrl is also the command key off macOS,
    // as winit reports it).
    let ctrl = egui::Modifiers {
        ctrl: true,
        command: true,
        ..Default::default()
    };
    h.event(egui::Event::ModifiersChanged(ctrl));
    wheel(&h, 120.0, ctrl);
    h.run_steps(5);
    h.event(egui::Event::ModifiersChanged(egui::Modifiers::NONE));
    h.run_steps(1);
    assert!(!auto_bounds(&h, "ps_mu_hist"), "Ctrl + wheel zoomed");
    // A double-click resets the view: two clicks, an event a frame (1/30 s here), well after
    // the last click.
    h.run_steps(30);
    for pressed in [true, false, true, false] {
        h.event(egui::Event::PointerButton {
            pos: at,
            button: egui::PointerButton::Primary,
            pressed,
            modifiers: egui::Modifiers::NONE,
        });
    }
    h.run_steps(2);
    assert!(
        auto_bounds(&h, "ps_mu_hist"),
        "a double-click reset the view"
    );
    // The plain wheel over the chart scrolls the page; the chart does not pan.
    let title = |h: &Harness<'_, RlhfApp>| {
        h.get_by_label_contains("20 groups sorted by μ")
            .rect()
            .min
            .y
    };
    let bounds = |h: &Harness<'_, RlhfApp>| {
        *egui_plot::PlotMemory::load(&h.ctx, egui::Id::unique("ps_mu_hist"))
            .expect("the μ chart")
            .bounds()
    };
    let (before, view) = (title(&h), bounds(&h));
    wheel(&h, -120.0, egui::Modifiers::NONE);
    h.run_steps(20);
    let after = title(&h);
    assert!(
        after < before - 20.0,
        "the page scrolled: the title below moved from {before} to {after}"
    );
    assert_eq!(bounds(&h), view, "the chart did not pan");
}

/// Hover the middle of the μ histogram (its bars cover the whole x range) past egui's tooltip
/// delay (frames are 1/30 s apart here).
fn hover_a_mu_bar(h: &mut Harness<'_, RlhfApp>) {
    let chart = h.get_by_label_contains("μ: the preference strength").rect();
    // Near the chart's middle, a bar that holds pairs (a bin may be empty).
    for dx in [0.0, -6.0, 6.0, -12.0, 12.0, -18.0, 18.0] {
        h.hover_at(egui::pos2(chart.center().x + dx, chart.max.y + 100.0));
        h.run_steps(30);
        if h.query_all_by_label_contains("pairs\n• #").next().is_some() {
            return;
        }
    }
}

#[test]
fn a_bars_hover_text_is_a_tooltip_above_the_chart() {
    // Short: the tooltip must still fit.
    let mut h = finished_strength(520.0);
    hover_a_mu_bar(&mut h);
    let tip = h.get_by_label_contains("pairs\n• #");
    assert!(
        h.query_all_by_label_contains("μ from ").next().is_some()
            && h.query_all_by_label_contains("chosen \"").next().is_some(),
        "the bar's range and its pairs"
    );
    // Drawn as a tooltip (its own layer, not clipped to the chart): a text node that a
    // plot's painted label would never be.
    assert!(tip.rect().width() > 100.0, "{:?}", tip.rect());
    // Whole: inside the window.
    let window = egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(1280.0, 520.0));
    assert!(window.contains_rect(tip.rect()), "{:?}", tip.rect());
}

#[test]
fn the_link_follows_the_settings_and_a_lesson_can_hide_panels() {
    let mut app = lesson("strength");
    if let Some(p) = app.panel_mut::<StrengthPanel>() {
        p.config.models = 5;
    }
    assert_eq!(
        app.link(),
        format!("preset=strength&pairs={PAIRS}&models=5")
    );
    let err = app.set_hidden(&["menus".to_string()]).unwrap_err();
    assert!(err.contains("settings,tabs,lesson,dataset,data"), "{err}");
    app.set_hidden(&["settings".to_string(), "lesson".to_string()])
        .unwrap();
    assert!(
        app.link().ends_with("&hide=settings,lesson"),
        "{}",
        app.link()
    );
    let mut h = harness(app, 800.0);
    h.run_steps(3);
    assert!(
        h.query_all_by_label_contains("models M").next().is_none(),
        "the settings are hidden"
    );
    assert!(
        h.query_all_by_label_contains("What is this?")
            .next()
            .is_none()
    );
    assert!(h.query_by_label("Train").is_some(), "the run controls stay");
    // A config file's text merges over its tab's lesson, and names it.
    let app = h.state_mut();
    app.load_config_text(r#"{"experiment":{"kind":"denoise","seeds":1}}"#)
        .unwrap();
    assert_eq!((app.shell.tab, app.preset()), ("denoise", "denoise"));
    assert!(app.link().starts_with("preset=denoise&"), "{}", app.link());
    assert!(app.link().contains("seeds=1"), "{}", app.link());
    let err = app
        .load_config_text(r#"{"experiment":{"kind":"denoise","seeds":"x"}}"#)
        .unwrap_err();
    assert!(err.contains("seeds"), "{err}");
}

#[test]
fn a_speed_limit_holds_the_run_back_and_step_takes_its_size() {
    let mut app = lesson("rm");
    app.shell.speed = 10;
    let mut h = harness(app, 800.0);
    h.run_steps(2);
    h.get_by_label("Train").click();
    let start = std::time::Instant::now();
    run_until(&mut h, "the first steps", |a| a.shell.history.step >= 3);
    std::thread::sleep(std::time::Duration::from_millis(500));
    h.run_steps(2);
    let steps = h.state().shell.history.step;
    let allowed = (start.elapsed().as_secs_f64() * 10.0).ceil() as usize + 1;
    assert!(
        steps <= allowed,
        "at most 10 steps/s: {steps} steps in {:?}",
        start.elapsed()
    );
    h.get_by_label("Pause").click();
    h.run_steps(3);
    std::thread::sleep(std::time::Duration::from_millis(300));
    h.run_steps(3);
    let paused_at = h.state().shell.history.step;
    h.state_mut().shell.step_size = StepSize::Steps(10);
    h.state_mut().shell.set_speed(0);
    h.get_by_label("Step").click();
    run_until(&mut h, "ten steps", |a| {
        a.shell.history.step >= paused_at + 10
    });
    std::thread::sleep(std::time::Duration::from_millis(300));
    h.run_steps(3);
    assert_eq!(
        h.state().shell.history.step,
        paused_at + 10,
        "one press of Step took 10 steps, then paused"
    );
}

/// Wait until the run has taken at least `at_least` steps and then stands still; its step.
fn settled(h: &mut Harness<'_, RlhfApp>, at_least: usize) -> usize {
    run_until(h, "the steps of one press", |a| {
        a.shell.history.step >= at_least
    });
    let mut last = usize::MAX;
    while h.state().shell.history.step != last {
        last = h.state().shell.history.step;
        std::thread::sleep(std::time::Duration::from_millis(300));
        h.run_steps(3);
    }
    last
}

#[test]
fn step_by_epoch_stops_at_the_end_of_each_pass() {
    let mut h = harness(lesson("rm"), 800.0);
    h.run_steps(2);
    h.get_by_value("Step = 1 step").click();
    h.run_steps(2);
    h.get_by_label("Step = an epoch").click();
    h.run_steps(2);
    assert_eq!(
        h.state().shell.step_size,
        StepSize::By(rlhf_lab::experiment::Stride::Epoch)
    );
    h.get_by_label("Step").click();
    let epoch = settled(&mut h, 2);
    assert_eq!(h.state().shell.state, RunState::Paused);
    let total = h.state().shell.history.total_steps;
    assert!(
        epoch > 1 && 2 * epoch < total,
        "one pass of several steps: {epoch} of {total}"
    );
    h.get_by_label("Step").click();
    assert_eq!(settled(&mut h, epoch + 1), 2 * epoch, "the second pass");
    // The reward-model tab trains one model: no "member" size there, one in the strength tab.
    h.get_by_value("Step = an epoch").click();
    h.run_steps(2);
    assert!(
        h.query_by_label("Step = 10 steps").is_some(),
        "the sizes are offered"
    );
    assert!(h.query_by_label("Step = a member or band").is_none());
}

/// Widgets of the central panel (right of the 290 px settings column) that end below the
/// window's bottom edge: what a viewer would have to scroll to.
fn below_the_fold(h: &Harness<'_, RlhfApp>) -> Vec<String> {
    h.query_all_by(|_| true)
        .filter_map(|n| {
            let node = n.accesskit_node();
            let r = node.bounding_box()?;
            let text = node.label().or(node.value());
            (r.x0 > 300.0 && r.y1 > 800.5 && r.area() > 0.0)
                .then(|| format!("{text:?} at y {:.0}–{:.0}", r.y0, r.y1))
        })
        .collect()
}

/// The bottom edge of the chart `id`'s frame, as last drawn.
fn chart_bottom(h: &Harness<'_, RlhfApp>, id: &str) -> f32 {
    egui_plot::PlotMemory::load(&h.ctx, egui::Id::unique(id))
        .map(|m| m.transform().frame().bottom())
        .unwrap_or_else(|| panic!("the chart {id} was not drawn"))
}

#[test]
fn each_part_of_the_strength_and_denoise_tabs_fits_a_1280_by_800_screen() {
    let mut h = harness(lesson("bands"), 800.0);
    train_to_end(&mut h, "the bands lesson");
    for (part, charts) in [
        (
            "μ and σ (Figs 1–2)",
            &[
                "ps_mu_hist",
                "ps_sigma_hist",
                "ps_groups_mu",
                "ps_groups_sigma",
            ][..],
        ),
        ("band models (Fig 4)", &["ps_bands", "ps_band_curves"]),
        ("mislabelled pairs", &["ps_pr"]),
    ] {
        h.get_by_label(part).click();
        h.run_steps(3);
        for id in charts {
            let bottom = chart_bottom(&h, id);
            assert!(bottom <= 800.0, "{part}: {id} ends at {bottom}");
        }
        let below = below_the_fold(&h);
        assert!(below.is_empty(), "{part}: below the fold: {below:?}");
    }
    let mut h = harness(lesson("denoise"), 800.0);
    train_to_end(&mut h, "the denoise lesson");
    for id in ["dn_methods", "dn_curves"] {
        let bottom = chart_bottom(&h, id);
        assert!(bottom <= 800.0, "denoise: {id} ends at {bottom}");
    }
    let below = below_the_fold(&h);
    assert!(below.is_empty(), "denoise: below the fold: {below:?}");
}

#[test]
fn earlier_runs_stay_on_the_strength_and_denoise_charts_named_and_toggleable() {
    let mut h = harness(lesson("strength"), 800.0);
    train_to_end(&mut h, "the first strength run");
    let first_auroc = h.state().panel::<StrengthPanel>().unwrap().view.auroc;
    h.state_mut().shell.run.seed = 7;
    train_to_end(&mut h, "the second strength run");
    let panel = h.state().panel::<StrengthPanel>().unwrap();
    assert_eq!(panel.earlier.runs.len(), 1);
    let run = &panel.earlier.runs[0];
    assert!(run.label.starts_with("run 1: 400 pairs"), "{}", run.label);
    assert!(run.label.ends_with("seed 0"), "{}", run.label);
    assert_eq!(run.data.auroc, first_auroc, "the first run's own curve");
    assert_eq!(
        panel.earlier.current,
        "run 2: 400 pairs, flip 0.1, M 6, seed 7"
    );
    let label = run.label.clone();
    assert!(
        h.query_all_by_label(&label).count() >= 2,
        "its checkbox and its legend entry on the μ chart"
    );
    h.get_by_label("mislabelled pairs").click();
    h.run_steps(2);
    assert!(
        h.query_all_by_label_contains(&format!("{label} (AUROC"))
            .next()
            .is_some(),
        "and on the PR chart, with its AUROC"
    );
    h.get_by_role_and_label(egui::accesskit::Role::CheckBox, &label)
        .click();
    h.run_steps(2);
    assert!(!h.state().panel::<StrengthPanel>().unwrap().earlier.runs[0].shown);
    assert!(
        h.query_all_by_label_contains("(AUROC").next().is_none(),
        "untoggled, it leaves the chart"
    );

    let mut h = harness(lesson("denoise"), 800.0);
    train_to_end(&mut h, "the first denoise run");
    train_to_end(&mut h, "the second denoise run");
    let panel = h.state().panel::<DenoisePanel>().unwrap();
    assert_eq!(panel.earlier.runs.len(), 1);
    let methods: Vec<_> = panel.earlier.runs[0]
        .data
        .iter()
        .map(|(m, _)| m.name())
        .collect();
    assert_eq!(methods, ["baseline", "flip", "smooth", "margin"]);
    let label = panel.earlier.runs[0].label.clone();
    assert_eq!(
        h.query_all_by_label(&label).count(),
        3,
        "checkbox, legend and the comparison table's row"
    );
    assert!(
        h.query_by_label(&panel.earlier.current.clone()).is_some(),
        "this run's row"
    );
}

/// Render the app (wgpu; lavapipe here) after a lesson's run and save the picture in the tests'
/// target folder, and in `RLHF_LAB_SCREENSHOTS` when set (the README's pictures come from there).
fn screenshot(h: &mut Harness<'_, RlhfApp>, name: &str) {
    let image = h
        .render()
        .unwrap_or_else(|e| panic!("{name}: the app could not be rendered: {e}"));
    assert_eq!((image.width(), image.height()), (1280, 800), "{name}");
    // Not blank: the charts and text make many distinct colours.
    let mut colours: Vec<[u8; 4]> = image.pixels().map(|p| p.0).collect();
    colours.sort_unstable();
    colours.dedup();
    assert!(colours.len() > 50, "{name}: {} colours", colours.len());
    let mut dirs = vec![std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))];
    dirs.extend(std::env::var_os("RLHF_LAB_SCREENSHOTS").map(std::path::PathBuf::from));
    for dir in dirs {
        let path = dir.join(format!("app-{name}.png"));
        image
            .save(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        eprintln!("screenshot {}", path.display());
    }
}

/// Compare a render of the app with its stored snapshot, `tests/snapshots/NAME.png`: at most
/// 100 pixels (0.01 %) may differ by more than 24 in a channel (a word changed moves several
/// hundred). With
/// `RLHF_LAB_UPDATE_SNAPSHOTS=1` the render is stored instead. A mismatch leaves the render and
/// a map of the differing pixels in the tests' target folder.
fn snapshot(h: &mut Harness<'_, RlhfApp>, name: &str) {
    let image = h
        .render()
        .unwrap_or_else(|e| panic!("{name}: the app could not be rendered: {e}"));
    let path = std::path::Path::new("tests/snapshots").join(format!("{name}.png"));
    if std::env::var_os("RLHF_LAB_UPDATE_SNAPSHOTS").is_some() {
        image.save(&path).unwrap();
        return;
    }
    let stored = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; make it with RLHF_LAB_UPDATE_SNAPSHOTS=1",
            path.display()
        )
    });
    let mut reader = png::Decoder::new(std::io::Cursor::new(stored))
        .read_info()
        .unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut pixels).unwrap();
    assert_eq!(
        (info.width, info.height, info.color_type),
        (image.width(), image.height(), png::ColorType::Rgba),
        "{name}: the snapshot's size"
    );
    let mut diff = image.clone();
    let mut differing = 0;
    for (i, p) in diff.pixels_mut().enumerate() {
        let old = &pixels[i * 4..i * 4 + 4];
        let far = p.0.iter().zip(old).any(|(a, b)| a.abs_diff(*b) > 24);
        differing += usize::from(far);
        p.0 = if far {
            [255, 0, 255, 255]
        } else {
            [p.0[0] / 4, p.0[1] / 4, p.0[2] / 4, 255]
        };
    }
    let share = differing as f64 / f64::from(image.width() * image.height());
    if differing > 100 {
        let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        image.save(dir.join(format!("{name}.new.png"))).unwrap();
        diff.save(dir.join(format!("{name}.diff.png"))).unwrap();
        panic!(
            "{name}: {differing} pixels ({:.3} %) differ from {}; the render and the difference are in {}",
            share * 100.0,
            path.display(),
            dir.display()
        );
    }
}

#[test]
fn snapshots_of_a_first_visit_a_tooltip_over_a_chart_and_a_finished_comparison() {
    // A first visit: the lesson box open, placeholders where the charts will be.
    let mut h = harness(lesson("rm"), 800.0);
    h.run_steps(3);
    snapshot(&mut h, "first-visit-rm");
    // A bar's tooltip over the μ histogram, drawn whole above the charts.
    let mut h = finished_strength(800.0);
    hover_a_mu_bar(&mut h);
    assert!(h.query_all_by_label_contains("pairs\n• #").next().is_some());
    snapshot(&mut h, "strength-tooltip");
    // The denoising comparison, done.
    let mut h = harness(lesson("denoise"), 800.0);
    train_to_end(&mut h, "the denoise lesson");
    snapshot(&mut h, "denoise-done");
}

/// The size of a PNG file's image.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    let reader = png::Decoder::new(std::io::Cursor::new(bytes.to_vec()))
        .read_info()
        .expect("a PNG file");
    (reader.info().width, reader.info().height)
}

#[test]
fn the_window_and_a_chart_save_as_png_by_button_and_by_shortcut() {
    let mut app = lesson("rm");
    let saved = keep_saved_files(&mut app);
    let mut h = harness(app, 800.0);
    train_to_end(&mut h, "the rm lesson");
    let take = |h: &mut Harness<'_, RlhfApp>| {
        for _ in 0..20 {
            h.run_steps(1);
            if let Some(file) = saved.lock().unwrap().pop() {
                return file;
            }
        }
        panic!("nothing was saved");
    };
    h.key_press_modifiers(
        egui::Modifiers::COMMAND | egui::Modifiers::SHIFT,
        egui::Key::S,
    );
    let (name, bytes) = take(&mut h);
    assert_eq!(name, "rlhf-lab-rm.png");
    assert_eq!(png_size(&bytes), (1280, 800), "the whole window");
    h.get_by_label("PNG of this tab").click();
    assert_eq!(take(&mut h).0, "rlhf-lab-rm.png");
    // A chart's own button: the chart cut out, with its title and axes.
    h.get_all_by_label("PNG")
        .next()
        .expect("a PNG button")
        .click();
    let (name, bytes) = take(&mut h);
    assert_eq!(name, "training-loss.png");
    let (w, height) = png_size(&bytes);
    assert!(
        (300..1000).contains(&w) && (100..600).contains(&height),
        "a chart's size: {w}×{height}"
    );
    // The shortcut works with the lesson box (and its button) hidden too.
    h.state_mut().set_hidden(&["lesson".to_string()]).unwrap();
    h.run_steps(2);
    assert!(h.query_by_label("PNG of this tab").is_none());
    h.key_press_modifiers(
        egui::Modifiers::COMMAND | egui::Modifiers::SHIFT,
        egui::Key::S,
    );
    assert_eq!(take(&mut h).0, "rlhf-lab-rm.png");
}

#[test]
fn screenshots_of_four_lessons_after_their_runs() {
    // For the README (RLHF_LAB_SCREENSHOTS set) the lessons run at the sizes they ship with.
    let shipped = std::env::var_os("RLHF_LAB_SCREENSHOTS").is_some();
    for name in ["rm", "bands", "soft-labels", "rlhf"] {
        let app = if shipped {
            RlhfApp::with_preset(name, Some(Compute::cpu())).expect("the lesson loads")
        } else {
            lesson(name)
        };
        let mut h = harness(app, 800.0);
        train_to_end(&mut h, name);
        screenshot(&mut h, name);
    }
}

#[test]
fn a_charts_data_the_report_and_the_config_can_be_saved() {
    let mut app = lesson("rm");
    let saved = keep_saved_files(&mut app);
    let mut h = harness(app, 800.0);
    train_to_end(&mut h, "the rm lesson");
    // The first chart's CSV is the training loss.
    h.get_all_by_label("CSV")
        .next()
        .expect("a CSV button")
        .click();
    h.get_by_label("Save report…").click();
    h.get_by_label("Save config…").click();
    h.get_by_label("Take this run further…").click();
    h.run_steps(2);
    h.get_by_label("as a TRL recipe").click();
    h.run_steps(3);
    assert!(
        h.state().shell.errors.is_empty(),
        "{:?}",
        h.state().shell.errors
    );
    let files = saved.lock().unwrap().clone();
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "training-loss.csv",
            "rm-report.json",
            "rm.json",
            "rlhf-lab-rm-trl.zip"
        ]
    );
    let recipe = unzip(&files[3].1);
    let settings: serde_json::Value =
        serde_json::from_slice(&recipe["rlhf-lab-rm-trl/recipe.json"]).unwrap();
    assert_eq!(settings["run_kind"], "train-rm");
    for name in [
        "train_reward.py",
        "train_policy.py",
        "metarm_trainer.py",
        "MAPPING.md",
    ] {
        assert!(
            recipe.contains_key(&format!("rlhf-lab-rm-trl/{name}")),
            "{name}"
        );
    }
    let text = |i: usize| String::from_utf8_lossy(&files[i].1).into_owned();
    let csv = text(0);
    let steps = h.state().shell.history.loss.len();
    assert!(csv.starts_with("series,step,loss\ntrain loss,1,"), "{csv}");
    assert_eq!(csv.lines().count(), steps + 1, "a row per step");
    assert!(text(1).contains("\"validation_accuracy\""), "{}", text(1));
    let config = rlhf_lab::experiment::RunConfig::parse(&text(2))
        .unwrap()
        .config;
    assert_eq!(
        config,
        h.state().run_config(),
        "the saved config loads back as it was"
    );
}

/// The files of a zip, by path.
fn unzip(bytes: &[u8]) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut out = std::collections::BTreeMap::new();
    for i in 0..archive.len() {
        let mut f = archive.by_index(i).unwrap();
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut f, &mut data).unwrap();
        out.insert(f.name().to_string(), data);
    }
    out
}

#[test]
fn a_finished_strength_run_goes_further_with_its_flips_and_margins() {
    let mut app = lesson("strength");
    let saved = keep_saved_files(&mut app);
    let mut h = harness(app, 800.0);
    h.run_steps(2);
    h.get_by_label("Take this run further…").click();
    h.run_steps(2);
    assert!(
        h.query_by_label("as a TRL recipe").is_none(),
        "nothing to take further before a run"
    );
    train_to_end(&mut h, "the strength lesson");
    h.get_by_label("Take this run further…").click();
    h.run_steps(2);
    h.get_by_label("as an OpenRLHF recipe").click();
    h.run_steps(3);
    let files = saved.lock().unwrap().clone();
    assert_eq!(
        files.len(),
        1,
        "{:?}",
        files.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    assert_eq!(files[0].0, "rlhf-lab-strength-openrlhf.zip");
    let recipe = unzip(&files[0].1);
    let script = String::from_utf8_lossy(&recipe["rlhf-lab-strength-openrlhf/openrlhf.sh"]);
    assert!(script.contains("--model.margin_loss_enable"), "{script}");
    let pairs = String::from_utf8_lossy(&recipe["rlhf-lab-strength-openrlhf/data/pairs.jsonl"]);
    let view = &h.state().panel::<StrengthPanel>().unwrap().view;
    assert_eq!(pairs.lines().count(), view.pairs.len());
    let negative = view.mu.iter().filter(|m| **m < 0.0).count();
    let readme = String::from_utf8_lossy(&recipe["rlhf-lab-strength-openrlhf/README.md"]);
    assert!(
        readme.contains(&format!("{negative} of {} pairs flipped", view.pairs.len())),
        "{readme}"
    );
}

/// The characters inside string literals of the Rust files under `dirs` (text the app may
/// draw; comments left out).
fn literal_characters(dirs: &[&str]) -> Vec<char> {
    let mut out = Vec::new();
    let mut files: Vec<std::path::PathBuf> = dirs.iter().map(std::path::PathBuf::from).collect();
    while let Some(path) = files.pop() {
        if path.is_dir() {
            files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        for line in std::fs::read_to_string(&path).unwrap().lines() {
            if line.trim_start().starts_with("//") {
                continue;
            }
            // Every other run between quotes is inside a literal.
            out.extend(line.split('"').skip(1).step_by(2).flat_map(str::chars));
        }
    }
    out
}

#[test]
fn the_readme_says_what_each_lesson_shows_in_the_lessons_own_words() {
    let readme = std::fs::read_to_string("README.md").unwrap();
    for p in presets::all().unwrap() {
        assert!(
            readme.contains(&format!("*{}.* {}", p.title, p.look_for)),
            "README.md: the {} lesson's paragraph differs from assets/presets/lessons/",
            p.name
        );
    }
}

#[test]
fn the_fonts_hold_every_character_the_app_and_its_lessons_write() {
    // Every character beyond ASCII in the app's texts and the lessons (a missing one panics
    // when drawn).
    let mut text = literal_characters(&["src/app", "src/experiment", "src/rm"]);
    for p in presets::all().unwrap() {
        text.extend(
            p.about
                .chars()
                .chain(p.look_for.chars())
                .chain(p.title.chars()),
        );
    }
    for p in rlhf_lab::experiment::ppo::config::PpoPreset::all().unwrap() {
        text.extend(p.about.chars());
    }
    text.retain(|c| !c.is_ascii());
    text.sort_unstable();
    text.dedup();
    let line: String = text.into_iter().collect();
    let mut h = Harness::new_ui(|ui| {
        ui.label(line.as_str());
    });
    h.run_steps(2);
}

#[test]
fn the_data_view_shows_pairs_with_their_gold_reward_and_draws_others() {
    let mut h = harness(lesson("strength"), 800.0);
    h.run_steps(2);
    assert!(h.query_by_label("gold reward: chosen | rejected").is_none());
    h.get_by_label("Look at the data").click();
    h.run_steps(3);
    assert!(h.query_by_label("gold reward: chosen | rejected").is_some());
    assert!(
        h.query_all_by_label_contains(&format!("{PAIRS} pairs. A person"))
            .next()
            .is_some()
    );
    let verdicts = |h: &Harness<'_, RlhfApp>| -> Vec<String> {
        h.query_all_by_label_contains(" | ")
            .filter_map(|n| {
                let node = n.accesskit_node();
                node.label().or(node.value())
            })
            .filter(|l| l.contains('(') && !l.starts_with("gold"))
            .collect()
    };
    let first = verdicts(&h);
    assert_eq!(first.len(), 5, "{first:?}");
    assert!(
        first
            .iter()
            .all(|v| v.contains("agrees") || v.contains("wrong:")),
        "{first:?}"
    );
    h.get_by_label("Show other pairs").click();
    h.run_steps(3);
    assert_ne!(verdicts(&h), first, "other pairs");
    // A data setting that cannot load is said, not hidden.
    if let DataSource::Synthetic(w) = &mut h.state_mut().shell.run.data.source {
        w.pairs = 1;
    }
    h.run_steps(3);
    assert!(
        h.query_all_by_label_contains("the data could not be read")
            .next()
            .is_some()
    );
}
