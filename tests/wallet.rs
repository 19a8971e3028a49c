//! The validator's hotkey, against key files written by the real bittensor-wallet
//! (`tests/fixtures/wallet`, made by `scripts/make-wallet-fixture.sh`; throwaway
//! keys from Substrate's public development phrase).
//!
//! git does not keep file modes, so every test copies the fixture into a
//! temporary directory and chmods the copies itself.
#![cfg(unix)]

use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use leoma_gpu::chain::wallet::{
    load_hotkey, ss58_decode, ss58_encode, verify, Hotkey, Ss58Error, WalletError, WalletOptions,
    WalletSpec, ENV_HOTKEY_SEED,
};
use serde_json::{Map, Value};
use tempfile::TempDir;

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/wallet");
const WALLET: &str = "test-wallet";
const HOTKEY: &str = "test-hotkey";
/// Alice (`//Alice`), a key that is not the fixture's.
const ALICE_SS58: &str = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";
const ALICE_PUBLIC: &str = "d43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d";

struct Expected {
    ss58: String,
    public: [u8; 32],
    message: Vec<u8>,
    signature: [u8; 64],
    encrypted_hotkey: String,
    ed25519_hotkey: String,
}

fn hex_bytes(text: &str) -> Vec<u8> {
    let digits = text.strip_prefix("0x").unwrap_or(text);
    (0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&digits[i..i + 2], 16).unwrap())
        .collect()
}

fn expected() -> Expected {
    let text = fs::read_to_string(format!("{FIXTURE}/expected.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    let s = |key: &str| v[key].as_str().unwrap().to_string();
    assert_eq!(s("wallet"), WALLET);
    assert_eq!(s("hotkey"), HOTKEY);
    Expected {
        ss58: s("ss58_address"),
        public: hex_bytes(&s("public_key")).try_into().unwrap(),
        message: s("message").into_bytes(),
        signature: hex_bytes(&s("signature")).try_into().unwrap(),
        encrypted_hotkey: v["encrypted"]["hotkey"].as_str().unwrap().to_string(),
        ed25519_hotkey: v["ed25519"]["hotkey"].as_str().unwrap().to_string(),
    }
}

/// The fixture's key file as bittensor-wallet wrote it.
fn fixture_bytes(hotkey: &str) -> Vec<u8> {
    fs::read(format!("{FIXTURE}/wallets/{WALLET}/hotkeys/{hotkey}")).unwrap()
}

fn fixture_json() -> Map<String, Value> {
    serde_json::from_slice(&fixture_bytes(HOTKEY)).unwrap()
}

/// The fixture's `secretSeed`, without `0x`: what must never be shown.
fn seed_hex() -> String {
    fixture_json()["secretSeed"].as_str().unwrap()[2..].to_string()
}

/// A wallets directory holding copies of the fixture's hotkeys, mode 600.
struct Wallets {
    _tmp: TempDir,
    dir: PathBuf,
}

impl Wallets {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("wallets");
        let hotkeys = dir.join(WALLET).join("hotkeys");
        fs::create_dir_all(&hotkeys).unwrap();
        for entry in fs::read_dir(format!("{FIXTURE}/wallets/{WALLET}/hotkeys")).unwrap() {
            let entry = entry.unwrap();
            let dst = hotkeys.join(entry.file_name());
            fs::copy(entry.path(), &dst).unwrap();
            chmod(&dst, 0o600);
        }
        Wallets { _tmp: tmp, dir }
    }

    fn path(&self, hotkey: &str) -> PathBuf {
        self.dir.join(WALLET).join("hotkeys").join(hotkey)
    }

    fn spec(&self, hotkey: &str) -> WalletSpec {
        WalletSpec::keyfile(&self.dir, WALLET, hotkey).unwrap()
    }

    fn load(&self, hotkey: &str) -> Result<Hotkey, WalletError> {
        load_hotkey(&self.spec(hotkey))
    }

    /// Writes a key file (mode 600) next to the fixture's.
    fn write(&self, hotkey: &str, contents: &[u8]) -> PathBuf {
        let path = self.path(hotkey);
        fs::write(&path, contents).unwrap();
        chmod(&path, 0o600);
        path
    }

    /// Loads the fixture's JSON after `edit`.
    fn load_edited(
        &self,
        edit: impl FnOnce(&mut Map<String, Value>),
    ) -> Result<Hotkey, WalletError> {
        let mut json = fixture_json();
        edit(&mut json);
        self.write("edited", serde_json::to_string(&json).unwrap().as_bytes());
        self.load("edited")
    }
}

fn chmod(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

/// The error's Display and Debug, checked to hold no secret.
fn message(err: &WalletError) -> String {
    let shown = format!("{err} | {err:?}");
    let seed = seed_hex();
    assert!(!shown.contains(&seed), "seed in error: {shown}");
    assert!(
        !shown.to_lowercase().contains(&seed[..16]),
        "part of the seed in error: {shown}"
    );
    shown
}

#[test]
fn fixture_loads_to_bittensor_wallets_address_and_public_key() {
    let exp = expected();
    let wallets = Wallets::new();
    let hotkey = wallets.load(HOTKEY).unwrap();
    assert_eq!(hotkey.ss58, exp.ss58);
    assert_eq!(hotkey.public, exp.public);
    assert_eq!(hotkey.to_string(), exp.ss58);
    assert_eq!(ss58_encode(&exp.public), exp.ss58);
    assert_eq!(ss58_decode(&exp.ss58), Ok((42, exp.public)));
    assert!(hotkey.origin().contains(WALLET) && hotkey.origin().contains(HOTKEY));
    // The same key from the raw seed.
    let seed: [u8; 32] = hex_bytes(&seed_hex()).try_into().unwrap();
    assert_eq!(Hotkey::from_seed(&seed).unwrap().ss58, exp.ss58);
}

#[test]
fn secret_seed_is_the_mini_secret_of_the_secret_phrase() {
    // bittensor-wallet stores the phrase's mini secret as secretSeed; subxt's
    // own phrase derivation must land on the same key.
    let json = fixture_json();
    let phrase = json["secretPhrase"].as_str().unwrap();
    let mnemonic = subxt_signer::bip39::Mnemonic::parse(phrase).unwrap();
    let keypair = subxt_signer::sr25519::Keypair::from_phrase(&mnemonic, None).unwrap();
    assert_eq!(keypair.public_key().0, expected().public);
}

#[test]
fn our_signature_verifies_and_only_for_its_message_and_key() {
    let exp = expected();
    let hotkey = Wallets::new().load(HOTKEY).unwrap();
    let msg = b"leoma-gpu: set_weights payload";
    let sig = hotkey.sign(msg);
    assert!(verify(&hotkey.public, msg, &sig));
    assert!(verify(&exp.public, msg, &sig));
    assert!(!verify(&exp.public, b"leoma-gpu: another payload", &sig));
    let mut flipped = sig;
    flipped[10] ^= 1;
    assert!(!verify(&exp.public, msg, &flipped));
    let alice: [u8; 32] = hex_bytes(ALICE_PUBLIC).try_into().unwrap();
    assert!(!verify(&alice, msg, &sig));
    // sr25519 signatures are randomised; both verify.
    let again = hotkey.sign(msg);
    assert!(verify(&exp.public, msg, &again));
}

#[test]
fn bittensor_wallet_signature_verifies() {
    let exp = expected();
    assert_eq!(exp.message, b"leoma-gpu wallet fixture");
    assert!(verify(&exp.public, &exp.message, &exp.signature));
    assert!(!verify(
        &exp.public,
        b"leoma-gpu wallet fixturE",
        &exp.signature
    ));
    let alice: [u8; 32] = hex_bytes(ALICE_PUBLIC).try_into().unwrap();
    assert!(!verify(&alice, &exp.message, &exp.signature));
}

#[test]
fn too_open_permissions_are_refused_with_chmod_hint() {
    let wallets = Wallets::new();
    let path = wallets.path(HOTKEY);
    for mode in [
        0o644, 0o640, 0o604, 0o660, 0o620, 0o602, 0o601, 0o610, 0o666, 0o777,
    ] {
        chmod(&path, mode);
        let err = wallets.load(HOTKEY).unwrap_err();
        assert!(
            matches!(err, WalletError::PermissionsTooOpen { mode: m, .. } if m == mode),
            "{mode:o}: {err:?}"
        );
        let text = message(&err);
        assert!(text.contains(&format!("permissions {mode:04o} for '{}'", path.display())));
        assert!(text.contains("too open"), "{text}");
        assert!(
            text.contains(&format!("chmod 600 '{}'", path.display())),
            "{text}"
        );
    }
    for mode in [0o600, 0o400] {
        chmod(&path, mode);
        assert!(wallets.load(HOTKEY).is_ok(), "{mode:o}");
    }
}

#[test]
fn tampered_fields_are_mismatches() {
    let exp = expected();
    let wallets = Wallets::new();

    let err = wallets
        .load_edited(|j| {
            j.insert("ss58Address".into(), ALICE_SS58.into());
        })
        .unwrap_err();
    assert!(
        matches!(
            err,
            WalletError::Mismatch {
                field: "ss58Address",
                ..
            }
        ),
        "{err:?}"
    );
    let text = message(&err);
    assert!(
        text.contains(ALICE_SS58) && text.contains(&exp.ss58),
        "{text}"
    );
    assert!(text.contains("tampered"), "{text}");

    for field in ["publicKey", "accountId"] {
        let err = wallets
            .load_edited(|j| {
                j.insert(field.into(), format!("0x{ALICE_PUBLIC}").into());
            })
            .unwrap_err();
        assert!(
            matches!(err, WalletError::Mismatch { field: f, .. } if f == field),
            "{field}: {err:?}"
        );
        message(&err);
    }

    // Another (valid) seed under the same address.
    let err = wallets
        .load_edited(|j| {
            j.insert("secretSeed".into(), format!("0x{}", "11".repeat(32)).into());
        })
        .unwrap_err();
    assert!(
        matches!(
            err,
            WalletError::Mismatch {
                field: "ss58Address",
                ..
            }
        ),
        "{err:?}"
    );

    // publicKey and accountId are optional; secretPhrase and privateKey unused.
    let hotkey = wallets
        .load_edited(|j| {
            for field in ["publicKey", "accountId", "privateKey", "cryptoType"] {
                j.remove(field);
            }
            j.insert("secretPhrase".into(), Value::Null);
        })
        .unwrap();
    assert_eq!(hotkey.ss58, exp.ss58);
}

#[test]
fn missing_file_names_path_wallet_and_hotkey() {
    let wallets = Wallets::new();
    let err = wallets.load("no-such-hotkey").unwrap_err();
    assert!(
        matches!(err, WalletError::KeyfileNotFound { .. }),
        "{err:?}"
    );
    let text = message(&err);
    assert!(text.contains(&wallets.path("no-such-hotkey").display().to_string()));
    assert!(text.contains("wallet 'test-wallet'") && text.contains("hotkey 'no-such-hotkey'"));

    let err =
        load_hotkey(&WalletSpec::keyfile(&wallets.dir, "nobody", "default").unwrap()).unwrap_err();
    assert!(
        matches!(err, WalletError::KeyfileNotFound { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("wallet 'nobody'"));
}

#[test]
fn malformed_files_give_the_right_errors() {
    let wallets = Wallets::new();
    let seed = seed_hex();

    for junk in [
        &b"hello"[..],
        b"",
        b"{",
        b"\xff\xfe\x00garbage",
        b"{\"secretSeed\": }",
    ] {
        wallets.write("junk", junk);
        let err = wallets.load("junk").unwrap_err();
        assert!(
            matches!(err, WalletError::NotJson { .. }),
            "{junk:?}: {err:?}"
        );
        assert!(message(&err).contains("not a bittensor key file"));
    }

    // Valid JSON of the wrong shape; serde's own message would quote the seed.
    for shape in [
        format!("\"0x{seed}\""),
        format!("[\"0x{seed}\"]"),
        format!("{{\"secretSeed\": 5, \"ss58Address\": \"0x{seed}\"}}"),
        format!("{{\"cryptoType\": \"0x{seed}\"}}"),
        format!("{{\"secretSeed\": \"0x{seed}\", \"secretSeed\": \"0x{seed}\"}}"),
    ] {
        wallets.write("shape", shape.as_bytes());
        let err = wallets.load("shape").unwrap_err();
        assert!(
            matches!(err, WalletError::BadStructure { .. }),
            "{shape}: {err:?}"
        );
        message(&err);
    }

    let bad_hex = format!("0x{}zz", &seed[..62]);
    let err = wallets
        .load_edited(|j| {
            j.insert("secretSeed".into(), bad_hex.clone().into());
        })
        .unwrap_err();
    assert!(matches!(err, WalletError::BadHex { .. }), "{err:?}");
    assert!(message(&err).contains("secretSeed"));

    let short = format!("0x{}", &seed[..62]);
    let err = wallets
        .load_edited(|j| {
            j.insert("secretSeed".into(), short.clone().into());
        })
        .unwrap_err();
    assert!(
        matches!(
            err,
            WalletError::WrongLength {
                expected: 32,
                got: 31,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(message(&err).contains("secretSeed"));

    let long = format!("0x{seed}00");
    let err = wallets
        .load_edited(|j| {
            j.insert("secretSeed".into(), long.clone().into());
        })
        .unwrap_err();
    assert!(
        matches!(err, WalletError::WrongLength { got: 33, .. }),
        "{err:?}"
    );
    message(&err);

    for field in ["secretSeed", "ss58Address"] {
        let err = wallets
            .load_edited(|j| {
                j.remove(field);
            })
            .unwrap_err();
        assert!(
            matches!(err, WalletError::MissingField { field: f, .. } if f == field),
            "{err:?}"
        );
        let err = wallets
            .load_edited(|j| {
                j.insert(field.into(), Value::Null);
            })
            .unwrap_err();
        assert!(
            matches!(err, WalletError::MissingField { field: f, .. } if f == field),
            "{err:?}"
        );
        assert!(message(&err).contains(field));
    }

    let err = wallets
        .load_edited(|j| {
            j.insert("publicKey".into(), "0xnothex".into());
        })
        .unwrap_err();
    assert!(matches!(err, WalletError::BadHex { .. }), "{err:?}");
    assert!(message(&err).contains("publicKey"));

    // A directory where the file should be; a file far too large.
    fs::create_dir(wallets.path("a-directory")).unwrap();
    let err = wallets.load("a-directory").unwrap_err();
    assert!(matches!(err, WalletError::NotAFile { .. }), "{err:?}");
    wallets.write("huge", &vec![b' '; 65 * 1024]);
    let err = wallets.load("huge").unwrap_err();
    assert!(matches!(err, WalletError::TooLarge { .. }), "{err:?}");
}

#[test]
fn encrypted_files_are_refused() {
    let exp = expected();
    let wallets = Wallets::new();
    // The real thing: bittensor-wallet's NaCl format ($NACL + binary).
    assert!(fixture_bytes(&exp.encrypted_hotkey).starts_with(b"$NACL"));
    let err = wallets.load(&exp.encrypted_hotkey).unwrap_err();
    assert!(matches!(err, WalletError::Encrypted { .. }), "{err:?}");
    let text = message(&err);
    assert!(
        text.contains("is encrypted") && text.contains("NaCl"),
        "{text}"
    );
    assert!(text.contains("not supported"), "{text}");

    // The legacy formats bittensor-wallet still recognises.
    for (name, contents) in [
        (
            "ansible",
            &b"$ANSIBLE_VAULT;1.1;AES256\n3961303761386164383935663864\n"[..],
        ),
        ("fernet", b"gAAAAABnZ3J6c2VjcmV0LWJ1dC1ub3QtcmVhbGx5"),
    ] {
        wallets.write(name, contents);
        let err = wallets.load(name).unwrap_err();
        assert!(
            matches!(err, WalletError::Encrypted { .. }),
            "{name}: {err:?}"
        );
    }

    // An encrypted seed file is refused the same way.
    let path = wallets.write("seed-encrypted", &fixture_bytes(&exp.encrypted_hotkey));
    let err = load_hotkey(&WalletSpec::SeedFile { path }).unwrap_err();
    assert!(matches!(err, WalletError::Encrypted { .. }), "{err:?}");
}

#[test]
fn ed25519_hotkey_is_refused() {
    let exp = expected();
    let err = Wallets::new().load(&exp.ed25519_hotkey).unwrap_err();
    assert!(
        matches!(
            err,
            WalletError::UnsupportedCryptoType {
                crypto_type: 0,
                kind: "ed25519",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(message(&err).contains("only sr25519"));
}

fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |key| map.get(key).cloned()
}

#[test]
fn seed_from_environment_variable() {
    let exp = expected();
    let seed = seed_hex();
    for value in [format!("0x{seed}"), seed.clone(), format!(" 0x{seed}\n")] {
        let spec = WalletSpec::resolve(
            &WalletOptions::default(),
            env_of(&[(ENV_HOTKEY_SEED, &value), ("WALLET_NAME", "ignored")]),
        )
        .unwrap();
        assert!(matches!(spec, WalletSpec::SeedHex { .. }));
        let hotkey = load_hotkey(&spec).unwrap();
        assert_eq!(
            (hotkey.ss58.as_str(), hotkey.public),
            (exp.ss58.as_str(), exp.public)
        );
        assert!(hotkey.origin().contains(ENV_HOTKEY_SEED));
    }

    let spec = WalletSpec::resolve(
        &WalletOptions::default(),
        env_of(&[(ENV_HOTKEY_SEED, &format!("0x{}", &seed[..60]))]),
    )
    .unwrap();
    let err = load_hotkey(&spec).unwrap_err();
    assert!(
        matches!(err, WalletError::WrongLength { got: 30, .. }),
        "{err:?}"
    );
    assert!(message(&err).contains(ENV_HOTKEY_SEED));
    let spec = WalletSpec::resolve(
        &WalletOptions::default(),
        env_of(&[(ENV_HOTKEY_SEED, &format!("0x{}q", &seed[..63]))]),
    )
    .unwrap();
    let err = load_hotkey(&spec).unwrap_err();
    assert!(matches!(err, WalletError::BadHex { .. }), "{err:?}");
    assert!(message(&err).contains(ENV_HOTKEY_SEED));

    // An empty variable counts as unset.
    let spec = WalletSpec::resolve(
        &WalletOptions::default(),
        env_of(&[(ENV_HOTKEY_SEED, ""), ("HOME", "/home/v")]),
    )
    .unwrap();
    assert!(matches!(spec, WalletSpec::Keyfile { .. }), "{spec:?}");
}

#[test]
fn seed_from_file() {
    let exp = expected();
    let wallets = Wallets::new();
    let seed = seed_hex();
    let path = wallets.dir.join("hotkey.seed");
    for contents in [format!("0x{seed}\n"), seed.clone(), format!("0x{seed}")] {
        fs::write(&path, &contents).unwrap();
        chmod(&path, 0o600);
        let opts = WalletOptions {
            hotkey_seed_file: Some(path.clone()),
            wallet_name: Some("ignored".into()),
            ..Default::default()
        };
        let spec = WalletSpec::resolve(&opts, env_of(&[])).unwrap();
        let hotkey = load_hotkey(&spec).unwrap();
        assert_eq!(
            (hotkey.ss58.as_str(), hotkey.public),
            (exp.ss58.as_str(), exp.public)
        );
    }

    chmod(&path, 0o644);
    let err = load_hotkey(&WalletSpec::SeedFile { path: path.clone() }).unwrap_err();
    assert!(
        matches!(err, WalletError::PermissionsTooOpen { mode: 0o644, .. }),
        "{err:?}"
    );
    assert!(message(&err).contains("chmod 600"));

    fs::write(&path, format!("0x{}", &seed[..40])).unwrap();
    chmod(&path, 0o600);
    let err = load_hotkey(&WalletSpec::SeedFile { path: path.clone() }).unwrap_err();
    assert!(
        matches!(err, WalletError::WrongLength { got: 20, .. }),
        "{err:?}"
    );
    assert!(message(&err).contains(&path.display().to_string()));

    fs::write(&path, b"\xff\xfe not text").unwrap();
    let err = load_hotkey(&WalletSpec::SeedFile { path: path.clone() }).unwrap_err();
    assert!(matches!(err, WalletError::BadHex { .. }), "{err:?}");

    let missing = wallets.dir.join("no-such.seed");
    let err = load_hotkey(&WalletSpec::SeedFile {
        path: missing.clone(),
    })
    .unwrap_err();
    assert!(
        matches!(err, WalletError::SeedFileNotFound { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains(&missing.display().to_string()));

    // Both seed sources at once: refused rather than guessed.
    let opts = WalletOptions {
        hotkey_seed_file: Some(path),
        ..Default::default()
    };
    let err =
        WalletSpec::resolve(&opts, env_of(&[(ENV_HOTKEY_SEED, &format!("0x{seed}"))])).unwrap_err();
    assert!(matches!(err, WalletError::ConflictingSeeds), "{err:?}");
    message(&err);
}

#[test]
fn wallet_location_follows_flags_then_leoma_env_then_bittensor_env_then_defaults() {
    let keyfile = |spec: WalletSpec| match spec {
        WalletSpec::Keyfile {
            wallets_dir,
            wallet,
            hotkey,
        } => (wallets_dir, wallet, hotkey),
        other => panic!("{other:?}"),
    };
    let none = WalletOptions::default();

    assert_eq!(
        keyfile(WalletSpec::resolve(&none, env_of(&[("HOME", "/home/v")])).unwrap()),
        (
            PathBuf::from("/home/v/.bittensor/wallets"),
            "default".into(),
            "default".into()
        )
    );
    assert!(matches!(
        WalletSpec::resolve(&none, env_of(&[])),
        Err(WalletError::NoHome { .. })
    ));

    let bt = [
        ("HOME", "/home/v"),
        ("BT_WALLET_PATH", "~/w"),
        ("BT_WALLET_NAME", "bt-name"),
        ("BT_WALLET_HOTKEY", "bt-hotkey"),
    ];
    assert_eq!(
        keyfile(WalletSpec::resolve(&none, env_of(&bt)).unwrap()),
        (
            PathBuf::from("/home/v/w"),
            "bt-name".into(),
            "bt-hotkey".into()
        )
    );

    let mut leoma = bt.to_vec();
    leoma.extend([("WALLET_NAME", "validator"), ("HOTKEY_NAME", "hk")]);
    assert_eq!(
        keyfile(WalletSpec::resolve(&none, env_of(&leoma)).unwrap()),
        (PathBuf::from("/home/v/w"), "validator".into(), "hk".into())
    );

    let flags = WalletOptions {
        wallet_path: Some("/srv/wallets".into()),
        wallet_name: Some("flag-name".into()),
        hotkey_name: Some("flag-hotkey".into()),
        hotkey_seed_file: None,
    };
    let spec = WalletSpec::resolve(&flags, env_of(&leoma)).unwrap();
    assert_eq!(
        spec.hotkey_path(),
        Some(PathBuf::from("/srv/wallets/flag-name/hotkeys/flag-hotkey"))
    );

    // Names that would leave the wallets directory are refused.
    for bad in ["../x", "a/b", "..", ""] {
        let opts = WalletOptions {
            wallet_path: Some("/srv/wallets".into()),
            hotkey_name: Some(bad.into()),
            ..Default::default()
        };
        let err = WalletSpec::resolve(&opts, env_of(&[])).unwrap_err();
        assert!(matches!(err, WalletError::BadName { .. }), "{bad}: {err:?}");
    }
    let sneaky = WalletSpec::Keyfile {
        wallets_dir: "/srv/wallets".into(),
        wallet: "..".into(),
        hotkey: "x".into(),
    };
    assert!(matches!(
        load_hotkey(&sneaky),
        Err(WalletError::BadName { .. })
    ));
}

#[test]
fn debug_and_display_never_show_the_seed() {
    let seed = seed_hex();
    let private_key = fixture_json()["privateKey"].as_str().unwrap()[2..].to_string();
    let wallets = Wallets::new();
    let hotkey = wallets.load(HOTKEY).unwrap();
    let spec = WalletSpec::resolve(
        &WalletOptions::default(),
        env_of(&[(ENV_HOTKEY_SEED, &format!("0x{seed}"))]),
    )
    .unwrap();
    let from_env = load_hotkey(&spec).unwrap();
    let seed_bytes: [u8; 32] = hex_bytes(&seed).try_into().unwrap();
    let shown = [
        format!("{hotkey:?}"),
        format!("{hotkey:#?}"),
        format!("{hotkey}"),
        format!("{from_env:?}"),
        format!("{spec:?}"),
        format!("{spec:#?}"),
        format!("{:?}", wallets.spec(HOTKEY)),
    ];
    for text in &shown {
        let lower = text.to_lowercase();
        assert!(!lower.contains(&seed), "seed shown: {text}");
        assert!(
            !lower.contains(&seed[..16]),
            "part of the seed shown: {text}"
        );
        assert!(
            !lower.contains(&private_key[..16]),
            "private key shown: {text}"
        );
        // Nor as a decimal byte list (schnorrkel's own Debug style).
        let bytes = format!("{:?}", &seed_bytes[..4]);
        assert!(
            !text.contains(&bytes[1..bytes.len() - 1]),
            "seed bytes shown: {text}"
        );
    }
    assert!(shown[0].contains(&hotkey.ss58));
    assert!(shown[4].contains("redacted"));
}

#[test]
fn ss58_known_vectors_and_checksum() {
    let alice: [u8; 32] = hex_bytes(ALICE_PUBLIC).try_into().unwrap();
    assert_eq!(ss58_encode(&alice), ALICE_SS58);
    assert_eq!(ss58_decode(ALICE_SS58), Ok((42, alice)));
    // Alice on Polkadot (prefix 0) and Kusama (prefix 2).
    assert_eq!(
        ss58_decode("15oF4uVJwmo4TdGW7VfQxNLavjCXviqxT9S1MgbjMNHr6Sp5"),
        Ok((0, alice))
    );
    assert_eq!(
        ss58_decode("HNZata7iMYWmk5RvZRTiAsSDhV8366zq2YGb3tLH5Upf74F"),
        Ok((2, alice))
    );
    let mut tampered = ALICE_SS58.to_string();
    tampered.replace_range(10..11, "a");
    assert_eq!(ss58_decode(&tampered), Err(Ss58Error::BadChecksum));
    assert_eq!(ss58_decode("0OIl"), Err(Ss58Error::NotBase58));
    assert_eq!(ss58_decode(""), Err(Ss58Error::WrongLength(0)));
    assert!(matches!(
        ss58_decode("5Grwva"),
        Err(Ss58Error::WrongLength(_))
    ));
}

#[test]
fn hostile_key_files_never_panic() {
    let wallets = Wallets::new();
    let good = fixture_bytes(HOTKEY);
    // Every truncation of the real file, and a few odd bytes.
    let mut inputs: Vec<Vec<u8>> = (0..good.len()).map(|n| good[..n].to_vec()).collect();
    inputs.extend([
        b"null".to_vec(),
        b"{}".to_vec(),
        b"{\"secretSeed\":null,\"ss58Address\":null}".to_vec(),
        b"{\"cryptoType\":99999999999999999999999}".to_vec(),
        b"{\"cryptoType\":-1,\"secretSeed\":\"0x00\"}".to_vec(),
        "{\"secretSeed\":\"0x\u{e9}\u{e9}\",\"ss58Address\":\"\u{1F600}\"}".into(),
        vec![0u8; 1024],
        vec![b'{'; 10_000],
        vec![b'['; 60_000],
    ]);
    for (i, input) in inputs.iter().enumerate() {
        wallets.write("hostile", input);
        let result = wallets.load("hostile");
        assert!(result.is_err(), "input {i} loaded");
        message(&result.unwrap_err());
    }
    let path = wallets.dir.join("hostile.seed");
    for input in &inputs {
        fs::write(&path, input).unwrap();
        chmod(&path, 0o600);
        let result = load_hotkey(&WalletSpec::SeedFile { path: path.clone() });
        assert!(result.is_err());
    }
}
