//! Building, signing and submitting a weights call, and reading its outcome.
//!
//! The call is built from the runtime's metadata (`SubtensorModule::set_weights`,
//! `commit_timelocked_weights` or `commit_crv3_weights`), signed with the
//! hotkey over the signer payload subxt derives from [`RuntimeExtensions`],
//! submitted with a watch, and followed until it is in a block; then the
//! block's events say whether it dispatched, and a failure is decoded from
//! the metadata into the pallet's error name and documentation.

use std::time::Duration;

use serde::Serialize;
use subxt::dynamic::Value;
use subxt::error::DispatchError;
use subxt::tx::{DynamicPayload, TxStatus};
use subxt::utils::AccountId32;

use super::client::{Chain, SubtensorConfig};
use super::extensions::{ExtensionParams, RuntimeExtensions};
use super::wallet::Hotkey;
use super::{hex0x, ChainError};

pub const PALLET: &str = "SubtensorModule";

/// A weights call, as the runtime takes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "call", rename_all = "snake_case")]
pub enum WeightsCall {
    /// `set_weights(netuid, dests, weights, version_key)`.
    SetWeights {
        netuid: u16,
        uids: Vec<u16>,
        weights: Vec<u16>,
        version_key: u64,
    },
    /// `commit_timelocked_weights(netuid, commit, reveal_round, commit_reveal_version)`.
    CommitTimelockedWeights {
        netuid: u16,
        #[serde(serialize_with = "serialize_hex")]
        commit: Vec<u8>,
        reveal_round: u64,
        commit_reveal_version: u16,
    },
    /// `commit_crv3_weights(netuid, commit, reveal_round)` (2025 runtimes).
    CommitCrv3Weights {
        netuid: u16,
        #[serde(serialize_with = "serialize_hex")]
        commit: Vec<u8>,
        reveal_round: u64,
    },
}

fn serialize_hex<S: serde::Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex0x(bytes))
}

impl WeightsCall {
    /// Winner-take-all: all weight on `uid`.
    pub fn winner_takes_all(netuid: u16, uid: u16, version_key: u64) -> Self {
        WeightsCall::SetWeights {
            netuid,
            uids: vec![uid],
            weights: vec![u16::MAX],
            version_key,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            WeightsCall::SetWeights { .. } => "set_weights",
            WeightsCall::CommitTimelockedWeights { .. } => "commit_timelocked_weights",
            WeightsCall::CommitCrv3Weights { .. } => "commit_crv3_weights",
        }
    }

    /// The dynamic payload (arguments in the runtime's order).
    pub fn payload(&self) -> DynamicPayload {
        let u16s = |v: &[u16]| Value::unnamed_composite(v.iter().map(|x| Value::u128((*x).into())));
        let fields: Vec<Value> = match self {
            WeightsCall::SetWeights {
                netuid,
                uids,
                weights,
                version_key,
            } => vec![
                Value::u128((*netuid).into()),
                u16s(uids),
                u16s(weights),
                Value::u128((*version_key).into()),
            ],
            WeightsCall::CommitTimelockedWeights {
                netuid,
                commit,
                reveal_round,
                commit_reveal_version,
            } => vec![
                Value::u128((*netuid).into()),
                Value::from_bytes(commit),
                Value::u128((*reveal_round).into()),
                Value::u128((*commit_reveal_version).into()),
            ],
            WeightsCall::CommitCrv3Weights {
                netuid,
                commit,
                reveal_round,
            } => vec![
                Value::u128((*netuid).into()),
                Value::from_bytes(commit),
                Value::u128((*reveal_round).into()),
            ],
        };
        subxt::dynamic::tx(PALLET, self.name(), fields)
    }

    /// Never put a malformed weight vector on chain: equal lengths, no
    /// duplicates, at least one non-zero weight.
    pub fn check_well_formed(&self) -> Result<(), ChainError> {
        if let WeightsCall::SetWeights { uids, weights, .. } = self {
            let mut seen = std::collections::BTreeSet::new();
            if uids.is_empty()
                || uids.len() != weights.len()
                || !uids.iter().all(|u| seen.insert(*u))
                || weights.iter().all(|w| *w == 0)
            {
                return Err(ChainError::Build(format!(
                    "refusing a malformed weight vector (uids {uids:?}, weights {weights:?})"
                )));
            }
        }
        Ok(())
    }
}

/// Whether the runtime has `SubtensorModule::<call>`.
pub fn runtime_has_call(chain: &Chain, call: &str) -> bool {
    chain
        .api
        .metadata()
        .pallet_by_name(PALLET)
        .and_then(|p| p.call_variant_by_name(call))
        .is_some()
}

/// A signed transaction, ready to submit (or to show in a dry run).
#[derive(Debug, Clone, Serialize)]
pub struct SignedWeights {
    pub call: WeightsCall,
    /// The call as the runtime's metadata decodes it back.
    pub decoded_call: String,
    pub call_hex: String,
    /// The transaction extensions, in the runtime's order.
    pub extensions: Vec<String>,
    pub signer: String,
    pub nonce: u64,
    pub mortality_blocks: Option<u64>,
    pub signer_payload_hex: String,
    pub extrinsic_hex: String,
    pub tx_hash: String,
}

/// A signed transaction and its description.
pub struct Signed {
    pub info: SignedWeights,
    submittable: Submittable,
}

type Submittable = subxt::tx::SubmittableTransaction<SubtensorConfig, super::client::Api>;

/// How to sign and wait.
#[derive(Debug, Clone)]
pub struct SubmitOptions {
    /// Mortality in blocks (the SDK's default period is 128); `None`: immortal.
    pub mortality_blocks: Option<u64>,
    /// Longest wait for inclusion.
    pub inclusion_timeout: Duration,
}

impl Default for SubmitOptions {
    fn default() -> Self {
        SubmitOptions {
            mortality_blocks: Some(128),
            inclusion_timeout: Duration::from_secs(120),
        }
    }
}

/// Builds and signs `call` with the node's nonce and latest finalized block;
/// submits nothing.
pub async fn sign(
    chain: &Chain,
    hotkey: &Hotkey,
    call: &WeightsCall,
    opts: &SubmitOptions,
) -> Result<Signed, ChainError> {
    call.check_well_formed()?;
    if !runtime_has_call(chain, call.name()) {
        return Err(ChainError::Unsupported {
            what: format!("{PALLET}::{}", call.name()),
            spec_version: chain.spec_version,
            purpose: "take this weights call",
        });
    }
    let payload = call.payload();
    let tx = chain.api.tx();
    let call_bytes = tx
        .call_data(&payload)
        .map_err(|e| ChainError::Build(e.to_string()))?;
    let decoded_call = decode_call(chain, &call_bytes)?;
    let account = AccountId32(hotkey.public);
    // The nonce and the mortality's birth block come from the node, as
    // subxt's `create_partial` would fetch them; kept here to show them.
    let nonce = tx
        .account_nonce(&account)
        .await
        .map_err(|e| classify_build_error(chain, e))?;
    let latest = chain
        .api
        .blocks()
        .at_latest()
        .await
        .map_err(|e| classify_build_error(chain, e))?;
    let params = ExtensionParams {
        mortality_blocks: opts.mortality_blocks,
        tip: 0,
        nonce: Some(nonce),
        block: Some((latest.number().into(), latest.hash())),
    };
    let mut partial = tx
        .create_partial_offline(&payload, params)
        .map_err(|e| classify_build_error(chain, e))?;
    let signer_payload = partial.signer_payload();
    let submittable = partial.sign(hotkey.keypair());
    let extrinsic = submittable.encoded().to_vec();
    let extensions = chain
        .api
        .metadata()
        .extrinsic()
        .transaction_extensions_to_use_for_encoding()
        .map(|e| e.identifier().to_string())
        .collect::<Vec<_>>();
    let info = SignedWeights {
        call: call.clone(),
        decoded_call,
        call_hex: hex0x(&call_bytes),
        extensions,
        signer: hotkey.ss58.clone(),
        nonce,
        mortality_blocks: opts.mortality_blocks,
        signer_payload_hex: hex0x(&signer_payload),
        tx_hash: hex0x(&submittable.hash().0),
        extrinsic_hex: hex0x(&extrinsic),
    };
    Ok(Signed { info, submittable })
}

/// What the chain did with a submitted transaction.
#[derive(Debug, Clone, Serialize)]
pub struct Included {
    pub tx_hash: String,
    pub block_hash: String,
    /// The transaction's events (`Pallet::Event`), ExtrinsicSuccess last.
    pub events: Vec<String>,
}

/// Submits `signed` and waits until it is in a block and dispatched.
pub async fn submit(
    chain: &Chain,
    signed: Signed,
    opts: &SubmitOptions,
) -> Result<Included, ChainError> {
    let tx_hash = signed.info.tx_hash.clone();
    let mut progress =
        signed
            .submittable
            .submit_and_watch()
            .await
            .map_err(|e| match pool_error(&e) {
                Some(text) => ChainError::Rejected(readable_pool_error(&text)),
                None => ChainError::Unreachable {
                    url: chain.endpoint.url.clone(),
                    reason: e.to_string(),
                },
            })?;
    let wait = async {
        loop {
            match progress.next().await {
                Some(Ok(TxStatus::InBestBlock(b))) | Some(Ok(TxStatus::InFinalizedBlock(b))) => {
                    let block_hash = hex0x(&b.block_hash().0);
                    return match b.wait_for_success().await {
                        Ok(events) => Ok(Included {
                            tx_hash: tx_hash.clone(),
                            block_hash,
                            events: events
                                .iter()
                                .filter_map(Result::ok)
                                .map(|e| format!("{}::{}", e.pallet_name(), e.variant_name()))
                                .collect(),
                        }),
                        Err(subxt::Error::Runtime(DispatchError::Module(m))) => {
                            let (pallet, error, docs) = match m.details() {
                                Ok(d) => (
                                    d.pallet.name().to_string(),
                                    d.variant.name.clone(),
                                    d.variant.docs.join(" ").trim().to_string(),
                                ),
                                Err(_) => (
                                    format!("pallet #{}", m.pallet_index()),
                                    format!("error #{}", m.error_index()),
                                    String::new(),
                                ),
                            };
                            Err(ChainError::Dispatch {
                                tx_hash: tx_hash.clone(),
                                block_hash,
                                pallet,
                                error,
                                docs,
                            })
                        }
                        Err(subxt::Error::Runtime(other)) => Err(ChainError::Dispatch {
                            tx_hash: tx_hash.clone(),
                            block_hash,
                            pallet: "System".into(),
                            error: format!("{other:?}"),
                            docs: other.to_string(),
                        }),
                        Err(e) => Err(ChainError::Dropped {
                            tx_hash: tx_hash.clone(),
                            reason: format!("reading the block's events: {e}"),
                        }),
                    };
                }
                Some(Ok(TxStatus::Invalid { message }))
                | Some(Ok(TxStatus::Dropped { message }))
                | Some(Ok(TxStatus::Error { message })) => {
                    return Err(ChainError::Rejected(readable_pool_error(&message)))
                }
                Some(Ok(_)) => continue,
                Some(Err(e)) => {
                    return Err(ChainError::Dropped {
                        tx_hash: tx_hash.clone(),
                        reason: e.to_string(),
                    })
                }
                None => {
                    return Err(ChainError::Dropped {
                        tx_hash: tx_hash.clone(),
                        reason: "the node closed the subscription".into(),
                    })
                }
            }
        }
    };
    match tokio::time::timeout(opts.inclusion_timeout, wait).await {
        Ok(r) => r,
        Err(_) => Err(ChainError::InclusionTimeout {
            tx_hash,
            seconds: opts.inclusion_timeout.as_secs(),
        }),
    }
}

/// The call bytes decoded back with the runtime's metadata, as text.
pub fn decode_call(chain: &Chain, call_bytes: &[u8]) -> Result<String, ChainError> {
    let metadata = chain.api.metadata();
    let ty = metadata.outer_enums().call_enum_ty();
    let mut cursor = call_bytes;
    let value = subxt::ext::scale_value::scale::decode_as_type(&mut cursor, ty, metadata.types())
        .map_err(|e| ChainError::Build(format!("the call does not decode back: {e}")))?;
    if !cursor.is_empty() {
        return Err(ChainError::Build(format!(
            "the call decodes with {} bytes left over",
            cursor.len()
        )));
    }
    Ok(value.to_string())
}

fn classify_build_error(chain: &Chain, e: subxt::Error) -> ChainError {
    match e {
        subxt::Error::Rpc(_) | subxt::Error::Io(_) => ChainError::Unreachable {
            url: chain.endpoint.url.clone(),
            reason: e.to_string(),
        },
        subxt::Error::Extrinsic(ref inner) => ChainError::Build(inner.to_string()),
        other => ChainError::Build(other.to_string()),
    }
}

/// The node's answer when it refused a transaction (a JSON-RPC error with
/// the pool's code, message and reason), as text; `None` for transport errors.
fn pool_error(e: &subxt::Error) -> Option<String> {
    use subxt::ext::subxt_rpcs::Error as Rpc;
    match e {
        subxt::Error::Rpc(subxt::error::RpcError::ClientError(Rpc::User(u))) => {
            let data = u
                .data
                .as_ref()
                .map(|d| {
                    let raw = d.get();
                    serde_json::from_str::<String>(raw).unwrap_or_else(|_| raw.to_string())
                })
                .filter(|d| !d.is_empty());
            Some(match data {
                Some(d) => format!("{} ({}): {d}", u.message, u.code),
                None => format!("{} ({})", u.message, u.code),
            })
        }
        _ => None,
    }
}

/// subtensor's `InvalidTransaction::Custom` codes of the 2024/25 runtimes
/// (`SubtensorSignedExtension`), and the standard pool errors, in words.
fn readable_pool_error(message: &str) -> String {
    let hint = if message.contains("Custom error: 1") {
        Some("subtensor refused it before dispatch (custom code 1: not enough stake to set weights, or a commit-reveal rule)")
    } else if message.contains("Custom error:") {
        Some("subtensor's transaction extension refused it before dispatch")
    } else if message.contains("outdated") || message.contains("Stale") {
        Some("the nonce was already used (another transaction from this hotkey got in first)")
    } else if message.contains("bad signature") || message.contains("BadProof") {
        Some("the signature does not verify: the node runs a different runtime or network than the metadata said")
    } else if message.contains("ancient birth block") || message.contains("AncientBirthBlock") {
        Some("the transaction's mortality period has passed")
    } else if message.contains("Priority is too low") || message.contains("1014") {
        Some("a transaction with the same nonce is already in the pool")
    } else {
        None
    };
    match hint {
        Some(h) => format!("{message}: {h}"),
        None => message.to_string(),
    }
}

/// The `RuntimeExtensions` type is the config's; re-exported for tests.
pub type Extensions = RuntimeExtensions;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_weight_vectors_never_leave_the_process() {
        let set = |uids: Vec<u16>, weights: Vec<u16>| WeightsCall::SetWeights {
            netuid: 1,
            uids,
            weights,
            version_key: 0,
        };
        assert!(WeightsCall::winner_takes_all(1, 4, 9)
            .check_well_formed()
            .is_ok());
        for bad in [
            set(vec![], vec![]),
            set(vec![1, 2], vec![5]),
            set(vec![3, 3], vec![1, 1]),
            set(vec![3], vec![0]),
        ] {
            assert!(
                matches!(bad.check_well_formed(), Err(ChainError::Build(_))),
                "{bad:?}"
            );
        }
        match WeightsCall::winner_takes_all(1, 4, 9) {
            WeightsCall::SetWeights {
                uids,
                weights,
                version_key,
                ..
            } => assert_eq!((uids, weights, version_key), (vec![4], vec![u16::MAX], 9)),
            other => panic!("{other:?}"),
        }
    }
}
