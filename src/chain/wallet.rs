//! The validator's hotkey, loaded the way btcli keeps it.
//!
//! Where the key comes from ([`WalletSpec`], resolved by [`WalletSpec::resolve`]):
//!
//! 1. a seed file (`--hotkey-seed-file PATH`: `0x` + 64 hex digits), or
//! 2. the environment variable `LEOMA_HOTKEY_SEED` (same format; for containers),
//! 3. otherwise btcli's wallet layout, `WALLETS_DIR/NAME/hotkeys/HOTKEY`, where
//!    `WALLETS_DIR` is `--wallet-path`, else `BT_WALLET_PATH`, else
//!    `~/.bittensor/wallets` (bittensor-wallet's default and the variable its
//!    `Wallet.add_args` honours); `NAME` is `--wallet-name`, else Leoma's
//!    `WALLET_NAME`, else `BT_WALLET_NAME`, else `default`; `HOTKEY` is
//!    `--wallet-hotkey`, else Leoma's `HOTKEY_NAME`, else `BT_WALLET_HOTKEY`, else
//!    `default`. A seed file and `LEOMA_HOTKEY_SEED` together are refused.
//!
//! The hotkey file is the JSON bittensor-wallet writes (`secretSeed`,
//! `publicKey`, `accountId`, `ss58Address`, `privateKey`, `secretPhrase`,
//! `cryptoType`). The key is the sr25519 keypair of the 32-byte `secretSeed`
//! (a mini secret key expanded in Substrate's Ed25519 mode), and the address it
//! gives (SS58, prefix 42) must equal the file's `ss58Address`, `publicKey` and
//! `accountId`. Encrypted files (`$NACL`, `$ANSIBLE_VAULT`, legacy Fernet) and
//! ed25519 hotkeys (`cryptoType` 0) are refused; so is a key file or seed file
//! that group or others may read or write (like ssh).
//!
//! Secrets never reach a log line, an error message or a `Debug` output: the
//! file's bytes, the seed text and the seed live in [`Zeroizing`] buffers that
//! are wiped when dropped, and the expanded secret key lives inside
//! schnorrkel's `SecretKey`, which wipes itself on drop.

use std::fmt;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use subxt_signer::sr25519;
use zeroize::Zeroizing;

/// SS58 address prefix of Bittensor (Substrate's generic prefix).
pub const SS58_PREFIX: u8 = 42;
/// bittensor-wallet's default wallets directory.
pub const DEFAULT_WALLETS_DIR: &str = "~/.bittensor/wallets";
/// Default wallet and hotkey name (btcli's).
pub const DEFAULT_NAME: &str = "default";
/// Leoma's environment variable for the wallet (coldkey) name.
pub const ENV_WALLET_NAME: &str = "WALLET_NAME";
/// Leoma's environment variable for the hotkey name.
pub const ENV_HOTKEY_NAME: &str = "HOTKEY_NAME";
/// bittensor-wallet's environment variable for the wallet name.
pub const ENV_BT_WALLET_NAME: &str = "BT_WALLET_NAME";
/// bittensor-wallet's environment variable for the hotkey name.
pub const ENV_BT_WALLET_HOTKEY: &str = "BT_WALLET_HOTKEY";
/// bittensor-wallet's environment variable for the wallets directory.
pub const ENV_BT_WALLET_PATH: &str = "BT_WALLET_PATH";
/// The hotkey's seed (`0x` + 64 hex digits), for containers.
pub const ENV_HOTKEY_SEED: &str = "LEOMA_HOTKEY_SEED";

/// bittensor-wallet's `cryptoType` values.
const CRYPTO_ED25519: i64 = 0;
const CRYPTO_SR25519: i64 = 1;
/// Key files are a few hundred bytes; anything bigger is not one.
const MAX_KEY_FILE_BYTES: u64 = 64 * 1024;
/// Longest piece of a file echoed in an error message (addresses, names).
const MAX_ECHO_CHARS: usize = 80;

/// Why the hotkey could not be loaded. No variant ever holds secret material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WalletError {
    #[error(
        "hotkey file '{}' not found (wallet '{wallet}', hotkey '{hotkey}'); create it with btcli \
         (`btcli wallet new-hotkey` or `regen-hotkey`), or choose another with --wallet-path / \
         BT_WALLET_PATH, WALLET_NAME, HOTKEY_NAME",
        .path.display()
    )]
    KeyfileNotFound {
        path: PathBuf,
        wallet: String,
        hotkey: String,
    },
    #[error("hotkey seed file '{}' not found", .path.display())]
    SeedFileNotFound { path: PathBuf },
    #[error("cannot read '{}': {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("'{}' is not a regular file", .path.display())]
    NotAFile { path: PathBuf },
    #[error("'{}' is {len} bytes, too large for a key file (at most {max})", .path.display())]
    TooLarge { path: PathBuf, len: u64, max: u64 },
    #[error(
        "permissions {mode:04o} for '{}' are too open: a key file must not be readable or \
         writable by group or others; run `chmod 600 '{}'`",
        .path.display(), .path.display()
    )]
    PermissionsTooOpen { path: PathBuf, mode: u32 },
    #[error(
        "'{}' is encrypted ({format}); encrypted hotkeys are not supported (the validator signs \
         unattended): use an unencrypted hotkey, as btcli writes by default, or give the seed \
         with --hotkey-seed-file / LEOMA_HOTKEY_SEED",
        .path.display()
    )]
    Encrypted { path: PathBuf, format: &'static str },
    #[error(
        "'{}' is not a bittensor key file: invalid JSON at line {line}, column {column}",
        .path.display()
    )]
    NotJson {
        path: PathBuf,
        line: usize,
        column: usize,
    },
    #[error(
        "'{}' is not a bittensor key file: expected a JSON object of strings (a field has the \
         wrong type or appears twice, near line {line}, column {column})",
        .path.display()
    )]
    BadStructure {
        path: PathBuf,
        line: usize,
        column: usize,
    },
    #[error("'{}' has no `{field}` (or it is null)", .path.display())]
    MissingField { path: PathBuf, field: &'static str },
    #[error(
        "'{}' holds an {kind} hotkey (cryptoType {crypto_type}); only sr25519 hotkeys \
         (cryptoType 1) are supported",
        .path.display()
    )]
    UnsupportedCryptoType {
        path: PathBuf,
        crypto_type: i64,
        kind: &'static str,
    },
    #[error("{what} is not hex (expected 0x followed by 64 hex digits)")]
    BadHex { what: String },
    #[error("{what} is {got} bytes long, expected {expected}")]
    WrongLength {
        what: String,
        expected: usize,
        got: usize,
    },
    #[error(
        "'{}': {field} {in_file} does not match the key derived from secretSeed ({derived}); \
         the file is wrong or has been tampered with",
        .path.display()
    )]
    Mismatch {
        path: PathBuf,
        field: &'static str,
        in_file: String,
        derived: String,
    },
    #[error("invalid {what} '{name}': it must be one path component (no '/', not '.' or '..')")]
    BadName { what: &'static str, name: String },
    #[error("cannot expand '~' in '{}': HOME is not set", .path.display())]
    NoHome { path: PathBuf },
    #[error(
        "both --hotkey-seed-file and {ENV_HOTKEY_SEED} are set; give the hotkey seed one way only"
    )]
    ConflictingSeeds,
    #[error("the seed is not a valid sr25519 mini secret key")]
    InvalidSeed,
}

/// Why an SS58 address could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Ss58Error {
    #[error("not base58")]
    NotBase58,
    #[error("unsupported address format (only one-byte prefixes 0-63 are supported)")]
    UnsupportedPrefix,
    #[error("wrong length for a 32-byte account ({0} bytes decoded)")]
    WrongLength(usize),
    #[error("bad checksum")]
    BadChecksum,
}

/// Command-line choices; `None` falls back to the environment, then to defaults.
#[derive(Debug, Clone, Default)]
pub struct WalletOptions {
    /// `--wallet-path`: the wallets directory (btcli's `--wallet.path`).
    pub wallet_path: Option<PathBuf>,
    /// `--wallet-name`: the wallet (coldkey) name.
    pub wallet_name: Option<String>,
    /// `--wallet-hotkey`: the hotkey name.
    pub hotkey_name: Option<String>,
    /// `--hotkey-seed-file`: a file holding the hotkey's seed.
    pub hotkey_seed_file: Option<PathBuf>,
}

/// Where the hotkey comes from.
#[derive(Clone)]
pub enum WalletSpec {
    /// btcli's layout: `wallets_dir/wallet/hotkeys/hotkey`.
    Keyfile {
        wallets_dir: PathBuf,
        wallet: String,
        hotkey: String,
    },
    /// A file holding `0x` + 64 hex digits.
    SeedFile { path: PathBuf },
    /// The seed as text (`0x` + 64 hex digits); `origin` says where it came from.
    SeedHex {
        value: Zeroizing<String>,
        origin: String,
    },
}

impl fmt::Debug for WalletSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WalletSpec::Keyfile {
                wallets_dir,
                wallet,
                hotkey,
            } => f
                .debug_struct("Keyfile")
                .field("wallets_dir", wallets_dir)
                .field("wallet", wallet)
                .field("hotkey", hotkey)
                .finish(),
            WalletSpec::SeedFile { path } => {
                f.debug_struct("SeedFile").field("path", path).finish()
            }
            WalletSpec::SeedHex { origin, .. } => f
                .debug_struct("SeedHex")
                .field("value", &"<redacted>")
                .field("origin", origin)
                .finish(),
        }
    }
}

impl WalletSpec {
    /// btcli's layout; the names must be single path components.
    pub fn keyfile(
        wallets_dir: impl Into<PathBuf>,
        wallet: impl Into<String>,
        hotkey: impl Into<String>,
    ) -> Result<Self, WalletError> {
        let (wallet, hotkey) = (wallet.into(), hotkey.into());
        check_name("wallet name", &wallet)?;
        check_name("hotkey name", &hotkey)?;
        Ok(WalletSpec::Keyfile {
            wallets_dir: wallets_dir.into(),
            wallet,
            hotkey,
        })
    }

    /// Resolves `opts` against environment variables read through `env`
    /// (empty values count as unset); see the module documentation for the order.
    pub fn resolve(
        opts: &WalletOptions,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, WalletError> {
        let var = |key: &str| env(key).filter(|v| !v.is_empty());
        // Wrap the seed at once so that its buffer is wiped when dropped.
        let seed_env = env(ENV_HOTKEY_SEED)
            .map(Zeroizing::new)
            .filter(|v| !v.trim().is_empty());
        match (&opts.hotkey_seed_file, seed_env) {
            (Some(_), Some(_)) => Err(WalletError::ConflictingSeeds),
            (Some(path), None) => Ok(WalletSpec::SeedFile { path: path.clone() }),
            (None, Some(value)) => Ok(WalletSpec::SeedHex {
                value,
                origin: format!("environment variable {ENV_HOTKEY_SEED}"),
            }),
            (None, None) => {
                let wallet = opts
                    .wallet_name
                    .clone()
                    .or_else(|| var(ENV_WALLET_NAME))
                    .or_else(|| var(ENV_BT_WALLET_NAME))
                    .unwrap_or_else(|| DEFAULT_NAME.to_string());
                let hotkey = opts
                    .hotkey_name
                    .clone()
                    .or_else(|| var(ENV_HOTKEY_NAME))
                    .or_else(|| var(ENV_BT_WALLET_HOTKEY))
                    .unwrap_or_else(|| DEFAULT_NAME.to_string());
                let dir = opts
                    .wallet_path
                    .clone()
                    .or_else(|| var(ENV_BT_WALLET_PATH).map(PathBuf::from))
                    .unwrap_or_else(|| PathBuf::from(DEFAULT_WALLETS_DIR));
                let dir = expand_tilde(&dir, var("HOME"))?;
                WalletSpec::keyfile(dir, wallet, hotkey)
            }
        }
    }

    /// [`WalletSpec::resolve`] against this process's environment.
    pub fn from_env(opts: &WalletOptions) -> Result<Self, WalletError> {
        Self::resolve(opts, |key| {
            std::env::var_os(key).map(|v| match v.into_string() {
                Ok(s) => s,
                // Not UTF-8: keep it visibly invalid rather than silently unset.
                Err(raw) => raw.to_string_lossy().into_owned(),
            })
        })
    }

    /// The hotkey file's path, for the btcli layout.
    pub fn hotkey_path(&self) -> Option<PathBuf> {
        match self {
            WalletSpec::Keyfile {
                wallets_dir,
                wallet,
                hotkey,
            } => Some(wallets_dir.join(wallet).join("hotkeys").join(hotkey)),
            _ => None,
        }
    }
}

/// The validator's hotkey: an sr25519 keypair and its SS58 address.
///
/// `Debug` and `Display` show only public parts; the secret stays inside.
pub struct Hotkey {
    /// SS58 address (prefix 42).
    pub ss58: String,
    /// The public key (the chain's `AccountId32`).
    pub public: [u8; 32],
    keypair: sr25519::Keypair,
    origin: String,
}

impl Hotkey {
    /// The keypair of a 32-byte seed (mini secret key, Ed25519 expansion mode,
    /// as `subxt_signer::sr25519::Keypair::from_secret_key`, sp-core and
    /// bittensor-wallet do).
    pub fn from_seed(seed: &[u8; 32]) -> Result<Self, WalletError> {
        Self::derive(seed, "seed".to_string())
    }

    fn derive(seed: &[u8; 32], origin: String) -> Result<Self, WalletError> {
        let keypair =
            sr25519::Keypair::from_secret_key(*seed).map_err(|_| WalletError::InvalidSeed)?;
        let public = keypair.public_key().0;
        Ok(Hotkey {
            ss58: ss58_encode(&public),
            public,
            keypair,
            origin,
        })
    }

    /// sr25519 signature of `msg` with Substrate's signing context `"substrate"`
    /// (what the chain, sp-core and bittensor-wallet's `Keypair.sign` use).
    pub fn sign(&self, msg: &[u8]) -> [u8; 64] {
        self.keypair.sign(msg).0
    }

    /// The keypair, to sign extrinsics with subxt. Its own `Debug` shows the
    /// secret key: never format it.
    pub fn keypair(&self) -> &sr25519::Keypair {
        &self.keypair
    }

    /// Where the key was loaded from (no secrets), for logs.
    pub fn origin(&self) -> &str {
        &self.origin
    }
}

impl fmt::Debug for Hotkey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hotkey")
            .field("ss58", &self.ss58)
            .field("public", &format_args!("0x{}", to_hex(&self.public)))
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for Hotkey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.ss58)
    }
}

/// Whether `sig` is `public`'s sr25519 signature of `msg` (context `"substrate"`).
pub fn verify(public: &[u8; 32], msg: &[u8], sig: &[u8; 64]) -> bool {
    sr25519::verify(&sr25519::Signature(*sig), msg, &sr25519::PublicKey(*public))
}

/// SS58 address of a 32-byte public key with Bittensor's prefix 42.
pub fn ss58_encode(public: &[u8; 32]) -> String {
    let mut data = Vec::with_capacity(35);
    data.push(SS58_PREFIX);
    data.extend_from_slice(public);
    let sum = ss58_checksum(&data);
    data.extend_from_slice(&sum[..2]);
    bs58::encode(data).into_string()
}

/// Prefix and public key of an SS58 address of a 32-byte account (one-byte
/// prefixes only, which covers Bittensor's 42); the checksum is verified.
pub fn ss58_decode(address: &str) -> Result<(u8, [u8; 32]), Ss58Error> {
    let data = bs58::decode(address)
        .into_vec()
        .map_err(|_| Ss58Error::NotBase58)?;
    let prefix = data.first().copied().unwrap_or(0);
    // 36 bytes with a first byte of 64-127: a two-byte prefix.
    if data.len() == 36 && (64..128).contains(&prefix) {
        return Err(Ss58Error::UnsupportedPrefix);
    }
    if data.len() != 35 {
        return Err(Ss58Error::WrongLength(data.len()));
    }
    if prefix >= 64 {
        return Err(Ss58Error::UnsupportedPrefix);
    }
    let sum = ss58_checksum(&data[..33]);
    if sum[..2] != data[33..] {
        return Err(Ss58Error::BadChecksum);
    }
    let mut public = [0u8; 32];
    public.copy_from_slice(&data[1..33]);
    Ok((prefix, public))
}

fn ss58_checksum(data: &[u8]) -> [u8; 64] {
    let mut state = blake2b_simd::State::new();
    state.update(b"SS58PRE");
    state.update(data);
    *state.finalize().as_array()
}

/// Loads the hotkey `spec` names; see the module documentation.
pub fn load_hotkey(spec: &WalletSpec) -> Result<Hotkey, WalletError> {
    let hotkey = match spec {
        WalletSpec::Keyfile {
            wallets_dir,
            wallet,
            hotkey,
        } => {
            check_name("wallet name", wallet)?;
            check_name("hotkey name", hotkey)?;
            let path = wallets_dir.join(wallet).join("hotkeys").join(hotkey);
            let data = read_key_file(&path, || WalletError::KeyfileNotFound {
                path: path.clone(),
                wallet: wallet.clone(),
                hotkey: hotkey.clone(),
            })?;
            let origin = format!("wallet '{wallet}' hotkey '{hotkey}' ({})", path.display());
            hotkey_from_keyfile(&path, &data, origin)?
        }
        WalletSpec::SeedFile { path } => {
            let data = read_key_file(path, || WalletError::SeedFileNotFound {
                path: path.clone(),
            })?;
            if let Some(format) = encryption_format(&data) {
                return Err(WalletError::Encrypted {
                    path: path.clone(),
                    format,
                });
            }
            let what = format!("the seed in '{}'", path.display());
            let text = std::str::from_utf8(&data)
                .map_err(|_| WalletError::BadHex { what: what.clone() })?;
            let seed = parse_hex32(text, &what)?;
            Hotkey::derive(&seed, format!("seed file '{}'", path.display()))?
        }
        WalletSpec::SeedHex { value, origin } => {
            let seed = parse_hex32(value, origin)?;
            Hotkey::derive(&seed, origin.clone())?
        }
    };
    tracing::debug!(ss58 = %hotkey.ss58, origin = %hotkey.origin, "loaded hotkey");
    Ok(hotkey)
}

/// The fields of bittensor-wallet's key file that matter here; others
/// (`privateKey`, `secretPhrase`, ...) are skipped without being kept.
/// Missing and `null` fields are `None`; only a JSON object is accepted (a
/// derived `Deserialize` would also take an array) and a field may appear once.
#[derive(Default)]
struct KeyfileJson {
    secret_seed: Option<Zeroizing<String>>,
    ss58_address: Option<String>,
    public_key: Option<String>,
    account_id: Option<String>,
    crypto_type: Option<i64>,
}

impl<'de> Deserialize<'de> for KeyfileJson {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::{Error, IgnoredAny, MapAccess, Visitor};

        struct Fields;
        impl<'de> Visitor<'de> for Fields {
            type Value = KeyfileJson;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<KeyfileJson, A::Error> {
                let mut out = KeyfileJson::default();
                let mut seen = [false; 5];
                while let Some(key) = map.next_key::<String>()? {
                    let (index, name) = match key.as_str() {
                        "secretSeed" => (0, "secretSeed"),
                        "ss58Address" => (1, "ss58Address"),
                        "publicKey" => (2, "publicKey"),
                        "accountId" => (3, "accountId"),
                        "cryptoType" => (4, "cryptoType"),
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                            continue;
                        }
                    };
                    if std::mem::replace(&mut seen[index], true) {
                        return Err(A::Error::duplicate_field(name));
                    }
                    match index {
                        0 => out.secret_seed = map.next_value()?,
                        1 => out.ss58_address = map.next_value()?,
                        2 => out.public_key = map.next_value()?,
                        3 => out.account_id = map.next_value()?,
                        _ => out.crypto_type = map.next_value()?,
                    }
                }
                Ok(out)
            }
        }

        deserializer.deserialize_map(Fields)
    }
}

fn hotkey_from_keyfile(path: &Path, data: &[u8], origin: String) -> Result<Hotkey, WalletError> {
    if let Some(format) = encryption_format(data) {
        return Err(WalletError::Encrypted {
            path: path.to_path_buf(),
            format,
        });
    }
    // serde_json's messages can quote the offending value: never show them.
    let json: KeyfileJson = serde_json::from_slice(data).map_err(|e| {
        let (line, column) = (e.line(), e.column());
        let path = path.to_path_buf();
        if e.is_data() {
            WalletError::BadStructure { path, line, column }
        } else {
            WalletError::NotJson { path, line, column }
        }
    })?;
    match json.crypto_type {
        None | Some(CRYPTO_SR25519) => {}
        Some(crypto_type) => {
            return Err(WalletError::UnsupportedCryptoType {
                path: path.to_path_buf(),
                crypto_type,
                kind: if crypto_type == CRYPTO_ED25519 {
                    "ed25519"
                } else {
                    "unknown"
                },
            })
        }
    }
    let missing = |field| WalletError::MissingField {
        path: path.to_path_buf(),
        field,
    };
    let seed_text = json
        .secret_seed
        .as_ref()
        .ok_or_else(|| missing("secretSeed"))?;
    let ss58_in_file = json
        .ss58_address
        .as_ref()
        .ok_or_else(|| missing("ss58Address"))?;
    let seed = parse_hex32(seed_text, &format!("secretSeed in '{}'", path.display()))?;
    let hotkey = Hotkey::derive(&seed, origin)?;

    let mismatch = |field, in_file: &str, derived: String| WalletError::Mismatch {
        path: path.to_path_buf(),
        field,
        in_file: echo(in_file),
        derived,
    };
    if *ss58_in_file != hotkey.ss58 {
        return Err(mismatch("ss58Address", ss58_in_file, hotkey.ss58.clone()));
    }
    for (field, value) in [
        ("publicKey", &json.public_key),
        ("accountId", &json.account_id),
    ] {
        if let Some(text) = value {
            let what = format!("{field} in '{}'", path.display());
            let in_file = parse_hex32(text, &what)?;
            if *in_file != hotkey.public {
                return Err(mismatch(
                    field,
                    text,
                    format!("0x{}", to_hex(&hotkey.public)),
                ));
            }
        }
    }
    Ok(hotkey)
}

/// bittensor-wallet's encrypted formats, by their leading bytes.
fn encryption_format(data: &[u8]) -> Option<&'static str> {
    let data = data.trim_ascii_start();
    if data.starts_with(b"$NACL") {
        Some("NaCl, `$NACL`, as btcli writes with a password")
    } else if data.starts_with(b"$ANSIBLE_VAULT") {
        Some("Ansible Vault, bittensor's legacy format")
    } else if data.starts_with(b"gAAAAA") {
        Some("Fernet, bittensor's legacy format")
    } else {
        None
    }
}

/// Reads a key or seed file: a regular file, at most 64 KiB, not readable or
/// writable by group or others. The bytes are wiped when dropped.
fn read_key_file(
    path: &Path,
    not_found: impl FnOnce() -> WalletError,
) -> Result<Zeroizing<Vec<u8>>, WalletError> {
    let io = |source: std::io::Error| WalletError::Io {
        path: path.to_path_buf(),
        source,
    };
    // Checked before opening, so that a FIFO or device is never opened.
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(not_found()),
        Err(e) => return Err(io(e)),
    };
    if !meta.is_file() {
        return Err(WalletError::NotAFile {
            path: path.to_path_buf(),
        });
    }
    let file = File::open(path).map_err(io)?;
    // Checked again on the open file, which is the one read.
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(WalletError::NotAFile {
            path: path.to_path_buf(),
        });
    }
    check_mode(path, &meta)?;
    if meta.len() > MAX_KEY_FILE_BYTES {
        return Err(WalletError::TooLarge {
            path: path.to_path_buf(),
            len: meta.len(),
            max: MAX_KEY_FILE_BYTES,
        });
    }
    // Room for the whole file up front, so the buffer is never reallocated
    // (which would leave an unwiped copy behind).
    let mut data = Zeroizing::new(Vec::with_capacity(MAX_KEY_FILE_BYTES as usize + 1));
    file.take(MAX_KEY_FILE_BYTES + 1)
        .read_to_end(&mut data)
        .map_err(io)?;
    if data.len() as u64 > MAX_KEY_FILE_BYTES {
        return Err(WalletError::TooLarge {
            path: path.to_path_buf(),
            len: data.len() as u64,
            max: MAX_KEY_FILE_BYTES,
        });
    }
    Ok(data)
}

#[cfg(unix)]
fn check_mode(path: &Path, meta: &std::fs::Metadata) -> Result<(), WalletError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(WalletError::PermissionsTooOpen {
            path: path.to_path_buf(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_mode(_path: &Path, _meta: &std::fs::Metadata) -> Result<(), WalletError> {
    Ok(())
}

/// 32 bytes from `0x` + 64 hex digits (the `0x` is optional, surrounding
/// whitespace is ignored), into a buffer wiped when dropped. Errors name
/// `what`, never the text.
fn parse_hex32(text: &str, what: &str) -> Result<Zeroizing<[u8; 32]>, WalletError> {
    let text = text.trim();
    let digits = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .unwrap_or(text)
        .as_bytes();
    if digits.len() % 2 != 0 || !digits.iter().all(u8::is_ascii_hexdigit) {
        return Err(WalletError::BadHex {
            what: what.to_string(),
        });
    }
    if digits.len() != 64 {
        return Err(WalletError::WrongLength {
            what: what.to_string(),
            expected: 32,
            got: digits.len() / 2,
        });
    }
    let mut out = Zeroizing::new([0u8; 32]);
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        *byte = (hex_value(pair[0]) << 4) | hex_value(pair[1]);
    }
    Ok(out)
}

fn hex_value(digit: u8) -> u8 {
    match digit {
        b'0'..=b'9' => digit - b'0',
        b'a'..=b'f' => digit - b'a' + 10,
        b'A'..=b'F' => digit - b'A' + 10,
        _ => 0,
    }
}

fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    out
}

/// A public value from a file, shortened for an error message.
fn echo(text: &str) -> String {
    if text.chars().count() <= MAX_ECHO_CHARS {
        text.to_string()
    } else {
        let head: String = text.chars().take(MAX_ECHO_CHARS).collect();
        format!("{head}...")
    }
}

fn check_name(what: &'static str, name: &str) -> Result<(), WalletError> {
    if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\\', '\0']) {
        return Err(WalletError::BadName {
            what,
            name: echo(name),
        });
    }
    Ok(())
}

/// `~` and `~/...` become `$HOME` and `$HOME/...` (as bittensor-wallet expands
/// its default `~/.bittensor/wallets/`); other paths are kept.
fn expand_tilde(path: &Path, home: Option<String>) -> Result<PathBuf, WalletError> {
    match path.strip_prefix("~") {
        Ok(rest) => {
            let home = PathBuf::from(home.ok_or_else(|| WalletError::NoHome {
                path: path.to_path_buf(),
            })?);
            Ok(if rest.as_os_str().is_empty() {
                home
            } else {
                home.join(rest)
            })
        }
        Err(_) => Ok(path.to_path_buf()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex32_parses_with_and_without_prefix_and_names_only_what() {
        let hex = "0x00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF";
        let a = parse_hex32(hex, "x").unwrap();
        let b = parse_hex32(&format!("  {}\n", &hex[2..]), "x").unwrap();
        assert_eq!(*a, *b);
        assert_eq!(a[1], 0x11);
        assert_eq!(a[31], 0xff);
        let err = parse_hex32("0xzz112233", "the seed").unwrap_err();
        assert!(matches!(err, WalletError::BadHex { .. }));
        assert!(!err.to_string().contains("zz11"));
        assert!(matches!(
            parse_hex32("0x123", "s").unwrap_err(),
            WalletError::BadHex { .. }
        ));
        assert!(matches!(
            parse_hex32("0x", "s").unwrap_err(),
            WalletError::WrongLength { got: 0, .. }
        ));
        assert!(matches!(
            parse_hex32(&hex[..hex.len() - 2], "s").unwrap_err(),
            WalletError::WrongLength { got: 31, .. }
        ));
        assert!(matches!(
            parse_hex32("0xé0", "s").unwrap_err(),
            WalletError::BadHex { .. }
        ));
    }

    #[test]
    fn tilde_expands_to_home() {
        let home = Some("/home/v".to_string());
        assert_eq!(
            expand_tilde(Path::new("~/.bittensor/wallets"), home.clone()).unwrap(),
            PathBuf::from("/home/v/.bittensor/wallets")
        );
        assert_eq!(
            expand_tilde(Path::new("~"), home.clone()).unwrap(),
            PathBuf::from("/home/v")
        );
        assert_eq!(
            expand_tilde(Path::new("/srv/w"), None).unwrap(),
            PathBuf::from("/srv/w")
        );
        assert_eq!(
            expand_tilde(Path::new("~other/w"), home).unwrap(),
            PathBuf::from("~other/w")
        );
        assert!(matches!(
            expand_tilde(Path::new("~/w"), None),
            Err(WalletError::NoHome { .. })
        ));
    }

    #[test]
    fn names_must_be_one_component() {
        for bad in ["", ".", "..", "a/b", "../x", "a\\b", "a\0b"] {
            assert!(check_name("wallet name", bad).is_err(), "{bad:?}");
        }
        for good in ["default", "test-wallet", "my.hotkey", "..x"] {
            assert!(check_name("wallet name", good).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn encrypted_formats_are_recognised() {
        assert!(encryption_format(b"$NACL\x00\xff").is_some());
        assert!(encryption_format(b"$ANSIBLE_VAULT;1.1;AES256\n3031").is_some());
        assert!(encryption_format(b"gAAAAABk").is_some());
        assert!(encryption_format(b"{\"secretSeed\":\"0x00\"}").is_none());
    }
}
