//! Starts the local subtensor test node (tests/chain_node/node.cjs) on a free
//! loopback port with real runtime material, and talks to its test controls.
//! The node's npm packages and the material come from
//! scripts/fetch-chain-deps.sh; tests fail with that command when they are
//! missing, never skip.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};

use leoma_gpu::chain::wallet::{ss58_encode, Hotkey};
use serde_json::{json, Value};
use subxt::ext::subxt_rpcs::client::{RpcClient, RpcParams};

/// The cache scripts/fetch-chain-deps.sh fills.
pub fn cache_dir() -> PathBuf {
    let dir = std::env::var_os("LEOMA_CHAIN_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var("HOME").expect("HOME")).join(".cache/leoma-gpu/chain")
        });
    assert!(
        dir.join("node/node_modules/@polkadot/types").is_dir()
            && dir.join("material/mainnet.json").is_file()
            && dir.join("material/testnet.json").is_file(),
        "test chain dependencies missing under {}: run scripts/fetch-chain-deps.sh first (scripts/test.sh does)",
        dir.display()
    );
    dir
}

/// Runtime material extracted from @bitgo/sdk-coin-tao.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Runtime {
    /// Bittensor mainnet, spec 219.
    Mainnet,
    /// Bittensor testnet, spec 224.
    Testnet,
}

impl Runtime {
    pub fn material(self) -> PathBuf {
        let name = match self {
            Runtime::Mainnet => "mainnet.json",
            Runtime::Testnet => "testnet.json",
        };
        cache_dir().join("material").join(name)
    }
    pub fn network(self) -> &'static str {
        match self {
            Runtime::Mainnet => "finney",
            Runtime::Testnet => "test",
        }
    }
}

/// A hotkey made from a one-byte pattern (test keys only).
pub fn key(byte: u8) -> Hotkey {
    Hotkey::from_seed(&[byte; 32]).unwrap()
}

pub fn seed_hex(byte: u8) -> String {
    format!("0x{}", hex::encode([byte; 32]))
}

pub fn ss58(byte: u8) -> String {
    ss58_encode(&key(byte).public)
}

pub struct TestNode {
    child: Child,
    _stdin: ChildStdin,
    pub port: u16,
    pub runtime: Runtime,
    rt: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

impl TestNode {
    /// Starts a node serving `runtime` with the initial `state` (see node.cjs).
    pub fn start(runtime: Runtime, state: Value) -> TestNode {
        let cache = cache_dir();
        let dir = tempfile::tempdir().unwrap();
        let state_path = dir.path().join("state.json");
        std::fs::write(&state_path, state.to_string()).unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/chain_node/node.cjs");
        let mut child = Command::new("node")
            .arg(&script)
            .arg("--material")
            .arg(runtime.material())
            .arg("--state")
            .arg(&state_path)
            .env("NODE_PATH", cache.join("node/node_modules"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start node (is Node.js installed?)");
        let stdin = child.stdin.take().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port: u16 = line
            .strip_prefix("LISTENING ")
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or_else(|| panic!("test node did not start: {line:?}"));
        TestNode {
            child,
            _stdin: stdin,
            port,
            runtime,
            rt: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
            _dir: dir,
        }
    }

    pub fn url(&self) -> String {
        format!("ws://127.0.0.1:{}", self.port)
    }

    /// A JSON-RPC call to the node.
    pub fn call(&self, method: &str, params: Vec<Value>) -> Value {
        let url = self.url();
        self.rt.block_on(async {
            let client = RpcClient::from_insecure_url(&url).await.unwrap();
            let mut p = RpcParams::new();
            for v in params {
                p.push(v).unwrap();
            }
            client.request::<Value>(method, p).await.unwrap()
        })
    }

    pub fn head(&self) -> u64 {
        self.call("test_head", vec![])["number"].as_u64().unwrap()
    }

    /// Produces `count` empty blocks (chopsticks' dev_newBlock).
    pub fn new_blocks(&self, count: u64) {
        self.call("dev_newBlock", vec![json!({ "count": count })]);
    }

    /// Every extrinsic the node accepted, with its decoded call and outcome.
    pub fn applied(&self) -> Vec<Value> {
        self.call("test_applied", vec![])
            .as_array()
            .unwrap()
            .clone()
    }

    pub fn subnet(&self, netuid: u16) -> Value {
        self.call("test_model", vec![])["subnets"][netuid.to_string()].clone()
    }

    pub fn patch_subnet(&self, netuid: u16, patch: Value) {
        self.call("test_patchSubnet", vec![json!(netuid), patch]);
    }

    pub fn fault(&self, fault: Value) {
        self.call("test_fault", vec![fault]);
    }
}

impl Drop for TestNode {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One subnet with a validator (key byte 0x11, uid 1, permit) between two
/// miners (0x22 uid 2, 0x33 uid 0), at block 1000.
pub fn standard_state(netuid: u16, subnet_extra: Value) -> Value {
    let mut subnet = json!({
        "tempo": 360,
        "weightsRateLimit": 100,
        "weightsVersionKey": 0,
        "commitRevealEnabled": false,
        "revealPeriodEpochs": 1,
        "neurons": [
            {"hotkey": ss58(0x33), "permit": false},
            {"hotkey": ss58(0x11), "permit": true},
            {"hotkey": ss58(0x22), "permit": false}
        ]
    });
    if let (Some(s), Some(extra)) = (subnet.as_object_mut(), subnet_extra.as_object()) {
        for (k, v) in extra {
            s.insert(k.clone(), v.clone());
        }
    }
    json!({ "block": 1000, "subnets": { netuid.to_string(): subnet } })
}
