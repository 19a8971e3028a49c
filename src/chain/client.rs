//! The subxt client: a config for subtensor and a checked connection.
//!
//! Addresses are `MultiAddress<AccountId32, ()>`, signatures
//! `MultiSignature`, block numbers `u32` and hashes BLAKE2-256, as in
//! subtensor's runtime; the transaction extensions are whatever the connected
//! runtime's metadata lists ([`RuntimeExtensions`]). Metadata, spec and
//! transaction versions and the genesis hash are read from the node when
//! connecting, and the genesis hash must be the named network's.

use std::time::Duration;

use subxt::config::substrate::{BlakeTwo256, SubstrateHeader};
use subxt::utils::{AccountId32, MultiAddress, MultiSignature, H256};
use subxt::{Config, OnlineClient};

use super::extensions::RuntimeExtensions;
use super::network::Endpoint;
use super::{hex0x, ChainError};

/// subxt's view of a subtensor runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubtensorConfig {}

impl Config for SubtensorConfig {
    type AccountId = AccountId32;
    type Address = MultiAddress<AccountId32, ()>;
    type Signature = MultiSignature;
    type Hasher = BlakeTwo256;
    type Header = SubstrateHeader<u32, BlakeTwo256>;
    type ExtrinsicParams = RuntimeExtensions;
    type AssetId = u32;
}

pub type Api = OnlineClient<SubtensorConfig>;

/// A connected node and what it said about itself.
#[derive(Clone)]
pub struct Chain {
    pub api: Api,
    pub endpoint: Endpoint,
    pub genesis_hash: H256,
    pub spec_version: u32,
    pub transaction_version: u32,
}

impl std::fmt::Debug for Chain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chain")
            .field("url", &self.endpoint.url)
            .field("genesis_hash", &hex0x(&self.genesis_hash.0))
            .field("spec_version", &self.spec_version)
            .field("transaction_version", &self.transaction_version)
            .finish()
    }
}

/// Connects to `endpoint` within `timeout`, fetching metadata and versions,
/// and checks the genesis hash against the named network's.
pub async fn connect(endpoint: &Endpoint, timeout: Duration) -> Result<Chain, ChainError> {
    let url = endpoint.url.clone();
    let unreachable = |reason: String| ChainError::Unreachable {
        url: url.clone(),
        reason,
    };
    let attempt = async {
        if url.starts_with("wss://") {
            Api::from_url(&url).await
        } else {
            Api::from_insecure_url(&url).await
        }
    };
    let api = match tokio::time::timeout(timeout, attempt).await {
        Err(_) => {
            return Err(unreachable(format!(
                "no answer within {} s",
                timeout.as_secs()
            )))
        }
        Ok(Err(e)) => return Err(unreachable(e.to_string())),
        Ok(Ok(api)) => api,
    };
    let genesis_hash = api.genesis_hash();
    if let Some(expected) = endpoint.expected_genesis {
        if genesis_hash.0 != expected {
            return Err(ChainError::WrongGenesis {
                url,
                network: endpoint.network.to_string(),
                got: hex0x(&genesis_hash.0),
                expected: hex0x(&expected),
            });
        }
    }
    let version = api.runtime_version();
    tracing::info!(
        url = %endpoint.url,
        genesis = %hex0x(&genesis_hash.0),
        spec_version = version.spec_version,
        transaction_version = version.transaction_version,
        "connected"
    );
    Ok(Chain {
        api,
        endpoint: endpoint.clone(),
        genesis_hash,
        spec_version: version.spec_version,
        transaction_version: version.transaction_version,
    })
}
