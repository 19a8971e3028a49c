//! Weight setting against the local subtensor test node (real runtime
//! metadata from @bitgo/sdk-coin-tao, every extrinsic verified by
//! @polkadot/types): set_weights end to end on two runtimes, the dry run,
//! the commit-reveal path, the dispatch-error decoding, and every fault the
//! issue lists, through the binary with its exit codes.

#[path = "common/chain_node.rs"]
mod chain_node;
mod common;

use chain_node::{seed_hex, ss58, standard_state, Runtime, TestNode};
use serde_json::{json, Value};
use std::process::Command;

const NETUID: u16 = 7;

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Out {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", self.stdout, self.stderr))
    }
}

/// `leoma-gpu weights ARGS` with the hotkey of `seed_byte` from the environment.
fn weights(seed_byte: u8, args: &[&str]) -> Out {
    let out = Command::new(env!("CARGO_BIN_EXE_leoma-gpu"))
        .arg("weights")
        .args(args)
        .env("LEOMA_HOTKEY_SEED", seed_hex(seed_byte))
        .env_remove("NETWORK")
        .env_remove("NETUID")
        .env_remove("EPOCH_LEN")
        .env_remove("LEOMA_CHAIN_ENDPOINT")
        .env_remove("RUST_LOG")
        .output()
        .expect("run leoma-gpu");
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn on(node: &TestNode) -> Vec<String> {
    vec![
        "--network".into(),
        node.runtime.network().into(),
        "--chain-endpoint".into(),
        node.url(),
        "--netuid".into(),
        NETUID.to_string(),
    ]
}

fn set(node: &TestNode, seed: u8, extra: &[&str]) -> Out {
    let mut args: Vec<String> = vec!["set".into()];
    args.extend(on(node));
    args.extend(extra.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    weights(seed, &refs)
}

fn assert_no_weights_on_chain(node: &TestNode) {
    assert!(node.applied().is_empty(), "{:?}", node.applied());
    assert_eq!(node.subnet(NETUID)["weights"], json!({}));
}

#[test]
fn set_weights_lands_on_both_runtimes() {
    for runtime in [Runtime::Mainnet, Runtime::Testnet] {
        let node = TestNode::start(runtime, standard_state(NETUID, json!({})));
        let out = set(&node, 0x11, &["--winner", &ss58(0x22)]);
        assert_eq!(out.code, 0, "{runtime:?}: {}", out.stderr);
        let report = out.json();
        assert_eq!(report["plan"]["target_uid"], 2);
        assert_eq!(report["plan"]["burn"], false);
        let events = report["included"]["events"].as_array().unwrap();
        assert_eq!(
            events,
            &vec![
                json!("SubtensorModule::WeightsSet"),
                json!("TransactionPayment::TransactionFeePaid"),
                json!("System::ExtrinsicSuccess")
            ]
        );
        // The node (polkadot-js) decoded the same call and verified the signature.
        let applied = node.applied();
        assert_eq!(applied.len(), 1);
        let a = &applied[0];
        assert_eq!(a["call"], "subtensorModule.setWeights");
        assert_eq!(a["outcome"], "success");
        assert_eq!(a["signer"], ss58(0x11));
        assert_eq!(a["args"]["dests"], json!(["2"]));
        assert_eq!(a["args"]["weights"], json!(["65,535"]));
        assert_eq!(a["args"]["netuid"], json!(NETUID.to_string()));
        // polkadot-js rebuilt the signer payload this chain expects: identical to ours.
        assert_eq!(a["signerPayload"], report["signed"]["signer_payload_hex"]);
        assert_eq!(a["hash"], report["signed"]["tx_hash"]);
        let subnet = node.subnet(NETUID);
        assert_eq!(subnet["weights"]["1"], json!([[2, 65535]]));
        assert_eq!(subnet["neurons"][1]["lastUpdate"], json!(1001));
        // And `show` reads it back from chain storage.
        let mut args = vec!["show".to_string()];
        args.extend(on(&node));
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let shown = weights(0x11, &refs).json();
        assert_eq!(shown["weights"], json!([[2, 65535]]));
        assert_eq!(shown["validator"]["last_update"], 1001);
        assert_eq!(
            shown["spec_version"],
            if runtime == Runtime::Mainnet {
                219
            } else {
                224
            }
        );
    }
}

#[test]
fn dry_run_prints_the_decoded_call_and_submits_nothing() {
    let node = TestNode::start(Runtime::Mainnet, standard_state(NETUID, json!({})));
    let out = set(&node, 0x11, &["--uid", "2", "--dry-run"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let r = out.json();
    assert_eq!(r["dry_run"], true);
    assert_eq!(
        r["signed"]["decoded_call"],
        format!(
            "SubtensorModule (set_weights {{ netuid: {NETUID}, dests: (2), weights: (65535), version_key: 0 }})"
        )
    );
    assert!(r["included"].is_null());
    assert_eq!(
        r["signed"]["extensions"],
        json!([
            "CheckNonZeroSender",
            "CheckSpecVersion",
            "CheckTxVersion",
            "CheckGenesis",
            "CheckMortality",
            "CheckNonce",
            "CheckWeight",
            "ChargeTransactionPayment",
            "SubtensorSignedExtension",
            "CommitmentsSignedExtension",
            "CheckMetadataHash"
        ])
    );
    assert_no_weights_on_chain(&node);
    // The dry run is safe even where the real call would be refused.
    node.patch_subnet(
        NETUID,
        json!({"weightsRateLimit": 100000, "neurons": [
        {"hotkey": ss58(0x33), "permit": false},
        {"hotkey": ss58(0x11), "permit": true, "lastUpdate": 1000},
        {"hotkey": ss58(0x22), "permit": false}]}),
    );
    let out = set(&node, 0x11, &["--uid", "2", "--dry-run"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_no_weights_on_chain(&node);
}

#[test]
fn commit_reveal_subnets_get_a_timelocked_commit() {
    let node = TestNode::start(
        Runtime::Mainnet,
        standard_state(
            NETUID,
            json!({"commitRevealEnabled": true, "revealPeriodEpochs": 1}),
        ),
    );
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let out = set(&node, 0x11, &["--winner", &ss58(0x22)]);
    let after = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let r = out.json();
    // Spec 219 has commit_crv3_weights (not yet commit_timelocked_weights).
    assert_eq!(r["plan"]["call"]["call"], "commit_crv3_weights");
    let round = r["plan"]["call"]["reveal_round"].as_u64().unwrap();
    let expect =
        |now| leoma_gpu::chain::timelock::reveal_round(360, 1000, NETUID, 1, 12.0, now).unwrap();
    assert!((expect(before)..=expect(after)).contains(&round), "{round}");
    let commit = hex::decode(
        r["plan"]["call"]["commit"]
            .as_str()
            .unwrap()
            .trim_start_matches("0x"),
    )
    .unwrap();
    assert!(
        commit.len() > 100 && commit.len() < 5000,
        "{}",
        commit.len()
    );
    assert_eq!(
        r["included"]["events"],
        json!([
            "SubtensorModule::CRV3WeightsCommitted",
            "TransactionPayment::TransactionFeePaid",
            "System::ExtrinsicSuccess"
        ])
    );
    let subnet = node.subnet(NETUID);
    // No weights yet (the chain reveals them at the drand round), but the
    // commit is stored under the epoch and counts as our update.
    assert_eq!(subnet["weights"], json!({}));
    let commits = subnet["crv3Commits"].as_object().unwrap();
    assert_eq!(commits.len(), 1);
    let (_, list) = commits.iter().next().unwrap();
    assert_eq!(list[0][1], r["plan"]["call"]["commit"]);
    assert_eq!(list[0][2], json!(round));
    assert_eq!(subnet["neurons"][1]["lastUpdate"], json!(1001));
    // A plain set_weights on this subnet is what the runtime refuses.
    assert_eq!(
        node.applied()[0]["call"],
        "subtensorModule.commitCrv3Weights"
    );
}

#[test]
fn a_failed_dispatch_is_decoded_into_the_runtime_error() {
    let node = TestNode::start(Runtime::Mainnet, standard_state(NETUID, json!({})));
    // The subnet turns commit-reveal on between our read and the block: the
    // runtime's set_weights then fails with CommitRevealEnabled.
    node.fault(
        json!({"patchOnSubmit": {"netuid": NETUID, "patch": {"commitRevealEnabled": true}}}),
    );
    let out = set(&node, 0x11, &["--uid", "2"]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(
        out.stderr.contains("SubtensorModule::CommitRevealEnabled"),
        "{}",
        out.stderr
    );
    let applied = node.applied();
    assert_eq!(applied[0]["outcome"], "SubtensorModule.CommitRevealEnabled");
    assert_eq!(node.subnet(NETUID)["weights"], json!({}));
}

#[test]
fn faults_give_clear_errors_and_exit_codes() {
    let node = TestNode::start(Runtime::Mainnet, standard_state(NETUID, json!({})));
    let cases: Vec<(&str, Out, i32, &str)> = vec![
        (
            "unknown netuid",
            weights(
                0x11,
                &[
                    "set",
                    "--network",
                    "finney",
                    "--chain-endpoint",
                    &node.url(),
                    "--netuid",
                    "99",
                    "--uid",
                    "2",
                ],
            ),
            2,
            "subnet 99 does not exist",
        ),
        (
            "unregistered hotkey",
            set(&node, 0x44, &["--uid", "2"]),
            2,
            "is not registered on subnet 7",
        ),
        (
            "no validator permit",
            set(&node, 0x22, &["--uid", "1"]),
            2,
            "has no validator permit",
        ),
        (
            "winner not in the metagraph",
            set(&node, 0x11, &["--winner", &ss58(0x55)]),
            2,
            "is not registered on subnet 7 (not in the metagraph)",
        ),
        (
            "winner not an address",
            set(&node, 0x11, &["--winner", "5NotAnAddress"]),
            2,
            "is not an SS58 address",
        ),
        (
            "uid out of range",
            set(&node, 0x11, &["--uid", "3"]),
            2,
            "uid 3 does not exist on subnet 7, which has 3 uids",
        ),
        (
            "wrong network's genesis",
            weights(
                0x11,
                &[
                    "set",
                    "--network",
                    "test",
                    "--chain-endpoint",
                    &node.url(),
                    "--netuid",
                    "7",
                    "--uid",
                    "2",
                ],
            ),
            2,
            "is not test: its genesis hash is 0x2f0555cc",
        ),
        (
            "node unreachable",
            weights(
                0x11,
                &[
                    "set",
                    "--network",
                    "ws://127.0.0.1:9",
                    "--netuid",
                    "7",
                    "--uid",
                    "2",
                    "--connect-timeout",
                    "5",
                ],
            ),
            3,
            "cannot reach the node at ws://127.0.0.1:9",
        ),
        (
            "unknown network name",
            weights(0x11, &["show", "--network", "mainnet"]),
            2,
            "unknown network 'mainnet'",
        ),
    ];
    for (name, out, code, needle) in cases {
        assert_eq!(out.code, code, "{name}: {}", out.stderr);
        assert!(out.stderr.contains(needle), "{name}: {}", out.stderr);
        assert!(!out.stderr.contains("panicked"), "{name}: {}", out.stderr);
        assert_eq!(
            out.stderr.trim().lines().count(),
            1,
            "{name}: {}",
            out.stderr
        );
    }
    assert_no_weights_on_chain(&node);
}

#[test]
fn rate_limit_is_checked_before_submitting() {
    let node = TestNode::start(Runtime::Mainnet, standard_state(NETUID, json!({})));
    assert_eq!(set(&node, 0x11, &["--uid", "2"]).code, 0);
    let out = set(&node, 0x11, &["--uid", "0"]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(
        out.stderr.contains("rate limit not yet passed") && out.stderr.contains("100 more blocks"),
        "{}",
        out.stderr
    );
    assert_eq!(node.applied().len(), 1);
    node.new_blocks(100);
    let out = set(&node, 0x11, &["--uid", "0"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.json()["plan"]["burn"], true);
    assert_eq!(node.subnet(NETUID)["weights"]["1"], json!([[0, 65535]]));
}

#[test]
fn a_node_dropping_mid_submission_is_reported_and_show_tells_the_outcome() {
    for (when, landed) in [("before", false), ("after", true)] {
        let node = TestNode::start(Runtime::Mainnet, standard_state(NETUID, json!({})));
        node.fault(json!({"dropOnSubmit": when}));
        let out = set(&node, 0x11, &["--uid", "2", "--inclusion-timeout", "20"]);
        assert_eq!(out.code, 3, "{when}: {}", out.stderr);
        assert!(
            out.stderr.contains("lost the node while waiting")
                || out.stderr.contains("cannot reach the node"),
            "{when}: {}",
            out.stderr
        );
        assert_eq!(node.applied().len(), usize::from(landed), "{when}");
        let expected = if landed {
            json!([[2, 65535]])
        } else {
            Value::Null
        };
        assert_eq!(node.subnet(NETUID)["weights"]["1"], expected, "{when}");
    }
}

#[test]
fn a_malformed_keyfile_is_refused_before_any_chain_call() {
    let node = TestNode::start(Runtime::Mainnet, standard_state(NETUID, json!({})));
    let dir = tempfile::tempdir().unwrap();
    let hotkeys = dir.path().join("w/hotkeys");
    std::fs::create_dir_all(&hotkeys).unwrap();
    let file = hotkeys.join("h");
    std::fs::write(&file, "{\"secretSeed\": \"0x12\"").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let out = Command::new(env!("CARGO_BIN_EXE_leoma-gpu"))
        .args([
            "weights",
            "set",
            "--network",
            "finney",
            "--chain-endpoint",
            &node.url(),
        ])
        .args(["--netuid", "7", "--uid", "2", "--wallet-path"])
        .arg(dir.path())
        .args(["--wallet-name", "w", "--wallet-hotkey", "h"])
        .env_remove("LEOMA_HOTKEY_SEED")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("is not a bittensor key file"), "{stderr}");
    assert!(stderr.contains(&file.display().to_string()), "{stderr}");
    assert_no_weights_on_chain(&node);
}

/// A running `weights loop`, killed (by its pid) when dropped.
struct Loop {
    child: std::process::Child,
}

impl Loop {
    fn start(node: &TestNode, extra: &[&str]) -> Loop {
        let child = Command::new(env!("CARGO_BIN_EXE_leoma-gpu"))
            .arg("weights")
            .arg("loop")
            .args(on(node))
            .args(["--epoch-len", "50", "--poll-seconds", "0.1"])
            .args(extra)
            .env("LEOMA_HOTKEY_SEED", seed_hex(0x11))
            .env("RUST_LOG", "info")
            .env_remove("EPOCH_LEN")
            .env_remove("LEOMA_BURN_ON_NO_WINNER")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        Loop { child }
    }

    /// Stops the loop and returns its log.
    fn stop(mut self) -> String {
        let _ = self.child.kill();
        let out = std::mem::replace(&mut self.child, Command::new("true").spawn().unwrap())
            .wait_with_output()
            .unwrap();
        String::from_utf8_lossy(&out.stderr).into_owned()
    }
}

impl Drop for Loop {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(60),
            "timed out waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// Lets a loop look at the chain several times.
fn settle() {
    std::thread::sleep(std::time::Duration::from_millis(1500));
}

#[test]
fn the_loop_sets_once_per_epoch_through_jumps_and_restarts() {
    let node = TestNode::start(
        Runtime::Mainnet,
        standard_state(NETUID, json!({"weightsRateLimit": 10})),
    );
    let count = || node.applied().len();
    let winner = ss58(0x22);
    let lp = Loop::start(&node, &["--winner", &winner]);
    // Never set: due at once.
    wait_for("the first update", || count() == 1);
    let first = node.applied()[0]["block"].as_u64().unwrap();
    // Less than an epoch: nothing.
    node.new_blocks(30);
    settle();
    assert_eq!(count(), 1);
    // The epoch boundary (EPOCH_LEN blocks after our last update).
    node.new_blocks(first + 50 - node.head());
    wait_for("the second update", || count() == 2);
    // A jump over a hundred epochs: one update, none skipped, no catch-up burst.
    node.new_blocks(5000);
    wait_for("the third update", || count() == 3);
    settle();
    assert_eq!(count(), 3);
    // Restart: the chain says we just updated, so the new process waits.
    let log = lp.stop();
    assert!(log.contains("epoch due: submitting"), "{log}");
    let lp = Loop::start(&node, &["--winner", &winner]);
    settle();
    assert_eq!(count(), 3, "a restart must not set twice");
    node.new_blocks(50);
    wait_for("the update after the restart", || count() == 4);
    drop(lp);
    let applied = node.applied();
    let blocks: Vec<u64> = applied
        .iter()
        .map(|a| a["block"].as_u64().unwrap())
        .collect();
    for pair in blocks.windows(2) {
        assert!(pair[1] - pair[0] >= 50, "{blocks:?}");
    }
    for a in &applied {
        assert_eq!(a["call"], "subtensorModule.setWeights");
        assert_eq!(a["args"]["dests"], json!(["2"]));
        assert_eq!(a["outcome"], "success");
    }
    assert_eq!(
        node.subnet(NETUID)["neurons"][1]["lastUpdate"],
        json!(blocks[3])
    );
}

#[test]
fn the_loop_burns_only_when_configured() {
    let node = TestNode::start(Runtime::Mainnet, standard_state(NETUID, json!({})));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rank.json");
    // A `rank` output without a winner.
    std::fs::write(
        &file,
        r#"{"winner": null, "reason": "no miner reached the completeness threshold"}"#,
    )
    .unwrap();
    let file_arg = file.display().to_string();
    let lp = Loop::start(&node, &["--winner-file", &file_arg]);
    settle();
    let log = lp.stop();
    assert!(node.applied().is_empty(), "{:?}", node.applied());
    assert!(log.contains("burning is not configured"), "{log}");
    assert!(
        log.contains("no miner reached the completeness threshold"),
        "{log}"
    );
    // The winner named but gone from the metagraph: still no burn.
    std::fs::write(
        &file,
        format!(
            r#"{{"winner": {{"hotkey": "{}", "uid": 2}}, "reason": "x"}}"#,
            ss58(0x66)
        ),
    )
    .unwrap();
    let lp = Loop::start(&node, &["--winner-file", &file_arg]);
    settle();
    let log = lp.stop();
    assert!(node.applied().is_empty());
    assert!(log.contains("not in the metagraph"), "{log}");
    // Configured: burn, logged as such.
    let lp = Loop::start(&node, &["--winner-file", &file_arg, "--burn-on-no-winner"]);
    wait_for("the burn", || node.applied().len() == 1);
    let log = lp.stop();
    assert!(log.contains("burning: all weight to uid 0"), "{log}");
    assert_eq!(node.applied()[0]["args"]["dests"], json!(["0"]));
    // The file now names a registered winner: its uid comes from the chain
    // (2), not from the file's stale uid (0 here).
    std::fs::write(
        &file,
        format!(
            r#"{{"winner": {{"hotkey": "{}", "uid": 0}}, "reason": "x"}}"#,
            ss58(0x22)
        ),
    )
    .unwrap();
    node.new_blocks(200);
    let lp = Loop::start(&node, &["--winner-file", &file_arg, "--burn-on-no-winner"]);
    wait_for("the winner's update", || node.applied().len() == 2);
    drop(lp);
    assert_eq!(node.applied()[1]["args"]["dests"], json!(["2"]));
}

#[test]
fn the_loop_does_not_set_twice_when_the_node_drops_mid_submission() {
    let node = TestNode::start(
        Runtime::Mainnet,
        standard_state(NETUID, json!({"weightsRateLimit": 10})),
    );
    // The node includes the first update, then drops the connection before
    // telling the loop; the loop reconnects and reads that it is done.
    node.fault(json!({"dropOnSubmit": "after"}));
    let lp = Loop::start(&node, &["--uid", "2"]);
    wait_for("the first update", || node.applied().len() == 1);
    settle();
    settle();
    assert_eq!(
        node.applied().len(),
        1,
        "set twice after a dropped connection"
    );
    node.new_blocks(50);
    wait_for("the next epoch's update", || node.applied().len() == 2);
    let log = lp.stop();
    assert!(log.contains("reconnecting"), "{log}");
}
