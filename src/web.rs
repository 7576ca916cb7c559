//! Browser entry point: WebGPU compute (CPU fallback), eframe drawn with glow (WebGL2), the run
//! config in the URL (`?config=<json>`), and a DOM/console marker per event for page tests.
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use crate::app::RlhfApp;
use crate::compute::{BackendChoice, init_web};
use crate::experiment::{Event, ExperimentConfig, RmTrainConfig, Run, RunConfig};

/// Query parameters of the page, decoded.
fn query_params() -> Vec<(String, String)> {
    let search = web_sys::window()
        .and_then(|w| w.location().search().ok())
        .unwrap_or_default();
    search
        .trim_start_matches('?')
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            let v = v.replace('+', " ");
            let v = js_sys::decode_uri_component(&v)
                .map(String::from)
                .unwrap_or(v);
            (k.to_string(), v)
        })
        .collect()
}

fn param<'a>(params: &'a [(String, String)], key: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// The page's status marker, if the page has one.
fn status_element() -> Option<web_sys::Element> {
    web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("rlhf-status"))
}

/// Write a line to the status element and the console (what page tests read), with the units of
/// work done in `data-step`.
fn mark(text: &str, step: usize) {
    mark_text(text);
    if let Some(el) = status_element() {
        let _ = el.set_attribute("data-step", &step.to_string());
    }
}

/// Set the marker's `data-state` (`idle`, `running`, `done` or `error`) and, for an error, its
/// message in `data-error` (removed otherwise), so tests and tools read the page's state.
fn mark_state(state: &str, error: Option<&str>) {
    if let Some(el) = status_element() {
        let _ = el.set_attribute("data-state", state);
        match error {
            Some(message) => {
                let _ = el.set_attribute("data-error", message);
            }
            None => {
                let _ = el.remove_attribute("data-error");
            }
        }
    }
}

/// Mark the page as failed with `message` (text, state and message).
fn mark_error(message: &str) {
    mark_text(&format!("error: {message}"));
    mark_state("error", Some(message));
}

/// Write a line to the status element and the console, leaving `data-step` as it is.
fn mark_text(text: &str) {
    web_sys::console::log_1(&format!("rlhf-lab: {text}").into());
    if let Some(el) = status_element() {
        el.set_text_content(Some(text));
    }
}

/// The status marker follows the run lifecycle only: every kind of experiment reports through it
/// the same way (`progress d/t`, then `done <summary>` or `error: …`).
fn event_marker(event: &Event) {
    match event {
        Event::Started {
            backend, adapter, ..
        } => {
            mark(&format!("started backend={backend} adapter={adapter}"), 0);
            mark_state("running", None);
            if let Some(el) = status_element() {
                let _ = el.set_attribute("data-backend", backend);
            }
        }
        Event::Progress { done, total } => mark(&format!("progress {done}/{total}"), *done),
        Event::Notice { message } => {
            web_sys::console::log_1(&format!("rlhf-lab notice: {message}").into())
        }
        Event::Error { message } => mark_error(message),
        Event::Finished { summary, .. } => {
            mark_text(&format!("done {summary}"));
            mark_state("done", None);
        }
        Event::Job { .. } | Event::Kind(_) => {}
    }
}

/// Put the config in the address bar so the page can be shared or reloaded as it is.
fn write_config_to_url(config: &RunConfig) {
    let Ok(json) = serde_json::to_string(config) else {
        return;
    };
    let encoded: String = js_sys::encode_uri_component(&json).into();
    if let Some(w) = web_sys::window()
        && let Ok(history) = w.history()
    {
        let _ =
            history.replace_state_with_url(&JsValue::NULL, "", Some(&format!("?config={encoded}")));
    }
}

fn has_webgpu() -> bool {
    web_sys::window()
        .map(|w| {
            let gpu =
                js_sys::Reflect::get(&w.navigator(), &"gpu".into()).unwrap_or(JsValue::UNDEFINED);
            !gpu.is_undefined() && !gpu.is_null()
        })
        .unwrap_or(false)
}

/// The default browser config: the synthetic world, sized for a tab.
fn web_default_config() -> RunConfig {
    let mut config = Run {
        experiment: ExperimentConfig::Rm(RmTrainConfig {
            eval_every: 25,
            ..Default::default()
        }),
        ..Default::default()
    };
    if let crate::experiment::DataSource::Synthetic(s) = &mut config.data.source {
        s.pairs = 4000;
    }
    config
}

/// Start the web app.
pub fn start() {
    console_error_panic_hook::set_once();
    let params = query_params();
    let mut app = RlhfApp::new(web_default_config(), None);
    let mut autostart = param(&params, "autostart").is_some_and(|v| v != "0");
    if let Some(json) = param(&params, "config") {
        match RunConfig::parse(json) {
            Ok(p) => {
                app.load_config(p.config);
                app.shell.notes.extend(p.note);
            }
            Err(e) => {
                // A bad link never starts a default run in its place.
                autostart = false;
                let message =
                    format!("the config in the URL is not valid ({e}); showing the defaults");
                mark_error(&message);
                app.shell.notes.push(message);
            }
        }
    }
    match param(&params, "backend").map(|b| b.parse::<BackendChoice>()) {
        Some(Ok(b)) => app.shell.run.backend = b,
        Some(Err(e)) => {
            autostart = false;
            let message = format!("backend in the URL: {e}");
            mark_error(&message);
            app.shell.notes.push(message);
        }
        None => {}
    }
    app.shell.autostart = autostart;
    app.shell.on_event = Some(Box::new(event_marker));
    app.shell.on_start = Some(Box::new(write_config_to_url));
    let slot = app.shell.compute.clone();
    let backend = app.shell.run.backend;
    wasm_bindgen_futures::spawn_local(async move {
        let compute = init_web(backend, has_webgpu()).await;
        let ready = format!(
            "compute ready backend={} adapter={}",
            compute.backend_name(),
            compute.adapter
        );
        // An error already on the marker (a bad link) stays until the page is left.
        let failed = status_element()
            .and_then(|e| e.get_attribute("data-state"))
            .is_some_and(|s| s == "error");
        if failed {
            web_sys::console::log_1(&format!("rlhf-lab: {ready}").into());
        } else {
            mark(&ready, 0);
        }
        if let Some(n) = &compute.notice {
            web_sys::console::log_1(&format!("rlhf-lab notice: {n}").into());
        }
        if let Ok(mut g) = slot.lock() {
            *g = Some(compute);
        }
    });
    wasm_bindgen_futures::spawn_local(async move {
        let Some(canvas) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.get_element_by_id("the_canvas_id"))
            .and_then(|e| e.dyn_into::<web_sys::HtmlCanvasElement>().ok())
        else {
            mark_error("no <canvas id=\"the_canvas_id\"> in the page");
            return;
        };
        // glow (WebGL2) draws the UI; burn computes on WebGPU. eframe's WebGPU canvas fails in
        // headless browsers and would share (and can lose) the compute device.
        let options = eframe::WebOptions {
            renderer: eframe::Renderer::Glow,
            ..Default::default()
        };
        let result = eframe::WebRunner::new()
            .start(canvas, options, Box::new(move |_cc| Ok(Box::new(app))))
            .await;
        if let Err(e) = result {
            mark_error(&format!("the UI could not start: {e:?}"));
        }
    });
}
