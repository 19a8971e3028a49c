//! When to set weights, and what to set: one decision per look at the chain.
//!
//! Leoma's validator waited for `block % EPOCH_LEN == 0`, which skips epochs
//! whenever it misses that exact block. Here the rule reads the chain: act
//! when at least `epoch_len` blocks have passed since our uid's last update
//! (`LastUpdate`, which both `set_weights` and a commit write) and the
//! subnet's rate limit allows it. A restart reads the same state, so it
//! neither sets twice nor skips; a jump of many blocks gives one update, not
//! one per missed epoch.
//!
//! Burning (all weight on uid 0) happens only when configured, and is logged
//! as such; errors never turn into a burn.

use serde::Serialize;

use super::client::Chain;
use super::commit_reveal::commit_call;
use super::metagraph::{Neuron, Snapshot, SubnetState};
use super::set_weights::WeightsCall;
use super::ChainError;

/// Leoma's default epoch length in blocks.
pub const DEFAULT_EPOCH_LEN: u64 = 180;
/// The uid whose weight burns the emission.
pub const BURN_UID: u16 = 0;

/// Whether to act now, from our last update and the subnet's rate limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    /// Set weights now.
    Due,
    /// Not before `block`.
    Wait { block: u64, reason: String },
}

/// Blocks left before the subnet's rate limit lets `last_update` set again
/// (0: allowed now). The runtime's rule: never set (0) or `block - last >= limit`.
pub fn rate_limit_wait(block: u64, last_update: u64, rate_limit: u64) -> u64 {
    if last_update == 0 {
        return 0;
    }
    (last_update + rate_limit).saturating_sub(block)
}

/// The epoch rule (see the module documentation).
pub fn decide(block: u64, last_update: u64, epoch_len: u64, rate_limit: u64) -> Decision {
    let epoch_due = if last_update == 0 {
        block
    } else {
        last_update.saturating_add(epoch_len)
    };
    let allowed = block + rate_limit_wait(block, last_update, rate_limit);
    if block >= epoch_due && block >= allowed {
        Decision::Due
    } else if epoch_due >= allowed {
        Decision::Wait {
            block: epoch_due,
            reason: format!(
                "last update at block {last_update}; the next epoch ({epoch_len} blocks) starts at {epoch_due}"
            ),
        }
    } else {
        Decision::Wait {
            block: allowed,
            reason: format!(
                "last update at block {last_update}; the subnet's rate limit ({rate_limit} blocks) allows the next at {allowed}"
            ),
        }
    }
}

/// Who should get the weight this time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A uid given directly (`--uid`).
    Uid(u16),
    /// The winner's hotkey; its uid is read from the chain.
    Winner(String),
    /// No winner this round, and why.
    NoWinner(String),
}

/// What to burn on: only when the operator asked for it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BurnPolicy {
    /// Burn when there is no winner, or the winner is not in the metagraph.
    pub when_no_winner: bool,
}

/// Everything decided for one update, ready to sign.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub subnet: SubnetState,
    pub validator: Neuron,
    pub target_uid: u16,
    pub target_hotkey: Option<String>,
    /// True when the weight goes to uid 0 because of the burn policy (or `--uid 0`).
    pub burn: bool,
    pub reason: String,
    pub decision: Decision,
    pub call: WeightsCall,
}

/// Reads the chain at `snapshot` and plans the update for `hotkey`:
/// checks the subnet, our registration and permit, maps the target to a uid
/// on chain, and builds `set_weights` or the timelocked commit.
#[allow(clippy::too_many_arguments)]
pub async fn plan(
    chain: &Chain,
    snapshot: &Snapshot<'_>,
    netuid: u16,
    hotkey: &[u8; 32],
    target: &Target,
    burn: BurnPolicy,
    epoch_len: u64,
    block_time: f64,
) -> Result<Plan, ChainError> {
    let subnet = snapshot.subnet(netuid).await?;
    let validator = snapshot.our_neuron(netuid, hotkey).await?;
    let burn_instead = |why: String| -> Result<(u16, Option<String>, bool, String), ChainError> {
        tracing::warn!(
            netuid,
            "burning: all weight to uid {BURN_UID} because {why}"
        );
        Ok((BURN_UID, None, true, format!("burn (configured): {why}")))
    };
    let (target_uid, target_hotkey, is_burn, reason) = match target {
        Target::Uid(uid) => {
            if *uid >= subnet.n {
                return Err(ChainError::UidOutOfRange {
                    uid: *uid,
                    netuid,
                    n: subnet.n,
                });
            }
            let key = snapshot.neuron(netuid, *uid).await?.hotkey;
            if *uid == BURN_UID {
                tracing::warn!(netuid, "burning: --uid {BURN_UID} given");
            }
            (
                *uid,
                Some(key),
                *uid == BURN_UID,
                format!("uid {uid} given"),
            )
        }
        Target::Winner(hotkey) => match snapshot.winner_uid(netuid, hotkey).await {
            Ok(uid) => (
                uid,
                Some(hotkey.clone()),
                uid == BURN_UID,
                format!("winner {hotkey} is uid {uid} on chain"),
            ),
            Err(ChainError::WinnerNotInMetagraph { .. }) if burn.when_no_winner => {
                burn_instead(format!("the winner {hotkey} is not in the metagraph"))?
            }
            Err(e) => return Err(e),
        },
        Target::NoWinner(why) if burn.when_no_winner => burn_instead(why.clone())?,
        Target::NoWinner(why) => {
            return Err(ChainError::Build(format!(
                "no winner this round ({why}) and burning is not configured: nothing to set"
            )))
        }
    };
    let self_weight = target_uid == validator.uid;
    if !validator.validator_permit && !self_weight {
        return Err(ChainError::NoValidatorPermit {
            hotkey: validator.hotkey.clone(),
            uid: validator.uid,
            netuid,
        });
    }
    let decision = decide(
        subnet.block,
        validator.last_update,
        epoch_len,
        subnet.weights_rate_limit,
    );
    let call = if subnet.commit_reveal_enabled {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        commit_call(
            chain,
            snapshot,
            &subnet,
            hotkey,
            &[target_uid],
            &[u16::MAX],
            block_time,
            now,
            rand::rngs::OsRng,
        )
        .await?
    } else {
        WeightsCall::winner_takes_all(netuid, target_uid, subnet.weights_version_key)
    };
    Ok(Plan {
        subnet,
        validator,
        target_uid,
        target_hotkey,
        burn: is_burn,
        reason,
        decision,
        call,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_set_is_due_at_once() {
        assert_eq!(decide(5, 0, 180, 100), Decision::Due);
    }

    #[test]
    fn due_after_epoch_len_not_on_a_modulo() {
        assert!(matches!(
            decide(279, 100, 180, 100),
            Decision::Wait { block: 280, .. }
        ));
        assert_eq!(decide(280, 100, 180, 100), Decision::Due);
        // A jump far past several epochs: due once (the next look sees the new update).
        assert_eq!(decide(100_000, 100, 180, 100), Decision::Due);
        assert!(matches!(
            decide(100_001, 100_000, 180, 100),
            Decision::Wait { block: 100_180, .. }
        ));
    }

    #[test]
    fn rate_limit_can_be_longer_than_the_epoch() {
        match decide(300, 100, 180, 360) {
            Decision::Wait { block, reason } => {
                assert_eq!(block, 460);
                assert!(reason.contains("rate limit"));
            }
            d => panic!("{d:?}"),
        }
        assert_eq!(rate_limit_wait(460, 100, 360), 0);
        assert_eq!(rate_limit_wait(10, 0, 360), 0);
    }
}
