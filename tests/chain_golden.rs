//! The set_weights call and its signed extrinsic against the golden output of
//! scripts/decode-extrinsic-reference.sh, where @polkadot/types (independent
//! of subxt) decoded leoma-gpu's extrinsic on the real spec-219 metadata and
//! verified its signature. Here the same call, extensions and signer payload
//! are rebuilt offline from the metadata and must match byte for byte, and
//! the signature must verify over that payload.

#[path = "common/chain_node.rs"]
mod chain_node;

use leoma_gpu::chain::extensions::{encode_extensions, ChainFacts, ExtensionParams};
use leoma_gpu::chain::set_weights::WeightsCall;
use leoma_gpu::chain::wallet::{verify, Hotkey};
use serde_json::Value;
use subxt::ext::codec::{Compact, Decode, Encode};
use subxt::utils::H256;

fn unhex(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap().trim_start_matches("0x")).unwrap()
}

#[test]
fn set_weights_extrinsic_matches_the_independent_decoder() {
    let golden: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/golden/chain/set_weights_spec219.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let pj = &golden["polkadot"];
    assert_eq!(pj["signature_valid"], true);
    assert_eq!(pj["reencodes_identically"], true);
    assert_eq!(pj["call"]["pallet"], "subtensorModule");
    assert_eq!(pj["call"]["name"], "setWeights");
    assert_eq!(pj["call"]["args"]["dests"], serde_json::json!([2]));
    assert_eq!(pj["call"]["args"]["weights"], serde_json::json!([65535]));

    let material: Value = serde_json::from_str(
        &std::fs::read_to_string(chain_node::Runtime::Mainnet.material()).unwrap(),
    )
    .unwrap();
    let metadata_bytes = unhex(&material["metadata"]);
    let metadata = subxt::Metadata::decode(&mut &metadata_bytes[..]).unwrap();

    // The call, encoded offline from the metadata.
    let call = subxt::ext::subxt_core::tx::call_data(
        &WeightsCall::winner_takes_all(7, 2, 0).payload(),
        &metadata,
    )
    .unwrap();
    assert_eq!(call, unhex(&pj["call_hex"]));
    assert_eq!(call, unhex(&golden["leoma"]["call_hex"]));

    // The extensions and the signer payload polkadot-js rebuilt.
    let genesis = H256::from_slice(&unhex(&material["genesisHash"]));
    let birth = H256::from_slice(&unhex(&golden["birth_block_hash"]));
    let exts = encode_extensions(
        &metadata,
        ChainFacts {
            genesis_hash: genesis,
            spec_version: 219,
            transaction_version: 1,
        },
        &ExtensionParams {
            mortality_blocks: Some(128),
            tip: 0,
            nonce: Some(0),
            block: Some((golden["birth_block"].as_u64().unwrap(), birth)),
        },
    )
    .unwrap();
    let mut payload = call.clone();
    exts.iter()
        .for_each(|e| payload.extend_from_slice(&e.value));
    exts.iter()
        .for_each(|e| payload.extend_from_slice(&e.implicit));
    assert_eq!(payload, unhex(&pj["signer_payload"]));
    assert_eq!(payload, unhex(&golden["leoma"]["signer_payload_hex"]));

    // The signature verifies over it, and over nothing else.
    let hotkey = Hotkey::from_seed(&[0x11; 32]).unwrap();
    assert_eq!(pj["signer"], hotkey.ss58.as_str());
    let sig: [u8; 64] = unhex(&pj["signature"]).try_into().unwrap();
    assert!(verify(&hotkey.public, &payload, &sig));
    let mut tampered = payload.clone();
    tampered[3] ^= 1;
    assert!(!verify(&hotkey.public, &tampered, &sig));

    // The extrinsic's layout: v4 signed, MultiAddress::Id, MultiSignature::Sr25519,
    // the extension values, then the call.
    let mut body = vec![0x84, 0x00];
    body.extend_from_slice(&hotkey.public);
    body.push(0x01);
    body.extend_from_slice(&sig);
    exts.iter().for_each(|e| body.extend_from_slice(&e.value));
    body.extend_from_slice(&call);
    let mut extrinsic = Compact(body.len() as u32).encode();
    extrinsic.extend_from_slice(&body);
    assert_eq!(extrinsic, unhex(&golden["leoma"]["extrinsic_hex"]));
}
