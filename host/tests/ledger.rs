//! The contact ledger (`callguard serve --db`), one suite run against SQLite and against a
//! throwaway PostgreSQL cluster: a dialer's round trip, decisions on the stored history,
//! reservations, idempotency, the evidence export, pruning, phone numbers kept only as hashes;
//! 50 concurrent reserves for one last slot (on SQLite, and across two servers sharing one
//! PostgreSQL); kill -9 while clients record; the database going away; a locked or corrupt file.
//! Every loop here is bounded in count.

#![allow(
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers fail the test by panicking; test JSON is indexed directly"
)]

mod support;

use serde_json::{json, Value};
use std::process::Command;
use std::sync::{Arc, Mutex};
use support::{post_json, request, start_with, temp_dir, Reply, Server};
use testkit::Postgres;

const TOKEN: &str = "test-token-0123456789";
const PHONE_KEY: &str = "test-phone-key-0123456789abcdef";
const PHONE: &str = "13800138000";

fn env() -> Vec<(&'static str, &'static str)> {
    vec![
        ("CALLGUARD_API_TOKEN", TOKEN),
        ("CALLGUARD_PHONE_KEY", PHONE_KEY),
    ]
}

/// A server on `db`. The suite replays fixed times of day, so it turns off the check that a
/// reservation's `at` is near the server's clock (tested on its own below).
fn serve_db(db: &str) -> Server {
    start_with(&[], &["--db", db, "--reserve-max-skew-secs", "0"], &env())
        .unwrap_or_else(|e| panic!("{e}"))
}

fn authed(addr: &str, method: &str, path: &str, body: &Value) -> Reply {
    let auth = format!("Bearer {TOKEN}");
    request(
        addr,
        method,
        path,
        &[
            ("Content-Type", "application/json"),
            ("Authorization", &auth),
        ],
        body.to_string().as_bytes(),
    )
}

fn contact(debtor: &str, at: &str, outcome: &str) -> Value {
    json!({"debtor_id": debtor, "at": at, "phone": PHONE, "outcome": outcome, "channel": "call"})
}

/// A gate question for `debtor` at `at` (Beijing time, within calling hours).
fn ask(debtor: &str, at: &str) -> Value {
    json!({"debtor_id": debtor, "at": at, "debtor_utc_offsets": ["+08:00"], "phone": PHONE, "dpd": 10})
}

/// `callguard ledger …` or `callguard gate …` with the test's phone key.
fn cli(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_callguard"))
        .args(args)
        .env("CALLGUARD_PHONE_KEY", PHONE_KEY)
        .current_dir(support::root())
        .output()
        .unwrap_or_else(|e| panic!("{e}"))
}

/// The suite every backend must pass, on a server already started on `db`.
fn round_trip(db: &str, a: &str) {
    // Writes need the token.
    let r = post_json(
        a,
        "/v1/contacts",
        &contact("D1", "2026-06-15T09:00:00+08:00", "connected").to_string(),
    );
    assert_eq!(r.status, 401, "{}", r.body);
    assert!(r.body.contains("需要 API 令牌"), "{}", r.body);

    // Record, and the same idempotency key again records nothing.
    let mut c = contact("D1", "2026-06-15T09:00:00+08:00", "connected");
    c["idempotency_key"] = json!("dialer-7:call-1");
    let first = authed(a, "POST", "/v1/contacts", &c);
    assert_eq!(first.status, 201, "{}", first.body);
    let again = authed(a, "POST", "/v1/contacts", &c);
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.json()["duplicate"], true);
    assert_eq!(again.json()["contact"]["id"], first.json()["contact"]["id"]);
    let stored = first.json()["contact"].clone();
    assert!(stored["phone_hash"]
        .as_str()
        .is_some_and(|h| h.starts_with("h:")));
    assert!(
        !first.body.contains(PHONE),
        "the number is never echoed: {}",
        first.body
    );

    // Bad input is a 400 with a Chinese reason naming the field.
    let r = authed(
        a,
        "POST",
        "/v1/contacts",
        &contact("D1", "2026-06-15 09:00", "connected"),
    );
    assert_eq!(r.status, 400);
    assert!(
        r.body.contains("RFC 3339") && r.body.contains("`at`"),
        "{}",
        r.body
    );
    let r = authed(
        a,
        "POST",
        "/v1/contacts",
        &contact("D1", "2026-06-15T09:00:00+08:00", "busy"),
    );
    assert_eq!(r.status, 400);
    assert!(
        r.body.contains("`outcome`") && r.body.contains("`busy`"),
        "{}",
        r.body
    );

    // The gate decides on the stored history: one connected call so far.
    authed(
        a,
        "POST",
        "/v1/contacts",
        &contact("D1", "2026-06-15T10:00:00+08:00", "connected"),
    );
    let r = authed(
        a,
        "POST",
        "/v1/gate",
        &ask("D1", "2026-06-15T11:00:00+08:00"),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(v["allowed"], true);
    assert_eq!(v["today"]["debtor_connected_today"], 2);
    assert_eq!(v["today"]["phone_attempts_today"], 2);
    assert!(v["decision_id"].is_string());
    // … and without the token the ledger's gate is refused, while the stateless one stays open.
    let r = post_json(
        a,
        "/v1/gate",
        &ask("D1", "2026-06-15T11:00:00+08:00").to_string(),
    );
    assert_eq!(r.status, 401);
    let mut own = ask("D1", "2026-06-15T11:00:00+08:00");
    own.as_object_mut().map(|m| m.remove("debtor_id"));
    own["history"] = json!([]);
    let r = post_json(a, "/v1/gate", &own.to_string());
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["today"]["debtor_connected_today"], 0);

    // Reserve the last slot; the next reservation is refused while it is pending.
    let r = authed(
        a,
        "POST",
        "/v1/gate:reserve",
        &ask("D1", "2026-06-15T14:00:00+08:00"),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(v["allowed"], true, "{}", r.body);
    let reservation = v["reservation"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(!reservation.is_empty(), "{}", r.body);
    let r = authed(
        a,
        "POST",
        "/v1/gate:reserve",
        &ask("D1", "2026-06-15T14:05:00+08:00"),
    );
    let v = r.json();
    assert_eq!(v["allowed"], false, "{}", r.body);
    assert_eq!(v["findings"][0]["rule"], "calling.debtor_connected_per_day");
    assert!(v.get("reservation").is_none());

    // Completing it as unanswered frees the slot; a second, different outcome is a conflict.
    let path = format!("/v1/contacts/{reservation}/outcome");
    let r = authed(a, "POST", &path, &json!({"outcome": "unanswered"}));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["contact"]["outcome"], "unanswered");
    assert_eq!(
        authed(a, "POST", &path, &json!({"outcome": "unanswered"})).status,
        200
    );
    let r = authed(a, "POST", &path, &json!({"outcome": "connected"}));
    assert_eq!(r.status, 409, "{}", r.body);
    let r = authed(
        a,
        "POST",
        "/v1/contacts/no-such-id/outcome",
        &json!({"outcome": "connected"}),
    );
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["type"], "failure");
    let r = authed(
        a,
        "POST",
        "/v1/gate:reserve",
        &ask("D1", "2026-06-15T15:00:00+08:00"),
    );
    assert_eq!(r.json()["allowed"], true, "{}", r.body);

    // A retried reservation with the same idempotency key replays the first decision.
    let mut q = ask("D2", "2026-06-15T15:00:00+08:00");
    q["idempotency_key"] = json!("dialer-7:reserve-1");
    let first = authed(a, "POST", "/v1/gate:reserve", &q).json();
    let again = authed(a, "POST", "/v1/gate:reserve", &q).json();
    assert_eq!(first["reservation"]["id"], again["reservation"]["id"]);
    assert_eq!(again["replayed"], true);

    // A key reused for another debtor is a conflict, never another debtor's "yes"; the keys of
    // recorded contacts and of reservations are separate.
    let mut other = ask("D4", "2026-06-15T15:00:00+08:00");
    other["idempotency_key"] = json!("dialer-7:reserve-1");
    let r = authed(a, "POST", "/v1/gate:reserve", &other);
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("幂等键"), "{}", r.body);
    let mut c = contact("D4", "2026-06-15T09:00:00+08:00", "unanswered");
    c["idempotency_key"] = json!("pbx-call-42");
    assert_eq!(authed(a, "POST", "/v1/contacts", &c).status, 201);
    other["idempotency_key"] = json!("pbx-call-42");
    let r = authed(a, "POST", "/v1/gate:reserve", &other);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.json()["reservation"]["id"].is_string(), "{}", r.body);

    // A third party who refused is never called again on that number, from the stored refusal.
    let mut refusal = contact("D3", "2026-06-10T10:00:00+08:00", "refused");
    refusal["party"] = json!("third_party");
    refusal["phone"] = json!("+86 139-0000-1111");
    assert_eq!(authed(a, "POST", "/v1/contacts", &refusal).status, 201);
    let mut q = ask("D3", "2026-06-15T10:00:00+08:00");
    q["party"] = json!("third_party");
    q["phone"] = json!("13900001111");
    let v = authed(a, "POST", "/v1/gate", &q).json();
    assert_eq!(v["allowed"], false);
    let rules: Vec<&str> = v["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["rule"].as_str())
        .collect();
    assert!(rules.contains(&"calling.third_party_refused"), "{rules:?}");

    // The history lists every contact, pending or done, oldest first.
    let r = authed(a, "GET", "/v1/contacts?debtor_id=D1", &json!({}));
    assert_eq!(r.status, 200, "{}", r.body);
    let list = r.json()["contacts"].as_array().cloned().unwrap_or_default();
    let outcomes: Vec<&str> = list.iter().filter_map(|c| c["outcome"].as_str()).collect();
    assert_eq!(
        outcomes,
        ["connected", "connected", "unanswered", "pending"]
    );
    let r = authed(a, "GET", "/v1/contacts", &json!({}));
    assert_eq!(r.status, 400);

    // The evidence: every decision with its pack and module, no number in clear.
    let out = cli(&["ledger", "export", "--db", db]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or(Value::Null))
        .collect();
    assert_eq!(lines.len(), 7, "{text}");
    for line in &lines {
        assert_eq!(line["pack"]["id"], "cn-company");
        assert_eq!(line["pack"]["sha256"].as_str().map(str::len), Some(64));
        assert_eq!(line["module_sha256"].as_str().map(str::len), Some(64));
        assert!(line["decided_at"].is_string() && line["allowed"].is_boolean());
    }
    assert!(
        !text.contains(PHONE) && !text.contains("13900001111"),
        "{text}"
    );
    let out = cli(&["ledger", "export", "--db", db, "--debtor-id", "D2"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);

    // The CLI decides on the same store.
    let file = temp_dir("ledger-cli").join("ask.json");
    std::fs::write(&file, ask("D1", "2026-06-15T16:00:00+08:00").to_string()).unwrap_or(());
    let out = cli(&[
        "gate",
        "--db",
        db,
        "--json",
        file.to_str().unwrap_or_default(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    assert_eq!(
        v["allowed"], false,
        "two connected and one pending reservation: {v}"
    );
    assert_eq!(v["today"]["debtor_connected_today"], 3);

    // Reviewers' verdicts, notes and score adjustments are shared through the store.
    let finding = json!({"rule": "abuse.label", "category": "abusive_language", "excerpt": "老赖", "message": "侮辱性称呼"});
    let review = |kind: &str, finding_key: Option<&str>, value: Value| {
        let mut body = json!({"call_key": "sha-call-1", "call_label": "a.txt", "kind": kind, "value": value, "reviewer": "质检员王", "finding": finding});
        if let Some(k) = finding_key {
            body["finding_key"] = json!(k);
        }
        authed(a, "POST", "/v1/reviews", &body)
    };
    assert_eq!(
        review(
            "verdict",
            Some("abuse.label@2:0-6"),
            json!({"verdict": "disputed"})
        )
        .status,
        201
    );
    assert_eq!(
        review(
            "note",
            Some("abuse.label@2:0-6"),
            json!({"note": "客户自称老赖，坐席在复述"})
        )
        .status,
        201
    );
    assert_eq!(
        review(
            "verdict",
            Some("threat.menace@4:0-9"),
            json!({"verdict": "disputed"})
        )
        .status,
        201
    );
    assert_eq!(
        review(
            "verdict",
            Some("threat.menace@4:0-9"),
            json!({"verdict": "confirmed"})
        )
        .status,
        201
    );
    assert_eq!(
        review("score", None, json!({"score": 85, "reason": "误报已剔除"})).status,
        201
    );
    let r = review("score", None, json!({"score": 85}));
    assert_eq!(r.status, 400);
    assert!(r.body.contains("原因不能为空"), "{}", r.body);
    assert_eq!(
        review("verdict", None, json!({"verdict": "disputed"})).status,
        400
    );
    assert_eq!(review("grade", None, json!({})).status, 400);
    assert_eq!(post_json(a, "/v1/reviews", "{}").status, 401);
    let r = authed(a, "GET", "/v1/reviews?call_key=sha-call-1", &json!({}));
    assert_eq!(r.status, 200, "{}", r.body);
    let listed = r.json()["reviews"].as_array().cloned().unwrap_or_default();
    assert_eq!(listed.len(), 5);
    assert!(listed
        .iter()
        .all(|v| v["reviewer"] == "质检员王" && v["at"].is_string()));
    let out = cli(&["reviews", "export", "--db", db, "--disputed"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let disputed: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or(Value::Null))
        .collect();
    assert_eq!(
        disputed.len(),
        1,
        "the later 确认 stands for threat.menace: {disputed:?}"
    );
    assert_eq!(disputed[0]["rule"], "abuse.label");
    assert_eq!(disputed[0]["note"], "客户自称老赖，坐席在复述");
    let out = cli(&["reviews", "export", "--db", db]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 5);

    // Pruning keeps two years by default; an old record goes.
    authed(
        a,
        "POST",
        "/v1/contacts",
        &contact("D9", "2019-01-02T10:00:00+08:00", "connected"),
    );
    let out = cli(&["ledger", "prune", "--db", db]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    assert_eq!(v["deleted_contacts"], 1, "{v}");
    assert_eq!(v["deleted_decisions"], 0);
}

/// 50 reserves at once for a debtor with one slot left, spread over `servers`: exactly one yes.
fn last_slot_race(servers: &[&str], debtor: &str) {
    let a = servers[0];
    for at in ["2026-06-16T09:00:00+08:00", "2026-06-16T10:00:00+08:00"] {
        assert_eq!(
            authed(a, "POST", "/v1/contacts", &contact(debtor, at, "connected")).status,
            201
        );
    }
    let answers = Arc::new(Mutex::new(Vec::new()));
    let threads: Vec<_> = (0..50)
        .map(|i| {
            let addr = servers[i % servers.len()].to_string();
            let answers = answers.clone();
            let debtor = debtor.to_string();
            std::thread::spawn(move || {
                let r = authed(
                    &addr,
                    "POST",
                    "/v1/gate:reserve",
                    &ask(&debtor, "2026-06-16T15:00:00+08:00"),
                );
                answers
                    .lock()
                    .map(|mut a| a.push((r.status, r.json()["allowed"].clone())))
                    .ok();
            })
        })
        .collect();
    for t in threads {
        t.join()
            .unwrap_or_else(|_| panic!("a client thread panicked"));
    }
    let answers = answers.lock().map(|a| a.clone()).unwrap_or_default();
    assert_eq!(answers.len(), 50);
    assert!(answers.iter().all(|(s, _)| *s == 200), "{answers:?}");
    let yes = answers
        .iter()
        .filter(|(_, allowed)| allowed == &json!(true))
        .count();
    assert_eq!(
        yes, 1,
        "exactly one of 50 concurrent reserves gets the last slot: {answers:?}"
    );
}

#[test]
fn ledger_on_sqlite() {
    let dir = temp_dir("ledger-sqlite");
    let db = format!("sqlite:{}", dir.join("ledger.db").display());
    let s = serve_db(&db);
    round_trip(&db, &s.addr);
    last_slot_race(&[&s.addr], "RACE");
    drop(s);
    // The number is never in the database file (nor its write-ahead log).
    for name in ["ledger.db", "ledger.db-wal"] {
        let bytes = std::fs::read(dir.join(name)).unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains(PHONE) && !text.contains("13900001111"),
            "{name} holds a number"
        );
    }

    // With the default check, a reservation is for an attempt made now.
    let s = start_with(&[], &["--db", &db], &env()).unwrap_or_else(|e| panic!("{e}"));
    let r = authed(
        &s.addr,
        "POST",
        "/v1/gate:reserve",
        &ask("D1", "2026-06-15T14:00:00+08:00"),
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("预约的时间"), "{}", r.body);
    let mut now = ask("D1", "");
    now.as_object_mut().map(|m| m.remove("at"));
    let r = authed(&s.addr, "POST", "/v1/gate:reserve", &now);
    assert_eq!(
        r.status, 200,
        "without `at` the server's clock decides: {}",
        r.body
    );
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn ledger_on_postgres() {
    let pg = Postgres::start("ledger").unwrap_or_else(|e| panic!("{e}"));
    let s = serve_db(&pg.url);
    round_trip(&pg.url, &s.addr);
    // Two servers behind a load balancer share one PostgreSQL.
    let second = serve_db(&pg.url);
    last_slot_race(&[&s.addr, &second.addr], "RACE");
    // The number is nowhere in the database.
    let dump = Command::new("pg_dump")
        .args(["--data-only", &pg.url])
        .output()
        .unwrap_or_else(|e| panic!("pg_dump: {e}"));
    assert!(
        dump.status.success(),
        "{}",
        String::from_utf8_lossy(&dump.stderr)
    );
    let dump = String::from_utf8_lossy(&dump.stdout);
    assert!(dump.contains("h:"), "the dump has the hashes");
    assert!(!dump.contains(PHONE) && !dump.contains("13900001111"));

    // The database goes away: the ledger answers 503 with a reason, scoring goes on.
    pg.stop_server().unwrap_or_else(|e| panic!("{e}"));
    let r = authed(
        &s.addr,
        "POST",
        "/v1/contacts",
        &contact("D5", "2026-06-15T09:00:00+08:00", "connected"),
    );
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(r.json()["errors"][0]["code"], "ledger_unavailable");
    assert!(r.body.contains("联系记录库暂不可用"), "{}", r.body);
    let r = post_json(
        &s.addr,
        "/v1/check",
        r#"{"text":"你好，我是某某银行的客服"}"#,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r = post_json(
        &s.addr,
        "/v1/score",
        r#"{"turns":[{"speaker":"agent","text":"您好"}]}"#,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    // … and it comes back.
    pg.start_server().unwrap_or_else(|e| panic!("{e}"));
    let r = authed(
        &s.addr,
        "POST",
        "/v1/contacts",
        &contact("D5", "2026-06-15T09:00:00+08:00", "connected"),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(support::get(&s.addr, "/healthz").json()["ledger"], "ok");
}

#[test]
fn acknowledged_contacts_survive_kill_9() {
    let dir = temp_dir("ledger-kill");
    let db = format!("sqlite:{}", dir.join("ledger.db").display());
    let mut s = serve_db(&db);
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let clients: Vec<_> = (0..8)
        .map(|t| {
            let addr = s.addr.clone();
            let acked = acked.clone();
            std::thread::spawn(move || {
                for i in 0..400 {
                    let key = format!("k{t}-{i}");
                    let mut c =
                        contact(&format!("K{t}"), "2026-06-15T09:00:00+08:00", "unanswered");
                    c["idempotency_key"] = json!(key);
                    let ok = std::panic::catch_unwind(|| {
                        authed(&addr, "POST", "/v1/contacts", &c).status
                    });
                    match ok {
                        Ok(201) => acked.lock().map(|mut a| a.push(key)).unwrap_or(()),
                        _ => return,
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    s.child.kill().unwrap_or_else(|e| panic!("kill -9: {e}"));
    let _ = s.child.wait();
    for c in clients {
        let _ = c.join();
    }
    let acked = acked.lock().map(|a| a.clone()).unwrap_or_default();
    assert!(
        acked.len() >= 8,
        "the clients recorded something before the kill: {}",
        acked.len()
    );
    assert!(
        acked.len() < 3200,
        "the kill came while clients were still recording"
    );

    // The store opens cleanly and holds every acknowledged contact exactly once.
    let s = serve_db(&db);
    let mut seen = std::collections::HashMap::<String, u32>::new();
    for t in 0..8 {
        let r = authed(
            &s.addr,
            "GET",
            &format!("/v1/contacts?debtor_id=K{t}&limit=5000"),
            &json!({}),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        for c in r.json()["contacts"].as_array().into_iter().flatten() {
            if let Some(k) = c["idempotency_key"].as_str() {
                *seen.entry(k.to_string()).or_default() += 1;
            }
        }
    }
    for key in &acked {
        assert_eq!(
            seen.get(key),
            Some(&1),
            "acknowledged contact {key} is there exactly once"
        );
    }
    eprintln!(
        "kill -9: {} acknowledged, {} stored",
        acked.len(),
        seen.len()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_bad_store_or_setup_is_a_clear_error_at_start() {
    let dir = temp_dir("ledger-start");
    // A corrupt file.
    let corrupt = dir.join("corrupt.db");
    std::fs::write(&corrupt, vec![0x5a; 8192]).unwrap_or(());
    let e = start_with(
        &[],
        &["--db", &format!("sqlite:{}", corrupt.display())],
        &env(),
    )
    .err()
    .unwrap_or_default();
    assert!(e.contains("不是有效的 SQLite 数据库"), "{e}");

    // A file another process holds locked.
    let locked = dir.join("locked.db");
    let holder = Command::new("python3")
        .args([
            "-c",
            "import sqlite3,sys,time\nc=sqlite3.connect(sys.argv[1],isolation_level=None)\nc.execute('PRAGMA locking_mode=EXCLUSIVE')\nc.execute('BEGIN EXCLUSIVE')\nc.execute('CREATE TABLE held(x)')\nprint('held',flush=True)\ntime.sleep(30)",
            locked.to_str().unwrap_or_default(),
        ])
        .stdout(std::process::Stdio::piped())
        .spawn();
    let mut holder = holder.unwrap_or_else(|e| panic!("python3: {e}"));
    let mut line = String::new();
    if let Some(out) = holder.stdout.take() {
        let _ = std::io::BufRead::read_line(&mut std::io::BufReader::new(out), &mut line);
    }
    assert_eq!(line.trim(), "held");
    let e = start_with(
        &[],
        &["--db", &format!("sqlite:{}", locked.display())],
        &env(),
    )
    .err()
    .unwrap_or_default();
    let _ = holder.kill();
    let _ = holder.wait();
    assert!(e.contains("被另一个进程锁定"), "{e}");

    // No token, no phone key, another phone key.
    let db = format!("sqlite:{}", dir.join("ok.db").display());
    let e = start_with(&[], &["--db", &db], &[("CALLGUARD_PHONE_KEY", PHONE_KEY)])
        .err()
        .unwrap_or_default();
    assert!(e.contains("API 令牌"), "{e}");
    let e = start_with(&[], &["--db", &db], &[("CALLGUARD_API_TOKEN", TOKEN)])
        .err()
        .unwrap_or_default();
    assert!(e.contains("号码密钥"), "{e}");
    drop(serve_db(&db));
    let other = [
        ("CALLGUARD_API_TOKEN", TOKEN),
        ("CALLGUARD_PHONE_KEY", "another-key-0123456789abcdef"),
    ];
    let e = start_with(&[], &["--db", &db], &other)
        .err()
        .unwrap_or_default();
    assert!(e.contains("号码密钥与联系记录库"), "{e}");
    let e = start_with(&[], &["--db", "mysql://x/y"], &env())
        .err()
        .unwrap_or_default();
    assert!(e.contains("不支持的数据库地址"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}
