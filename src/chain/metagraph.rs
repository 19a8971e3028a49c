//! What the chain says about a subnet and a hotkey, read at one block.
//!
//! Every read goes through the runtime's metadata (dynamic storage queries),
//! so it follows the storage layout of whichever runtime the node runs.
//! Values that are absent read as the runtime's declared default.

use serde::Serialize;
use subxt::dynamic::Value;
use subxt::ext::scale_decode::DecodeAsType;
use subxt::utils::H256;

use super::client::Chain;
use super::wallet::{ss58_decode, ss58_encode};
use super::{hex0x, ChainError};

const PALLET: &str = "SubtensorModule";

/// A subnet's weight-setting rules and size, at `block`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SubnetState {
    pub netuid: u16,
    pub block: u64,
    pub block_hash: String,
    /// Blocks per epoch (the subnet's tempo).
    pub tempo: u64,
    /// Least blocks between two weight updates of one uid.
    pub weights_rate_limit: u64,
    /// Lowest version key the subnet accepts (0: any).
    pub weights_version_key: u64,
    pub commit_reveal_enabled: bool,
    /// Epochs between a commit and its reveal.
    pub reveal_period_epochs: u64,
    /// Number of uids.
    pub n: u16,
}

/// One neuron of the subnet.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Neuron {
    pub uid: u16,
    pub hotkey: String,
    pub validator_permit: bool,
    /// Block of its last weight update or commit (0: never).
    pub last_update: u64,
}

/// A snapshot of one block's state: read everything a decision needs from it.
pub struct Snapshot<'a> {
    chain: &'a Chain,
    at: H256,
    pub block: u64,
}

impl<'a> Snapshot<'a> {
    /// The latest finalized block.
    pub async fn latest(chain: &'a Chain) -> Result<Snapshot<'a>, ChainError> {
        let block = chain
            .api
            .blocks()
            .at_latest()
            .await
            .map_err(|e| read_err("the latest block", e))?;
        Ok(Snapshot {
            chain,
            at: block.hash(),
            block: block.number().into(),
        })
    }

    pub fn block_hash(&self) -> H256 {
        self.at
    }

    /// One storage value; with `or_default`, an absent value reads as the
    /// runtime's declared default (an entry the runtime lacks is an error,
    /// not a default).
    async fn read<T: DecodeAsType>(
        &self,
        entry: &str,
        keys: Vec<Value>,
        or_default: bool,
    ) -> Result<Option<T>, ChainError> {
        let what = || format!("{PALLET}::{entry}");
        let addr = subxt::dynamic::storage(PALLET, entry, keys);
        let storage = self.chain.api.storage().at(self.at);
        let thunk = if or_default {
            storage.fetch_or_default(&addr).await.map(Some)
        } else {
            storage.fetch(&addr).await
        }
        .map_err(|e| read_err(&what(), e))?;
        thunk
            .map(|t| t.as_type::<T>())
            .transpose()
            .map_err(|e| ChainError::Read {
                what: what(),
                reason: format!("unexpected type: {e}"),
            })
    }

    async fn value<T: DecodeAsType + Default>(
        &self,
        entry: &str,
        keys: Vec<Value>,
    ) -> Result<T, ChainError> {
        Ok(self.read(entry, keys, true).await?.unwrap_or_default())
    }

    /// The subnet's rules; `UnknownNetuid` when it does not exist.
    pub async fn subnet(&self, netuid: u16) -> Result<SubnetState, ChainError> {
        let k = || vec![Value::u128(netuid.into())];
        let exists: bool = self.value("NetworksAdded", k()).await?;
        if !exists {
            return Err(ChainError::UnknownNetuid { netuid });
        }
        let tempo: u16 = self.value("Tempo", k()).await?;
        Ok(SubnetState {
            netuid,
            block: self.block,
            block_hash: hex0x(&self.at.0),
            tempo: tempo.into(),
            weights_rate_limit: self.value("WeightsSetRateLimit", k()).await?,
            weights_version_key: self.value("WeightsVersionKey", k()).await?,
            commit_reveal_enabled: self.value("CommitRevealWeightsEnabled", k()).await?,
            reveal_period_epochs: self.value("RevealPeriodEpochs", k()).await?,
            n: self.value("SubnetworkN", k()).await?,
        })
    }

    /// The uid of `account` on the subnet, if registered.
    pub async fn uid_of(&self, netuid: u16, account: &[u8; 32]) -> Result<Option<u16>, ChainError> {
        self.read(
            "Uids",
            vec![Value::u128(netuid.into()), Value::from_bytes(account)],
            false,
        )
        .await
    }

    /// The hotkey holding `uid`, if any.
    pub async fn hotkey_of(&self, netuid: u16, uid: u16) -> Result<Option<[u8; 32]>, ChainError> {
        self.read(
            "Keys",
            vec![Value::u128(netuid.into()), Value::u128(uid.into())],
            false,
        )
        .await
    }

    /// The neuron at `uid` (permit and last update from the subnet's vectors).
    pub async fn neuron(&self, netuid: u16, uid: u16) -> Result<Neuron, ChainError> {
        let k = || vec![Value::u128(netuid.into())];
        let permits: Vec<bool> = self.value("ValidatorPermit", k()).await?;
        let updates: Vec<u64> = self.value("LastUpdate", k()).await?;
        let hotkey = self
            .hotkey_of(netuid, uid)
            .await?
            .map(|h| ss58_encode(&h))
            .unwrap_or_default();
        Ok(Neuron {
            uid,
            hotkey,
            validator_permit: permits.get(usize::from(uid)).copied().unwrap_or(false),
            last_update: updates.get(usize::from(uid)).copied().unwrap_or(0),
        })
    }

    /// Our neuron: `NotRegistered` when the hotkey has no uid on the subnet.
    pub async fn our_neuron(&self, netuid: u16, hotkey: &[u8; 32]) -> Result<Neuron, ChainError> {
        match self.uid_of(netuid, hotkey).await? {
            Some(uid) => self.neuron(netuid, uid).await,
            None => Err(ChainError::NotRegistered {
                hotkey: ss58_encode(hotkey),
                netuid,
            }),
        }
    }

    /// The uid of the winner's hotkey, from the chain; checked both ways.
    pub async fn winner_uid(&self, netuid: u16, winner_ss58: &str) -> Result<u16, ChainError> {
        let (_, account) = ss58_decode(winner_ss58).map_err(|e| ChainError::BadAddress {
            text: winner_ss58.chars().take(80).collect(),
            reason: e.to_string(),
        })?;
        let not_found = || ChainError::WinnerNotInMetagraph {
            hotkey: winner_ss58.to_string(),
            netuid,
        };
        let uid = self.uid_of(netuid, &account).await?.ok_or_else(not_found)?;
        match self.hotkey_of(netuid, uid).await? {
            Some(k) if k == account => Ok(uid),
            _ => Err(not_found()),
        }
    }

    /// The weights `uid` has set now, as `(uid, weight)` pairs.
    pub async fn weights_of(&self, netuid: u16, uid: u16) -> Result<Vec<(u16, u16)>, ChainError> {
        self.value(
            "Weights",
            vec![Value::u128(netuid.into()), Value::u128(uid.into())],
        )
        .await
    }

    /// A value-query storage item without keys, if the runtime has it.
    pub async fn plain_value<T: DecodeAsType + Default>(
        &self,
        entry: &str,
    ) -> Result<Option<T>, ChainError> {
        if !self.has_storage(entry) {
            return Ok(None);
        }
        self.read(entry, vec![], true).await
    }

    pub fn has_storage(&self, entry: &str) -> bool {
        self.chain
            .api
            .metadata()
            .pallet_by_name(PALLET)
            .and_then(|p| p.storage())
            .and_then(|s| s.entry_by_name(entry))
            .is_some()
    }
}

fn read_err(what: &str, e: impl std::fmt::Display) -> ChainError {
    ChainError::Read {
        what: what.to_string(),
        reason: e.to_string(),
    }
}
