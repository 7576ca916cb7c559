//! The real web build (`trunk build --release` → dist/) loaded in Debian's headless Chromium,
//! driven over WebDriver (chromedriver): the page trains the synthetic RM (WebGPU and CPU) and a
//! strength ensemble; the test polls the page's status marker until it says done or error, in
//! real time, and saves a screenshot of each finished page in the target folder.
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn dist() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("dist")
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css",
        Some("svg") => "image/svg+xml",
        _ => "application/octet-stream",
    }
}

fn serve_one(mut stream: TcpStream, root: &Path) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    loop {
        let mut header = String::new();
        if reader
            .read_line(&mut header)
            .map(|n| n == 0)
            .unwrap_or(true)
            || header == "\r\n"
        {
            break;
        }
    }
    let target = request_line.split_whitespace().nth(1).unwrap_or("/");
    let path = target.split('?').next().unwrap_or("/");
    let rel = if path == "/" {
        "index.html"
    } else {
        path.trim_start_matches('/')
    };
    let file = root.join(rel);
    let (status, body, ctype) = if !rel.contains("..") && file.is_file() {
        let mut body = Vec::new();
        std::fs::File::open(&file)
            .unwrap()
            .read_to_end(&mut body)
            .unwrap();
        ("200 OK", body, content_type(&file))
    } else {
        ("404 Not Found", b"not found".to_vec(), "text/plain")
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&body);
}

/// Serve `root` on 127.0.0.1 (a free port) from a background thread.
fn serve(root: PathBuf) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let root = root.clone();
            std::thread::spawn(move || serve_one(stream, &root));
        }
    });
    port
}

fn chromium() -> PathBuf {
    for c in ["/usr/bin/chromium", "/usr/bin/chromium-browser"] {
        if Path::new(c).exists() {
            return c.into();
        }
    }
    panic!(
        "Chromium not found: install it with `apt-get install chromium` (scripts/install-deps.sh does)"
    );
}

/// Chromium's flags: headless, WebGPU on SwiftShader (no GPU here), a fixed window.
const CHROMIUM_ARGS: [&str; 15] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--enable-unsafe-webgpu",
    "--enable-features=Vulkan",
    "--use-angle=swiftshader",
    "--use-webgpu-adapter=swiftshader",
    "--enable-unsafe-swiftshader",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-dev-shm-usage",
    "--window-size=1200,800",
];

/// How long one page may take to finish its run, in real time.
const PAGE_DEADLINE: Duration = Duration::from_secs(240);

/// Debian's chromedriver on a free local port, spoken to over HTTP (the W3C WebDriver
/// protocol): it loads the page in a real headless Chromium and lets the test poll the page.
struct Driver {
    child: std::process::Child,
    port: u16,
}

impl Driver {
    fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("chromedriver did not start ({e}): `apt-get install chromium-driver` (scripts/install-deps.sh does)")
            });
        let driver = Self { child, port };
        let start = Instant::now();
        while driver.call("GET", "/status", None).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "chromedriver did not answer in 30 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        driver
    }

    /// One WebDriver call: the JSON `value` of the answer, or the error.
    fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<serde_json::Value, String> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).map_err(|e| e.to_string())?;
        // A call that never answers fails instead of hanging the test.
        stream
            .set_read_timeout(Some(Duration::from_secs(180)))
            .map_err(|e| e.to_string())?;
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            self.port,
            body.len()
        );
        stream
            .write_all(head.as_bytes())
            .map_err(|e| e.to_string())?;
        stream
            .write_all(body.as_bytes())
            .map_err(|e| e.to_string())?;
        // chromedriver answers with a Content-Length but keeps the connection open whatever the
        // request says: read exactly the body, never to the end of the stream.
        let mut reader = BufReader::new(stream);
        let (mut length, mut chunked) = (None, false);
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).map_err(|e| e.to_string())?;
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                let (name, value) = (name.trim().to_ascii_lowercase(), value.trim());
                if name == "content-length" {
                    length = value.parse::<usize>().ok();
                } else if name == "transfer-encoding" && value.eq_ignore_ascii_case("chunked") {
                    chunked = true;
                }
            }
        }
        let payload = if chunked {
            read_chunked(&mut reader)?
        } else {
            let mut body = vec![0u8; length.ok_or("no Content-Length")?];
            reader.read_exact(&mut body).map_err(|e| e.to_string())?;
            String::from_utf8_lossy(&body).into_owned()
        };
        let json: serde_json::Value =
            serde_json::from_str(&payload).map_err(|e| format!("{e}: {payload}"))?;
        if json["value"]["error"].is_string() {
            return Err(format!("{method} {path}: {}", json["value"]));
        }
        Ok(json["value"].clone())
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The body of a chunked HTTP answer.
fn read_chunked(reader: &mut impl BufRead) -> Result<String, String> {
    let mut body = Vec::new();
    loop {
        let mut size = String::new();
        reader.read_line(&mut size).map_err(|e| e.to_string())?;
        let n = usize::from_str_radix(size.trim(), 16).map_err(|e| e.to_string())?;
        let mut chunk = vec![0u8; n + 2];
        reader.read_exact(&mut chunk).map_err(|e| e.to_string())?;
        if n == 0 {
            return Ok(String::from_utf8_lossy(&body).into_owned());
        }
        body.extend_from_slice(&chunk[..n]);
    }
}

/// A browser session on a driver.
struct Session<'a> {
    driver: &'a Driver,
    id: String,
}

impl<'a> Session<'a> {
    fn new(driver: &'a Driver) -> Self {
        let caps = serde_json::json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium(), "args": CHROMIUM_ARGS},
        }}});
        let value = driver
            .call("POST", "/session", Some(caps))
            .unwrap_or_else(|e| panic!("no Chromium session: {e}"));
        let id = value["sessionId"].as_str().expect("session id").to_string();
        Self { driver, id }
    }

    fn call(&self, method: &str, what: &str, body: Option<serde_json::Value>) -> serde_json::Value {
        let path = format!("/session/{}/{what}", self.id);
        self.driver
            .call(method, &path, body)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn goto(&self, url: &str) {
        self.call("POST", "url", Some(serde_json::json!({ "url": url })));
    }

    /// Run `script` in the page; its return value.
    fn execute(&self, script: &str) -> serde_json::Value {
        self.call(
            "POST",
            "execute/sync",
            Some(serde_json::json!({"script": script, "args": []})),
        )
    }

    /// `(data-step, data-backend, text)` of the page's status marker, once it has one.
    fn status(&self) -> Option<(usize, String, String)> {
        let script = "const e = document.getElementById('rlhf-status'); \
                      return e ? [e.getAttribute('data-step') || '0', \
                      e.getAttribute('data-backend') || '', e.textContent] : null;";
        let v = self.execute(script);
        let a = v.as_array()?;
        let field = |i: usize| a.get(i).and_then(|x| x.as_str()).unwrap_or("").to_string();
        Some((field(0).parse().unwrap_or(0), field(1), field(2)))
    }

    /// `(data-state, data-error)` of the page's status marker.
    fn state(&self) -> (String, Option<String>) {
        let script = "const e = document.getElementById('rlhf-status'); \
                      return e ? [e.getAttribute('data-state'), e.getAttribute('data-error')] : null;";
        let v = self.execute(script);
        let field = |i: usize| v.get(i).and_then(|x| x.as_str()).map(str::to_string);
        (field(0).unwrap_or_default(), field(1))
    }

    /// Press Ctrl+Shift+S in the app (the canvas focused, the key events dispatched to it), and
    /// wait up to 30 s for the page to name the file it handed out (`data-saved`).
    fn save_png_by_shortcut(&self) -> String {
        let press = "const c = document.querySelector('canvas'); c.focus(); \
                     for (const type of ['keydown', 'keyup']) { \
                     c.dispatchEvent(new KeyboardEvent(type, {key: 'S', code: 'KeyS', \
                     ctrlKey: true, shiftKey: true, bubbles: true, cancelable: true})); }";
        self.execute(press);
        let start = Instant::now();
        loop {
            let v = self.execute(
                "const e = document.getElementById('rlhf-status'); \
                 return e ? e.getAttribute('data-saved') : null;",
            );
            if let Some(saved) = v.as_str() {
                return saved.to_string();
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "no file was saved 30 s after Ctrl+Shift+S"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// `(data-preset, location.hash)` once `ready` holds for them (within the deadline).
    fn link_when(&self, ready: impl Fn(&str, &str) -> bool) -> (String, String) {
        let start = Instant::now();
        let script = "const e = document.getElementById('rlhf-status'); \
                      return [e ? e.getAttribute('data-preset') : null, location.hash];";
        loop {
            let v = self.execute(script);
            let field = |i: usize| {
                v.get(i)
                    .and_then(|x| x.as_str())
                    .unwrap_or_default()
                    .to_string()
            };
            let (preset, hash) = (field(0), field(1));
            if ready(&preset, &hash) {
                return (preset, hash);
            }
            assert!(
                start.elapsed() < PAGE_DEADLINE,
                "the page's link did not settle: preset {preset:?}, hash {hash:?}"
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// Poll the status marker until the run says done or error, within the deadline (saying
    /// where it stands every 15 s).
    fn wait_for_end(&self, what: &str) -> (usize, String, String) {
        self.wait_for_end_seeing(what, &mut Vec::new())
    }

    /// [`Self::wait_for_end`], collecting the distinct step counts seen on the way.
    fn wait_for_end_seeing(&self, what: &str, steps: &mut Vec<usize>) -> (usize, String, String) {
        let start = Instant::now();
        let mut said = 0;
        loop {
            let status = self.status();
            if let Some(s) = &status
                && steps.last() != Some(&s.0)
            {
                steps.push(s.0);
            }
            if let Some(s) = &status
                && (s.2.starts_with("done") || s.2.starts_with("error"))
            {
                return s.clone();
            }
            let elapsed = start.elapsed().as_secs();
            if elapsed >= said + 15 {
                said = elapsed;
                eprintln!("{what}: {elapsed} s, status {status:?}");
            }
            assert!(
                start.elapsed() < PAGE_DEADLINE,
                "{what}: the page did not finish within {PAGE_DEADLINE:?}; status {:?}",
                self.status()
            );
            // Often enough to see a short run's steps go by (the page draws a few frames a
            // second on a software canvas).
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Save a PNG of the page in the tests' target folder; returns its path.
    fn screenshot(&self, name: &str) -> PathBuf {
        use base64::Engine;
        let b64 = self.call("GET", "screenshot", None);
        let png = base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().expect("base64 screenshot"))
            .expect("valid base64");
        assert!(png.starts_with(b"\x89PNG"), "a PNG");
        let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("web-{name}.png"));
        std::fs::write(&path, &png).unwrap();
        // The README's pictures come from here (scripts/screenshots.sh).
        if let Some(dir) = std::env::var_os("RLHF_LAB_SCREENSHOTS") {
            let copy = Path::new(&dir).join(format!("web-{name}.png"));
            std::fs::write(&copy, &png).unwrap_or_else(|e| panic!("{}: {e}", copy.display()));
        }
        path
    }
}

impl Drop for Session<'_> {
    fn drop(&mut self) {
        let _ = self
            .driver
            .call("DELETE", &format!("/session/{}", self.id), None);
    }
}

/// A reward model through a link of the older layout (knobs and data at the top), which still loads.
const RM_CONFIG: &str = r#"{"model":{"d_model":16,"layers":1,"heads":2,"ffn":32,"max_len":20,"dropout":0.0},"data":{"source":{"kind":"synthetic","pairs":200}},"steps":6,"batch_size":8,"eval_every":3}"#;

/// A two-model ensemble in the Preference-strength tab, through the URL's experiment config.
const STRENGTH_CONFIG: &str = r#"{"data":{"source":{"kind":"synthetic","pairs":200,"flip_rate":0.2}},"experiment":{"kind":"strength","rm":{"epochs":1,"batch_size":16},"models":2,"band_retrain":false}}"#;

/// PPO with the factorised policy to completion in the browser (a small proxy, 60 steps).
const PPO_CONFIG: &str = r#"{"data":{"source":{"kind":"synthetic","pairs":600}},"seed":2,"experiment":{"kind":"ppo","policy":"factorised","steps":60,"rollouts":64,"bon_trials":4,"bon_max_n":64}}"#;

/// PPO with the transformer policy, stepped by the page: SFT, then PPO iterations.
const PPO_LM_CONFIG: &str = r#"{"data":{"source":{"kind":"synthetic","pairs":300}},"seed":3,"experiment":{"kind":"ppo","policy":"transformer","policy_model":{"d_model":16,"layers":1,"heads":2,"ffn":32,"max_len":24},"sft_steps":30,"sft_batch":16,"steps":4,"rollouts":16,"minibatches":2,"bon_trials":0}}"#;

fn url(port: u16, backend: &str, config: &str) -> String {
    let encoded: String = config
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'_' | b'-' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!("http://127.0.0.1:{port}/index.html?autostart=1&backend={backend}&config={encoded}")
}

/// The web build served and a browser started (the port and the driver), or none when
/// `RLHF_LAB_SKIP_WEB` is set.
fn page_and_browser() -> Option<(u16, Driver)> {
    if std::env::var_os("RLHF_LAB_SKIP_WEB").is_some() {
        eprintln!("RLHF_LAB_SKIP_WEB set: skipping the browser test");
        return None;
    }
    assert!(
        dist().join("index.html").is_file(),
        "no web build in {}: run `trunk build --release` first (scripts/test.sh does)",
        dist().display()
    );
    Some((serve(dist()), Driver::start()))
}

#[test]
fn web_build_trains_in_headless_chromium() {
    let Some((port, driver)) = page_and_browser() else {
        return;
    };
    // One browser at a time (the browser test group): two at once starve each other's WebGPU
    // emulation.
    let session = Session::new(&driver);
    eprintln!("chromedriver session {}", session.id);
    // `auto` must train on WebGPU (SwiftShader's adapter here); `cpu` on burn-flex in wasm.
    for (choice, expected) in [("auto", "wgpu"), ("cpu", "flex")] {
        session.goto(&url(port, choice, RM_CONFIG));
        let (step, backend, text) = session.wait_for_end(choice);
        let shot = session.screenshot(&format!("rm-{choice}"));
        assert!(
            !text.contains("error"),
            "{choice}: the page reported {text}"
        );
        assert_eq!(backend, expected, "{choice}: status {text}");
        assert_eq!(step, 6, "{choice}: all 6 steps; status: {text}");
        assert_eq!(session.state(), ("done".into(), None), "{choice}: {text}");
        assert!(
            text.contains("validation_accuracy="),
            "{choice}: status {text}"
        );
        eprintln!(
            "{choice}: {text} (step {step}, backend {backend}); screenshot {}",
            shot.display()
        );
    }
    // A config in the URL that is not valid: an error the page's marker states, no run.
    session.goto(&format!(
        "http://127.0.0.1:{port}/index.html?autostart=1&backend=cpu&config=%7Bnot%20json"
    ));
    let (_, _, text) = session.wait_for_end("invalid config");
    let (state, error) = session.state();
    assert_eq!(state, "error", "status {text}");
    let error = error.unwrap_or_default();
    assert!(error.contains("not valid"), "data-error: {error}");
    assert!(text.starts_with("error:"), "{text}");
    // The error stays (the compute device coming up later does not overwrite it).
    std::thread::sleep(Duration::from_secs(3));
    let (_, _, later) = session.status().unwrap_or_default();
    assert!(later.starts_with("error:"), "{later}");
    assert_eq!(session.state().0, "error");
}

/// The strength tab and PPO (factorised, then transformer) from the URL, each run to done on the
/// wasm CPU path (a test of its own, so each stays under a minute).
#[test]
fn strength_and_ppo_run_in_headless_chromium() {
    let Some((port, driver)) = page_and_browser() else {
        return;
    };
    let session = Session::new(&driver);
    // A two-model ensemble in the strength tab, from the URL.
    session.goto(&url(port, "cpu", STRENGTH_CONFIG));
    let (_, backend, text) = session.wait_for_end("strength");
    let shot = session.screenshot("strength");
    assert!(!text.contains("error"), "the page reported {text}");
    assert_eq!(backend, "flex", "status {text}");
    let auroc: f32 = text
        .split("auroc=")
        .nth(1)
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("the synthetic world's truth gives an AUROC: {text}"));
    assert!((0.0..=1.0).contains(&auroc), "{text}");
    eprintln!(
        "strength in the browser: {text}; screenshot {}",
        shot.display()
    );
    // PPO with the factorised policy, run to completion in the page.
    session.goto(&url(port, "cpu", PPO_CONFIG));
    let (_, backend, text) = session.wait_for_end("ppo");
    let shot = session.screenshot("ppo");
    assert!(!text.contains("error"), "the page reported {text}");
    assert_eq!(backend, "flex", "status {text}");
    assert!(text.contains("gold_peak="), "the PPO report: {text}");
    eprintln!("ppo in the browser: {text}; screenshot {}", shot.display());
    // PPO with the transformer policy, one SFT or PPO step per frame of the page.
    session.goto(&url(port, "cpu", PPO_LM_CONFIG));
    let mut seen = Vec::new();
    let (_, backend, text) = session.wait_for_end_seeing("ppo transformer", &mut seen);
    let shot = session.screenshot("ppo-transformer");
    assert!(!text.contains("error"), "the page reported {text}");
    assert_eq!(backend, "flex", "status {text}");
    assert!(text.contains("gold_peak="), "the PPO report: {text}");
    assert!(
        seen.len() >= 3,
        "the page showed the run's progress step by step: {seen:?}"
    );
    eprintln!(
        "ppo transformer in the browser: {text}; steps seen {seen:?}; screenshot {}",
        shot.display()
    );
}

/// Links and lessons in the page (a test of its own, so each stays under a minute): a short link
/// restores its state exactly, a bad value is an error the marker states, and a lesson as it
/// ships runs to done from its link.
#[test]
fn short_links_and_lessons_in_headless_chromium() {
    let Some((port, driver)) = page_and_browser() else {
        return;
    };
    let session = Session::new(&driver);
    // A short link restores its state exactly: the page writes the same keys back (in its own
    // order) and names its preset on the status marker.
    let short = "preset=strength&models=4&flip=0.2&seed=3&backend=cpu";
    session.goto("about:blank");
    session.goto(&format!("http://127.0.0.1:{port}/index.html#{short}"));
    let (preset, hash) = session.link_when(|p, _| p == "strength");
    let keys = |link: &str| -> std::collections::BTreeSet<String> {
        link.trim_start_matches('#')
            .split('&')
            .map(str::to_string)
            .collect()
    };
    assert_eq!(preset, "strength");
    assert_eq!(keys(&hash), keys(short), "the page's link: {hash}");
    let shot = session.screenshot("link-strength");
    eprintln!(
        "short link {short} -> {hash}; screenshot {}",
        shot.display()
    );
    // An invalid value in a short link: an error on the marker naming the key, no run.
    session.goto("about:blank");
    session.goto(&format!(
        "http://127.0.0.1:{port}/index.html#preset=strength&models=abc&autostart=1&backend=cpu"
    ));
    let (_, _, text) = session.wait_for_end("invalid short link");
    let (state, error) = session.state();
    assert_eq!(state, "error", "status {text}");
    assert!(
        error.as_deref().unwrap_or("").contains("models=abc"),
        "data-error: {error:?}"
    );
    let shot = session.screenshot("link-error");
    eprintln!(
        "invalid short link: {error:?}; screenshot {}",
        shot.display()
    );
    // A lesson preset as it ships, run to done from its short link.
    session.goto("about:blank");
    let started = Instant::now();
    session.goto(&format!(
        "http://127.0.0.1:{port}/index.html#preset=rm&backend=cpu&autostart=1"
    ));
    let (_, backend, text) = session.wait_for_end("the rm lesson");
    let shot = session.screenshot("lesson-rm");
    assert!(!text.contains("error"), "the page reported {text}");
    assert_eq!(
        (backend.as_str(), session.state().0.as_str()),
        ("flex", "done")
    );
    eprintln!(
        "the rm lesson in the browser: {text} in {:.1} s; screenshot {}",
        started.elapsed().as_secs_f64(),
        shot.display()
    );
    // The whole window as a PNG, by its shortcut: a screen grab, cut, encoded and downloaded.
    let saved = session.save_png_by_shortcut();
    let (name, bytes) = saved.split_once(' ').expect("NAME BYTES");
    assert_eq!(name, "rlhf-lab-rm.png", "{saved}");
    let bytes: usize = bytes.parse().expect("a size");
    assert!(bytes > 10_000, "a picture of the page: {saved}");
    eprintln!("Ctrl+Shift+S in the browser downloaded {saved}");
}

/// The Iterative RLHF lesson from its link on the wasm CPU path, shortened by the link's own keys
/// (2 rounds of 15 PPO steps, so the test stays well under a minute): both arms' rounds, the
/// judge and the shift views run to done.
#[test]
fn the_rlhf_lesson_runs_to_done_in_headless_chromium() {
    let Some((port, driver)) = page_and_browser() else {
        return;
    };
    let session = Session::new(&driver);
    session.goto("about:blank");
    let started = Instant::now();
    session.goto(&format!(
        "http://127.0.0.1:{port}/index.html#preset=rlhf&backend=cpu&autostart=1&rounds=2&steps=15"
    ));
    let (_, backend, text) = session.wait_for_end("the rlhf lesson");
    let shot = session.screenshot("lesson-rlhf");
    assert!(!text.contains("error"), "the page reported {text}");
    assert_eq!(
        (backend.as_str(), session.state().0.as_str()),
        ("flex", "done")
    );
    // The link's keys took: the run ended after round 2 of 2.
    assert!(
        text.contains("metarm: round=2") && text.contains("vanilla: round=2"),
        "{text}"
    );
    eprintln!(
        "the rlhf lesson in the browser: {text} in {:.1} s; screenshot {}",
        started.elapsed().as_secs_f64(),
        shot.display()
    );
}

/// The default strength run (M = 10 bag-of-words members on 8,000 pairs, then band retraining).
/// (A partial config merges over the strength lesson, so the run's own defaults are spelled out.)
const STRENGTH_DEFAULT: &str = r#"{"data":{"source":{"kind":"synthetic","pairs":8000,"flip_rate":0.0}},"experiment":{"kind":"strength","models":10,"band_retrain":true,"snapshots":0}}"#;

/// Browser figures, one JSON line per case (not in CI: run by `scripts/web-bench.sh` after a
/// release web build): every lesson on the wasm CPU path and on WebGPU (SwiftShader here), and
/// the default strength run (8,000 pairs, M = 10) on the CPU path. A run stopped unfinished
/// gets `projected_wall_s`: its planned steps at the pace measured.
/// `first_step_s` is the time from navigating to the page until its status marker shows the
/// first training step (the first point of a live chart); steps/s are measured from then on;
/// `busy_s` is the time spent inside the run's steps and `away_s` the time the page had in the
/// turns the run gave it (frames, timers, the browser's own work).
/// A case stops at `RLHF_LAB_WEB_BENCH_SECONDS` (default 120) if it has not finished;
/// `RLHF_LAB_WEB_BENCH_CASES=lesson,default` runs only the cases whose names begin so (`lesson
/// NAME` on the CPU path, `webgpu lesson NAME`, `default strength run`).
#[test]
#[ignore = "browser benchmark: scripts/web-bench.sh"]
fn web_bench() {
    assert!(
        dist().join("index.html").is_file(),
        "no web build in {}: run `trunk build --release` first",
        dist().display()
    );
    let cap = std::env::var("RLHF_LAB_WEB_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .map_or(Duration::from_secs(120), Duration::from_secs);
    let port = serve(dist());
    let driver = Driver::start();
    let session = Session::new(&driver);
    let lesson = |name: &str, backend: &str| {
        format!("http://127.0.0.1:{port}/index.html#preset={name}&backend={backend}&autostart=1")
    };
    let mut cases = Vec::new();
    for p in rlhf_lab::experiment::presets::all().expect("the lessons") {
        cases.push((format!("lesson {}", p.name), "cpu", lesson(&p.name, "cpu")));
        cases.push((
            format!("webgpu lesson {}", p.name),
            "gpu",
            lesson(&p.name, "gpu"),
        ));
    }
    cases.push((
        "default strength run".to_string(),
        "cpu",
        url(port, "cpu", STRENGTH_DEFAULT),
    ));
    // RLHF_LAB_WEB_BENCH_CASES: a comma list; only the cases whose names begin with one run.
    if let Ok(only) = std::env::var("RLHF_LAB_WEB_BENCH_CASES") {
        cases.retain(|(case, _, _)| only.split(',').any(|o| case.starts_with(o.trim())));
    }
    for (case, backend, address) in cases {
        // A new page each time (a link differing only after '#' would not reload it).
        session.goto("about:blank");
        let t0 = Instant::now();
        session.goto(&address);
        // Steps counted across stages (the marker counts each stage's steps from 0).
        let (mut first, mut seen, mut total): (Option<(f64, usize)>, usize, usize) = (None, 0, 0);
        let mut last = (0.0, 0);
        let mut status;
        let finished = loop {
            let s = session.status();
            let t = t0.elapsed().as_secs_f64();
            if let Some((step, _, text)) = &s {
                total += if *step >= seen { *step - seen } else { *step };
                seen = *step;
                if total >= 1 && first.is_none() {
                    first = Some((t, total));
                }
                last = (t, total);
                if text.starts_with("done") || text.starts_with("error") {
                    status = s.clone();
                    break text.starts_with("done");
                }
            }
            status = s;
            if t0.elapsed() > cap {
                break false;
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        let (text, on) = status.map(|(_, b, text)| (text, b)).unwrap_or_default();
        // Time inside the run's steps (the rest: frames, timers, the browser's own work).
        let seconds = |name: &str| {
            session
                .execute(&format!(
                    "const e = document.getElementById('rlhf-status'); \
                     return e ? e.getAttribute('{name}') : null;"
                ))
                .as_str()
                .and_then(|ms| ms.parse::<f64>().ok())
                .map(|ms| ms / 1e3)
        };
        let (busy_s, away_s) = (seconds("data-busy-ms"), seconds("data-away-ms"));
        let (steps_per_s, first_step_s) = match first {
            Some((t1, s1)) if last.0 > t1 => (((last.1 - s1) as f64) / (last.0 - t1), Some(t1)),
            Some((t1, _)) => (f64::NAN, Some(t1)),
            None => (f64::NAN, None),
        };
        // Where the run stopped unfinished, its wall time at this pace: the steps planned
        // ("progress DONE/TOTAL" on the marker) at the steps/s measured after the first step.
        let planned: Option<f64> = text
            .strip_prefix("progress ")
            .and_then(|p| p.split_once('/'))
            .and_then(|(_, total)| total.trim().parse().ok());
        let projected_s = match (finished, planned, first_step_s) {
            (false, Some(total), Some(t1)) if steps_per_s > 0.0 => Some(t1 + total / steps_per_s),
            _ => None,
        };
        println!(
            "{}",
            serde_json::json!({
                "case": case,
                "backend_asked": backend,
                "backend": on,
                "first_step_s": first_step_s,
                "steps": last.1,
                "steps_per_s": steps_per_s,
                "finished": finished,
                "wall_s": t0.elapsed().as_secs_f64(),
                "busy_s": busy_s,
                "away_s": away_s,
                "projected_wall_s": projected_s,
                "status": text,
            })
        );
    }
}
