//! The commit-reveal path: when a subnet has `CommitRevealWeightsEnabled`,
//! `set_weights` fails with `CommitRevealEnabled`, and the bittensor SDK
//! instead commits the weights timelock-encrypted to a future drand round;
//! the chain decrypts and applies them itself when that round's pulse
//! arrives. No reveal transaction is needed.
//!
//! Which call depends on the runtime: `commit_timelocked_weights(netuid,
//! commit, reveal_round, commit_reveal_version)` (payload carries our hotkey,
//! version from `CommitRevealWeightsVersion`), or on the early-2025 runtimes
//! `commit_crv3_weights(netuid, commit, reveal_round)` with the legacy payload
//! `{uids, values, version_key}`: those runtimes decode only that, and later
//! ones fall back to it when the payload's first field is no 32-byte hotkey.

use rand::{CryptoRng, RngCore};

use super::client::Chain;
use super::metagraph::{Snapshot, SubnetState};
use super::set_weights::{runtime_has_call, WeightsCall};
use super::timelock::{encrypt_to_round, reveal_round, weights_payload};
use super::ChainError;

/// Most bytes the runtimes accept in a commit (`MAX_CRV3_COMMIT_SIZE_BYTES`).
pub const MAX_COMMIT_BYTES: usize = 5000;

/// The timelocked commit of `uids`/`weights` for `subnet`, as the runtime
/// behind `snapshot` takes it.
#[allow(clippy::too_many_arguments)]
pub async fn commit_call<R: RngCore + CryptoRng>(
    chain: &Chain,
    snapshot: &Snapshot<'_>,
    subnet: &SubnetState,
    hotkey: &[u8; 32],
    uids: &[u16],
    weights: &[u16],
    block_time: f64,
    now: f64,
    rng: R,
) -> Result<WeightsCall, ChainError> {
    let round = reveal_round(
        subnet.tempo,
        subnet.block,
        subnet.netuid,
        subnet.reveal_period_epochs,
        block_time,
        now,
    )?;
    let version_key = subnet.weights_version_key;
    let call = if runtime_has_call(chain, "commit_timelocked_weights") {
        let version: u16 = snapshot
            .plain_value("CommitRevealWeightsVersion")
            .await?
            .ok_or_else(|| ChainError::Unsupported {
                what: "SubtensorModule::CommitRevealWeightsVersion".into(),
                spec_version: chain.spec_version,
                purpose: "say which commit-reveal version it expects",
            })?;
        let plaintext = weights_payload(Some(hotkey), uids, weights, version_key);
        WeightsCall::CommitTimelockedWeights {
            netuid: subnet.netuid,
            commit: encrypt_to_round(&plaintext, round, rng)?,
            reveal_round: round,
            commit_reveal_version: version,
        }
    } else if runtime_has_call(chain, "commit_crv3_weights") {
        let plaintext = weights_payload(None, uids, weights, version_key);
        WeightsCall::CommitCrv3Weights {
            netuid: subnet.netuid,
            commit: encrypt_to_round(&plaintext, round, rng)?,
            reveal_round: round,
        }
    } else {
        return Err(ChainError::Unsupported {
            what: "timelocked commit call (commit_timelocked_weights or commit_crv3_weights)"
                .into(),
            spec_version: chain.spec_version,
            purpose: "take weights on a subnet with commit-reveal enabled",
        });
    };
    if let WeightsCall::CommitTimelockedWeights { commit, .. }
    | WeightsCall::CommitCrv3Weights { commit, .. } = &call
    {
        if commit.len() > MAX_COMMIT_BYTES {
            return Err(ChainError::Build(format!(
                "the commit is {} bytes, more than the runtime's {MAX_COMMIT_BYTES}",
                commit.len()
            )));
        }
    }
    tracing::info!(
        call = call.name(),
        reveal_round = round,
        "weights encrypted to a drand round for a timelocked commit"
    );
    Ok(call)
}
