//! Talking to the Bittensor chain: for now only the validator's hotkey.

pub mod wallet;
