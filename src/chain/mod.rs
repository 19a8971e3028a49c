//! Talking to the Bittensor chain: the validator's hotkey, the node
//! connection, the subnet's state, and setting (or committing) weights.
//!
//! `network` names the chain, `client` connects with a config whose
//! transaction extensions come from the runtime (`extensions`), `metagraph`
//! reads what a decision needs, `set_weights` and `commit_reveal` (with
//! `timelock`) build and submit the call, and `epochs` decides when to act.

pub mod client;
pub mod commit_reveal;
pub mod epochs;
pub mod extensions;
pub mod metagraph;
pub mod network;
pub mod set_weights;
pub mod timelock;
pub mod wallet;

/// Why a chain operation failed. `is_input` tells the caller's mistakes
/// (wrong subnet, unregistered hotkey, ...) from the chain's refusals.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChainError {
    #[error("cannot reach the node at {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error(
        "the node at {url} is not {network}: its genesis hash is {got}, {network}'s is {expected}"
    )]
    WrongGenesis {
        url: String,
        network: String,
        got: String,
        expected: String,
    },
    #[error("subnet {netuid} does not exist on this chain (SubtensorModule::NetworksAdded)")]
    UnknownNetuid { netuid: u16 },
    #[error(
        "hotkey {hotkey} is not registered on subnet {netuid}; register it (`btcli subnets \
         register`) or check --netuid / NETUID and the wallet"
    )]
    NotRegistered { hotkey: String, netuid: u16 },
    #[error(
        "hotkey {hotkey} (uid {uid}) has no validator permit on subnet {netuid}: the chain would \
         refuse its weights (NeuronNoValidatorPermit)"
    )]
    NoValidatorPermit {
        hotkey: String,
        uid: u16,
        netuid: u16,
    },
    #[error("the winner {hotkey} is not registered on subnet {netuid} (not in the metagraph)")]
    WinnerNotInMetagraph { hotkey: String, netuid: u16 },
    #[error("uid {uid} does not exist on subnet {netuid}, which has {n} uids (0..{n})")]
    UidOutOfRange { uid: u16, netuid: u16, n: u16 },
    #[error("'{text}' is not an SS58 address: {reason}")]
    BadAddress { text: String, reason: String },
    #[error(
        "weights rate limit not yet passed on subnet {netuid}: our last update was at block \
         {last_update}, the limit is {limit} blocks, the chain is at block {block}; {wait} more \
         blocks"
    )]
    RateLimited {
        netuid: u16,
        last_update: u64,
        limit: u64,
        block: u64,
        wait: u64,
    },
    #[error("the runtime has no {what}; this runtime (spec {spec_version}) cannot {purpose}")]
    Unsupported {
        what: String,
        spec_version: u32,
        purpose: &'static str,
    },
    #[error("reading {what} from the chain failed: {reason}")]
    Read { what: String, reason: String },
    #[error("building the transaction failed: {0}")]
    Build(String),
    #[error("the node refused the transaction: {0}")]
    Rejected(String),
    #[error(
        "transaction {tx_hash} failed in block {block_hash}: {pallet}::{error}{}",
        if .docs.is_empty() { String::new() } else { format!(" ({})", .docs) }
    )]
    Dispatch {
        tx_hash: String,
        block_hash: String,
        pallet: String,
        error: String,
        docs: String,
    },
    #[error(
        "lost the node while waiting for transaction {tx_hash} to be included ({reason}); it may \
         or may not be on chain: `leoma-gpu weights show` tells"
    )]
    Dropped { tx_hash: String, reason: String },
    #[error("transaction {tx_hash} was not included within {seconds} s")]
    InclusionTimeout { tx_hash: String, seconds: u64 },
    #[error(transparent)]
    Extensions(#[from] extensions::ExtensionError),
    #[error(transparent)]
    Timelock(#[from] timelock::TimelockError),
}

impl ChainError {
    /// True for mistakes in what was asked (exit code 2), false for the
    /// chain's own refusals and for connection trouble.
    pub fn is_input(&self) -> bool {
        matches!(
            self,
            ChainError::WrongGenesis { .. }
                | ChainError::UnknownNetuid { .. }
                | ChainError::NotRegistered { .. }
                | ChainError::NoValidatorPermit { .. }
                | ChainError::WinnerNotInMetagraph { .. }
                | ChainError::UidOutOfRange { .. }
                | ChainError::BadAddress { .. }
                | ChainError::Unsupported { .. }
        )
    }
}

/// `0x` + lowercase hex.
pub fn hex0x(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}
