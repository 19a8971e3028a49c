//! Timelock encryption to a drand quicknet round, as subtensor's
//! commit-reveal expects it.
//!
//! The scheme is Boneh-Franklin identity-based encryption on BLS12-381 with
//! drand quicknet's public key (signatures on G1): the identity of round `r`
//! is `sha256(r as big-endian u64)`, and quicknet's signature of round `r` is
//! the decryption key, published when the round comes. The IBE part wraps a
//! fresh 32-byte key that encrypts the payload with AES-256-GCM. This is the
//! `timelock` crate of Ideal Labs at 0.0.1, the crates.io release of the
//! `tle` code subtensor's runtime and the SDK's `bittensor-drand` build on;
//! the ciphertext is its arkworks compressed serialization (later `timelock`
//! releases serialize `V` and `W` without length prefixes, which the chain
//! cannot read).
//!
//! [`reveal_round`] computes the round the way `bittensor-drand` 1.3
//! (`get_encrypted_commit`) does; `scripts/drand-reference.sh` checks the
//! rounds, the payload and the ciphertexts against that package.

use ark_serialize::{CanonicalDeserialize, CanonicalSerialize};
use rand::{CryptoRng, RngCore};
use sha2::{Digest, Sha256};
use timelock::curves::drand::TinyBLS381;
use timelock::ibe::fullident::Identity;
use timelock::stream_ciphers::AESGCMStreamCipherProvider;
use timelock::tlock::{tld, tle, TLECiphertext};
use w3f_bls::EngineBLS;

/// drand quicknet's public key (G2, compressed).
pub const QUICKNET_PUBLIC_KEY: &str = "83cf0f2896adee7eb8b5f01fcad3912212c437e0073e911fb90022d3e760183c8c4b450b6a0a6c3ac6a5776a2d1064510d1fec758c921cc22b0e17e63aaf4bcb5ed66304de9cf809bd274ca73bab4af5a6e9c76a4bc09e76eae8991ef5ece45a";
/// Unix time of quicknet's round 1... minus one period (its genesis).
pub const QUICKNET_GENESIS_TIME: u64 = 1_692_803_367;
/// Seconds between quicknet rounds.
pub const QUICKNET_PERIOD: u64 = 3;
/// Blocks after the first reveal block that the round aims at, so that its
/// pulse is already on chain then (bittensor-drand's `SECURITY_BLOCK_OFFSET`).
pub const SECURITY_BLOCK_OFFSET: u64 = 3;

#[derive(Debug, thiserror::Error)]
pub enum TimelockError {
    #[error("timelock encryption failed: {0}")]
    Encrypt(String),
    #[error("timelock decryption failed: {0}")]
    Decrypt(String),
    #[error("cannot compute a reveal round: {0}")]
    Schedule(String),
}

/// The identity of drand round `round`.
fn identity(round: u64) -> Identity {
    let digest = Sha256::digest(round.to_be_bytes());
    Identity::new(b"", vec![digest.to_vec()])
}

fn public_key() -> Result<<TinyBLS381 as EngineBLS>::PublicKeyGroup, TimelockError> {
    let bytes =
        hex::decode(QUICKNET_PUBLIC_KEY).map_err(|e| TimelockError::Encrypt(e.to_string()))?;
    <TinyBLS381 as EngineBLS>::PublicKeyGroup::deserialize_compressed(&*bytes)
        .map_err(|e| TimelockError::Encrypt(format!("quicknet public key: {e}")))
}

/// Encrypts `plaintext` so that quicknet's signature of `round` opens it.
pub fn encrypt_to_round<R: RngCore + CryptoRng>(
    plaintext: &[u8],
    round: u64,
    mut rng: R,
) -> Result<Vec<u8>, TimelockError> {
    let mut key = [0u8; 32];
    rng.fill_bytes(&mut key);
    let ct = tle::<TinyBLS381, AESGCMStreamCipherProvider, _>(
        public_key()?,
        key,
        plaintext,
        identity(round),
        &mut rng,
    )
    .map_err(|e| TimelockError::Encrypt(format!("{e:?}")))?;
    let mut out = Vec::new();
    ct.serialize_compressed(&mut out)
        .map_err(|e| TimelockError::Encrypt(e.to_string()))?;
    Ok(out)
}

/// Opens `ciphertext` with quicknet's signature of its round (48 bytes, G1
/// compressed), as subtensor does when the round's pulse arrives.
pub fn decrypt_with_signature(
    ciphertext: &[u8],
    signature: &[u8],
) -> Result<Vec<u8>, TimelockError> {
    let ct = TLECiphertext::<TinyBLS381>::deserialize_compressed(ciphertext)
        .map_err(|e| TimelockError::Decrypt(format!("ciphertext: {e}")))?;
    let sig = <TinyBLS381 as EngineBLS>::SignatureGroup::deserialize_compressed(signature)
        .map_err(|e| TimelockError::Decrypt(format!("signature: {e}")))?;
    tld::<TinyBLS381, AESGCMStreamCipherProvider>(ct, sig)
        .map_err(|e| TimelockError::Decrypt(format!("{e:?}")))
}

/// The drand round weights committed at `current_block` are encrypted to:
/// the first block of epoch `current_epoch + reveal_period_epochs` (epochs as
/// subtensor's `get_epoch_index` counts them) plus `SECURITY_BLOCK_OFFSET`,
/// turned into time with `block_time` seconds per block from `now` (Unix
/// seconds), then into the quicknet round of that moment. The arithmetic is
/// bittensor-drand 1.3's `get_encrypted_commit`.
pub fn reveal_round(
    tempo: u64,
    current_block: u64,
    netuid: u16,
    reveal_period_epochs: u64,
    block_time: f64,
    now: f64,
) -> Result<u64, TimelockError> {
    if !(block_time.is_finite() && block_time > 0.0) {
        return Err(TimelockError::Schedule(format!(
            "block time {block_time} s"
        )));
    }
    let tempo_plus_one = tempo.saturating_add(1);
    let netuid_plus_one = u64::from(netuid) + 1;
    let current_epoch = current_block.saturating_add(netuid_plus_one) / tempo_plus_one;
    let reveal_epoch = current_epoch.saturating_add(reveal_period_epochs);
    let first_reveal_block =
        (reveal_epoch.saturating_mul(tempo_plus_one)).saturating_sub(netuid_plus_one);
    let target_block = first_reveal_block.saturating_add(SECURITY_BLOCK_OFFSET);
    let seconds_ahead = target_block.saturating_sub(current_block) as f64 * block_time;
    let round =
        ((now + seconds_ahead - QUICKNET_GENESIS_TIME as f64) / QUICKNET_PERIOD as f64).floor();
    if !round.is_finite() {
        return Err(TimelockError::Schedule(format!("clock {now} s")));
    }
    Ok((round as u64).max(1))
}

/// The plaintext of a timelocked commit: SCALE of
/// `{hotkey: Vec<u8>, uids: Vec<u16>, values: Vec<u16>, version_key: u64}`
/// (today's runtimes), or without `hotkey` (the legacy payload the
/// `commit_crv3_weights` runtimes decode).
pub fn weights_payload(
    hotkey: Option<&[u8; 32]>,
    uids: &[u16],
    values: &[u16],
    version_key: u64,
) -> Vec<u8> {
    use subxt::ext::codec::Encode;
    let body = (uids.to_vec(), values.to_vec(), version_key);
    match hotkey {
        Some(h) => (h.to_vec(), body).encode(),
        None => body.encode(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_follows_the_epoch_schedule() {
        // tempo 360, netuid 1, block 1000: epoch 1002/361 = 2, reveal epoch 3,
        // first block 3*361-2 = 1081, +3 = 1084: 84 blocks * 12 s = 1008 s ahead.
        let now = 1_700_000_000.5;
        let r = reveal_round(360, 1000, 1, 1, 12.0, now).unwrap();
        let expected = ((now + 1008.0 - QUICKNET_GENESIS_TIME as f64) / 3.0).floor() as u64;
        assert_eq!(r, expected);
        // Fast blocks: 0.25 s each.
        let r = reveal_round(360, 1000, 1, 1, 0.25, now).unwrap();
        assert_eq!(
            r,
            ((now + 21.0 - QUICKNET_GENESIS_TIME as f64) / 3.0).floor() as u64
        );
        assert!(reveal_round(10, 19, 0, 1, 0.0, now).is_err());
        assert_eq!(reveal_round(10, 19, 0, 1, 1.0, 0.0).unwrap(), 1);
    }

    #[test]
    fn payload_layouts() {
        let legacy = weights_payload(None, &[7], &[65535], 3);
        assert_eq!(legacy, vec![4, 7, 0, 4, 0xff, 0xff, 3, 0, 0, 0, 0, 0, 0, 0]);
        let with_key = weights_payload(Some(&[9u8; 32]), &[7], &[65535], 3);
        assert_eq!(with_key[0], 128); // compact(32)
        assert_eq!(&with_key[1..33], &[9u8; 32]);
        assert_eq!(&with_key[33..], &legacy[..]);
    }
}
